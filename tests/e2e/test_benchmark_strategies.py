"""The strategies benchmark runs in its fast mode and prints its tables and headline.

Its numbers are not checked here: the fast mode trains one epoch on tiny data,
and the result of the full benchmark is recorded in docs/strategy-benchmarks.md.
"""

import re

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow

NUMBER = r"[+-]?(\d+(\.\d+)?(e[+-]?\d+)?|nan|inf)"
METHODS = ("equal", "uncertainty", "dwa", "random", "validation", "gradnorm", "static")
TIMED = ("static", "uncertainty", "dwa", "random", "validation", "gradnorm")
REFERENCES = {"A": "analytic", "A2": "1/s^2, src4 off"}


def sections(out: str) -> dict[str, str]:
    """The printed text of each problem, by name."""
    parts = re.split(r"^=== problem (\S+): ", out, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_strategies_fast_mode_prints_tables_and_headline(tmp_path):
    lines = run_script("benchmarks/strategies.py", "--fast", "--directory", str(tmp_path), timeout=600)
    assert re.fullmatch(
        rf"headline: a2_uncertainty_minus_static={NUMBER} test MSE \({NUMBER} SE, paired; w_src4/w_src1 at "
        rf"the best epoch: uncertainty {NUMBER} \(last epoch {NUMBER}\), searched static {NUMBER}\) \(goal: "
        r"uncertainty weighting trusts the "
        r"precise but biased source 4, searched static weights do not and beat it on test by more than 2 "
        r"standard errors\)",
        lines[-1],
    ), lines[-1]
    out = "\n".join(lines)
    found = sections(out)
    assert list(found) == ["A", "A2", "C"]
    for name, text in found.items():
        assert "tuning: RandomSearch, 1 trial(s) per method, all COMPLETED" in text, name
        # the final table: every method with its test mean, SE, paired comparison, cost and configuration
        for method in METHODS:
            comparison = r"-\s+-\s+-" if method == "static" else rf"{NUMBER}\s+{NUMBER}\s+{NUMBER}"
            row = rf"^{method}\s+{NUMBER}\s+{NUMBER}\s+{comparison}\s+{NUMBER}\s+\d+\.\d\s+\d+\s+\d+\.\d\s+2\s+lr "
            assert re.search(row, text, re.M), f"{name}: no row for {method}:\n{text}"
        assert re.search(r"^static .*lr \S+, (src2/src1|rec/cls) ", text, re.M), name
        if name in REFERENCES:
            assert re.search(
                rf"^{re.escape(REFERENCES[name])}\s+{NUMBER}\s.*fixed weights \(reference\)$", text, re.M
            )
        # the weights each method ended with, at the best and at the last epoch
        assert "loss weights w_k/w_" in text, name
        for label in (*METHODS, *([REFERENCES[name]] if name in REFERENCES else [])):
            assert re.search(
                rf"^{re.escape(label)}\s+({NUMBER}\s+)+\d+\.\d$", text.split("loss weights")[1], re.M
            ), label
        # the per-step cost of every strategy against static
        assert re.search(r"^static\s+\d+\.\d{3}\s+1\.000\s+1\.00-1\.00\s+1\.000$", text, re.M), name
        for strategy in TIMED[1:]:
            assert re.search(
                rf"^{strategy}\s+\d+\.\d{{3}}\s+\d+\.\d{{3}}\s+\d+\.\d\d-\d+\.\d\d\s+\d+\.\d{{3}}$",
                text,
                re.M,
            )
    assert re.search(r"^regret of searched static against the analytic weights: ", found["A"], re.M)
    assert re.search(r"^  all within 1\.0: (yes|no)$", found["A"], re.M)
    assert re.search(r"^single-task baselines \(Adam 1e-3, 1 seed\(s\)", found["C"], re.M)
    assert found["C"].count("<- chosen on val") == 1
    assert re.search(
        rf"^regret of searched static against the grid optimum \(unpaired\): {NUMBER}$", found["C"], re.M
    )
