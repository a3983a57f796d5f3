"""Searched values and their saved form: the vocabulary every other module uses.

A `Range` is a number the tuner picks; a `ScheduleSearch` is a weight schedule
the tuner picks. Both are frozen dataclasses whose configs are JSON. A
declaration that holds them (a term's weight, a switch's threshold, a
strategy's learning rate) is saved with `encode` and read back with `decode`,
the one place where their saved form is written and read:

* a `Range` is saved as ``{"range": {...}}``;
* a `ScheduleSearch` as ``{"schedule_search": {...}}``;
* a tuple as a list (a tuple of names is a searched choice), a dict key by
  key; every other JSON value as it is.

Example:
    >>> encode({"rate": Range(1e-3, 1e-1), "optimizer": ("adam", "sgd")})["optimizer"]
    ['adam', 'sgd']
    >>> encode(Range(1e-3, 1e-1))
    {'range': {'low': 0.001, 'high': 0.1, 'sampling': 'log', 'default': None}}
    >>> decode(encode(Range(0.1, 10))) == Range(0.1, 10)
    True
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from tuneweights import _validation as v

__all__ = [
    "DECAYING_FAMILIES",
    "SEARCHABLE_FAMILIES",
    "TIMED_FAMILIES",
    "Range",
    "ScheduleSearch",
    "decode",
    "encode",
    "is_searched",
]

_SAMPLINGS = ("log", "linear")


@dataclasses.dataclass(frozen=True)
class Range:
    """A searched weight: any value in ``[low, high]``.

    Under the default ``weighting="ratio"`` of `WeightedHyperModel`, the range
    bounds the ratio of this term's weight to the reference term's weight.

    Args:
        low: Smallest weight (or ratio), > 0.
        high: Largest weight (or ratio), > `low`.
        sampling: ``"log"`` (default: weights matter by orders of magnitude)
            or ``"linear"``.
        default: Value used where no value was sampled: the first trial of
            GridSearch, and a model built from hyperparameters without this
            value. Defaults to 1 when it lies in the range, otherwise the
            geometric (log) or arithmetic (linear) mean.

    Example:
        >>> Range(1e-2, 1e2).default_value()
        1.0
    """

    low: float
    high: float
    sampling: str = "log"
    default: float | None = None

    def __post_init__(self) -> None:
        low = v.check_positive("low", self.low)
        high = v.check_positive("high", self.high)
        if low >= high:
            raise v.invalid("low", f"be < high={self.high}", self.low)
        v.check_choice("sampling", self.sampling, _SAMPLINGS)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        if self.default is not None:
            default = v.check_positive("default", self.default)
            if not low <= default <= high:
                raise v.invalid("default", f"lie in [low, high] = [{low}, {high}]", self.default)
            object.__setattr__(self, "default", default)

    def default_value(self) -> float:
        """The value to use before any sampling."""
        if self.default is not None:
            return self.default
        if self.low <= 1.0 <= self.high:
            return 1.0
        if self.sampling == "log":
            return math.sqrt(self.low * self.high)
        return (self.low + self.high) / 2

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON scalars only."""
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Range:
        return cls(**config)


SEARCHABLE_FAMILIES = ("constant", "step", "linear", "cosine", "sigmoid", "warmup", "cyclical")
DECAYING_FAMILIES = ("step", "linear", "cosine", "sigmoid")
TIMED_FAMILIES = ("step", "linear", "cosine", "sigmoid", "warmup")


@dataclasses.dataclass(frozen=True)
class ScheduleSearch:
    """A searched schedule: the tuner picks the family and its parameters.

    Every parameter is a flat scalar hyperparameter, active only for the
    families that use it (see `tuneweights.space`). The families decode as:

    * ``constant``: ``Constant(weight=start)``
    * ``step``: ``Step(start, end=floor, at=at)``
    * ``linear``/``cosine``: ramp from `start` at 0 to `floor` at `at`
    * ``sigmoid``: ``Sigmoid(start, end=floor, at=at, width=0.05)``
    * ``warmup``: ``Warmup(weight=start, length=at)`` from 0
    * ``cyclical``: ``Cyclical(weight=start, cycles, ratio)`` from 0

    Args:
        families: The families to choose among (a subset of
            `SEARCHABLE_FAMILIES`).
        start: Range of the initial (or constant) weight; log-uniform by
            default.
        at: Range of the switch point or ramp end, as a fraction of training.
        floor: Range of a positive final weight of the decaying families, or
            None to always decay to 0.
        zero_floor: Whether a final weight of exactly 0 ("turn the term
            off") is a choice. With `floor` also given, the tuner chooses.
        cycles: Smallest and largest number of cycles of ``cyclical``.
        ratio: Range of the ramp fraction of each ``cyclical`` cycle.

    Example:
        >>> ScheduleSearch(families=("constant", "step")).families
        ('constant', 'step')
    """

    families: tuple[str, ...] = ("constant", "step", "linear", "cosine")
    start: Range = Range(1e-2, 1e2)
    at: Range = Range(0.02, 0.8, sampling="linear")
    floor: Range | None = Range(1e-3, 1e1)
    zero_floor: bool = True
    cycles: tuple[int, int] = (1, 8)
    ratio: Range = Range(0.1, 1.0, sampling="linear")

    def __post_init__(self) -> None:
        families = (self.families,) if isinstance(self.families, str) else tuple(self.families)
        unknown = [f for f in families if f not in SEARCHABLE_FAMILIES]
        if not families or unknown:
            raise v.invalid(
                "families",
                f"be a non-empty subset of {list(SEARCHABLE_FAMILIES)} (searched schedules are "
                "built from these; give any other schedule as a fixed weight)",
                self.families,
            )
        object.__setattr__(self, "families", families)
        for argument in ("start", "at", "ratio"):
            value = getattr(self, argument)
            if isinstance(value, dict):
                value = Range.from_config(value)
                object.__setattr__(self, argument, value)
            if not isinstance(value, Range):
                raise v.wrong_type(argument, "a `tuneweights.Range`", value)
        if isinstance(self.floor, dict):
            object.__setattr__(self, "floor", Range.from_config(self.floor))
        if self.floor is not None and not isinstance(self.floor, Range):
            raise v.wrong_type("floor", "a `tuneweights.Range` or None", self.floor)
        if self.at.high > 1:
            raise v.invalid("at", "lie within (0, 1]: it is a fraction of training", self.at)
        if self.ratio.high > 1:
            raise v.invalid("ratio", "lie within (0, 1]", self.ratio)
        v.check_bool("zero_floor", self.zero_floor)
        if self.floor is None and not self.zero_floor:
            raise v.invalid("floor", "be a Range when zero_floor=False (no final weight is left)", None)
        cycles = tuple(self.cycles)
        if (
            len(cycles) != 2
            or not all(isinstance(c, int) and not isinstance(c, bool) for c in cycles)
            or not 1 <= cycles[0] <= cycles[1]
        ):
            raise v.invalid("cycles", "be (low, high) ints with 1 <= low <= high", self.cycles)
        object.__setattr__(self, "cycles", cycles)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serialisable."""
        return {
            "families": list(self.families),
            "start": self.start.get_config(),
            "at": self.at.get_config(),
            "floor": None if self.floor is None else self.floor.get_config(),
            "zero_floor": self.zero_floor,
            "cycles": list(self.cycles),
            "ratio": self.ratio.get_config(),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ScheduleSearch:
        return cls(**config)


_MARKERS: dict[str, Any] = {"range": Range, "schedule_search": ScheduleSearch}


def encode(value: Any) -> Any:
    """The JSON form of a declared value (see the module docstring).

    Example:
        >>> encode((1, 2))
        [1, 2]
    """
    if isinstance(value, Range):
        return {"range": value.get_config()}
    if isinstance(value, ScheduleSearch):
        return {"schedule_search": value.get_config()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value


def decode(value: Any) -> Any:
    """The declared value that `encode` saved: ranges and schedule searches rebuilt, lists as tuples.

    Example:
        >>> decode({"range": {"low": 1.0, "high": 2.0}})
        Range(low=1.0, high=2.0, sampling='log', default=None)
        >>> decode(["adam", "sgd"])
        ('adam', 'sgd')
    """
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, config),) = value.items()
            if key in _MARKERS and isinstance(config, dict):
                return _MARKERS[key].from_config(config)
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(decode(item) for item in value)
    return value


def is_searched(value: Any) -> bool:
    """Whether a declared value is left for the tuner to choose (a `Range` or a `ScheduleSearch`)."""
    return isinstance(value, (Range, ScheduleSearch))
