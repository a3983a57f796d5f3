"""Every entry point gives the same loss for the same declaration and hyperparameters.

For each kind of term declaration: a search runs one trial; then its
hyperparameters are decoded by `WeightSpace.decode`, and the weights are
compared with what `build_weighted`, a `WeightedModel` built from the decoded
configuration, the tuner (`get_best_weights`, `describe`, `results_summary`),
the report and the trial's own logs show.
"""

import contextlib
import io

import keras
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import TwoSources
from tuneweights import schedules as S

EPOCHS = 2


def a(weight=1.0, **kwargs):
    return tw.Term("a", "mse", output="pred", target="ya", weight=weight, **kwargs)


def b(weight=1.0, loss="mse", **kwargs):
    return tw.Term("b", loss, output="pred", target="yb", weight=weight, **kwargs)


DECLARATIONS = {
    "fixed numbers": dict(terms=[a(), b(0.5)]),
    "a searched ratio against a fixed reference": dict(terms=[a(2.0), b(tw.Range(0.1, 10))]),
    "searched absolute weights": dict(
        terms=[a(tw.Range(0.5, 2)), b(tw.Range(0.1, 10))], weighting="absolute"
    ),
    "fixed schedules on every term": dict(
        terms=[a(S.Linear(start=0.5, end=1.0)), b(S.Constant(weight=0.25))]
    ),
    "a searched schedule": dict(terms=[a(), b(tw.ScheduleSearch(families=("step", "linear")))]),
    "a searched switch": dict(
        terms=[a(), b(0.5, loss=tw.SwitchAt("mse", "mae", at=tw.Range(0.2, 0.8, "linear")))]
    ),
    "a strategy that sets the weights": dict(terms=[a(), b()], strategy="dwa"),
    "a searched strategy": dict(
        terms=[a(), b(tw.Range(0.1, 10))],
        strategy=tw.StrategySearch(["static", tw.Uncertainty(learning_rate=0.01)]),
    ),
    "one optimizer per term": dict(
        terms=[a(), b(tw.Range(0.1, 10))], strategy=tw.SeparateOptimizers("sgd", 0.05)
    ),
}


def at_epoch(weight, epoch):
    return weight.value(epoch, EPOCHS) if isinstance(weight, tw.Schedule) else float(weight)


@pytest.mark.parametrize("kind", sorted(DECLARATIONS))
def test_every_entry_point_gives_the_same_weights(tmp_path, data, kind):
    x, y = data
    declaration = DECLARATIONS[kind]
    tuner = tw.RandomSearch(
        TwoSources(**declaration),
        objective="val_a_loss",
        max_trials=1,
        seed=4,
        directory=str(tmp_path),
        project_name="p",
    )
    tuner.search(x, y, validation_data=(x, y), epochs=EPOCHS, verbose=0)
    (trial,) = tuner.oracle.trials.values()
    assert trial.status == "COMPLETED"
    hp = trial.hyperparameters
    expected = TwoSources(**declaration).space.decode(hp)
    weights = expected.weights

    assert tuner.decode(hp) == expected
    assert tuner.get_best_weights() == [weights]
    assert tuner.describe(hp)["weights"] == weights and tuner.describe(hp)["strategy"] == expected.strategy
    assert TwoSources(**declaration).build_weighted(hp).loss_config == expected.resolve(["pred"])
    model = tw.WeightedModel(TwoSources().build(hp), expected)
    assert model.loss_config.weights == weights
    assert model.term_weights() == pytest.approx({t: at_epoch(w, 0) for t, w in weights.items()})
    (row,) = tw.report(tuner.project_dir, str(tmp_path / "report"), plots=False).rows
    assert row.weights == weights
    assert row.described == expected.describe()
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        tuner.results_summary(1)
    if expected.strategy.uses_term_weights:
        assert (
            "Loss weights: " + "; ".join(f"{t}: {text}" for t, text in expected.describe().items())
            in summary.getvalue()
        )
    if expected.strategy.name == "static" or expected.strategy.name == "separate":
        logged = {t: [o.mean() for o in trial.metrics.get_history(f"{t}_weight")] for t in weights}
        for term, weight in weights.items():
            np.testing.assert_allclose(logged[term], [at_epoch(weight, e) for e in range(EPOCHS)], rtol=1e-6)
    keras.backend.clear_session()
