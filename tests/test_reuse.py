"""One compiled model for the trials of an architecture (`tuneweights.search.reuse`)."""

import itertools

import keras
import keras_tuner as kt
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import TwoSources, make_data
from tuneweights.search import reuse


def _plain(units=8, lr=0.01, activation="tanh", loss="mse", optimizer=None, metrics=None):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(units, activation=activation)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
    model.compile(optimizer or keras.optimizers.Adam(lr), loss, metrics=metrics)
    return model


def _module_loss(y_true, y_pred):
    return keras.ops.mean(keras.ops.abs(y_true - y_pred))


def _scaled_loss(scale):
    def loss(y_true, y_pred):
        return scale * keras.ops.mean(keras.ops.square(y_true - y_pred))

    return loss


# -- signatures -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {}),
        ({"lr": 0.01}, {"lr": 0.3}),  # a learning rate lives in a variable
        ({"loss": _module_loss}, {"loss": _module_loss}),  # the same function object
        ({"metrics": ["mae"]}, {"metrics": ["mae"]}),
    ],
)
def test_models_whose_steps_match_share_a_signature(first, second):
    assert reuse.signature(_plain(**first)) is not None
    assert reuse.signature(_plain(**first)) == reuse.signature(_plain(**second))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"units": 8}, {"units": 16}),
        ({"activation": "tanh"}, {"activation": "relu"}),
        ({"loss": "mse"}, {"loss": "mae"}),
        ({"metrics": ["mae"]}, {"metrics": None}),
        (
            {"optimizer": keras.optimizers.Adam(0.01, beta_1=0.9)},
            {"optimizer": keras.optimizers.Adam(0.01, beta_1=0.5)},
        ),
        ({"optimizer": keras.optimizers.Adam(0.01)}, {"optimizer": keras.optimizers.SGD(0.01)}),
        (
            {"optimizer": keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))},
            {"optimizer": keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))},
        ),
    ],
)
def test_models_whose_steps_differ_do_not(first, second):
    assert reuse.signature(_plain(**first)) != reuse.signature(_plain(**second))


def test_a_loss_made_in_build_is_never_taken_for_another():
    # Its config holds only the function's name, not the value it closes over.
    assert reuse.signature(_plain(loss=_scaled_loss(1.0))) != reuse.signature(_plain(loss=_scaled_loss(1.0)))


class _Subclassed(keras.Model):
    def __init__(self, skip):
        super().__init__()
        self.skip, self.dense = skip, keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x) + (x[:, :1] if self.skip else 0.0)


def test_models_that_no_config_describes_are_not_reusable():
    subclassed = _Subclassed(skip=True)
    subclassed.compile("adam", "mse")
    subclassed(np.zeros((1, 4), "float32"))
    inputs = keras.Input((4,))
    scaled = keras.Model(inputs, keras.layers.Lambda(lambda t: 2.0 * t)(keras.layers.Dense(1)(inputs)))
    scaled.compile("adam", "mse")
    uncompiled = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    assert [reuse.signature(m) for m in (subclassed, scaled, uncompiled)] == [None, None, None]


def _weighted(weight_b=1.0, strategy=None, update="epoch"):
    keras.utils.set_random_seed(0)
    terms = [
        tw.Term("a", "mse", output="pred", target="ya", metrics=["mae"]),
        tw.Term("b", "mse", output="pred", target="yb", update=update),
    ]
    model = tw.WeightedModel(_base(), terms, weights={"b": weight_b}, strategy=strategy)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    return model


def _base():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="tanh")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))


def test_weighted_models_differing_in_what_variables_hold_share_a_signature():
    static = reuse.signature(_weighted(0.5))
    assert static is not None
    assert static == reuse.signature(_weighted(20.0))
    assert static == reuse.signature(_weighted(tw.schedules.Linear(0.1, 2.0)))  # followed per epoch


def test_weighted_models_differing_in_their_steps_do_not():
    per_step = reuse.signature(_weighted(tw.schedules.Linear(0.1, 2.0), update="step"))
    assert per_step != reuse.signature(_weighted(tw.schedules.Linear(0.1, 3.0), update="step"))
    assert reuse.signature(_weighted(1.0)) != reuse.signature(_weighted(1.0, strategy="uncertainty"))


# -- lending the model ----------------------------------------------------------------------
def test_the_kept_model_takes_the_new_one_state_and_trains_as_it_would():
    x, y = make_data()
    kept = reuse.ModelReuse()
    first = kept.take(_plain(lr=0.05))
    first.fit(x, y["ya"], epochs=2, batch_size=16, verbose=0, shuffle=False)
    second = _plain(lr=0.2)
    lent = kept.take(second)
    assert lent is first and kept.reused == 1
    for a, b in zip(
        [*lent.weights, *lent.optimizer.variables],
        [*second.weights, *second.optimizer.variables],
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert float(lent.optimizer.learning_rate) == pytest.approx(0.2)
    assert int(lent.optimizer.iterations) == 0
    lent.fit(x, y["ya"], epochs=2, batch_size=16, verbose=0, shuffle=False)
    own = _plain(lr=0.2)
    own.fit(x, y["ya"], epochs=2, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(lent.get_weights(), own.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_another_architecture_replaces_the_kept_model():
    kept = reuse.ModelReuse()
    first = kept.take(_plain(units=8))
    other = _plain(units=16)
    assert kept.take(other) is other
    assert kept.take(_plain(units=16)) is other
    kept.clear()
    fresh = _plain(units=16)
    assert kept.take(fresh) is fresh and first is not other


def test_a_weighted_model_follows_the_lent_configuration():
    kept = reuse.ModelReuse()
    kept.take(_weighted(0.5))
    schedule = tw.schedules.Linear(0.1, 2.0)
    lent = kept.take(_weighted(schedule))
    assert kept.reused == 1
    assert lent.term_weights() == pytest.approx({"a": 1.0, "b": 0.1})
    assert lent.loss_config.weights["b"] == schedule
    lent.begin_epoch(5)  # the schedule is followed on the host
    lent.horizon = 10
    lent.begin_epoch(5)
    assert lent.term_weights()["b"] == pytest.approx(schedule.value(5, 10))


# -- in a search ----------------------------------------------------------------------------------
def _build(hp):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(hp.Choice("units", [8, 16]), activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")), "mse", metrics=["mae"])
    return model


def _scores(tmp_path, hypermodel, reuse_models, tuner=tw.RandomSearch, data=None, **kwargs):
    x, y = data or make_data()
    search = tuner(
        hypermodel,
        seed=3,
        directory=tmp_path,
        project_name=f"reuse{reuse_models}",
        reuse_models=reuse_models,
        **kwargs,
    )
    search.search(x, y, validation_data=(x, y), epochs=kwargs.pop("epochs", 3), batch_size=16, verbose=0)
    trials = search.oracle.trials.values()
    assert [t.status for t in trials] == ["COMPLETED"] * len(trials)
    return search, {t.trial_id: t.score for t in trials}


def test_a_search_reusing_models_scores_every_trial_as_one_that_does_not(tmp_path):
    data = make_data()
    data = (data[0], data[1]["ya"])
    reused, scores = _scores(tmp_path, _build, True, data=data, objective="val_loss", max_trials=6)
    fresh, expected = _scores(tmp_path, _build, False, data=data, objective="val_loss", max_trials=6)
    assert len(scores) == 6 and scores == pytest.approx(expected, rel=1e-6)
    units = [t.hyperparameters["units"] for t in reused.oracle.trials.values()]
    changes = sum(a != b for a, b in itertools.pairwise(units))
    assert reused._reuse.reused == 5 - changes > 0  # one model per run of one architecture
    assert fresh._reuse.reused == 0


def test_a_weight_search_reuses_one_model(tmp_path):
    reused, scores = _scores(tmp_path, TwoSources(), True, objective="val_a_loss", max_trials=4)
    _, expected = _scores(tmp_path, TwoSources(), False, objective="val_a_loss", max_trials=4)
    assert reused._reuse.reused == 3
    assert scores == pytest.approx(expected, rel=1e-6)
    assert len(set(scores.values())) == 4  # the weights changed what was learned


def test_hyperband_rounds_start_from_their_parent_with_a_lent_model(tmp_path):
    kwargs = {"objective": "val_a_loss", "max_epochs": 2, "factor": 2, "tuner": tw.Hyperband}
    reused, scores = _scores(tmp_path, TwoSources(), True, **kwargs)
    _, expected = _scores(tmp_path, TwoSources(), False, **kwargs)
    assert reused._reuse.reused > 0
    assert any("tuner/trial_id" in t.hyperparameters.values for t in reused.oracle.trials.values())
    assert scores == pytest.approx(expected, rel=1e-6)


def test_models_loaded_after_the_search_are_their_own(tmp_path):
    tuner, _ = _scores(tmp_path, TwoSources(), True, objective="val_a_loss", max_trials=3)
    first, second = tuner.get_best_models(2)
    assert first is not second
    assert any(
        not np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights(), strict=True)
    )


class _FailsOnce(kt.HyperModel):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def build(self, hp):
        return _build(hp)

    def fit(self, hp, model, *args, **kwargs):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("stopped half-way")
        return model.fit(*args, **kwargs)


def test_a_failed_trial_model_is_not_lent_again(tmp_path):
    x, y = make_data()
    tuner = tw.RandomSearch(
        _FailsOnce(),
        objective="val_loss",
        max_trials=3,
        seed=3,
        directory=tmp_path,
        hyperparameters=_fixed_units(),
        max_consecutive_failed_trials=2,
    )
    tuner.search(x, y["ya"], validation_data=(x, y["ya"]), epochs=1, batch_size=16, verbose=0)
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert statuses == ["COMPLETED", "FAILED", "COMPLETED"]
    assert tuner._reuse.reused == 1  # the second trial, not the third


def _fixed_units():
    hp = kt.HyperParameters()
    hp.Fixed("units", 8)
    return hp


def test_a_model_recompiled_with_keras_tuner_overrides_is_not_reused(tmp_path):
    # keras-tuner's `optimizer=` recompiles with metric objects whose config Keras cannot write.
    x, y = make_data()
    tuner = tw.RandomSearch(
        _build,
        objective="val_loss",
        max_trials=3,
        seed=3,
        optimizer=keras.optimizers.Adam(0.01),
        directory=tmp_path,
    )
    tuner.search(x, y["ya"], validation_data=(x, y["ya"]), epochs=1, batch_size=16, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 3
    assert tuner._reuse.reused == 0
