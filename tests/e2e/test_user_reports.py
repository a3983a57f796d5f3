"""What users hit when entry points decoded a declaration each on their own, tried as a user would."""

import dataclasses
from typing import ClassVar

import keras
import keras_tuner as kt
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import TwoSources, make_data
from tuneweights import schedules as S


def completed(tuner):
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert statuses and set(statuses) == {"COMPLETED"}, statuses
    return list(tuner.oracle.trials.values())


def history_of(trial, name):
    return [float(o.mean()) for o in trial.metrics.get_history(name)]


class OneScheduledTerm(tw.WeightedHyperModel):
    terms = [tw.Term("a", "mse", output="pred", target="ya", weight=S.Linear(start=0.5, end=1.0))]

    def build(self, hp):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(1, name="pred")(inputs))


LINEAR = [0.5, 0.5 + 0.5 / 3, 0.5 + 1.0 / 3]  # Linear(0.5 -> 1.0) at epochs 0, 1, 2 of 3


def test_a_fixed_schedule_on_the_only_term_is_used_as_given(tmp_path, data):
    x, y = data
    history = OneScheduledTerm().build_weighted().fit(x, y, epochs=3, verbose=0).history
    np.testing.assert_allclose(history["a_weight"], LINEAR, rtol=1e-6)
    tuner = tw.RandomSearch(
        OneScheduledTerm(), objective="val_a_loss", max_trials=1, directory=str(tmp_path), project_name="p"
    )
    tuner.search(x, y, validation_data=(x, y), epochs=3, verbose=0)
    (trial,) = completed(tuner)
    np.testing.assert_allclose(history_of(trial, "a_weight"), LINEAR, rtol=1e-6)
    assert tuner.get_best_weights()[0] == {"a": S.Linear(start=0.5, end=1.0)}


def test_fixed_schedules_on_every_term_are_used_as_given(data):
    x, y = data
    terms = [
        tw.Term("a", "mse", output="pred", target="ya", weight=S.Linear(start=0.5, end=1.0)),
        tw.Term("b", "mse", output="pred", target="yb", weight=S.Constant(weight=0.25)),
    ]
    hypermodel = OneScheduledTerm(terms)
    history = hypermodel.build_weighted().fit(x, y, epochs=3, verbose=0).history
    np.testing.assert_allclose(history["a_weight"], LINEAR, rtol=1e-6)
    np.testing.assert_allclose(history["b_weight"], [0.25] * 3)


@pytest.mark.parametrize(
    "weight, shown",
    [(0.5, r"\{'b': 0.5\}"), (tw.Range(0.1, 10), r"\{'b': Range\(low=0.1, high=10.0")],
)
def test_a_strategy_that_sets_the_weights_refuses_declared_weights(tmp_path, weight, shown):
    terms = [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term("b", "mse", output="pred", target="yb", weight=weight),
    ]
    match = rf"Argument `weights` must be left at 1 for every term under strategy 'dwa', which sets the weights itself. Received: weights={shown}"
    with pytest.raises(tw.ConfigurationError, match=match):
        TwoSources(terms, strategy="dwa")
    base = TwoSources().build(kt.HyperParameters())
    with pytest.raises(tw.ConfigurationError, match=match):
        tw.WeightedModel(base, terms, strategy="dwa")


def squared_error(y_true, y_pred):
    return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)


class LambdaLoss(TwoSources):
    terms = [
        tw.Term(
            "a",
            lambda y_true, y_pred: keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1),
            output="pred",
            target="ya",
        ),
        tw.Term("b", squared_error, output="pred", target="yb", weight=tw.Range(0.01, 100.0)),
    ]


def test_a_project_with_a_lambda_or_function_loss_resumes(tmp_path, data):
    x, y = data

    def run(trials):
        tuner = tw.RandomSearch(
            LambdaLoss(),
            objective="val_a_loss",
            max_trials=trials,
            seed=1,
            directory=str(tmp_path),
            project_name="p",
        )
        tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
        return tuner

    run(1)
    assert len(completed(run(2))) == 2


class Units(TwoSources):
    def build(self, hp):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")))
        return model


def fixed_and_narrowed():
    hp = kt.HyperParameters()
    hp.Fixed("learning_rate", 0.01)
    hp.Int("units", 4, 8, step=4)
    return hp


@pytest.mark.parametrize("overwrite", [pytest.param(True, marks=pytest.mark.slow), False])
def test_hyperparameters_fixed_or_narrowed_by_the_user_are_accepted(tmp_path, data, overwrite):
    x, y = data

    def run(trials):
        tuner = tw.RandomSearch(
            Units(),
            objective="val_a_loss",
            max_trials=trials,
            seed=3,
            hyperparameters=fixed_and_narrowed(),
            directory=str(tmp_path),
            project_name="p",
            overwrite=overwrite,
        )
        tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
        return tuner

    run(2)
    trials = completed(run(3))
    assert len(trials) == 3  # a fresh search of 3, or the first 2 resumed and one more
    for trial in trials:
        assert trial.hyperparameters.values["learning_rate"] == 0.01
        assert trial.hyperparameters.values["units"] in (4, 8)


def test_narrowing_differently_when_resuming_is_refused(tmp_path, data):
    x, y = data
    tuner = tw.RandomSearch(
        Units(),
        objective="val_a_loss",
        max_trials=1,
        hyperparameters=fixed_and_narrowed(),
        directory=str(tmp_path),
        project_name="p",
    )
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    other = kt.HyperParameters()
    other.Fixed("learning_rate", 0.02)
    other.Int("units", 4, 8, step=4)
    with pytest.raises(
        tw.ConfigurationError, match=r"The hyperparameter `learning_rate` is declared differently"
    ):
        tw.RandomSearch(
            Units(),
            objective="val_a_loss",
            max_trials=2,
            hyperparameters=other,
            directory=str(tmp_path),
            project_name="p",
        )


class Classifier(tw.WeightedHyperModel):
    terms = [tw.Term("cls", "sparse_categorical_crossentropy", metrics=["accuracy"])]

    def build(self, hp):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probs")(inputs))


def labels(n=64):
    x, _ = make_data(n)
    return x, (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0).astype("int32")


def test_single_term_metrics_are_named_after_the_term(tmp_path):
    x, y = labels()
    history = Classifier().build_weighted().fit(x, y, validation_data=(x, y), epochs=1, verbose=0).history
    assert {"cls_accuracy", "val_cls_accuracy", "cls_loss", "val_cls_loss"} <= set(history)
    assert "accuracy" not in history and "val_accuracy" not in history
    tuner = tw.RandomSearch(
        Classifier(), objective="val_cls_accuracy", max_trials=1, directory=str(tmp_path), project_name="p"
    )
    tuner.search(x, y, validation_data=(x, y), epochs=2, verbose=0)
    (trial,) = completed(tuner)
    assert len(history_of(trial, "val_cls_accuracy")) == 2


def test_a_searched_weight_under_per_term_adam_is_refused_and_points_to_the_learning_rate():
    with pytest.raises(tw.ConfigurationError, match=r"Search the term's learning rate instead"):
        TwoSources(strategy=tw.SeparateOptimizers("adam", 1e-3))
    rates = tw.SeparateOptimizers("adam", terms={"b": {"learning_rate": tw.Range(1e-4, 1e-1)}})
    assert TwoSources(
        TwoSources.terms[:1] + [tw.Term("b", "mse", output="pred", target="yb")], strategy=rates
    ).space.hp_names() == ["strategy/separate/b/learning_rate"]


@tw.strategies.register
@dataclasses.dataclass(frozen=True)
class SumOfProjected(tw.Strategy):
    """A user's gradient-level strategy: drop each term's component that conflicts with the other's."""

    name: ClassVar[str] = "sum_of_projected_e2e"
    uses_term_weights: ClassVar[bool] = True

    def apply_gradients(self, step):
        first, second = (step.flat(step.weighted(k)) for k in range(2))
        dot = keras.ops.sum(first * second)
        first = first - keras.ops.minimum(dot, 0.0) / keras.ops.sum(second * second) * second
        step.apply(step.unflat(first + second))


def test_a_users_gradient_level_strategy_trains_in_a_search_with_searched_weights(tmp_path, data):
    x, y = data
    tuner = tw.RandomSearch(
        TwoSources(strategy=SumOfProjected()),
        objective="val_a_loss",
        max_trials=2,
        seed=2,
        directory=str(tmp_path),
        project_name="p",
    )
    tuner.search(x, y, validation_data=(x, y), epochs=2, verbose=0)
    trials = completed(tuner)
    ratios = [t.hyperparameters.values["ratio/b"] for t in trials]
    losses = [history_of(t, "val_a_loss")[-1] for t in trials]
    assert ratios[0] != ratios[1] and losses[0] != losses[1]  # the searched weight acts
    assert tuner.decode(trials[0].hyperparameters).strategy == SumOfProjected()
