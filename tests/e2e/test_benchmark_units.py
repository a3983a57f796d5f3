"""Problem C's units check runs in its fast mode and prints its tables and headline.

Its numbers are not checked here (one epoch on tiny data); what is checked is
that raw units are raw: the reconstruction's RMSE, 16 times larger.
"""

import re

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow

NUMBER = r"[+-]?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|nan|inf)"


def test_units_c_fast_mode_prints_both_units_and_headline(tmp_path):
    lines = run_script("benchmarks/units_c.py", "--fast", "--directory", str(tmp_path), timeout=600)
    assert re.fullmatch(
        rf"headline: c_units_searched_change={NUMBER} delta_m% \({NUMBER} SE, paired; equal weights "
        rf"{NUMBER}, {NUMBER} SE\) \(goal: in raw 0-16 units searched weights keep delta_m within 2 "
        r"standard errors while equal weights lose more\)",
        lines[-1],
    ), lines[-1]
    out = "\n".join(lines)
    baselines = {}
    for label in ("/16", "raw"):
        found = re.search(
            rf"^{re.escape(label)}: single-task baselines val accuracy ({NUMBER}), RMSE ({NUMBER}); "
            rf"test accuracy ({NUMBER}), RMSE ({NUMBER})$",
            out,
            re.M,
        )
        assert found, out
        baselines[label] = [float(x) for x in found.groups()]
        section = out[found.end() :]
        for method in ("equal", "searched"):
            row = re.search(rf"^{method}\s+{NUMBER}(\s+{NUMBER}){{7}}$", section, re.M)
            assert row, f"no {method} row under {label}:\n{out}"
    # the same baselines, seeds and data: accuracy unchanged, the RMSE in pixels of 0-16, not 0-1
    assert baselines["raw"][0] == baselines["/16"][0] and baselines["raw"][2] == baselines["/16"][2]
    assert baselines["raw"][1] == pytest.approx(16 * baselines["/16"][1], rel=0.1)
    for method in ("equal", "searched"):
        assert re.search(rf"^{method}\s+{NUMBER} \(SE {NUMBER}, {NUMBER} SE\)$", out, re.M), out
    assert re.search(r"^goal met: (yes|no)$", out, re.M)
