"""Loss terms: what is computed on which output, against which target, with which weight.

A model trained by tuneweights minimises ``sum_k w_k * L_k(target_k, output_k)``.
Each summand is a `Term`. Its weight is either a fixed number or a `Range`
that the tuner searches.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, TypeAlias

import keras

from tuneweights import _validation as v
from tuneweights import schedules as schedule_module
from tuneweights import switches as switch_module

LossLike: TypeAlias = "str | keras.losses.Loss | Callable[..., Any]"

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
        if not isinstance(self.zero_floor, bool):
            raise v.wrong_type("zero_floor", "a bool", self.zero_floor)
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


WeightLike: TypeAlias = "float | Range | schedule_module.Schedule | ScheduleSearch"


@dataclasses.dataclass(frozen=True)
class Term:
    """One summand of the training loss.

    Args:
        name: Stable name of the term. Logged as ``<name>_loss`` (its
            unweighted value) and ``<name>_weight``; metrics of the term are
            logged as ``<name>_<metric>``. Defaults to `output`.
        loss: A loss name known to `keras.losses.get` (``"mse"``), a
            `keras.losses.Loss` instance, a callable ``fn(y_true, y_pred)``,
            or a `tuneweights.switches.Switch` (loss A, then loss B).
        output: Name of the model output the loss is computed on. May be left
            out when the model has a single output, or when the term is named
            after its output.
        target: Key of the target in the ``y`` passed to ``fit``/``search``.
            Defaults to `output`. Several terms may share an output and use
            different targets (several label sources for one prediction), or
            share a target (a main loss plus a penalty on the same tensor).
        weight: A fixed weight (float >= 0), a `Range` to search, a
            `tuneweights.schedules.Schedule` (the weight follows it over
            training) or a `ScheduleSearch` (the tuner picks the schedule).
            Under ``weighting="ratio"`` searched values are relative to the
            reference term's weight.
        update: When a scheduled weight is recomputed: every ``"epoch"``
            (default) or every ``"step"`` (inside the compiled train step).
        metrics: Metrics computed on this term's output and target, as
            accepted by `keras.Model.compile`; logged as ``<name>_<metric>``.

    Example:
        >>> Term("aux", loss="mae", output="pred", weight=Range(0.01, 10)).searched
        True
    """

    name: str = ""
    loss: LossLike = "mse"
    output: str | None = None
    target: str | None = None
    weight: WeightLike = 1.0
    metrics: tuple[Any, ...] = ()
    update: str = "epoch"

    def __post_init__(self) -> None:
        if self.output is not None:
            v.check_name("output", self.output)
        if self.target is not None:
            v.check_name("target", self.target)
        name = self.name or self.output
        if not name:
            raise v.invalid("name", "be given when `output` is not", self.name)
        object.__setattr__(self, "name", v.check_name("name", name))
        _check_loss(self.loss)
        object.__setattr__(self, "weight", _weight_from(self.weight))
        # Fail now, not when the first trial is saved: only registered
        # schedules and switches can be written to the project directory.
        if isinstance(self.weight, schedule_module.Schedule):
            schedule_module.serialize(self.weight)
        if isinstance(self.loss, switch_module.Switch):
            switch_module.serialize(self.loss)
        v.check_choice("update", self.update, ("epoch", "step"))
        metrics = self.metrics
        if isinstance(metrics, (str, keras.metrics.Metric)) or callable(metrics):
            metrics = (metrics,)
        if not isinstance(metrics, (list, tuple)):
            raise v.wrong_type("metrics", "a list of metrics", metrics)
        object.__setattr__(self, "metrics", tuple(metrics))

    @property
    def searched(self) -> bool:
        """Whether anything of the term is searched (weight, schedule or switch)."""
        return self.weight_searched or bool(self.switch and self.switch.searched_fields())

    @property
    def weight_searched(self) -> bool:
        """Whether the weight is searched (a `Range` or a `ScheduleSearch`)."""
        return isinstance(self.weight, (Range, ScheduleSearch))

    @property
    def switch(self) -> switch_module.Switch | None:
        """The loss switch of the term, if its loss is one."""
        return self.loss if isinstance(self.loss, switch_module.Switch) else None

    def resolve(self, output_names: list[str]) -> Term:
        """This term with `output` and `target` filled in for a model.

        Raises:
            ConfigurationError: the output does not exist in the model.
        """
        output = self.output
        if output is None and self.name in output_names:
            output = self.name
        elif output is None:
            if len(output_names) != 1:
                raise v.invalid(
                    f"terms[{self.name!r}].output",
                    f"name one of the model outputs {output_names} (the model has several)",
                    None,
                )
            output = output_names[0]
        elif output not in output_names:
            raise v.invalid(
                f"terms[{self.name!r}].output",
                f"be one of the model outputs {output_names}",
                output,
            )
        target = self.target if self.target is not None else output
        return dataclasses.replace(self, output=output, target=target)

    def get_loss(self) -> Any:
        """The loss object or function (Keras losses hold no state: shared as is)."""
        if isinstance(self.loss, keras.losses.Loss) or callable(self.loss):
            return self.loss
        return keras.losses.get(self.loss)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, serialisable to JSON."""
        if isinstance(self.loss, str):
            loss: Any = self.loss
        elif isinstance(self.loss, switch_module.Switch):
            loss = {"switch": switch_module.serialize(self.loss)}
        else:
            loss = keras.saving.serialize_keras_object(self.loss)
        metrics = [m if isinstance(m, str) else keras.saving.serialize_keras_object(m) for m in self.metrics]
        return {
            "name": self.name,
            "loss": loss,
            "output": self.output,
            "target": self.target,
            "weight": _weight_config(self.weight),
            "metrics": metrics,
            "update": self.update,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Term:
        config = dict(config)
        loss = config.get("loss")
        if isinstance(loss, dict) and set(loss) == {"switch"}:
            config["loss"] = switch_module.get(loss["switch"])
        elif isinstance(loss, dict):
            config["loss"] = keras.saving.deserialize_keras_object(loss)
        config["metrics"] = tuple(
            keras.saving.deserialize_keras_object(m) if isinstance(m, dict) else m
            for m in config.get("metrics", ())
        )
        return cls(**config)


def _weight_from(weight: Any) -> Any:
    if isinstance(weight, dict):
        if set(weight) == {"range"}:
            return Range.from_config(weight["range"])
        if set(weight) == {"schedule"}:
            return schedule_module.get(weight["schedule"])
        if set(weight) == {"schedule_search"}:
            return ScheduleSearch.from_config(weight["schedule_search"])
        raise v.invalid("weight", "be a dict as written by `Term.get_config`", weight)
    if isinstance(weight, (Range, ScheduleSearch, schedule_module.Schedule)):
        return weight
    if isinstance(weight, str):
        raise v.wrong_type("weight", "a number, a Range, a Schedule or a ScheduleSearch", weight)
    return v.check_non_negative("weight", weight)


def _weight_config(weight: Any) -> Any:
    if isinstance(weight, Range):
        return {"range": weight.get_config()}
    if isinstance(weight, ScheduleSearch):
        return {"schedule_search": weight.get_config()}
    if isinstance(weight, schedule_module.Schedule):
        return {"schedule": schedule_module.serialize(weight)}
    return weight


def _check_loss(loss: Any) -> None:
    if isinstance(loss, switch_module.Switch):
        return
    if isinstance(loss, str):
        try:
            keras.losses.get(loss)
        except ValueError:
            raise v.invalid(
                "loss",
                "be a loss name known to `keras.losses.get` (e.g. 'mse', "
                "'binary_crossentropy'), a `keras.losses.Loss` or a callable",
                loss,
            ) from None
        return
    if isinstance(loss, keras.losses.Loss) or callable(loss):
        return
    raise v.wrong_type("loss", "a loss name, a `keras.losses.Loss`, a callable or a Switch", loss)


def as_terms(declared: Any) -> list[Term]:
    """Normalise a declaration into a list of `Term`.

    Accepts a list of `Term`, or a dict mapping each output name to a loss, a
    `Term` or a list of `Term` (terms given there default to that output).

    Raises:
        ConfigurationError: empty declaration or duplicate term names.
    """
    if isinstance(declared, Term):
        declared = [declared]
    if isinstance(declared, dict):
        terms: list[Term] = []
        for output, spec in declared.items():
            v.check_name("terms (output name)", output)
            specs = spec if isinstance(spec, (list, tuple)) else [spec]
            for item in specs:
                if isinstance(item, Term):
                    if item.output not in (None, output):
                        raise v.invalid(
                            f"terms[{output!r}]",
                            f"hold terms on output {output!r}",
                            item,
                        )
                    terms.append(dataclasses.replace(item, output=output))
                else:
                    terms.append(Term(name=output, loss=item, output=output))
    elif isinstance(declared, (list, tuple)):
        terms = []
        for item in declared:
            if isinstance(item, dict):
                item = Term.from_config(item)
            if not isinstance(item, Term):
                raise v.wrong_type("terms", "a list of `tuneweights.Term`", item)
            terms.append(item)
    else:
        raise v.wrong_type("terms", "a list of `Term` or a dict {output: loss or Term}", declared)
    if not terms:
        raise v.invalid("terms", "declare at least one loss term", declared)
    names = [t.name for t in terms]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise v.invalid("terms", f"have unique names; duplicated: {duplicates}", names)
    return terms
