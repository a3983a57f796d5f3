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
    assert space.decode({"ratio/b": 0.5, "ratio/c": 3.0}).weights == {"a": 1.0, "b": 0.5, "c": 3.0}


def test_ratio_mode_scales_by_the_reference_weight():
    space = WeightSpace(three_terms(weight=2.0))
    assert space.decode({"ratio/b": 0.5, "ratio/c": 3.0}).weights == {"a": 2.0, "b": 1.0, "c": 6.0}


def test_all_searched_pins_the_reference_to_one():
    terms = [tw.Term("a", "mse", weight=tw.Range(0.1, 10)), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    space = WeightSpace(terms)
    assert space.reference == "a" and space.hp_names() == ["ratio/b"]
    assert space.decode({"ratio/b": 4.0}).weights == {"a": 1.0, "b": 4.0}


def test_explicit_reference():
    space = WeightSpace(three_terms(), reference="b")
    assert space.hp_names() == ["ratio/c"]
    assert space.decode({"ratio/c": 2.0}).weights == {"a": 1.0, "b": 1.0, "c": 2.0}


def test_absolute_mode_searches_every_range():
    space = WeightSpace(three_terms(), weighting="absolute")
    assert space.reference is None
    assert space.hp_names() == ["weight/b", "weight/c"]
    assert space.decode({"weight/b": 7.0, "weight/c": 0.2}).weights == {"a": 1.0, "b": 7.0, "c": 0.2}


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
    assert len(hp.space) == 2 and space.decode(hp).weights["b"] == 42.0


def test_log_sampling_is_uniform_in_log_ratio():
    hp = kt.HyperParameters()
    WeightSpace(three_terms()).declare(hp)
    b = hp.space[0]
    # keras-tuner maps the unit interval onto log(ratio) linearly
    assert math.log(b.prob_to_value(0.5)) == pytest.approx(0.0, abs=1e-9)
    assert b.prob_to_value(0.25) == pytest.approx(0.1)


def test_missing_values_fall_back_to_defaults():
    assert WeightSpace(three_terms()).decode({}).weights == {"a": 1.0, "b": 1.0, "c": 1.0}


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
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `reference` must be left out unless weighting='ratio'"
    ):
        WeightSpace(three_terms(), weighting="absolute", reference="a")


def test_config_ignores_metrics():
    with_metric = [tw.Term("a", "mse", metrics=["mae"]), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    without = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    assert WeightSpace(with_metric).get_config() == WeightSpace(without).get_config()


# -- searched schedules and switches -------------------------------------------

from tuneweights import schedules as S  # noqa: E402
from tuneweights import switches as W  # noqa: E402


def schedule_terms(search=None, **kwargs):
    return [tw.Term("a", "mse"), tw.Term("b", "mse", weight=search or tw.ScheduleSearch(**kwargs))]


def test_schedule_search_registers_flat_conditional_hyperparameters():
    space = WeightSpace(schedule_terms(families=("constant", "step", "warmup", "cyclical")))
    hp = kt.HyperParameters()
    space.declare(hp)
    names = [p.name for p in hp.space]
    assert names == [
        "schedule/b/family",
        "schedule/b/start",
        "schedule/b/at",
        "schedule/b/floor",
        "schedule/b/floor_value",
        "schedule/b/cycles",
        "schedule/b/ratio",
    ]
    by_name = {p.name: p for p in hp.space}
    assert by_name["schedule/b/family"].values == ["constant", "step", "warmup", "cyclical"]
    assert [c.values for c in by_name["schedule/b/at"].conditions] == [["step", "warmup"]]
    assert [c.values for c in by_name["schedule/b/floor_value"].conditions] == [["step"], ["positive"]]
    config = json.loads(json.dumps(hp.get_config()))  # flat scalars only
    assert len(config["space"]) == 7
    # a constant schedule leaves the other parameters inactive
    hp.values["schedule/b/family"] = "constant"
    assert not hp.is_active("schedule/b/at") and hp.is_active("schedule/b/start")


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"family": "constant", "start": 3.0}, S.Constant(weight=3.0)),
        ({"family": "step", "start": 3.0, "at": 0.25, "floor": "zero"}, S.Step(3.0, 0.0, at=0.25)),
        (
            {"family": "step", "start": 3.0, "at": 0.25, "floor": "positive", "floor_value": 0.1},
            S.Step(3.0, 0.1, at=0.25),
        ),
        (
            {"family": "linear", "start": 2.0, "at": 0.5, "floor": "zero"},
            S.Linear(2.0, 0.0, begin=0.0, stop=0.5),
        ),
        (
            {"family": "cosine", "start": 2.0, "at": 0.5, "floor": "zero"},
            S.Cosine(2.0, 0.0, begin=0.0, stop=0.5),
        ),
        (
            {"family": "sigmoid", "start": 2.0, "at": 0.5, "floor": "zero"},
            S.Sigmoid(2.0, 0.0, at=0.5, width=0.05),
        ),
        ({"family": "warmup", "start": 2.0, "at": 0.1}, S.Warmup(weight=2.0, length=0.1, start=0.0)),
        (
            {"family": "cyclical", "start": 2.0, "cycles": 3, "ratio": 0.5},
            S.Cyclical(weight=2.0, cycles=3, ratio=0.5),
        ),
    ],
)
def test_schedule_values_decode_into_schedules(values, expected):
    space = WeightSpace(schedule_terms(families=tw.terms.SEARCHABLE_FAMILIES))
    decoded = space.decode({f"schedule/b/{k}": val for k, val in values.items()}).weights
    assert decoded == {"a": 1.0, "b": expected}


def test_schedules_are_scaled_by_the_reference_weight():
    terms = [
        tw.Term("a", "mse", weight=2.0),
        tw.Term("b", "mse", weight=tw.ScheduleSearch(families=("step",))),
    ]
    decoded = (
        WeightSpace(terms)
        .decode(
            {
                "schedule/b/start": 3.0,
                "schedule/b/at": 0.5,
                "schedule/b/floor": "positive",
                "schedule/b/floor_value": 0.5,
            }
        )
        .weights
    )
    assert decoded["b"] == S.Step(6.0, 1.0, at=0.5)


def test_floor_choices():
    only_zero = WeightSpace(schedule_terms(families=("step",), floor=None)).hp_names()
    only_positive = WeightSpace(schedule_terms(families=("step",), zero_floor=False)).hp_names()
    assert "schedule/b/floor" not in only_zero and "schedule/b/floor_value" not in only_zero
    assert "schedule/b/floor" not in only_positive and "schedule/b/floor_value" in only_positive


def test_schedule_search_validation():
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `families` must be a non-empty subset of \['constant', 'step'"
    ):
        tw.ScheduleSearch(families=("exponential",))
    with pytest.raises(tw.ConfigurationError, match=r"Argument `at` must lie within \(0, 1\]"):
        tw.ScheduleSearch(at=tw.Range(0.1, 2.0))
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `floor` must be a Range when zero_floor=False"
    ):
        tw.ScheduleSearch(floor=None, zero_floor=False)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `cycles` must be \(low, high\) ints with 1 <= low <= high"
    ):
        tw.ScheduleSearch(cycles=(4, 2))
    with pytest.raises(tw.ConfigurationTypeError, match=r"Argument `start` must be a `tuneweights.Range`"):
        tw.ScheduleSearch(start=3.0)
    with pytest.raises(tw.ConfigurationError, match=r"Argument `update` must be one of \['epoch', 'step'\]"):
        tw.Term("a", "mse", update="batch")


def test_reference_must_have_a_constant_weight():
    terms = [tw.Term("a", "mse", weight=S.Step()), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `terms\['a'\].weight` must be a number or a Range for the reference term",
    ):
        WeightSpace(terms, reference="a")
    assert WeightSpace(terms).reference == "b"  # the first constant-weight term by default


def test_searched_switch_fields_become_hyperparameters():
    switch = W.SwitchOnMetric("mse", "mae", monitor="val_a_loss", threshold=tw.Range(0.01, 1.0))
    space = WeightSpace([tw.Term("a", switch), tw.Term("b", "mse")])
    assert space.hp_names() == ["switch/a/threshold"]
    concrete = space.decode({"switch/a/threshold": 0.3}).terms
    assert concrete[0].switch == W.SwitchOnMetric("mse", "mae", monitor="val_a_loss", threshold=0.3)
    assert (
        space.decode({"switch/a/threshold": 0.3}).describe()["a"]
        == "1; loss mse -> mae when val_a_loss < 0.3 for 1 epoch"
    )


def test_space_config_with_schedules_round_trips_through_json():
    terms = [
        tw.Term("a", "mse"),
        tw.Term("b", "mse", weight=tw.ScheduleSearch()),
        tw.Term("c", W.SwitchAt("mse", "mae", at=tw.Range(0.1, 0.9, sampling="linear")), weight=S.Cosine()),
    ]
    space = WeightSpace(terms)
    config = json.loads(json.dumps(space.get_config()))
    rebuilt = WeightSpace([tw.Term.from_config({**t, "metrics": []}) for t in config["terms"]])
    assert rebuilt.get_config() == space.get_config()
