import json
import math

import keras
import pytest

import tuneweights as tw
from tuneweights.terms import as_terms


def test_range_default_is_one_when_inside():
    assert tw.Range(0.01, 100).default_value() == 1.0


def test_range_default_geometric_mean_outside_one():
    assert tw.Range(4.0, 16.0).default_value() == pytest.approx(8.0)
    assert tw.Range(4.0, 16.0, sampling="linear").default_value() == pytest.approx(10.0)


@pytest.mark.parametrize(
    "low, high, match",
    [
        (0.0, 1.0, r"Argument `low` must be a finite number > 0. Received: low=0.0"),
        (-1.0, 1.0, r"Argument `low` must be a finite number > 0. Received: low=-1.0"),
        (2.0, 1.0, r"Argument `low` must be < high=1.0. Received: low=2.0"),
        (1.0, 1.0, r"Argument `low` must be < high=1.0. Received: low=1.0"),
        (1.0, math.inf, r"Argument `high` must be a finite number > 0"),
    ],
)
def test_range_rejects_bad_bounds(low, high, match):
    with pytest.raises(tw.ConfigurationError, match=match):
        tw.Range(low, high)


def test_range_rejects_bad_sampling_and_default():
    with pytest.raises(tw.ConfigurationError, match=r"`sampling` must be one of \['log', 'linear'\]"):
        tw.Range(1, 2, sampling="reverse_log")
    with pytest.raises(tw.ConfigurationError, match=r"`default` must lie in \[low, high\]"):
        tw.Range(1, 2, default=3)


def test_range_type_error_names_argument():
    with pytest.raises(tw.ConfigurationTypeError, match=r"`low` must be a number. Received: low='1'"):
        tw.Range("1", 2)


def test_term_defaults_name_to_output():
    term = tw.Term(loss="mse", output="rec")
    assert term.name == "rec" and term.weight == 1.0 and not term.searched


def test_term_requires_name_or_output():
    with pytest.raises(tw.ConfigurationError, match=r"Argument `name` must be given when `output` is not"):
        tw.Term(loss="mse")


def test_unknown_loss_name_is_refused():
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `loss` must be a loss name .*Received: loss='msqe'"
    ):
        tw.Term("a", "msqe")


def test_loss_of_wrong_type_is_refused():
    with pytest.raises(tw.ConfigurationTypeError, match=r"Argument `loss` must be a loss name"):
        tw.Term("a", 3)


def test_negative_fixed_weight_is_refused():
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `weight` must be a finite number >= 0. Received: weight=-1"
    ):
        tw.Term("a", "mse", weight=-1)


def test_bad_names_are_refused():
    with pytest.raises(tw.ConfigurationError, match=r"Argument `name` must be a non-empty string"):
        tw.Term("a b", "mse")


def test_term_config_round_trips_through_json():
    term = tw.Term(
        "aux",
        keras.losses.BinaryCrossentropy(from_logits=True),
        output="y",
        target="t",
        weight=tw.Range(0.1, 10),
        metrics=["mae"],
    )
    config = json.loads(json.dumps(term.get_config()))
    back = tw.Term.from_config(config)
    assert back.name == "aux" and back.output == "y" and back.target == "t"
    assert back.weight == tw.Range(0.1, 10)
    assert isinstance(back.loss, keras.losses.BinaryCrossentropy) and back.loss.get_config()["from_logits"]
    assert back.metrics == ("mae",)


def test_get_loss_keeps_instances_and_resolves_names():
    loss = keras.losses.Huber(delta=2.0)
    assert tw.Term("a", loss).get_loss() is loss
    assert tw.Term("a", "mse").get_loss() is keras.losses.mean_squared_error


def test_resolve_fills_output_and_target():
    resolved = tw.Term("a", "mse").resolve(["only"])
    assert (resolved.output, resolved.target) == ("only", "only")


def test_resolve_reports_missing_output():
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `terms\['a'\].output` must be one of the model outputs \['x', 'y'\]. Received: terms\['a'\].output='z'",
    ):
        tw.Term("a", "mse", output="z").resolve(["x", "y"])


def test_resolve_needs_output_when_model_has_several():
    with pytest.raises(tw.ConfigurationError, match=r"name one of the model outputs \['x', 'y'\]"):
        tw.Term("a", "mse").resolve(["x", "y"])


def test_as_terms_accepts_output_dict():
    terms = as_terms(
        {"cls": "sparse_categorical_crossentropy", "rec": [tw.Term("rec", "mse"), tw.Term("l1", "mae")]}
    )
    assert [(t.name, t.output) for t in terms] == [("cls", "cls"), ("rec", "rec"), ("l1", "rec")]


def test_as_terms_rejects_duplicates_and_empty():
    with pytest.raises(tw.ConfigurationError, match=r"have unique names; duplicated: \['a'\]"):
        as_terms([tw.Term("a", "mse"), tw.Term("a", "mae")])
    with pytest.raises(tw.ConfigurationError, match=r"Argument `terms` must declare at least one loss term"):
        as_terms([])


def test_as_terms_rejects_wrong_types():
    with pytest.raises(
        tw.ConfigurationTypeError, match=r"Argument `terms` must be a list of `tuneweights.Term`"
    ):
        as_terms(["mse"])
    with pytest.raises(
        tw.ConfigurationTypeError, match=r"Argument `terms` must be a list of `Term` or a dict"
    ):
        as_terms("mse")
