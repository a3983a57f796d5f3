"""The benchmark scripts run (in their quick mode) and end with a headline line.

Their timings are not checked here: speed targets are read from the scripts'
tables, measured as ratios within one run.
"""

import re

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow


def test_overhead_quick_mode_prints_a_table_and_headline():
    lines = run_script("benchmarks/overhead.py", "--quick")
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
