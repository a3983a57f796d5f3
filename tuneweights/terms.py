"""Loss terms: what is computed on which output, against which target, with which weight.

A model trained by tuneweights minimises ``sum_k w_k * L_k(target_k, output_k)``.
Each summand is a `Term`. Its weight is either a fixed number or a `Range`
that the tuner searches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeAlias

import keras

from tuneweights import _validation as v
from tuneweights import schedules as schedule_module
from tuneweights import switches as switch_module
from tuneweights.ranges import (
    DECAYING_FAMILIES,
    SEARCHABLE_FAMILIES,
    TIMED_FAMILIES,
    Range,
    ScheduleSearch,
    decode,
    encode,
    is_searched,
)

__all__ = [
    "DECAYING_FAMILIES",
    "SEARCHABLE_FAMILIES",
    "TIMED_FAMILIES",
    "LossLike",
    "Range",
    "ScheduleSearch",
    "Term",
    "WeightLike",
    "as_terms",
]

LossLike: TypeAlias = "str | keras.losses.Loss | Callable[..., Any]"

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
        for index, metric in enumerate(metrics):
            _check_metric(f"metrics[{index}]", metric)
        object.__setattr__(self, "metrics", tuple(metrics))

    @property
    def searched(self) -> bool:
        """Whether anything of the term is searched (weight, schedule or switch)."""
        return self.weight_searched or bool(self.switch and self.switch.searched_fields())

    @property
    def weight_searched(self) -> bool:
        """Whether the weight is searched (a `Range` or a `ScheduleSearch`)."""
        return is_searched(self.weight)

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
        if set(weight) == {"schedule"}:
            return schedule_module.get(weight["schedule"])
        decoded = decode(weight)
        if not is_searched(decoded):
            raise v.invalid("weight", "be a dict as written by `Term.get_config`", weight)
        return decoded
    if isinstance(weight, (Range, ScheduleSearch, schedule_module.Schedule)):
        return weight
    if isinstance(weight, str):
        raise v.wrong_type("weight", "a number, a Range, a Schedule or a ScheduleSearch", weight)
    return v.check_non_negative("weight", weight)


def _weight_config(weight: Any) -> Any:
    if isinstance(weight, schedule_module.Schedule):
        return {"schedule": schedule_module.serialize(weight)}
    return encode(weight)


LOSS_RULE = "a loss name, a `keras.losses.Loss` instance, a callable `(y_true, y_pred)` or a Switch"
METRIC_RULE = "a metric name, a `keras.metrics.Metric` instance or a callable `(y_true, y_pred)`"


def _check_loss(loss: Any) -> None:
    if isinstance(loss, switch_module.Switch):
        return
    v.check_instance("loss", loss, LOSS_RULE)
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
    raise v.wrong_type("loss", LOSS_RULE, loss)


def _check_metric(argument: str, metric: Any) -> None:
    v.check_instance(argument, metric, METRIC_RULE)
    if not (isinstance(metric, (str, keras.metrics.Metric)) or callable(metric)):
        raise v.wrong_type(argument, METRIC_RULE, metric)
    if isinstance(metric, str) and metric.lower() not in ("accuracy", "acc"):  # `compile` picks their kind
        try:
            keras.metrics.get(metric)
        except ValueError:
            raise v.invalid(
                argument,
                "be a metric name known to `keras.metrics.get` (e.g. 'mae', 'accuracy', 'auc'), "
                "a `keras.metrics.Metric` or a callable",
                metric,
            ) from None


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
