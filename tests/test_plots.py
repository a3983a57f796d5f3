import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tuneweights as tw  # noqa: E402
from tuneweights import schedules as S  # noqa: E402
from tuneweights.plots import plot_weights, weight_curves  # noqa: E402


def test_curves_follow_the_schedules():
    epochs, curves = weight_curves({"a": 0.5, "b": S.Linear(2.0, 0.0)}, horizon=10, points_per_epoch=2)
    assert epochs[0] == 0 and epochs[-1] == 10 and len(epochs) == 21
    np.testing.assert_allclose(curves["a"], 0.5)
    np.testing.assert_allclose(curves["b"], 2.0 - 0.2 * epochs)


def test_plot_draws_one_line_per_term(tmp_path):
    ax = plot_weights({"a": 1.0, "b": S.Step(3.0, 0.0, at=0.3)}, horizon=20, title="best")
    assert len(ax.get_lines()) == 2 and ax.get_title() == "best"
    ax.figure.savefig(tmp_path / "w.png")
    assert (tmp_path / "w.png").stat().st_size > 0


def test_bad_horizon():
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `horizon` must be an int >= 1. Received: horizon=0"
    ):
        weight_curves({"a": 1.0}, horizon=0)
