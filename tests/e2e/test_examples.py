"""The README's main example runs end to end (at a tiny size)."""

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow


def test_quickstart_runs_and_prints_ratios_and_test_mse(tmp_path):
    out = "\n".join(
        run_script("examples/quickstart.py", "--trials", "2", "--epochs", "3", "--directory", str(tmp_path))
    )
    assert "2 trials completed" in out
    for line in ("src2", "src3", "equal", "found", "analytic"):
        assert line in out
