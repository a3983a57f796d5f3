"""The README's main example runs end to end (at a tiny size)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_quickstart_runs_and_prints_ratios_and_test_mse(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "examples", "quickstart.py"),
            "--trials",
            "2",
            "--epochs",
            "3",
            "--directory",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "2 trials completed" in out
    for line in ("src2", "src3", "equal", "found", "analytic"):
        assert line in out
