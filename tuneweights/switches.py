"""Loss switching: a term that uses loss A, then loss B.

Three triggers, the patterns people otherwise write by hand:

* `SwitchAt` (``"epoch"``): from a point in training on, fixed or searched.
* `SwitchOnMetric` (``"metric"``): once a monitored logged quantity (a
  validation metric, say) crosses a threshold, at once or after `patience`
  epochs in a row.
* `SwitchOnState` (``"state"``): once a quantity computed inside training (the
  running mean absolute error of the term, or its running loss) crosses a
  threshold.

The switch state lives in `keras.Variable`s and the loss is selected inside
the compiled train step (both losses are computed and one is kept), so a
switch never recompiles or retraces. Once switched, a term stays switched,
except under a `SwitchOnState` with ``once=False``, which follows its
condition at every step. The epoch of the switch is logged as
``<term>_switch_epoch`` (-1 before).

Thresholds and points in time may be a `tuneweights.Range`, which the tuner
then searches like any hyperparameter.

Example:
    >>> from tuneweights import Range, Term
    >>> Term("rec", loss=SwitchAt("mse", "huber", at=Range(0.1, 0.9, sampling="linear")), output="y").searched
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import keras
from keras import ops
from keras.src.losses.losses import LossFunctionWrapper

from tuneweights import _validation as v
from tuneweights._registry import Registry
from tuneweights.ranges import Range, decode, encode

__all__ = [
    "Switch",
    "SwitchAt",
    "SwitchOnMetric",
    "SwitchOnState",
    "SwitchState",
    "complete",
    "get",
    "register",
    "registered",
    "serialize",
]

MODES = ("below", "above")
QUANTITIES = ("mae", "loss")


class Switch:
    """Base class of loss switches: use `before`, then `after`.

    Subclasses are frozen dataclasses with fields `before` and `after` and a
    class attribute `name`; `searchable` names the fields that may be a
    `tuneweights.Range`.
    """

    name: ClassVar[str] = ""
    searchable: ClassVar[tuple[str, ...]] = ()
    #: Whether `on_step` runs inside the compiled train step.
    tracks_steps: ClassVar[bool] = False
    before: Any
    after: Any

    # A switch decides through these hooks; each gets the term's switch state,
    # which holds the variables `switched`, `switch_epoch`, `count`, `average`
    # and `steps` (saved with the model) and `switch_at(epoch)`. Once the term
    # has switched and the switch is `final()`, they are no longer called. A
    # custom switch overrides at least one.
    def on_epoch_begin(self, state: Any, epoch: int, horizon: int) -> None:
        """Host side, at the start of every epoch (absolute index)."""

    def on_epoch_end(self, state: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        """Host side, at the end of every epoch, with its logs."""

    def on_step(self, state: Any, loss: Any, y_true: Any, y_pred: Any, epoch: Any) -> None:
        """Inside the compiled train step (keras.ops only), when `tracks_steps`.

        `loss` is the first loss's value on the batch; `epoch` a tensor.
        """

    def final(self) -> bool:
        """Whether the switch is for good: once switched, the hooks are no longer called."""
        return True

    def losses(self) -> tuple[Any, Any]:
        """The two loss objects (names resolved with `keras.losses.get`)."""
        return _loss(self.before), _loss(self.after)

    def searched_fields(self) -> list[str]:
        """The fields given as a `Range` (to be searched)."""
        return [f for f in self.searchable if isinstance(getattr(self, f), Range)]

    def with_values(self, values: dict[str, float]) -> Switch:
        """This switch with searched fields set to concrete values."""
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments; losses and ranges serialised to JSON."""
        config: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.name in ("before", "after") and not isinstance(value, str):
                value = keras.saving.serialize_keras_object(value)
            config[field.name] = encode(value)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Switch:
        config = dict(config)
        for key, value in config.items():
            if key in ("before", "after") and isinstance(value, dict):
                config[key] = keras.saving.deserialize_keras_object(value)
            else:
                config[key] = decode(value)
        return cls(**config)

    def describe(self) -> str:
        """A readable one-line description."""
        return f"{_name(self.before)} -> {_name(self.after)}"

    def _value(self, field: str, percent: bool = False) -> str:
        value = getattr(self, field)
        if isinstance(value, Range):
            return f"a searched value in [{value.low:g}, {value.high:g}]"
        return f"{value:.0%}" if percent else f"{value:g}"

    def _check_common(self) -> None:
        for argument in ("before", "after"):
            _check_loss(argument, getattr(self, argument))

    def _check_threshold(self, argument: str, positive: bool = False) -> None:
        value = getattr(self, argument)
        if isinstance(value, Range):
            return
        check = v.check_positive if positive else v.check_non_negative
        object.__setattr__(self, argument, check(argument, value))


def _loss(identifier: Any) -> Any:
    return identifier if not isinstance(identifier, str) else keras.losses.get(identifier)


def _name(loss: Any) -> str:
    if isinstance(loss, str):
        return loss
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", type(loss).__name__))


def _check_loss(argument: str, loss: Any) -> None:
    v.check_instance(
        argument, loss, "a loss name, a `keras.losses.Loss` instance or a callable `(y_true, y_pred)`"
    )
    if isinstance(loss, str):
        try:
            keras.losses.get(loss)
        except ValueError:
            raise v.invalid(argument, "be a loss name known to `keras.losses.get`", loss) from None
    elif not (isinstance(loss, keras.losses.Loss) or callable(loss)):
        raise v.wrong_type(argument, "a loss name, a `keras.losses.Loss` or a callable", loss)


class _SwitchState(keras.layers.Layer):
    """The state of one term's loss switch, in variables saved with the model.

    The hooks of a `Switch` receive it. It holds the variables ``switched``,
    ``switch_epoch``, ``count``, ``average`` and ``steps``, and the two loss
    functions. (Keras names a model's layers in its weight files after their
    class: the class keeps the name it was first saved under, and
    `SwitchState` is its public name.)

    Args:
        term: The term's name.
        switch: Its concrete switch.
    """

    def __init__(self, term: str, switch: Switch) -> None:
        super().__init__(name=f"{term}_switch")
        self.term = term
        self.switch = switch
        hooks = ("on_epoch_begin", "on_epoch_end", "on_step")
        if not any(getattr(type(switch), h) is not getattr(Switch, h) for h in hooks):
            raise v.invalid(
                f"terms[{term!r}].loss",
                f"be a switch that overrides one of {list(hooks)} (else it never switches)",
                type(switch).__name__,
            )
        self.before, self.after = (_as_loss_fn(loss, term) for loss in switch.losses())

        def scalar(name: str, value: float) -> keras.Variable:
            return self.add_weight(
                shape=(), initializer=keras.initializers.Constant(value), trainable=False, name=name
            )

        self.switched = scalar("switched", 0.0)
        self.switch_epoch = scalar("switch_epoch", -1.0)
        self.count = scalar("count", 0.0)  # consecutive epochs meeting the metric condition
        self.average = scalar("average", 0.0)  # running quantity of a state switch
        self.steps = scalar("steps", 0.0)
        self.built = True  # as `StrategyState`: else every `fit` and `evaluate` traces the model again

    def loss(self, y_true: Any, y_pred: Any, sample_weight: Any, epoch: Any, training: bool) -> Any:
        first = ops.cast(self.before(y_true, y_pred, sample_weight), "float32")
        second = ops.cast(self.after(y_true, y_pred, sample_weight), "float32")
        if training and self.switch.tracks_steps:
            self.switch.on_step(self, first, y_true, y_pred, epoch)
        return ops.where(self.switched > 0.5, second, first)

    def begin_epoch(self, epoch: int, horizon: int) -> None:
        if not self.done():
            self.switch.on_epoch_begin(self, epoch, horizon)

    def end_epoch(self, epoch: int, logs: Mapping[str, Any] | None) -> None:
        if not self.done():
            self.switch.on_epoch_end(self, epoch, logs or {})

    def done(self) -> bool:
        """Whether the term switched for good (its switch is final and it uses its second loss)."""
        return self.switch.final() and float(self.switched) > 0.5

    def switch_at(self, epoch: int) -> None:
        """Use the second loss from `epoch` on (host side)."""
        if not self.done():
            self.switched.assign(1.0)
            self.switch_epoch.assign(float(epoch))


SwitchState = _SwitchState


def _as_loss_fn(loss: Any, name: str) -> keras.losses.Loss:
    """A Keras loss object for a loss object or a function ``fn(y_true, y_pred)``."""
    if isinstance(loss, keras.losses.Loss):
        return loss
    return LossFunctionWrapper(loss, name=name)


_SWITCHES: Registry[Switch] = Registry("switch", Switch, "tuneweights.switches", flat=False)


def register(cls: Any) -> Any:
    """Register a custom switch class under its ``name`` (a class decorator)."""
    return _SWITCHES.register(cls)


def registered() -> dict[str, type[Switch]]:
    """The registered switch classes by name (a copy).

    Example:
        >>> {"epoch", "metric", "state"} <= set(registered())
        True
    """
    return dict(_SWITCHES.classes)


def serialize(switch: Switch) -> dict[str, Any]:
    """``{"name": ..., **switch.get_config()}``, JSON-serialisable."""
    return _SWITCHES.serialize(switch)


def complete(config: dict[str, Any]) -> dict[str, Any]:
    """A saved switch (from `serialize`) with the defaults of parameters added since it was saved."""
    return _SWITCHES.complete(config)


def get(identifier: Any) -> Switch:
    """A switch from a dict produced by `serialize`, or an instance (returned as is)."""
    return _SWITCHES.get(identifier)


@register
@dataclasses.dataclass(frozen=True)
class SwitchAt(Switch):
    """Use `before` until `at`, then `after`.

    Args:
        before: Loss used first (name, `keras.losses.Loss` or callable).
        after: Loss used from `at` on.
        at: When to switch: a fraction of the trial's horizon (``unit=
            "fraction"``) or an epoch (``unit="epoch"``); a `Range` to search it.
        unit: ``"fraction"`` or ``"epoch"``.

    Example:
        >>> SwitchAt("mse", "huber", at=0.5).active(epoch=5, horizon=10)
        True
    """

    name: ClassVar[str] = "epoch"
    searchable: ClassVar[tuple[str, ...]] = ("at",)
    before: Any = "mse"
    after: Any = "huber"
    at: Any = 0.5
    unit: str = "fraction"

    def __post_init__(self) -> None:
        self._check_common()
        v.check_choice("unit", self.unit, ("fraction", "epoch"))
        if isinstance(self.at, Range):
            if self.unit == "fraction" and self.at.high > 1:
                raise v.invalid("at", "lie in [0, 1] with unit='fraction'", self.at)
            return
        self._check_threshold("at")
        if self.unit == "fraction" and self.at > 1:
            raise v.invalid("at", "lie in [0, 1] with unit='fraction'", self.at, hint="Pass unit='epoch'")

    def active(self, epoch: float, horizon: int) -> bool:
        """Whether `after` is in use at `epoch` of a trial of `horizon` epochs."""
        t = epoch / horizon if self.unit == "fraction" else epoch
        return bool(t >= self.at)

    def on_epoch_begin(self, state: Any, epoch: int, horizon: int) -> None:
        if self.active(epoch, horizon):
            state.switch_at(epoch)

    def describe(self) -> str:
        if self.unit == "fraction":
            when = f"{self._value('at', percent=True)} of training"
        else:
            when = f"epoch {self._value('at')}"
        return f"{super().describe()} at {when}"


@register
@dataclasses.dataclass(frozen=True)
class SwitchOnMetric(Switch):
    """Switch once a logged quantity crosses a threshold.

    Checked at the end of every epoch; the new loss is used from the next
    epoch on.

    Args:
        before: Loss used first.
        after: Loss used after the switch.
        monitor: A logged name, e.g. ``"val_rec_loss"``.
        threshold: The value to cross (a `Range` to search it).
        mode: ``"below"`` (switch when the value drops under the threshold)
            or ``"above"``.
        patience: Number of consecutive epochs the condition must hold.

    Example:
        >>> SwitchOnMetric("mse", "mae", monitor="val_rec_loss", threshold=0.1).describe()
        'mse -> mae when val_rec_loss < 0.1 for 1 epoch'
    """

    name: ClassVar[str] = "metric"
    searchable: ClassVar[tuple[str, ...]] = ("threshold",)
    before: Any = "mse"
    after: Any = "huber"
    monitor: str = "val_loss"
    threshold: Any = 0.1
    mode: str = "below"
    patience: int = 1

    def __post_init__(self) -> None:
        self._check_common()
        if not isinstance(self.monitor, str) or not self.monitor:
            raise v.wrong_type("monitor", "a logged name (str)", self.monitor)
        self._check_threshold("threshold")
        v.check_choice("mode", self.mode, MODES)
        v.check_int("patience", self.patience, 1)

    def crossed(self, value: float) -> bool:
        """Whether `value` meets the condition."""
        return value < self.threshold if self.mode == "below" else value > self.threshold

    def on_epoch_end(self, state: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        if self.monitor not in logs:
            raise v.invalid(
                f"terms[{state.term!r}].loss.monitor",
                f"be one of the logged names {sorted(logs)}",
                self.monitor,
            )
        count = float(state.count) + 1.0 if self.crossed(float(logs[self.monitor])) else 0.0
        state.count.assign(count)
        if count >= self.patience:
            state.switch_at(epoch + 1)

    def describe(self) -> str:
        sign = "<" if self.mode == "below" else ">"
        epochs = "epoch" if self.patience == 1 else "epochs"
        threshold = self._value("threshold")
        return f"{super().describe()} when {self.monitor} {sign} {threshold} for {self.patience} {epochs}"


@register
@dataclasses.dataclass(frozen=True)
class SwitchOnState(Switch):
    """Switch when a running quantity computed in the train step crosses a threshold.

    The quantity is an exponential moving average (bias-corrected) over the
    training steps of either the term's mean absolute error ``|y - y_pred|``
    (``quantity="mae"``) or its value under the first loss, `before`
    (``quantity="loss"``).

    Args:
        before: Loss used first.
        after: Loss used after the switch.
        threshold: The value to cross (a `Range` to search it).
        quantity: ``"mae"`` or ``"loss"``.
        mode: ``"below"`` or ``"above"``.
        momentum: Of the moving average, in [0, 1).
        once: True (default): the first crossing switches for good. False:
            the condition chooses the loss at every step, `after` while it
            holds and `before` again when it no longer does (the hand-written
            ``where(running < threshold, after, before)``); the logged switch
            epoch is then that of the latest switch to `after`, -1 while
            `before` is in use.

    Example:
        >>> SwitchOnState("mse", "huber", threshold=0.5).describe()
        'mse -> huber when the running mae < 0.5'
        >>> SwitchOnState("mse", "huber", threshold=0.5, once=False).describe()
        'mse -> huber while the running mae < 0.5, and back when it is not'
    """

    name: ClassVar[str] = "state"
    searchable: ClassVar[tuple[str, ...]] = ("threshold",)
    tracks_steps: ClassVar[bool] = True
    before: Any = "mse"
    after: Any = "huber"
    threshold: Any = 0.5
    quantity: str = "mae"
    mode: str = "below"
    momentum: float = 0.9
    once: bool = True

    def __post_init__(self) -> None:
        self._check_common()
        self._check_threshold("threshold")
        v.check_bool("once", self.once)
        v.check_choice("quantity", self.quantity, QUANTITIES)
        v.check_choice("mode", self.mode, MODES)
        momentum = v.check_non_negative("momentum", self.momentum)
        if momentum >= 1:
            raise v.invalid("momentum", "be in [0, 1)", self.momentum)
        object.__setattr__(self, "momentum", momentum)

    def on_step(self, state: Any, loss: Any, y_true: Any, y_pred: Any, epoch: Any) -> None:
        if self.quantity == "mae":
            quantity = ops.mean(ops.abs(ops.cast(y_true, "float32") - ops.cast(y_pred, "float32")))
        else:
            quantity = loss
        state.average.assign(self.momentum * state.average + (1.0 - self.momentum) * quantity)
        state.steps.assign_add(1.0)
        running = state.average / (1.0 - self.momentum**state.steps)  # bias-corrected
        crossed = ops.cast(
            running < self.threshold if self.mode == "below" else running > self.threshold, "float32"
        )
        if self.once:
            now = ops.maximum(state.switched.value, crossed)
            state.switch_epoch.assign(ops.where(now > state.switched, epoch, state.switch_epoch.value))
        else:
            now = crossed
            latest = ops.where(now > state.switched, epoch, state.switch_epoch.value)
            state.switch_epoch.assign(ops.where(now > 0.5, latest, -1.0))
        state.switched.assign(now)

    def final(self) -> bool:
        return self.once

    def describe(self) -> str:
        sign = "<" if self.mode == "below" else ">"
        condition = f"the running {self.quantity} {sign} {self._value('threshold')}"
        if self.once:
            return f"{super().describe()} when {condition}"
        return f"{super().describe()} while {condition}, and back when it is not"
