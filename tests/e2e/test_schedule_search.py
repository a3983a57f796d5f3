"""Schedules and switches searched end to end by each strategy."""

import keras
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import make_data
from tuneweights import schedules as S
from tuneweights.terms import SEARCHABLE_FAMILIES


class Scheduled(tw.WeightedHyperModel):
    terms = [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term(
            "b",
            tw.SwitchAt("mse", "mae", at=tw.Range(0.1, 0.9, sampling="linear")),
            output="pred",
            target="yb",
            weight=tw.ScheduleSearch(families=SEARCHABLE_FAMILIES),
        ),
    ]

    def build(self, hp):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        return model


def run(tuner, epochs):
    x, y = make_data()
    tuner.search(x, y, validation_data=(x, y), epochs=epochs, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert trials and {t.status for t in trials} == {"COMPLETED"}, [t.status for t in trials]
    return trials


def check_logged_weights_follow_the_schedule(tuner, trial, horizon):
    """The weight logged at each epoch is the decoded schedule's value at that absolute epoch."""
    schedule = tuner.hypermodel.space.decode(trial.hyperparameters).weights["b"]
    assert isinstance(schedule, S.Schedule) and schedule.name in SEARCHABLE_FAMILIES
    for observation in trial.metrics.get_history("b_weight"):
        expected = schedule.value(observation.step, horizon)
        np.testing.assert_allclose(observation.value[0], expected, rtol=1e-5, atol=1e-7)
    switch = tuner.describe(trial.hyperparameters)["switches"]["b"]
    assert 0.1 <= switch.at <= 0.9
    for observation in trial.metrics.get_history("b_switch_epoch"):
        epoch, switched = observation.step, observation.value[0]
        assert (switched >= 0) == switch.active(epoch, horizon), (epoch, switched, switch)
        if switched >= 0:  # the epoch recorded is one at which the switch was due
            assert switched <= epoch and switch.active(switched, horizon)


@pytest.mark.slow
def test_bayesian_search_over_schedules_proposes_valid_configs(tmp_path):
    tuner = tw.BayesianOptimization(
        Scheduled(),
        objective="val_a_loss",
        max_trials=8,
        num_initial_points=3,
        seed=2,
        directory=str(tmp_path),
        project_name="bo",
    )
    trials = run(tuner, epochs=4)
    assert len(trials) == 8
    families = set()
    for trial in trials:
        values = trial.hyperparameters.values
        family = values["schedule/b/family"]
        families.add(family)
        active = {k.split("/")[-1] for k in values if k.startswith("schedule/b/")}
        expected = {"family", "start"} | (
            {"at"} if family in ("step", "linear", "cosine", "sigmoid", "warmup") else set()
        )
        if family in ("step", "linear", "cosine", "sigmoid"):
            expected |= {"floor"} | ({"floor_value"} if values["schedule/b/floor"] == "positive" else set())
        if family == "cyclical":
            expected |= {"cycles", "ratio"}
        assert active == expected, (family, active)  # only the chosen family's parameters are set
        assert 0.01 <= values["schedule/b/start"] <= 100
        check_logged_weights_follow_the_schedule(tuner, trial, horizon=4)
    assert len(families) > 1


def test_random_search_over_schedules(tmp_path):
    tuner = tw.RandomSearch(
        Scheduled(), objective="val_a_loss", max_trials=4, seed=4, directory=str(tmp_path), project_name="rs"
    )
    for trial in run(tuner, epochs=3):
        check_logged_weights_follow_the_schedule(tuner, trial, horizon=3)


def test_hyperband_promoted_trials_continue_the_schedule(tmp_path):
    tuner = tw.Hyperband(
        Scheduled(),
        objective="val_a_loss",
        max_epochs=3,
        factor=3,
        seed=1,
        directory=str(tmp_path),
        project_name="hb",
    )
    trials = run(tuner, epochs=100)
    promoted = [t for t in trials if t.hyperparameters.values.get("tuner/initial_epoch", 0) > 0]
    assert promoted
    for trial in trials:  # the horizon is max_epochs in every round
        check_logged_weights_follow_the_schedule(tuner, trial, horizon=3)
