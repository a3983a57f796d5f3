"""The benchmark scripts run (in their quick mode) and end with a headline line.

Their timings are not checked here: speed targets are read from the scripts'
tables, measured as ratios within one run.
"""

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_overhead_quick_mode_prints_a_table_and_headline():
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "overhead.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"headline: overhead=[+-]\d+\.\d% \(goal: within 3% of plain model\.fit\)", lines[-1])
    table = "\n".join(lines)
    variants = (
        "plain",
        "tuneweights-fixed",
        "tuneweights-callback",
        "tuneweights-schedule-epoch",
        "tuneweights-schedule-step",
        "gradienttape-loop",
    )
    for variant in variants:
        assert re.search(rf"^{variant}\s+\d", table, re.M), variant
