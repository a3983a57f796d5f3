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


@dataclasses.dataclass(frozen=True)
class Term:
    """One summand of the training loss.

    Args:
        name: Stable name of the term. Logged as ``<name>_loss`` (its
            unweighted value) and ``<name>_weight``; metrics of the term are
            logged as ``<name>_<metric>``. Defaults to `output`.
        loss: A loss name known to `keras.losses.get` (``"mse"``), a
            `keras.losses.Loss` instance, or a callable ``fn(y_true, y_pred)``.
        output: Name of the model output the loss is computed on. May be left
            out when the model has a single output, or when the term is named
            after its output.
        target: Key of the target in the ``y`` passed to ``fit``/``search``.
            Defaults to `output`. Several terms may share an output and use
            different targets (several label sources for one prediction), or
            share a target (a main loss plus a penalty on the same tensor).
        weight: A fixed weight (float >= 0) or a `Range` to search.
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
    weight: float | Range = 1.0
    metrics: tuple[Any, ...] = ()

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
        if isinstance(self.weight, dict):
            object.__setattr__(self, "weight", Range.from_config(self.weight))
        elif not isinstance(self.weight, Range):
            v.check_non_negative("weight", self.weight)
            object.__setattr__(self, "weight", float(self.weight))
        metrics = self.metrics
        if isinstance(metrics, (str, keras.metrics.Metric)) or callable(metrics):
            metrics = (metrics,)
        if not isinstance(metrics, (list, tuple)):
            raise v.wrong_type("metrics", "a list of metrics", metrics)
        object.__setattr__(self, "metrics", tuple(metrics))

    @property
    def searched(self) -> bool:
        """Whether the weight is searched."""
        return isinstance(self.weight, Range)

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
        loss = self.loss if isinstance(self.loss, str) else keras.saving.serialize_keras_object(self.loss)
        metrics = [m if isinstance(m, str) else keras.saving.serialize_keras_object(m) for m in self.metrics]
        weight = self.weight.get_config() if isinstance(self.weight, Range) else self.weight
        return {
            "name": self.name,
            "loss": loss,
            "output": self.output,
            "target": self.target,
            "weight": weight,
            "metrics": metrics,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Term:
        config = dict(config)
        if isinstance(config.get("loss"), dict):
            config["loss"] = keras.saving.deserialize_keras_object(config["loss"])
        config["metrics"] = tuple(
            keras.saving.deserialize_keras_object(m) if isinstance(m, dict) else m
            for m in config.get("metrics", ())
        )
        return cls(**config)


def _check_loss(loss: Any) -> None:
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
    raise v.wrong_type("loss", "a loss name, a `keras.losses.Loss` or a callable", loss)


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
