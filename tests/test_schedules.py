import copy
import dataclasses
import inspect
import json
import math

import keras
import numpy as np
import pytest
from numpy.testing import assert_allclose

import tuneweights as tw
from tuneweights import schedules as S

BUILTINS = [
    getattr(S, name)
    for name in S.__all__
    if isinstance(getattr(S, name), type)
    and issubclass(getattr(S, name), S.Schedule)
    and getattr(S, name) is not S.Schedule
]

# Several parameterisations of every built-in family, in both units.
EXAMPLES = [
    S.Constant(),
    S.Constant(0.0),
    S.Constant(2.5),
    S.Linear(),
    S.Linear(start=2.0, end=0.5, begin=0.2, stop=0.6),
    S.Linear(start=0.0, end=3.0, begin=2, stop=20, unit="epoch"),
    S.Exponential(),
    S.Exponential(start=0.01, end=10.0, begin=0.3, stop=0.9),
    S.Exponential(start=5.0, end=0.5, begin=1, stop=4, unit="epoch"),
    S.Cosine(),
    S.Cosine(start=0.0, end=2.0, begin=0.1, stop=0.5),
    S.Cosine(start=1.0, end=0.1, begin=3, stop=8, unit="epoch"),
    S.Step(),
    S.Step(start=0.0, end=1.0, at=0.3),
    S.Step(start=2.0, end=0.0, at=4, unit="epoch"),
    S.Step(at=0.0),
    S.Step(at=1.0),
    S.Warmup(),
    S.Warmup(weight=3.0, length=1.0, start=1.0),
    S.Warmup(weight=0.5, length=3, unit="epoch"),
    S.Sigmoid(),
    S.Sigmoid(start=0.0, end=4.0, at=0.2, width=0.01),
    S.Sigmoid(start=1.0, end=0.0, at=5, width=1e-9, unit="epoch"),
    S.Cyclical(),
    S.Cyclical(weight=2.0, cycles=3, ratio=1.0, start=0.5),
    S.Cyclical(weight=1.0, cycles=1, ratio=0.25),
    S.Cyclical(weight=1.0, cycles=7, ratio=0.6),
]

# The saved format of each family's defaults: changing it breaks old studies.
GOLDEN = {
    "constant": '{"name": "constant", "weight": 1.0}',
    "cosine": '{"begin": 0.0, "end": 0.0, "name": "cosine", "start": 1.0, "stop": 1.0, "unit": "fraction"}',
    "cyclical": '{"cycles": 4, "name": "cyclical", "ratio": 0.5, "start": 0.0, "weight": 1.0}',
    "exponential": '{"begin": 0.0, "end": 0.01, "name": "exponential", "start": 1.0, "stop": 1.0, "unit": "fraction"}',
    "linear": '{"begin": 0.0, "end": 0.0, "name": "linear", "start": 1.0, "stop": 1.0, "unit": "fraction"}',
    "sigmoid": '{"at": 0.5, "end": 0.0, "name": "sigmoid", "start": 1.0, "unit": "fraction", "width": 0.05}',
    "step": '{"at": 0.2, "end": 0.0, "name": "step", "start": 1.0, "unit": "fraction"}',
    "warmup": '{"length": 0.1, "name": "warmup", "start": 0.0, "unit": "fraction", "weight": 1.0}',
}


@pytest.fixture
def registry(monkeypatch):
    """A private registry holding the built-ins only, so registrations neither leak nor
    come in from elsewhere (the doctests register an example)."""
    monkeypatch.setattr(S._SCHEDULES, "classes", {cls.name: cls for cls in BUILTINS})


def sigmoid_closed_form(start, end, at, width, t):
    return start + (end - start) / (1.0 + math.exp(-(t - at) / width))


# ---------------------------------------------------------------- closed forms
# Each case: schedule, horizon, epoch, expected. Horizon 10 throughout, so the
# epoch-unit twin of a fraction schedule has its points multiplied by 10.

CLOSED_FORMS = [
    # constant: start, middle, end, past the end
    *[(S.Constant(0.7), 10, e, 0.7) for e in (0, 5, 10, 15)],
    # linear 2 -> 0.5 from 20% to 60%
    *[
        (schedule, 10, e, expected)
        for schedule in (
            S.Linear(start=2.0, end=0.5, begin=0.2, stop=0.6),
            S.Linear(start=2.0, end=0.5, begin=2, stop=6, unit="epoch"),
        )
        for e, expected in [(0, 2.0), (2, 2.0), (3, 1.625), (4, 1.25), (6, 0.5), (10, 0.5), (15, 0.5)]
    ],
    # exponential 1 -> 0.01 from 20% to 60%: p = 1/4 gives 0.01 ** 0.25
    *[
        (schedule, 10, e, expected)
        for schedule in (
            S.Exponential(start=1.0, end=0.01, begin=0.2, stop=0.6),
            S.Exponential(start=1.0, end=0.01, begin=2, stop=6, unit="epoch"),
        )
        for e, expected in [(0, 1.0), (2, 1.0), (3, 0.01**0.25), (4, 0.1), (6, 0.01), (10, 0.01), (15, 0.01)]
    ],
    # cosine 2 -> 0 from 20% to 60%: p = 1/4 gives 1 + cos(pi / 4)
    *[
        (schedule, 10, e, expected)
        for schedule in (
            S.Cosine(start=2.0, end=0.0, begin=0.2, stop=0.6),
            S.Cosine(start=2.0, end=0.0, begin=2, stop=6, unit="epoch"),
        )
        for e, expected in [
            (0, 2.0),
            (2, 2.0),
            (3, 1.0 + math.cos(math.pi / 4)),
            (4, 1.0),
            (6, 0.0),
            (10, 0.0),
            (15, 0.0),
        ]
    ],
    # step 1 -> 0 at 20%: switches exactly at the point
    *[
        (schedule, 10, e, expected)
        for schedule in (S.Step(start=1.0, end=0.0, at=0.2), S.Step(start=1.0, end=0.0, at=2, unit="epoch"))
        for e, expected in [(0, 1.0), (1.999, 1.0), (2, 0.0), (2.001, 0.0), (10, 0.0), (15, 0.0)]
    ],
    # a step at the very end only switches at the end
    *[
        (S.Step(start=1.0, end=3.0, at=1.0), 10, e, x)
        for e, x in [(0, 1.0), (9.99, 1.0), (10, 3.0), (12, 3.0)]
    ],
    *[(S.Step(start=1.0, end=3.0, at=0.0), 10, e, 3.0) for e in (0, 5, 10, 15)],
    # warmup 0.5 -> 2 over the first 40%
    *[
        (schedule, 10, e, expected)
        for schedule in (
            S.Warmup(weight=2.0, length=0.4, start=0.5),
            S.Warmup(weight=2.0, length=4, start=0.5, unit="epoch"),
        )
        for e, expected in [(0, 0.5), (1, 0.875), (2, 1.25), (4, 2.0), (10, 2.0), (15, 2.0)]
    ],
    # sigmoid 1 -> 0 centred on 50%, width 5% (0.5 epoch)
    *[
        (schedule, 10, e, sigmoid_closed_form(1.0, 0.0, 5.0, 0.5, min(e, 10)))
        for schedule in (
            S.Sigmoid(start=1.0, end=0.0, at=0.5, width=0.05),
            S.Sigmoid(start=1.0, end=0.0, at=5, width=0.5, unit="epoch"),
        )
        for e in (0, 4.5, 5, 5.5, 10, 15)
    ],
    # cyclical 0.5 -> 2 in 4 cycles of 2.5 epochs, rising over the first 1.25
    *[
        (S.Cyclical(weight=2.0, cycles=4, ratio=0.5, start=0.5), 10, e, expected)
        for e, expected in [
            (0, 0.5),
            (0.625, 1.25),
            (1.25, 2.0),
            (2.4, 2.0),
            (2.5, 0.5),
            (3.125, 1.25),
            (5, 0.5),
            (7.5, 0.5),
            (8.75, 2.0),
            (9.99, 2.0),
            (10, 2.0),
            (15, 2.0),
        ]
    ],
    # ratio 1: rises over the whole cycle; a single cycle is a linear warm-up
    *[
        (S.Cyclical(weight=1.0, cycles=2, ratio=1.0, start=0.0), 10, e, x)
        for e, x in [(0, 0.0), (2.5, 0.5), (4.99, 0.998), (5, 0.0), (7.5, 0.5), (10, 1.0), (11, 1.0)]
    ],
    *[
        (S.Cyclical(cycles=1, ratio=0.5), 4, e, x)
        for e, x in [(0, 0.0), (1, 0.5), (2, 1.0), (4, 1.0), (9, 1.0)]
    ],
]


@pytest.mark.parametrize("schedule, horizon, epoch, expected", CLOSED_FORMS)
def test_closed_form(schedule, horizon, epoch, expected):
    assert_allclose(schedule.value(epoch, horizon), expected, rtol=1e-12, atol=1e-12)
    tensor = schedule.tensor_value(keras.ops.convert_to_tensor(epoch, "float32"), horizon)
    assert_allclose(keras.ops.convert_to_numpy(tensor), expected, rtol=1e-5, atol=1e-5)


def test_fraction_schedules_scale_with_the_horizon():
    schedule = S.Linear(start=1.0, end=0.0, begin=0.0, stop=1.0)
    for horizon in (1, 3, 10, 100):
        assert_allclose(schedule.value(0.25 * horizon, horizon), 0.75)
        assert schedule.value(horizon, horizon) == 0.0


def test_epoch_schedules_do_not_scale_with_the_horizon():
    schedule = S.Step(start=1.0, end=0.0, at=3, unit="epoch")
    assert [schedule.value(3, horizon) for horizon in (3, 10, 100)] == [0.0, 0.0, 0.0]
    assert schedule.value(2.9, 100) == 1.0


def test_past_the_horizon_holds_the_value_at_the_horizon():
    # points beyond the horizon (unit="epoch") are never reached: the value freezes at the horizon
    schedule = S.Linear(start=1.0, end=0.0, begin=0, stop=20, unit="epoch")
    assert schedule.value(10, 10) == 0.5
    assert schedule.value(15, 10) == 0.5
    assert schedule.final_value(10) == 0.5
    assert schedule.value(15, 20) == 0.25


@pytest.mark.parametrize("schedule", EXAMPLES, ids=repr)
def test_final_value_is_held_past_the_horizon(schedule):
    for horizon in (1, 4, 10):
        final = schedule.final_value(horizon)
        for epoch in (horizon, horizon + 0.5, 3 * horizon):
            assert schedule.value(epoch, horizon) == final


def test_final_values_of_families():
    assert S.Cyclical(weight=2.0, start=0.5).final_value(10) == 2.0
    assert S.Step(end=0.0).final_value(10) == 0.0
    assert_allclose(S.Exponential(start=1.0, end=0.01).final_value(10), 0.01)
    assert S.Warmup(weight=3.0).final_value(10) == 3.0


def test_sigmoid_does_not_overflow():
    schedule = S.Sigmoid(start=1.0, end=0.0, at=0.5, width=1e-6)
    with np.errstate(all="raise"):
        assert schedule.value(0, 10) == 1.0
        assert schedule.value(10, 10) == 0.0
        assert schedule.value(5, 10) == 0.5


@pytest.mark.parametrize("cycles", [1, 2, 3, 4, 5, 6, 7, 10, 22, 23, 26, 29])
def test_cyclical_restarts_exactly_at_every_cycle_boundary(cycles):
    # k / cycles * cycles rounds to just below k for some horizons, in float32
    # and in float64; a cycle must still restart at its first step in both paths.
    schedule = S.Cyclical(weight=1.0, cycles=cycles, ratio=0.5, start=0.0)
    for horizon in range(1, 80):
        starts = [e for e in range(horizon) if (e * cycles) % horizon == 0]
        assert_allclose([schedule.value(e, horizon) for e in starts], 0.0, atol=1e-12)
        tensor = schedule.tensor_value(keras.ops.convert_to_tensor(starts, "float32"), horizon)
        # float32 leaves position - k ~ cycles * 1e-7 above 0: rounding, not a late restart
        assert_allclose(keras.ops.convert_to_numpy(tensor), 0.0, atol=1e-5)


# ------------------------------------------------ numpy and keras.ops agree


@pytest.mark.parametrize("schedule", EXAMPLES, ids=repr)
@pytest.mark.parametrize("horizon", [1, 7, 10])
def test_numpy_and_keras_ops_paths_agree(schedule, horizon):
    # multiples of 1/4 are exact in float32, so discontinuities fall on the same epochs
    epochs = np.arange(0.0, 1.5 * horizon + 0.25, 0.25)
    expected = [schedule.value(e, horizon) for e in epochs]
    one_by_one = [
        float(schedule.tensor_value(keras.ops.convert_to_tensor(e, "float32"), horizon)) for e in epochs
    ]
    assert_allclose(one_by_one, expected, rtol=1e-5, atol=1e-6)
    batched = schedule.tensor_value(keras.ops.convert_to_tensor(epochs, "float32"), horizon)
    assert keras.backend.standardize_dtype(batched.dtype) == "float32"
    assert tuple(batched.shape) == epochs.shape
    assert_allclose(keras.ops.convert_to_numpy(batched), expected, rtol=1e-5, atol=1e-6)


def test_examples_cover_every_builtin_family():
    assert {type(s) for s in EXAMPLES} == set(BUILTINS)
    assert {cls.name for cls in BUILTINS} == set(GOLDEN)


def test_tensor_value_accepts_integer_epochs():
    tensor = S.Linear().tensor_value(keras.ops.convert_to_tensor(5, "int32"), 10)
    assert keras.backend.standardize_dtype(tensor.dtype) == "float32"
    assert float(tensor) == 0.5


def test_tensor_value_follows_a_variable_in_a_compiled_function():
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("needs the TensorFlow backend")
    epoch = keras.Variable(0.0, dtype="float32")
    schedule = S.Cosine(start=2.0, end=0.0)
    traces = []

    @tf.function(jit_compile=True)
    def weight():
        traces.append(1)
        return schedule.tensor_value(epoch, 10)

    for e in (0.0, 2.5, 5.0, 10.0, 12.0):
        epoch.assign(e)
        assert_allclose(float(weight()), schedule.value(e, 10), rtol=1e-5, atol=1e-6)
    assert len(traces) == 1


# --------------------------------------------------------------- contract


@pytest.mark.parametrize("name", sorted(S.registered()))
def test_contract(name):
    cls = S.registered()[name]
    schedule = S.get(name)
    assert type(schedule) is cls and cls.name == name
    # get_config holds exactly the constructor arguments
    assert list(schedule.get_config()) == list(inspect.signature(cls).parameters)
    assert cls.from_config(schedule.get_config()) == schedule
    # JSON round trip
    restored = S.get(json.loads(json.dumps(S.serialize(schedule))))
    assert restored == schedule and type(restored) is cls
    assert copy.deepcopy(schedule) == schedule
    assert S.get(schedule) is schedule
    # finite weights >= 0 over and past the horizon, in both paths
    for horizon in (1, 7, 10):
        epochs = np.arange(0.0, 1.5 * horizon + 0.125, 0.125)  # exact in float32: see below
        values = np.array([schedule.value(e, horizon) for e in epochs])
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
        tensor = schedule.tensor_value(keras.ops.convert_to_tensor(epochs, "float32"), horizon)
        assert_allclose(keras.ops.convert_to_numpy(tensor), values, rtol=1e-5, atol=1e-6)
    assert schedule.describe().startswith(name)


@pytest.mark.parametrize("schedule", EXAMPLES, ids=repr)
def test_examples_round_trip_through_json(schedule):
    text = json.dumps(S.serialize(schedule))
    assert S.get(json.loads(text)) == schedule
    assert hash(S.get(json.loads(text))) == hash(schedule)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_json(name):
    assert json.dumps(S.serialize(S.get(name)), sort_keys=True) == GOLDEN[name]
    assert S.get(json.loads(GOLDEN[name])) == S.get(name)


def test_schedules_are_immutable():
    schedule = S.Step()
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.at = 0.5  # type: ignore[misc]


def test_numbers_are_stored_as_floats():
    schedule = S.Linear(start=2, end=0, begin=0, stop=1)
    assert schedule == S.Linear(start=2.0, end=0.0, begin=0.0, stop=1.0)
    assert all(isinstance(x, float) for x in (schedule.start, schedule.end, schedule.begin, schedule.stop))
    assert isinstance(S.Cyclical(cycles=np.int64(3)).cycles, int)


def test_get_with_parameters():
    assert S.get({"name": "step", "at": 0.5, "end": 0.25}) == S.Step(at=0.5, end=0.25)
    assert S.get("cyclical") == S.Cyclical()


@pytest.mark.parametrize(
    "schedule, text",
    [
        (S.Constant(0.5), "constant 0.5"),
        (S.Linear(), "linear 1 -> 0 from 0% to 100% of training"),
        (S.Linear(begin=2, stop=8, unit="epoch"), "linear 1 -> 0 from epoch 2 to epoch 8"),
        (S.Exponential(begin=0.1, stop=0.7), "exponential 1 -> 0.01 from 10% to 70% of training"),
        (S.Cosine(start=2.0, end=0.5), "cosine 2 -> 0.5 from 0% to 100% of training"),
        (S.Step(), "step 1 -> 0 at 20% of training"),
        (S.Step(at=7, unit="epoch"), "step 1 -> 0 at epoch 7"),
        (S.Warmup(), "warmup 0 -> 1 over the first 10% of training"),
        (S.Warmup(length=3, unit="epoch"), "warmup 0 -> 1 over the first 3 epochs"),
        (S.Sigmoid(), "sigmoid 1 -> 0 at 50% of training (width 5%)"),
        (S.Sigmoid(at=4, width=0.5, unit="epoch"), "sigmoid 1 -> 0 at epoch 4 (width 0.5 epochs)"),
        (S.Cyclical(), "cyclical 0 -> 1 in 4 cycles, rising over the first 50% of each"),
    ],
)
def test_describe(schedule, text):
    assert schedule.describe() == text


# ---------------------------------------------------------- custom schedules


def make_halving():
    @dataclasses.dataclass(frozen=True)
    class Halving(S.Schedule):
        name = "halving"
        weight: float = 1.0
        every: float = 0.25

        def _at(self, t, xp):
            return self.weight * xp.exp(-math.log(2.0) * xp.floor(t / self.every))

    return Halving


def test_custom_schedule_registers_and_round_trips(registry):
    Halving = S.register(make_halving())
    assert S.registered()["halving"] is Halving
    schedule = S.get({"name": "halving", "weight": 8.0})
    assert_allclose(
        [schedule.value(e, 10) for e in (0, 2.4, 2.5, 5, 7.5, 10, 20)], [8.0, 8.0, 4.0, 2.0, 1.0, 0.5, 0.5]
    )
    assert S.get(json.loads(json.dumps(S.serialize(schedule)))) == schedule
    assert S.serialize(schedule) == {"name": "halving", "weight": 8.0, "every": 0.25}
    epochs = np.arange(0.0, 15.0, 0.5)
    tensor = schedule.tensor_value(keras.ops.convert_to_tensor(epochs, "float32"), 10)
    assert_allclose(keras.ops.convert_to_numpy(tensor), [schedule.value(e, 10) for e in epochs], rtol=1e-6)
    assert schedule.describe() == "halving (weight=8.0, every=0.25)"


def test_register_is_a_decorator_and_idempotent(registry):
    Halving = make_halving()
    assert S.register(S.register(Halving)) is Halving
    # a redefinition (re-run notebook cell, reloaded module) replaces the old class
    Redefined = make_halving()
    assert S.register(Redefined) is Redefined
    assert S.registered()["halving"] is Redefined


def test_register_rejects_a_name_taken_by_another_class(registry):
    @dataclasses.dataclass(frozen=True)
    class MyStep(S.Schedule):
        name = "step"

    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `.*MyStep\.name` must be unique, but 'step' is already registered by "
        r"tuneweights\.schedules\.Step\. Received: .*MyStep\.name='step'\. Registered names: \['constant', ",
    ):
        S.register(MyStep)
    assert S.registered()["step"] is S.Step


def test_register_rejects_a_missing_name(registry):
    class NoName(S.Schedule):
        pass

    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `.*NoName\.name` must be a non-empty string of letters, digits, '_', '-' or '\.'\. "
        r"Received: .*NoName\.name=''",
    ):
        S.register(NoName)


def test_register_rejects_what_is_not_a_schedule_class(registry):
    with pytest.raises(
        tw.ConfigurationTypeError,
        match=r"Argument `cls` must be a subclass of `tuneweights\.schedules\.Schedule`\. "
        r"Received: cls=<class 'int'> \(of type type\)",
    ):
        S.register(int)
    with pytest.raises(tw.ConfigurationTypeError, match=r"Received: cls=Step\("):
        S.register(S.Step())


def test_registered_returns_a_copy():
    S.registered().clear()
    assert "step" in S.registered()


def test_missing_at_names_the_subclass():
    @dataclasses.dataclass(frozen=True)
    class Lazy(S.Schedule):
        name = "lazy"

    match = r"Lazy must implement `_at\(self, t, xp\)`: the weight at time `t`"
    with pytest.raises(NotImplementedError, match=match):
        Lazy().value(1, 10)
    with pytest.raises(NotImplementedError, match=match):
        Lazy().tensor_value(keras.ops.convert_to_tensor(1.0), 10)


def test_get_config_of_a_plain_class_must_be_written():
    class Plain(S.Schedule):
        name = "plain"

        def _at(self, t, xp):
            return t * 0.0

    assert Plain().value(3, 10) == 0.0
    with pytest.raises(NotImplementedError, match=r"Plain must implement `get_config\(\)`"):
        Plain().get_config()


def test_serialize_refuses_unregistered_classes(registry):
    Halving = make_halving()
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `schedule` must be of a registered class \(name 'halving' is not registered to "
        r".*Halving\)\. Received: schedule=.*Halving\(weight=1\.0, every=0\.25\)\. "
        r"Decorate the class with `@tuneweights\.schedules\.register`",
    ):
        S.serialize(Halving())


def test_serialize_refuses_configs_that_are_not_json_scalars(registry):
    @S.register
    @dataclasses.dataclass(frozen=True)
    class Listed(S.Schedule):
        name = "listed"
        points: tuple = (0.1, 0.2)

        def _at(self, t, xp):
            return t * 0.0

    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `.*Listed\.get_config\(\)` must return JSON scalars \(str, int, float, bool, None\) "
        r"under keys other than 'name'\. Received: .*=\{'points': \(0\.1, 0\.2\)\}",
    ):
        S.serialize(Listed())


def test_serialize_refuses_non_schedules():
    with pytest.raises(
        tw.ConfigurationTypeError,
        match=r"Argument `schedule` must be a `tuneweights\.schedules\.Schedule`\. "
        r"Received: schedule='step' \(of type str\)",
    ):
        S.serialize("step")


# --------------------------------------------------------- error messages

REGISTERED = r"\['constant', 'cosine', 'cyclical', 'exponential', 'linear', 'sigmoid', 'step', 'warmup'\]"


@pytest.mark.parametrize(
    "identifier, match",
    [
        (
            "stepp",
            rf"Argument `identifier` must name a registered schedule, one of {REGISTERED}\. "
            r"Received: identifier='stepp'\. To use a custom schedule, subclass "
            r"`tuneweights\.schedules\.Schedule` and decorate it with `@tuneweights\.schedules\.register`",
        ),
        ({"name": 3}, r"must name a registered schedule, one of .*Received: identifier=3\."),
        (
            {"at": 0.5},
            r"Argument `identifier` must have a 'name' key naming the schedule \(as produced by `serialize`\)\. "
            r"Received: identifier=\{'at': 0\.5\}",
        ),
        (
            {"name": "step", "when": 0.5},
            r"Argument `identifier` must hold only parameters of Step \['start', 'end', 'at', 'unit'\]\. "
            r"Received: identifier=\{'name': 'step', 'when': 0\.5\}",
        ),
        (
            {"name": "cyclical", "unit": "epoch"},
            r"must hold only parameters of Cyclical \['weight', 'cycles', 'ratio', 'start'\]",
        ),
        (
            {"name": "step", "at": 2},
            r"Argument `at` must lie in \[0, 1\] with unit='fraction' \(a fraction of the horizon\)\. "
            r"Received: at=2\. Pass unit='epoch' to give it in epochs",
        ),
    ],
)
def test_get_errors(registry, identifier, match):
    with pytest.raises(tw.ConfigurationError, match=match):
        S.get(identifier)


def test_get_type_error():
    with pytest.raises(
        tw.ConfigurationTypeError,
        match=r"Argument `identifier` must be a schedule name, a dict from "
        r"`tuneweights\.schedules\.serialize` or a `Schedule`\. Received: identifier=0\.5 \(of type float\)",
    ):
        S.get(0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: S.Constant(-1), r"Argument `weight` must be a finite number >= 0\. Received: weight=-1$"),
        (
            lambda: S.Constant(math.nan),
            r"Argument `weight` must be a finite number >= 0\. Received: weight=nan",
        ),
        (
            lambda: S.Linear(start=math.inf),
            r"Argument `start` must be a finite number >= 0\. Received: start=inf",
        ),
        (lambda: S.Linear(end=-0.5), r"Argument `end` must be a finite number >= 0\. Received: end=-0\.5"),
        (
            lambda: S.Linear(unit="epochs"),
            r"Argument `unit` must be one of \['fraction', 'epoch'\]\. Received: unit='epochs'",
        ),
        (
            lambda: S.Linear(begin=0.6, stop=0.4),
            r"Argument `begin` must be < stop=0\.4\. Received: begin=0\.6",
        ),
        (
            lambda: S.Linear(begin=5, stop=5, unit="epoch"),
            r"Argument `begin` must be < stop=5\.0\. Received: begin=5\.0",
        ),
        (lambda: S.Linear(begin=-1), r"Argument `begin` must be a finite number >= 0\. Received: begin=-1"),
        (
            lambda: S.Linear(stop=10),
            r"Argument `stop` must lie in \[0, 1\] with unit='fraction' \(a fraction of the horizon\)\. "
            r"Received: stop=10\. Pass unit='epoch' to give it in epochs",
        ),
        (lambda: S.Exponential(end=0), r"Argument `end` must be a finite number > 0\. Received: end=0"),
        (
            lambda: S.Exponential(start=-1),
            r"Argument `start` must be a finite number > 0\. Received: start=-1",
        ),
        (
            lambda: S.Exponential(begin=1, stop=1),
            r"Argument `begin` must be < stop=1\.0\. Received: begin=1\.0",
        ),
        (
            lambda: S.Cosine(unit=None),
            r"Argument `unit` must be one of \['fraction', 'epoch'\]\. Received: unit=None",
        ),
        (lambda: S.Cosine(stop=1.5), r"Argument `stop` must lie in \[0, 1\] with unit='fraction'"),
        (
            lambda: S.Step(at=1.01),
            r"Argument `at` must lie in \[0, 1\] with unit='fraction'.*Received: at=1\.01",
        ),
        (
            lambda: S.Step(at=-2, unit="epoch"),
            r"Argument `at` must be a finite number >= 0\. Received: at=-2",
        ),
        (lambda: S.Warmup(length=0), r"Argument `length` must be a finite number > 0\. Received: length=0"),
        (lambda: S.Warmup(length=2), r"Argument `length` must lie in \[0, 1\] with unit='fraction'"),
        (lambda: S.Warmup(start=-1), r"Argument `start` must be a finite number >= 0\. Received: start=-1"),
        (lambda: S.Sigmoid(width=0), r"Argument `width` must be a finite number > 0\. Received: width=0"),
        (lambda: S.Sigmoid(at=-0.1), r"Argument `at` must be a finite number >= 0\. Received: at=-0\.1"),
        (lambda: S.Cyclical(cycles=0), r"Argument `cycles` must be >= 1\. Received: cycles=0"),
        (lambda: S.Cyclical(ratio=0), r"Argument `ratio` must be a finite number > 0\. Received: ratio=0"),
        (lambda: S.Cyclical(ratio=1.5), r"Argument `ratio` must lie in \(0, 1\]\. Received: ratio=1\.5"),
        (
            lambda: S.Cyclical(weight=-1),
            r"Argument `weight` must be a finite number >= 0\. Received: weight=-1",
        ),
    ],
)
def test_constructor_errors(make, match):
    with pytest.raises(tw.ConfigurationError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: S.Constant("1"),
            r"Argument `weight` must be a number\. Received: weight='1' \(of type str\)",
        ),
        (lambda: S.Step(end=True), r"Argument `end` must be a number\. Received: end=True \(of type bool\)"),
        (
            lambda: S.Cyclical(cycles=2.0),
            r"Argument `cycles` must be an int\. Received: cycles=2\.0 \(of type float\)",
        ),
        (lambda: S.Cyclical(cycles=True), r"Argument `cycles` must be an int\. Received: cycles=True"),
    ],
)
def test_constructor_type_errors(make, match):
    with pytest.raises(tw.ConfigurationTypeError, match=match):
        make()


def test_cyclical_has_no_unit():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'unit'"):
        S.Cyclical(unit="epoch")  # type: ignore[call-arg]


def test_epoch_points_beyond_one_are_fine():
    assert S.Linear(stop=10, unit="epoch").stop == 10.0


@pytest.mark.parametrize(
    "epoch, horizon, error, match",
    [
        (
            -1,
            10,
            tw.ConfigurationError,
            r"Argument `epoch` must be a finite number >= 0\. Received: epoch=-1",
        ),
        (
            math.nan,
            10,
            tw.ConfigurationError,
            r"Argument `epoch` must be a finite number >= 0\. Received: epoch=nan",
        ),
        (math.inf, 10, tw.ConfigurationError, r"Received: epoch=inf"),
        (
            "1",
            10,
            tw.ConfigurationTypeError,
            r"Argument `epoch` must be a number\. Received: epoch='1' \(of type str\)",
        ),
        (1, 0, tw.ConfigurationError, r"Argument `horizon` must be >= 1\. Received: horizon=0"),
        (
            1,
            2.0,
            tw.ConfigurationTypeError,
            r"Argument `horizon` must be an int \(the planned number of epochs\)\. Received: horizon=2\.0 \(of type float\)",
        ),
        (1, True, tw.ConfigurationTypeError, r"Argument `horizon` must be an int .*Received: horizon=True"),
    ],
)
def test_value_errors(epoch, horizon, error, match):
    with pytest.raises(error, match=match):
        S.Linear().value(epoch, horizon)


def test_tensor_value_checks_the_horizon():
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `horizon` must be >= 1\. Received: horizon=-3"
    ):
        S.Linear().tensor_value(keras.ops.convert_to_tensor(1.0), -3)


def test_value_accepts_numpy_numbers():
    assert S.Linear().value(np.float32(2.5), np.int64(10)) == 0.75
