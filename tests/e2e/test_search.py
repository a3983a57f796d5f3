"""End-to-end searches with each strategy on tiny data.

Every test asserts that all trials COMPLETED: keras-tuner records a trial that
raised as FAILED and lets `search` return normally.
"""

import warnings

import keras
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import TwoSources

EPOCHS = 3


def search(tuner, data, **kwargs):
    x, y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(x, y, validation_data=(x, y), verbose=0, **kwargs)
    deprecated = [str(w.message) for w in caught if "update_trial" in str(w.message)]
    assert not deprecated, deprecated
    return tuner


def assert_all_completed(tuner, expected):
    statuses = {t.trial_id: t.status for t in tuner.oracle.trials.values()}
    assert len(statuses) == expected and set(statuses.values()) == {"COMPLETED"}, statuses


def steps(trial, name="val_a_loss"):
    return [o.step for o in trial.metrics.get_history(name)]


def assert_logged_every_epoch(trial, epochs):
    for name in [
        "val_a_loss",
        "a_loss",
        "b_loss",
        "a_weight",
        "b_weight",
        "unweighted_loss",
        "val_unweighted_loss",
        "val_a_mae",
    ]:
        assert steps(trial, name) == list(epochs), (name, steps(trial, name))
        assert all(len(o.value) == 1 for o in trial.metrics.get_history(name))
    weight = trial.metrics.get_history("b_weight")[0].value[0]
    assert weight == pytest.approx(trial.hyperparameters.values["ratio/b"], rel=1e-6)


@pytest.mark.parametrize(
    "strategy",
    [
        "random",
        pytest.param("bayesian", marks=pytest.mark.slow),
        pytest.param("grid", marks=pytest.mark.slow),
    ],
)
def test_search_completes_and_reports_every_epoch(tmp_path, data, strategy):
    kwargs = dict(
        objective="val_a_loss", max_trials=4, directory=str(tmp_path), project_name=strategy, seed=7
    )
    if strategy == "random":
        tuner = tw.RandomSearch(TwoSources(), **kwargs)
    elif strategy == "bayesian":
        tuner = tw.BayesianOptimization(TwoSources(), num_initial_points=2, **kwargs)
    else:
        tuner = tw.GridSearch(TwoSources(), **kwargs)
    search(tuner, data, epochs=EPOCHS)
    assert_all_completed(tuner, 4)
    ratios = set()
    for trial in tuner.oracle.trials.values():
        assert_logged_every_epoch(trial, range(EPOCHS))
        ratios.add(trial.hyperparameters.values["ratio/b"])
    assert len(ratios) == 4  # the weight is searched, not fixed
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == min(t.score for t in tuner.oracle.trials.values())
    assert tuner.get_best_weights()[0] == {"a": 1.0, "b": best.hyperparameters.values["ratio/b"]}


def test_hyperband_keeps_absolute_epochs_and_promotes(tmp_path, data):
    tuner = tw.Hyperband(
        TwoSources(),
        objective="val_a_loss",
        max_epochs=3,
        factor=3,
        seed=3,
        directory=str(tmp_path),
        project_name="hb",
    )
    search(tuner, data, epochs=100)  # Hyperband sets the epochs of each round
    trials = list(tuner.oracle.trials.values())
    assert_all_completed(tuner, len(trials))
    promoted = [t for t in trials if "tuner/trial_id" in t.hyperparameters.values]
    assert promoted
    for trial in trials:
        values = trial.hyperparameters.values
        expected = range(values["tuner/initial_epoch"], values["tuner/epochs"])
        assert_logged_every_epoch(trial, expected)
    for trial in promoted:
        parent = tuner.oracle.get_trial(trial.hyperparameters.values["tuner/trial_id"])
        assert trial.hyperparameters.values["ratio/b"] == parent.hyperparameters.values["ratio/b"]


def test_different_weights_give_different_models(tmp_path, data):
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=3, seed=11, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data, epochs=EPOCHS)
    assert_all_completed(tuner, 3)
    trials = list(tuner.oracle.trials.values())
    x, _ = data
    predictions = [tuner.load_model(t).predict(x, verbose=0) for t in trials]
    # build() seeds the initial weights, so only the loss weights differ between trials
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(predictions[i] - predictions[j]).max() > 1e-4
    # and the same weights reproduce the same model
    weights = tuner.hypermodel.space.decode(trials[0].hyperparameters).weights
    model_a = tuner.retrain_best(*data, epochs=EPOCHS, verbose=0, shuffle=False)[0]
    model_b = tuner.retrain_best(*data, epochs=EPOCHS, verbose=0, shuffle=False)[0]
    np.testing.assert_array_equal(model_a.predict(x, verbose=0), model_b.predict(x, verbose=0))
    assert weights["a"] == 1.0


def test_stopped_status_ends_training_cleanly(tmp_path, data):
    class StopAtEpoch1(tw.WeightOracle):
        def update_trial(self, trial_id, metrics, step=0):
            trial = super().update_trial(trial_id, metrics, step=step)
            if step == 1:
                trial.status = "STOPPED"
            return trial

    import keras_tuner as kt

    hypermodel = TwoSources()
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=2, seed=1)
    tuner = tw.Tuner(
        StopAtEpoch1(inner, hypermodel.space), hypermodel, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data, epochs=5)
    assert_all_completed(tuner, 2)
    for trial in tuner.oracle.trials.values():
        assert steps(trial) == [0, 1]


def test_custom_fit_reports_with_one_line(tmp_path, data):
    class CustomLoop(TwoSources):
        def fit(self, hp, model, x, y, validation_data, epochs, callbacks, **kwargs):
            for epoch in range(epochs):
                model.fit(x, y, epochs=1, verbose=0)
                logs = model.evaluate(*validation_data, verbose=0, return_dict=True)
                logs = {f"val_{k}": v for k, v in logs.items()}
                if tw.report_epoch(callbacks, model, epoch, logs):
                    break
            # every epoch is reported: nothing needs to be returned

    tuner = tw.RandomSearch(
        CustomLoop(), objective="val_a_loss", max_trials=2, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data, epochs=EPOCHS)
    assert_all_completed(tuner, 2)
    for trial in tuner.oracle.trials.values():
        assert steps(trial) == [0, 1, 2]


def test_custom_fit_returning_a_value_is_recorded(tmp_path, data):
    class ReturnsScore(TwoSources):
        def fit(self, hp, model, x, y, validation_data, **kwargs):
            model.fit(x, y, epochs=2, verbose=0)
            return {
                "val_a_loss": float(model.evaluate(*validation_data, verbose=0, return_dict=True)["a_loss"])
            }

    tuner = tw.RandomSearch(
        ReturnsScore(), objective="val_a_loss", max_trials=2, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data)
    assert_all_completed(tuner, 2)
    assert all(t.score is not None for t in tuner.oracle.trials.values())


def test_diverging_trials_fail_with_the_reason_and_the_search_goes_on(tmp_path, data):
    class Diverges(TwoSources):
        def build(self, hp):
            model = super().build(hp)
            rate = hp.Choice("lr", [0.01, 1e9, 1e10, 1e11, 1e12])
            model.compile(optimizer=keras.optimizers.SGD(rate))
            return model

    terms = [tw.Term("a", "mse", target="ya"), tw.Term("b", "mse", target="yb", weight=0.5)]
    tuner = tw.GridSearch(
        Diverges(terms=terms), objective="val_a_loss", max_trials=5, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data, epochs=3)  # four diverging trials in a row do not stop the search
    trials = {t.hyperparameters.values["lr"]: t for t in tuner.oracle.trials.values()}
    assert len(trials) == 5 and trials[0.01].status == "COMPLETED" and np.isfinite(trials[0.01].score)
    for rate in (1e9, 1e10, 1e11, 1e12):
        trial = trials[rate]
        assert trial.status == "FAILED" and trial.message.startswith("Diverged: the training loss was")
        assert len(trial.metrics.get_history("val_a_loss")) < 3  # stopped at once
        assert tuner.oracle.diverged[trial.trial_id] == len(trial.metrics.get_history("val_a_loss")) - 1
    assert len(tuner.oracle.diverged) == 4
    assert tuner.oracle.get_best_trials(1)[0].hyperparameters.values["lr"] == 0.01
    assert tuner.get_best_weights(5) == [{"a": 1.0, "b": 0.5}]  # failed trials are never ranked


def test_optimizer_instance_is_copied_for_each_trial(tmp_path, data):
    class Uncompiled(TwoSources):
        def build(self, hp):
            inputs = keras.Input((4,))
            return keras.Model(inputs, keras.layers.Dense(1, name="pred")(inputs))

    tuner = tw.RandomSearch(
        Uncompiled(),
        objective="val_a_loss",
        max_trials=2,
        optimizer=keras.optimizers.SGD(0.05),
        directory=str(tmp_path),
        project_name="p",
    )
    search(tuner, data, epochs=1)
    assert_all_completed(tuner, 2)


def test_retrain_best_rank_is_checked(tmp_path, data):
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=1, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data, epochs=1)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `rank` must be an int >= 0. Received: rank=-1"
    ):
        tuner.retrain_best(*data, rank=-1)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `rank` must be < the number of completed trials \(1\)"
    ):
        tuner.retrain_best(*data, rank=1)


def test_results_summary_shows_decoded_weights(tmp_path, data, capsys):
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=1, directory=str(tmp_path), project_name="p"
    )
    search(tuner, data, epochs=1)
    assert_all_completed(tuner, 1)
    tuner.results_summary()
    assert "Loss weights: a: 1; b: " in capsys.readouterr().out
    described = tuner.describe(tuner.get_best_hyperparameters()[0])
    assert (
        set(described) == {"weights", "switches", "strategy", "hyperparameters"}
        and "ratio/b" not in described["hyperparameters"]
        and described["strategy"] == tw.strategies.Static()
    )
