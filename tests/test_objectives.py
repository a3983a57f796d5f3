import keras_tuner as kt
import pytest

import tuneweights as tw
from tuneweights.search import objectives

TERMS = [
    tw.Term("cls", "sparse_categorical_crossentropy", metrics=["accuracy"]),
    tw.Term("rec", "mse", metrics=["mae"]),
]


@pytest.mark.parametrize(
    "name, direction",
    [
        ("val_cls_accuracy", "max"),
        ("cls_accuracy", "max"),
        ("val_rec_loss", "min"),
        ("val_unweighted_loss", "min"),
        ("val_rec_mae", "min"),
        ("val_loss", "min"),
        ("val_auc", "max"),
    ],
)
def test_direction_inference(name, direction):
    assert objectives.infer_direction(name, TERMS) == direction


def test_unknown_direction_asks_for_an_objective():
    with pytest.raises(
        tw.ConfigurationError, match=r"pass `keras_tuner.Objective\('val_score', direction='min' or 'max'\)`"
    ):
        objectives.resolve("val_score", TERMS)


def test_resolve_keeps_explicit_objectives_and_lists():
    explicit = kt.Objective("val_score", "max")
    assert objectives.resolve(explicit, TERMS) is explicit
    multi = objectives.resolve(["val_cls_accuracy", "val_rec_loss"], TERMS)
    assert {o.name: o.direction for o in multi.objectives} == {
        "val_cls_accuracy": "max",
        "val_rec_loss": "min",
    }


def test_missing_objective_lists_alternatives():
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `objective` must be given: .*'val_cls_loss', 'val_rec_loss', 'val_unweighted_loss'",
    ):
        objectives.resolve(None, TERMS)


def test_bad_objective_type():
    with pytest.raises(tw.ConfigurationTypeError, match=r"Argument `objective` must be a metric name"):
        objectives.resolve(3, TERMS)


def test_logged_names():
    names = tw.LossConfig(TERMS).logged_names(validation=True)
    for name in [
        "loss",
        "unweighted_loss",
        "cls_loss",
        "cls_weight",
        "cls_accuracy",
        "rec_mae",
        "val_loss",
        "val_unweighted_loss",
        "val_rec_loss",
        "val_cls_accuracy",
    ]:
        assert name in names


@pytest.mark.parametrize("name", ["loss", "val_loss"])
def test_weighted_total_is_refused_when_weights_are_searched(name):
    objective = kt.Objective(name, "min")
    with pytest.raises(
        tw.ConfigurationError,
        match=r"not be the weighted total loss while loss weights are searched.*'val_rec_loss'",
    ):
        objectives.check(objective, TERMS, loss_searched=True, known=None)
    objectives.check(objective, TERMS, loss_searched=False, known=None)  # fixed weights: fine


def test_weighted_total_inside_a_multi_objective_is_refused():
    multi = objectives.resolve(["val_loss", "val_cls_accuracy"], TERMS)
    with pytest.raises(tw.ConfigurationError, match=r"weighted total"):
        objectives.check(multi, TERMS, loss_searched=True, known=None)


def test_never_logged_objective_is_refused():
    known = tw.LossConfig(TERMS).logged_names()
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `objective` must be one of the logged names .*Received: objective='val_cls_f1'",
    ):
        objectives.check(kt.Objective("val_cls_f1", "max"), TERMS, True, known)


def test_weight_is_not_an_objective():
    with pytest.raises(tw.ConfigurationError, match=r"name a loss or metric, not a term's weight"):
        objectives.check(kt.Objective("val_rec_weight", "min"), TERMS, True, None)


def test_a_searched_switch_rules_out_its_terms_loss_and_the_unweighted_sum():
    switch = tw.SwitchAt("mse", "mae", at=tw.Range(0.1, 0.9, sampling="linear"))
    terms = [tw.Term("a", switch), tw.Term("b", "mse", metrics=["mae"])]
    for name in ("val_a_loss", "val_unweighted_loss", "val_loss"):
        with pytest.raises(tw.ConfigurationError, match=r"Argument `objective` must not"):
            objectives.check(kt.Objective(name, "min"), terms, loss_searched=True, known=None)
    objectives.check(kt.Objective("val_b_loss", "min"), terms, loss_searched=True, known=None)


def test_single_term_metrics_are_logged_with_the_term_prefix_too():
    names = tw.LossConfig([tw.Term("rec", "mse", metrics=["mae"])]).logged_names(validation=True)
    assert "val_rec_mae" in names and "val_mae" not in names
