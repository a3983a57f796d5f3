"""Benchmark B (a schedule against every constant) runs in its fast mode and prints its table.

Its numbers are not checked here: the fast mode trains for a few seconds, and
the result of the full benchmark is recorded in benchmarks/README.md.
"""

import re

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow

NUMBER = r"(-?\d+\.\d|-?inf)"


def test_schedule_b_fast_mode_prints_tables_and_headline(tmp_path):
    lines = run_script("benchmarks/schedule_b.py", "--fast", "--directory", str(tmp_path))
    assert re.fullmatch(
        rf"headline: schedule_gap={NUMBER} SE \(goal: best searched schedule beats the best constant by > 3 standard errors\)",
        lines[-1],
    ), lines[-1]
    out = "\n".join(lines)
    # the grid: one row per constant, the val choice marked
    for lam in ("0", "0.1", "10"):
        assert re.search(rf"^\s*{re.escape(lam)}\s+\d+\.\d{{4}}\s", out, re.M), lam
    assert out.count("<- chosen on val") == 1
    assert "3 trials, all COMPLETED" in out
    # the final table: both methods, with test MSE, SE and their configuration
    for method in ("constant", "schedule"):
        assert re.search(
            rf"^{method}\s+\d+\.\d{{4}}\s+\d+\.\d{{4}}\s.*\s(constant|step|linear|cosine) ", out, re.M
        ), method
    assert re.search(
        r"^paired difference \(constant - schedule\): [+-]\d+\.\d{4} \(SE \d+\.\d{4}\)", out, re.M
    )
