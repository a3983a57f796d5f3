"""End-to-end searches over weighting strategies, under the three keras-tuner strategies."""

from __future__ import annotations

import keras
import pytest

import tuneweights as tw
from tests.e2e.test_search import assert_all_completed, search, steps
from tuneweights import strategies as S

EPOCHS = 3
CANDIDATES = [
    "static",
    S.Uncertainty(learning_rate=tw.Range(1e-3, 1e-1)),
    S.DWA(temperature=tw.Range(0.5, 5.0)),
    S.RandomWeights(seed=0),
    S.GradNorm(alpha=tw.Range(0.1, 3.0, sampling="linear")),
    S.SeparateOptimizers(optimizer=("adam", "sgd"), learning_rate=tw.Range(1e-3, 1e-1)),
]


class Heads(tw.WeightedHyperModel):
    terms = [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term("b", "mse", output="pred", target="yb", weight=tw.Range(0.01, 100.0)),
    ]
    strategy = S.StrategySearch(CANDIDATES)

    def build(self, hp):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        return model


def make_tuner(kind, tmp_path):
    kwargs = dict(objective="val_a_loss", directory=str(tmp_path), project_name=kind, seed=2)
    if kind == "random":
        return tw.RandomSearch(Heads(), max_trials=6, **kwargs)
    if kind == "bayesian":
        return tw.BayesianOptimization(Heads(), max_trials=5, num_initial_points=3, **kwargs)
    return tw.Hyperband(Heads(), max_epochs=EPOCHS, factor=3, **kwargs)


@pytest.mark.parametrize(
    "kind",
    [
        "random",
        pytest.param("bayesian", marks=pytest.mark.slow),
        pytest.param("hyperband", marks=pytest.mark.slow),
    ],
)
def test_search_over_strategies_completes_and_decodes(tmp_path, data, kind):
    tuner = make_tuner(kind, tmp_path)
    search(tuner, data, epochs=EPOCHS)
    trials = list(tuner.oracle.trials.values())
    failed = {t.trial_id: (t.hyperparameters.values, t.message) for t in trials if t.status != "COMPLETED"}
    assert not failed, failed
    assert_all_completed(tuner, len(trials))
    chosen = {t.hyperparameters.values["strategy"] for t in trials}
    assert len(chosen) >= 2, chosen
    space = tuner.hypermodel.space
    for trial in trials:
        values = trial.hyperparameters.values
        strategy = space.decode(trial.hyperparameters).strategy
        assert strategy.name == values["strategy"] and not strategy.searched_fields()
        first = values.get("tuner/initial_epoch", 0)
        assert steps(trial, "b_weight") == list(range(first, values.get("tuner/epochs", EPOCHS)))
        weights = [o.value[0] for o in trial.metrics.get_history("b_weight")]
        if strategy.name == "static":
            assert weights[0] == pytest.approx(values["ratio/b"], rel=1e-6)
        elif strategy.name in ("uncertainty", "random", "gradnorm"):
            assert len(set(weights)) > 1 or len(weights) == 1  # the weights move while training
    best = tuner.oracle.get_best_trials(1)[0]
    described = tuner.describe(best.hyperparameters)
    assert described["strategy"] == space.decode(best.hyperparameters).strategy
    assert "strategy" not in described["hyperparameters"]
