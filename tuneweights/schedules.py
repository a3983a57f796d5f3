"""Loss-weight schedules: a loss term's weight as a pure function of training time.

A schedule is evaluated at ``epoch``, the absolute epoch index with a fraction
within the epoch (``3.5`` is halfway through the fourth epoch), and
``horizon``, the number of epochs the trial is planned to run. Its time points
(``at``, ``begin``, ``stop``, ``length``) are given in its ``unit``:

* ``unit="fraction"`` (default): ``t = epoch / horizon`` and the points lie in
  ``[0, 1]``, so one schedule fits trials of any length (Hyperband brackets).
* ``unit="epoch"``: ``t = epoch`` and the points are epochs (``>= 0``).

Past the horizon every schedule holds its final value: the epoch is clipped to
``horizon`` before ``t`` is computed.

**One formula, two evaluators.** The maths of each family lives in a single
method, ``_at(self, t, xp)``, written only with functions that exist under the
same name in both `numpy` and `keras.ops` (``clip``, ``where``, ``cos``,
``exp``, ``minimum``, ``maximum``, ``floor`` and plain arithmetic; ``pi`` comes
from `math`). `Schedule.value` evaluates it on the host with ``xp=numpy`` (for
logs, reports and plots) and `Schedule.tensor_value` evaluates it with
``xp=keras.ops`` on a float32 tensor, inside a compiled train step, so the
weight can change every step without retracing. A custom schedule subclasses
`Schedule`, writes ``_at`` the same way and registers itself with
`register`.

Schedules are immutable and registered under a short stable name, which
doubles as the value of an ``hp.Choice``. `serialize` turns one into a flat dict
of JSON scalars and `get` turns a name, such a dict or an instance back into a
schedule.

Example:
    >>> schedule = get({"name": "linear", "start": 1.0, "end": 0.0})
    >>> schedule.value(epoch=5, horizon=10)
    0.5
    >>> schedule.describe()
    'linear 1 -> 0 from 0% to 100% of training'
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, ClassVar, TypeVar

import keras
import numpy as np

from tuneweights import _validation as v
from tuneweights._registry import Registry

__all__ = [
    "Constant",
    "Cosine",
    "Cyclical",
    "Exponential",
    "Linear",
    "Schedule",
    "Sigmoid",
    "Step",
    "Warmup",
    "complete",
    "get",
    "register",
    "registered",
    "serialize",
]

UNITS = ("fraction", "epoch")

# float32 rounds k / cycles * cycles to just below k for some k and cycles (and
# float64 does too, less often), which would make a cycle start a step late in
# one evaluator only. Positions this close to a cycle boundary (relative to the
# number of cycles; ~8 float32 ulps) count as the boundary.
_CYCLE_SNAP = 1e-6

# exp overflows float64 beyond ~709 and float32 beyond ~88; a logistic is flat
# to within 1e-26 well before 60.
_SIGMOID_CLIP = 60.0

_S = TypeVar("_S", bound=type["Schedule"])


class Schedule:
    """Base class of loss-weight schedules.

    A subclass sets the class attribute ``name`` (its registry name), holds its
    parameters as constructor arguments (a frozen dataclass suits), validates
    them in the constructor, and implements ``_at(self, t, xp)``: the weight at
    time ``t`` in its ``unit``, written with functions that exist in both
    `numpy` and `keras.ops` (passed as ``xp``). Decorate it with `register` so
    that `get` finds it by name.

    Example:
        >>> import dataclasses
        >>> @dataclasses.dataclass(frozen=True)
        ... class Halved(Schedule):
        ...     name = "halved_example"
        ...     weight: float = 1.0
        ...     def _at(self, t, xp):
        ...         return xp.where(t >= 0.5, self.weight / 2, self.weight)
        >>> Halved(4.0).value(epoch=7, horizon=10)
        2.0
    """

    name: ClassVar[str] = ""
    # Fields holding weights: scaling them all scales the schedule's values.
    weight_fields: ClassVar[tuple[str, ...]] = ()
    unit: str = "fraction"

    def _at(self, t: Any, xp: Any) -> Any:
        """The weight at time `t` (in `unit`), computed with `xp` (numpy or keras.ops)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `_at(self, t, xp)`: the weight at time `t` "
            "(in its `unit`), written with functions that exist in both numpy and keras.ops "
            "(passed as `xp`)."
        )

    def _time(self, epoch: Any, horizon: int, xp: Any) -> Any:
        epoch = xp.minimum(epoch, float(horizon))  # past the horizon, hold the final value
        return epoch / float(horizon) if self.unit == "fraction" else epoch

    def value(self, epoch: float, horizon: int) -> float:
        """The weight at `epoch`, computed on the host with numpy.

        Args:
            epoch: Epoch index, possibly with a fraction within the epoch
                (``3.5``), >= 0.
            horizon: Planned number of epochs of the trial, an int >= 1.

        Returns:
            The weight, a float.

        Raises:
            ConfigurationError: `epoch` < 0 or not finite, or `horizon` < 1.
            ConfigurationTypeError: `epoch` is not a number or `horizon` not an int.

        Example:
            >>> Step(start=1.0, end=0.0, at=0.2).value(epoch=2, horizon=10)
            0.0
        """
        horizon = _check_horizon(horizon)
        epoch = _check_epoch(epoch)
        return float(self._at(self._time(np.float64(epoch), horizon, np), np))

    def tensor_value(self, epoch: Any, horizon: int) -> Any:
        """The weight at `epoch` as a float32 tensor, computed with `keras.ops`.

        Usable inside a compiled train step: `epoch` may be a tensor or a
        variable (of any numeric dtype); `horizon` is a Python int.

        Args:
            epoch: Epoch index, possibly fractional, as a tensor or a number.
            horizon: Planned number of epochs of the trial, an int >= 1.

        Returns:
            A float32 tensor with the shape of `epoch`.

        Raises:
            ConfigurationError: `horizon` < 1.
            ConfigurationTypeError: `horizon` is not an int.
        """
        horizon = _check_horizon(horizon)
        t = self._time(keras.ops.cast(epoch, "float32"), horizon, keras.ops)
        return keras.ops.cast(self._at(t, keras.ops), "float32")

    def final_value(self, horizon: int) -> float:
        """The weight held from the end of the horizon on.

        Args:
            horizon: Planned number of epochs of the trial, an int >= 1.

        Returns:
            ``value(horizon, horizon)``.

        Example:
            >>> Linear(start=1.0, end=0.0, stop=10, unit="epoch").final_value(horizon=5)
            0.5
        """
        return self.value(horizon, horizon)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON scalars only (``cls(**config)`` rebuilds it).

        Raises:
            NotImplementedError: a subclass that is not a dataclass and does
                not override this method.
        """
        if dataclasses.is_dataclass(self):
            return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        raise NotImplementedError(
            f"{type(self).__name__} must implement `get_config()` (returning its constructor "
            "arguments as JSON scalars) or be a dataclass."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Schedule:
        """Rebuild a schedule from `get_config`'s output."""
        return cls(**config)

    def describe(self) -> str:
        """A short readable description, e.g. ``"step 1 -> 0 at 20% of training"``."""
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{self.name} ({arguments})" if arguments else self.name

    # Validation helpers for subclasses' constructors.

    def _set(self, argument: str, value: Any) -> None:
        object.__setattr__(self, argument, value)

    def _check_unit(self) -> None:
        v.check_choice("unit", self.unit, UNITS)

    def _check_point(self, argument: str) -> float:
        value = getattr(self, argument)
        point = v.check_non_negative(argument, value)
        if self.unit == "fraction" and point > 1:
            raise v.invalid(
                argument,
                "lie in [0, 1] with unit='fraction' (a fraction of the horizon)",
                value,
                hint="Pass unit='epoch' to give it in epochs",
            )
        self._set(argument, point)
        return point

    def _check_weight(self, argument: str) -> float:
        weight = v.check_non_negative(argument, getattr(self, argument))
        self._set(argument, weight)
        return weight

    def _check_span(self) -> None:
        begin, stop = self._check_point("begin"), self._check_point("stop")
        if begin >= stop:
            raise v.invalid("begin", f"be < stop={stop!r}", begin)

    def _when(self, point: float) -> str:
        return f"{_num(100 * point)}% of training" if self.unit == "fraction" else f"epoch {_num(point)}"

    def _span(self, begin: float, stop: float) -> str:
        if self.unit == "fraction":
            return f"from {_num(100 * begin)}% to {_num(100 * stop)}% of training"
        return f"from epoch {_num(begin)} to epoch {_num(stop)}"


_SCHEDULES: Registry[Schedule] = Registry("schedule", Schedule, "tuneweights.schedules")


def _num(x: float) -> str:
    return f"{x:.3g}"


def _check_horizon(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral):
        raise v.wrong_type("horizon", "an int (the planned number of epochs)", horizon)
    if horizon < 1:
        raise v.invalid("horizon", "be >= 1", horizon)
    return int(horizon)


def _check_epoch(epoch: Any) -> float:
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real):
        raise v.wrong_type("epoch", "a number", epoch)
    if not math.isfinite(epoch) or epoch < 0:
        raise v.invalid("epoch", "be a finite number >= 0", epoch)
    return float(epoch)


def _progress(t: Any, begin: float, stop: float, xp: Any) -> Any:
    """Where `t` lies between `begin` (0) and `stop` (1), clipped to [0, 1].

    Example:
        >>> float(_progress(np.float64(0.75), 0.5, 1.0, np))
        0.5
    """
    return xp.clip((t - begin) / (stop - begin), 0.0, 1.0)


def register(cls: _S) -> _S:
    """Register a schedule class under its ``name``, so that `get` finds it.

    Usable as a class decorator. Registering a class again is a no-op; a class
    redefined under the same module and qualified name (a re-run notebook
    cell, a reloaded module) replaces the old definition.

    Args:
        cls: A subclass of `Schedule` with a class attribute ``name``: a
            non-empty string of letters, digits, ``_``, ``-`` or ``.``.

    Returns:
        `cls`, unchanged.

    Raises:
        ConfigurationTypeError: `cls` is not a subclass of `Schedule`.
        ConfigurationError: ``name`` is empty or already taken by another class.

    Example:
        >>> import dataclasses
        >>> @register
        ... @dataclasses.dataclass(frozen=True)
        ... class Off(Schedule):
        ...     name = "off_example"
        ...     def _at(self, t, xp):
        ...         return t * 0.0
        >>> get("off_example").value(3, 10)
        0.0
    """
    return _SCHEDULES.register(cls)


def registered() -> dict[str, type[Schedule]]:
    """The registered schedule classes by name (a copy).

    Example:
        >>> sorted(registered())[:3]
        ['constant', 'cosine', 'cyclical']
    """
    return dict(_SCHEDULES.classes)


def serialize(schedule: Schedule) -> dict[str, Any]:
    """A schedule as a flat dict of JSON scalars: ``{"name": ..., **get_config()}``.

    Args:
        schedule: A schedule of a registered class.

    Returns:
        A dict that `get` turns back into an equal schedule.

    Raises:
        ConfigurationTypeError: `schedule` is not a `Schedule`.
        ConfigurationError: its class is not registered, or its config is not
            flat JSON scalars.

    Example:
        >>> serialize(Step(at=0.5))
        {'name': 'step', 'start': 1.0, 'end': 0.0, 'at': 0.5, 'unit': 'fraction'}
    """
    return _SCHEDULES.serialize(schedule)


def complete(config: dict[str, Any]) -> dict[str, Any]:
    """A saved schedule (from `serialize`) with the defaults of parameters added since it was saved."""
    return _SCHEDULES.complete(config)


def get(identifier: str | dict[str, Any] | Schedule) -> Schedule:
    """A schedule from a registered name, a dict from `serialize`, or an instance.

    Args:
        identifier: A registered name (default parameters), a dict
            ``{"name": ..., **parameters}`` as produced by `serialize`, or a
            `Schedule` (returned as is).

    Returns:
        The schedule.

    Raises:
        ConfigurationTypeError: `identifier` is of another type.
        ConfigurationError: unknown name, missing ``"name"`` key, or
            parameters the schedule does not accept or rejects.

    Example:
        >>> get("step")
        Step(start=1.0, end=0.0, at=0.2, unit='fraction')
        >>> get({"name": "warmup", "length": 0.5}).value(1, 10)
        0.2
    """
    return _SCHEDULES.get(identifier)


@register
@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    """The same weight throughout training.

    Args:
        weight: The weight, a finite number >= 0.

    Example:
        >>> Constant(0.5).value(epoch=3, horizon=10)
        0.5
    """

    name: ClassVar[str] = "constant"
    weight_fields: ClassVar[tuple[str, ...]] = ("weight",)
    weight: float = 1.0

    def __post_init__(self) -> None:
        self._check_weight("weight")

    def _at(self, t: Any, xp: Any) -> Any:
        return t * 0.0 + self.weight  # keeps the shape and dtype of t

    def describe(self) -> str:
        return f"constant {_num(self.weight)}"


@register
@dataclasses.dataclass(frozen=True)
class Linear(Schedule):
    """`start` until `begin`, then linear to `end` at `stop`, `end` after.

    Args:
        start: Weight before `begin`, >= 0.
        end: Weight from `stop` on, >= 0.
        begin: Time the change begins, < `stop`.
        stop: Time the change ends.
        unit: ``"fraction"`` (of the horizon) or ``"epoch"``.

    Example:
        >>> Linear(start=1.0, end=0.0, begin=0.5, stop=1.0).value(epoch=7.5, horizon=10)
        0.5
    """

    name: ClassVar[str] = "linear"
    weight_fields: ClassVar[tuple[str, ...]] = ("start", "end")
    start: float = 1.0
    end: float = 0.0
    begin: float = 0.0
    stop: float = 1.0
    unit: str = "fraction"

    def __post_init__(self) -> None:
        self._check_unit()
        self._check_weight("start")
        self._check_weight("end")
        self._check_span()

    def _at(self, t: Any, xp: Any) -> Any:
        return self.start + (self.end - self.start) * _progress(t, self.begin, self.stop, xp)

    def describe(self) -> str:
        return f"linear {_num(self.start)} -> {_num(self.end)} {self._span(self.begin, self.stop)}"


@register
@dataclasses.dataclass(frozen=True)
class Exponential(Schedule):
    """Geometric interpolation ``start * (end / start) ** p`` between `begin` and `stop`.

    ``p = clip((t - begin) / (stop - begin), 0, 1)``: the weight changes by the
    same factor in equal times, the usual choice for weights that matter by
    orders of magnitude.

    Args:
        start: Weight before `begin`, > 0.
        end: Weight from `stop` on, > 0.
        begin: Time the change begins, < `stop`.
        stop: Time the change ends.
        unit: ``"fraction"`` (of the horizon) or ``"epoch"``.

    Example:
        >>> round(Exponential(start=1.0, end=0.01).value(epoch=5, horizon=10), 12)
        0.1
    """

    name: ClassVar[str] = "exponential"
    weight_fields: ClassVar[tuple[str, ...]] = ("start", "end")
    start: float = 1.0
    end: float = 0.01
    begin: float = 0.0
    stop: float = 1.0
    unit: str = "fraction"

    def __post_init__(self) -> None:
        self._check_unit()
        self._set("start", v.check_positive("start", self.start))
        self._set("end", v.check_positive("end", self.end))
        self._check_span()

    def _at(self, t: Any, xp: Any) -> Any:
        # exp of a bounded exponent: no overflow, and no `power` needed (not in keras.ops' numpy subset)
        p = _progress(t, self.begin, self.stop, xp)
        return self.start * xp.exp(p * math.log(self.end / self.start))

    def describe(self) -> str:
        span = self._span(self.begin, self.stop)
        return f"exponential {_num(self.start)} -> {_num(self.end)} {span}"


@register
@dataclasses.dataclass(frozen=True)
class Cosine(Schedule):
    """Half-cosine from `start` to `end` between `begin` and `stop`.

    ``end + (start - end) * (1 + cos(pi * p)) / 2`` with
    ``p = clip((t - begin) / (stop - begin), 0, 1)``.

    Args:
        start: Weight before `begin`, >= 0.
        end: Weight from `stop` on, >= 0.
        begin: Time the change begins, < `stop`.
        stop: Time the change ends.
        unit: ``"fraction"`` (of the horizon) or ``"epoch"``.

    Example:
        >>> round(Cosine(start=1.0, end=0.0).value(epoch=5, horizon=10), 12)
        0.5
    """

    name: ClassVar[str] = "cosine"
    weight_fields: ClassVar[tuple[str, ...]] = ("start", "end")
    start: float = 1.0
    end: float = 0.0
    begin: float = 0.0
    stop: float = 1.0
    unit: str = "fraction"

    def __post_init__(self) -> None:
        self._check_unit()
        self._check_weight("start")
        self._check_weight("end")
        self._check_span()

    def _at(self, t: Any, xp: Any) -> Any:
        p = _progress(t, self.begin, self.stop, xp)
        return self.end + (self.start - self.end) * (1.0 + xp.cos(math.pi * p)) / 2.0

    def describe(self) -> str:
        return f"cosine {_num(self.start)} -> {_num(self.end)} {self._span(self.begin, self.stop)}"


@register
@dataclasses.dataclass(frozen=True)
class Step(Schedule):
    """`start` before `at`, `end` from `at` on (``end=0`` turns the term off).

    Args:
        start: Weight before `at`, >= 0.
        end: Weight from `at` on, >= 0.
        at: Time of the switch.
        unit: ``"fraction"`` (of the horizon) or ``"epoch"``.

    Example:
        >>> step = Step(start=1.0, end=0.0, at=5, unit="epoch")
        >>> step.value(4.9, 10), step.value(5, 10)
        (1.0, 0.0)
    """

    name: ClassVar[str] = "step"
    weight_fields: ClassVar[tuple[str, ...]] = ("start", "end")
    start: float = 1.0
    end: float = 0.0
    at: float = 0.2
    unit: str = "fraction"

    def __post_init__(self) -> None:
        self._check_unit()
        self._check_weight("start")
        self._check_weight("end")
        self._check_point("at")

    def _at(self, t: Any, xp: Any) -> Any:
        return xp.where(t >= self.at, self.end, self.start)

    def describe(self) -> str:
        return f"step {_num(self.start)} -> {_num(self.end)} at {self._when(self.at)}"


@register
@dataclasses.dataclass(frozen=True)
class Warmup(Schedule):
    """Linear from `start` to `weight` over the first `length`, then `weight`.

    Args:
        weight: Weight after the warm-up, >= 0.
        length: Duration of the warm-up, > 0.
        start: Weight at time 0, >= 0.
        unit: ``"fraction"`` (of the horizon) or ``"epoch"``.

    Example:
        >>> Warmup(weight=1.0, length=4, unit="epoch").value(epoch=1, horizon=10)
        0.25
    """

    name: ClassVar[str] = "warmup"
    weight_fields: ClassVar[tuple[str, ...]] = ("weight", "start")
    weight: float = 1.0
    length: float = 0.1
    start: float = 0.0
    unit: str = "fraction"

    def __post_init__(self) -> None:
        self._check_unit()
        self._check_weight("weight")
        self._check_weight("start")
        self._set("length", v.check_positive("length", self.length))
        self._check_point("length")

    def _at(self, t: Any, xp: Any) -> Any:
        return self.start + (self.weight - self.start) * xp.clip(t / self.length, 0.0, 1.0)

    def describe(self) -> str:
        over = (
            f"the first {_num(100 * self.length)}% of training"
            if self.unit == "fraction"
            else f"the first {_num(self.length)} epochs"
        )
        return f"warmup {_num(self.start)} -> {_num(self.weight)} over {over}"


@register
@dataclasses.dataclass(frozen=True)
class Sigmoid(Schedule):
    """Smooth switch from `start` to `end` centred on `at`.

    ``start + (end - start) / (1 + exp(-(t - at) / width))``: halfway at `at`,
    73% of the way one `width` later, 88% two widths later. The exponent is clipped to [-60, 60]
    (the logistic is flat to within 1e-26 there) so it never overflows.

    Args:
        start: Weight long before `at`, >= 0.
        end: Weight long after `at`, >= 0.
        at: Centre of the switch.
        width: Time scale of the switch, > 0, in the same unit.
        unit: ``"fraction"`` (of the horizon) or ``"epoch"``.

    Example:
        >>> Sigmoid(start=1.0, end=0.0, at=0.5).value(epoch=5, horizon=10)
        0.5
    """

    name: ClassVar[str] = "sigmoid"
    weight_fields: ClassVar[tuple[str, ...]] = ("start", "end")
    start: float = 1.0
    end: float = 0.0
    at: float = 0.5
    width: float = 0.05
    unit: str = "fraction"

    def __post_init__(self) -> None:
        self._check_unit()
        self._check_weight("start")
        self._check_weight("end")
        self._check_point("at")
        self._set("width", v.check_positive("width", self.width))

    def _at(self, t: Any, xp: Any) -> Any:
        z = xp.clip((t - self.at) / self.width, -_SIGMOID_CLIP, _SIGMOID_CLIP)
        return self.start + (self.end - self.start) / (1.0 + xp.exp(-z))

    def describe(self) -> str:
        width = f"{_num(100 * self.width)}%" if self.unit == "fraction" else f"{_num(self.width)} epochs"
        return f"sigmoid {_num(self.start)} -> {_num(self.end)} at {self._when(self.at)} (width {width})"


@register
@dataclasses.dataclass(frozen=True)
class Cyclical(Schedule):
    """Cyclical annealing (Fu et al., 2019, "Cyclical Annealing Schedule: A Simple
    Approach to Mitigating KL Vanishing").

    The horizon is split into `cycles` equal cycles; in each, the weight rises
    linearly from `start` to `weight` over the first `ratio` of the cycle and
    then holds `weight`: ``start + (weight - start) * min(1, tau / ratio)``
    with ``tau`` in [0, 1) the position within the cycle. From the end of the
    horizon on it holds `weight`. Always measured in fractions of the horizon.

    Args:
        weight: Weight reached in each cycle, >= 0.
        cycles: Number of cycles, an int >= 1.
        ratio: Fraction of each cycle spent rising, in (0, 1].
        start: Weight at the start of each cycle, >= 0.

    Example:
        >>> cyclical = Cyclical(weight=1.0, cycles=2, ratio=0.5)
        >>> [cyclical.value(epoch, horizon=8) for epoch in (0, 1, 2, 3, 4, 5, 8)]
        [0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0]
    """

    name: ClassVar[str] = "cyclical"
    weight_fields: ClassVar[tuple[str, ...]] = ("weight", "start")
    weight: float = 1.0
    cycles: int = 4
    ratio: float = 0.5
    start: float = 0.0

    def __post_init__(self) -> None:
        self._check_weight("weight")
        self._check_weight("start")
        if isinstance(self.cycles, bool) or not isinstance(self.cycles, numbers.Integral):
            raise v.wrong_type("cycles", "an int", self.cycles)
        if self.cycles < 1:
            raise v.invalid("cycles", "be >= 1", self.cycles)
        self._set("cycles", int(self.cycles))
        ratio = v.check_positive("ratio", self.ratio)
        if ratio > 1:
            raise v.invalid("ratio", "lie in (0, 1]", self.ratio)
        self._set("ratio", ratio)

    def _at(self, t: Any, xp: Any) -> Any:
        position = t * self.cycles
        snap = _CYCLE_SNAP * self.cycles
        tau = xp.maximum(position - xp.floor(position + snap), 0.0)
        rising = self.start + (self.weight - self.start) * xp.minimum(1.0, tau / self.ratio)
        return xp.where(position + snap >= self.cycles, self.weight, rising)

    def describe(self) -> str:
        return (
            f"cyclical {_num(self.start)} -> {_num(self.weight)} in {self.cycles} cycles, "
            f"rising over the first {_num(100 * self.ratio)}% of each"
        )


def scaled(schedule: Schedule, factor: float) -> Schedule:
    """The schedule whose values are `factor` times those of `schedule`.

    Every family is linear in its weight fields (`weight_fields`), so the
    scaled schedule is the same family with those fields multiplied.

    Raises:
        ConfigurationError: `factor` is not 1 and the class declares no
            `weight_fields`.

    Example:
        >>> scaled(Step(start=2.0, end=0.5), 3.0)
        Step(start=6.0, end=1.5, at=0.2, unit='fraction')
    """
    if factor == 1.0:
        return schedule
    if not schedule.weight_fields:
        raise v.invalid(
            f"{type(schedule).__qualname__}.weight_fields",
            "name the fields holding weights, so that the schedule can be scaled by the reference weight",
            (),
        )
    changes = {f: getattr(schedule, f) * factor for f in schedule.weight_fields}
    return dataclasses.replace(schedule, **changes)  # type: ignore[type-var]
