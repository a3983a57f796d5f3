"""Common random numbers: every trial of a weight search starts from the same random state."""

import hashlib

import keras
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import make_data
from tuneweights.search import seeding


class Unseeded(tw.WeightedHyperModel):
    """Like the shared TwoSources, without seeding itself in `build`."""

    terms = [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term("b", "mse", output="pred", target="yb", weight=tw.Range(0.01, 100.0)),
    ]

    def __init__(self, starts):
        super().__init__()
        self.starts = starts

    def build(self, hp):
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
        model.compile(optimizer=keras.optimizers.SGD(0.01))
        self.starts.append(_digest(model))
        return model


def _digest(model):
    return hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in model.get_weights())).hexdigest()


def _search(tmp_path, hypermodel, **kwargs):
    x, y = make_data()
    tuner = tw.RandomSearch(
        hypermodel, objective="a_loss", max_trials=3, seed=5, directory=tmp_path, **kwargs
    )
    tuner.search(x, y, epochs=1, batch_size=16, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 3
    return tuner


def test_every_trial_of_a_weight_search_starts_from_the_same_initial_weights(tmp_path):
    starts = []
    tuner = _search(tmp_path, Unseeded(starts))
    trial_starts = starts[-3:]  # the first build only populated the space
    assert len(set(trial_starts)) == 1
    assert tuner.same_initial_weights is True
    weights = [tuner.decode(t.hyperparameters).weights["b"] for t in tuner.oracle.trials.values()]
    assert len(set(weights)) == 3  # the trials differ in their weights only


def test_it_can_be_turned_off(tmp_path):
    starts = []
    _search(tmp_path, Unseeded(starts), same_initial_weights=False)
    assert len(set(starts[-3:])) == 3


def test_each_execution_of_a_trial_starts_differently_and_alike_across_trials(tmp_path):
    starts = []
    _search(tmp_path, Unseeded(starts), executions_per_trial=2)
    per_trial = [tuple(starts[i : i + 2]) for i in range(len(starts) - 6, len(starts), 2)]
    assert len(set(per_trial)) == 1
    assert per_trial[0][0] != per_trial[0][1]


def test_plain_hypermodels_keep_keras_tuners_behaviour_unless_asked(tmp_path):
    x, y = make_data()

    def run(subdir, **kwargs):
        starts = []

        def build(hp):  # a fixed architecture; only the learning rate is searched
            inputs = keras.Input((4,))
            model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
            model.compile(keras.optimizers.SGD(hp.Float("lr", 1e-3, 1e-1, sampling="log")), "mse")
            starts.append(_digest(model))
            return model

        tuner = tw.RandomSearch(
            build, objective="loss", max_trials=3, seed=5, directory=tmp_path, project_name=subdir, **kwargs
        )
        tuner.search(x, y["ya"], epochs=1, verbose=0)
        assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 3
        return tuner.same_initial_weights, starts[-3:]

    default, starts = run("default")
    assert default is False and len(set(starts)) == 3
    asked, starts = run("asked", same_initial_weights=True)
    assert asked is True and len(set(starts)) == 1


def test_the_seed_comes_from_the_oracle_and_differs_per_execution():
    class Client:  # what a distributed worker holds: the oracle it was built with, inside a client
        _oracle = type("Oracle", (), {"seed": 11})()

    assert seeding.base_seed(type("Oracle", (), {"seed": 11})()) == seeding.base_seed(Client()) == 11
    assert seeding.trial_seed(11, 0) != seeding.trial_seed(11, 1)
    assert seeding.trial_seed(2**31 - 7919, 0) == 0


@pytest.mark.parametrize("value", [1, "yes", 0.0])
def test_a_non_bool_is_refused_naming_the_argument(tmp_path, value):
    with pytest.raises(tw.ConfigurationTypeError, match=r"same_initial_weights.*a bool"):
        tw.RandomSearch(Unseeded([]), objective="a_loss", directory=tmp_path, same_initial_weights=value)
