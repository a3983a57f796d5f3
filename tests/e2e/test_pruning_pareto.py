"""Per-epoch pruning and multi-objective searches end to end."""

import pytest

import tuneweights as tw
from tests.conftest import TwoSources
from tuneweights.search import pareto

EPOCHS = 4


def search(tuner, data, epochs=EPOCHS):
    x, y = data
    tuner.search(x, y, validation_data=(x, y), epochs=epochs, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert trials and {t.status for t in trials} == {"COMPLETED"}, [t.status for t in trials]
    return trials


@pytest.mark.parametrize(
    "strategy", [tw.RandomSearch, pytest.param(tw.BayesianOptimization, marks=pytest.mark.slow)]
)
def test_median_pruning_stops_bad_trials_early(tmp_path, data, strategy):
    kwargs = {"num_initial_points": 3} if strategy is tw.BayesianOptimization else {}
    tuner = strategy(
        TwoSources(),
        objective="val_a_loss",
        max_trials=8,
        seed=3,
        directory=str(tmp_path),
        project_name="p",
        pruner=tw.pruners.MedianStopping(warmup=1, min_trials=2),
        **kwargs,
    )
    trials = search(tuner, data)
    pruned = tuner.oracle.pruned
    assert pruned, "expected at least one pruned trial"
    for trial in trials:
        steps = [o.step for o in trial.metrics.get_history("val_a_loss")]
        if trial.trial_id in pruned:
            assert steps == list(range(pruned[trial.trial_id] + 1)) and len(steps) < EPOCHS
            assert trial.message.startswith("Pruned after epoch")
        else:
            assert steps == list(range(EPOCHS))
    ranked = tuner.oracle.get_best_trials(len(trials))
    scores = [t.score for t in ranked]
    assert scores == sorted(scores)  # pruned trials are ranked by what they reached


def test_hyperband_with_a_pruner_is_refused(tmp_path):
    with pytest.raises(tw.ConfigurationError, match=r"Argument `pruner` must be left out with Hyperband"):
        tw.Hyperband(
            TwoSources(), objective="val_a_loss", max_epochs=4, pruner="median", directory=str(tmp_path)
        )


def test_pareto_front_of_two_objectives(tmp_path, data):
    tuner = tw.RandomSearch(
        TwoSources(),
        objective=["val_a_loss", "val_b_loss"],
        max_trials=6,
        seed=5,
        directory=str(tmp_path),
        project_name="p",
    )
    trials = search(tuner, data)
    front = tuner.get_pareto_front()
    directions = {"val_a_loss": "min", "val_b_loss": "min"}
    assert front
    ids = {row["trial_id"] for row in front}
    points = {}
    for trial in trials:
        values = {
            name: [o.mean() for o in trial.metrics.get_history(name) if o.step == trial.best_step][0]
            for name in directions
        }
        points[trial.trial_id] = values
    for trial_id, values in points.items():
        dominated = any(
            pareto.dominates(other, values, directions) for o, other in points.items() if o != trial_id
        )
        assert (trial_id in ids) == (not dominated)
    a_values = [row["values"]["val_a_loss"] for row in front]
    assert a_values == sorted(a_values)
    assert set(front[0]) == {"trial_id", "values", "weights", "hyperparameters", "pruned"}


def test_pareto_front_needs_objectives_for_a_single_objective_search(tmp_path, data):
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=2, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data, epochs=1)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `objectives` must be given \(two or more names\)"
    ):
        tuner.get_pareto_front()
    assert len(tuner.get_pareto_front(["val_a_loss", "val_b_loss"])) >= 1


def test_custom_fit_returning_a_dict_with_a_multi_objective(tmp_path, data):
    class ReturnsDict(TwoSources):
        def fit(self, hp, model, x, y, validation_data, **kwargs):
            model.fit(x, y, epochs=2, verbose=0)
            logs = model.evaluate(*validation_data, verbose=0, return_dict=True)
            return {"val_a_loss": logs["a_loss"], "val_b_loss": logs["b_loss"]}

    tuner = tw.RandomSearch(
        ReturnsDict(),
        objective=["val_a_loss", "val_b_loss"],
        max_trials=2,
        directory=str(tmp_path),
        project_name="p",
    )
    trials = search(tuner, data)
    for trial in trials:
        a = trial.metrics.get_best_value("val_a_loss")
        b = trial.metrics.get_best_value("val_b_loss")
        assert trial.score == pytest.approx(a + b)
