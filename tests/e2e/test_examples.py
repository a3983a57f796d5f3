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


def test_learned_weights_on_problem_a2_favour_the_smallest_losses(tmp_path):
    figure = tmp_path / "weights.png"
    out = run_script("examples/learned_weights.py", "--epochs", "30", "--trials", "2", "--figure", str(figure))
    methods = ("softmax", "uncertainty", "equal", "searched")
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]] for line in out if line.startswith(methods)}
    for method in methods:
        assert len(rows[method]) == 5, out  # four shares and the test MSE
        assert sum(rows[method][:4]) == pytest.approx(1.0, abs=2e-3)
    for method in ("softmax", "uncertainty"):
        src1, src2, src3, src4 = rows[method][:4]
        # Weight flows to the small losses: the noisy sources fade, the biased one grows.
        assert src3 < 0.15 and src2 + src3 < 0.45 and src4 > 0.3, rows[method]
    assert rows["equal"][:4] == [0.25] * 4
    assert figure.stat().st_size > 10_000
