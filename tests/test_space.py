import json
import math

import keras_tuner as kt
import pytest

import tuneweights as tw
from tuneweights.space import WeightSpace


def three_terms(**kwargs):
    return [
        tw.Term("a", "mse", **kwargs),
        tw.Term("b", "mse", weight=tw.Range(0.01, 100)),
        tw.Term("c", "mse", weight=tw.Range(0.1, 10, sampling="linear")),
    ]


def test_ratio_mode_searches_k_minus_1_ratios_against_first_fixed_term():
    space = WeightSpace(three_terms())
    assert space.reference == "a"
    assert space.hp_names() == ["ratio/b", "ratio/c"]
    assert space.weights({"ratio/b": 0.5, "ratio/c": 3.0}) == {"a": 1.0, "b": 0.5, "c": 3.0}


def test_ratio_mode_scales_by_the_reference_weight():
    space = WeightSpace(three_terms(weight=2.0))
    assert space.weights({"ratio/b": 0.5, "ratio/c": 3.0}) == {"a": 2.0, "b": 1.0, "c": 6.0}


def test_all_searched_pins_the_reference_to_one():
    terms = [tw.Term("a", "mse", weight=tw.Range(0.1, 10)), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    space = WeightSpace(terms)
    assert space.reference == "a" and space.hp_names() == ["ratio/b"]
    assert space.weights({"ratio/b": 4.0}) == {"a": 1.0, "b": 4.0}


def test_explicit_reference():
    space = WeightSpace(three_terms(), reference="b")
    assert space.hp_names() == ["ratio/c"]
    assert space.weights({"ratio/c": 2.0}) == {"a": 1.0, "b": 1.0, "c": 2.0}


def test_absolute_mode_searches_every_range():
    space = WeightSpace(three_terms(), weighting="absolute")
    assert space.reference is None
    assert space.hp_names() == ["weight/b", "weight/c"]
    assert space.weights({"weight/b": 7.0, "weight/c": 0.2}) == {"a": 1.0, "b": 7.0, "c": 0.2}


def test_declare_registers_flat_floats_with_log_sampling():
    hp = kt.HyperParameters()
    WeightSpace(three_terms()).declare(hp)
    b, c = hp.space
    assert isinstance(b, kt.engine.hyperparameters.Float)
    assert (b.name, b.min_value, b.max_value, b.sampling, b.default) == ("ratio/b", 0.01, 100, "log", 1.0)
    assert (c.sampling, c.default) == ("linear", 1.0)
    # flat scalars: the whole space survives JSON
    config = json.loads(json.dumps(hp.get_config()))
    assert [p["config"]["name"] for p in config["space"]] == ["ratio/b", "ratio/c"]


def test_declare_is_idempotent_and_keeps_values():
    hp = kt.HyperParameters()
    space = WeightSpace(three_terms())
    space.declare(hp)
    hp.values["ratio/b"] = 42.0
    space.declare(hp)
    assert len(hp.space) == 2 and space.weights(hp)["b"] == 42.0


def test_log_sampling_is_uniform_in_log_ratio():
    hp = kt.HyperParameters()
    WeightSpace(three_terms()).declare(hp)
    b = hp.space[0]
    # keras-tuner maps the unit interval onto log(ratio) linearly
    assert math.log(b.prob_to_value(0.5)) == pytest.approx(0.0, abs=1e-9)
    assert b.prob_to_value(0.25) == pytest.approx(0.1)


def test_missing_values_fall_back_to_defaults():
    assert WeightSpace(three_terms()).weights({}) == {"a": 1.0, "b": 1.0, "c": 1.0}


def test_single_searched_term_is_refused():
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `terms\['a'\].weight` must be a fixed number when the model has a single loss term",
    ):
        WeightSpace([tw.Term("a", "mse", weight=tw.Range(0.1, 10))])


def test_unknown_reference_and_weighting_are_refused():
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `reference` must name one of the terms \['a', 'b', 'c'\]. Received: reference='z'",
    ):
        WeightSpace(three_terms(), reference="z")
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `weighting` must be one of \['ratio', 'absolute'\]"
    ):
        WeightSpace(three_terms(), weighting="relative")


def test_zero_reference_weight_is_refused():
    with pytest.raises(tw.ConfigurationError, match=r"must be > 0 for the reference term"):
        WeightSpace(three_terms(weight=0.0))


def test_config_is_json_and_describes_terms():
    space = WeightSpace(three_terms())
    config = json.loads(json.dumps(space.get_config()))
    assert config["weighting"] == "ratio" and config["reference"] == "a" and len(config["terms"]) == 3
    assert "searched ratio to a in [0.01, 100] (log) as `ratio/b`" in space.describe()


def test_empty_terms_and_reference_without_ratio_are_refused():
    with pytest.raises(tw.ConfigurationError, match=r"Argument `terms` must declare at least one loss term"):
        WeightSpace([])
    with pytest.raises(tw.ConfigurationError, match=r"Argument `reference` must be left out unless weighting='ratio'"):
        WeightSpace(three_terms(), weighting="absolute", reference="a")


def test_config_ignores_metrics():
    with_metric = [tw.Term("a", "mse", metrics=["mae"]), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    without = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    assert WeightSpace(with_metric).get_config() == WeightSpace(without).get_config()
