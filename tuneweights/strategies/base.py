"""The base class of weighting strategies, its hooks, and the registry.

A strategy is a frozen dataclass registered under a short name. The model
calls its hooks, as Keras calls a callback's:

* `Strategy.build_state`: create the variables it keeps (host side, once);
* `Strategy.setup`: once, when a `tuneweights.WeightedModel` is built with
  it: check the model, give it optimizers to track;
* `Strategy.initial_weights`: the weights before the first step;
* `Strategy.step`: in the compiled train step, the weights to use (and an
  extra loss) from the terms' losses;
* `Strategy.on_epoch_begin` / `Strategy.on_epoch_end`: host side;
* `Strategy.apply_gradients`: in the compiled train step, instead of the
  model's own update, with every term's gradient (a `GradientStep`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from tuneweights import _validation as v
from tuneweights._registry import Registry
from tuneweights.ranges import Range, decode, encode
from tuneweights.strategies.state import StrategyState

__all__ = [
    "PREFIX",
    "GradientStep",
    "Strategy",
    "complete",
    "get",
    "loss_scale",
    "register",
    "registered",
    "serialize",
]

PREFIX = "strategy/"


class GradientStep:
    """One train step as a gradient-level strategy sees it, inside the compiled step.

    The model builds it with its backend's gradient computation and hands it
    to `Strategy.apply_gradients`, which decides the update. Everything here
    is a tensor or a variable; use `keras.ops` only.

    Attributes:
        model: The `tuneweights.WeightedModel` (its optimizer, its layers).
        variables: The model's trainable variables.
        gradients: For each term, in term order, the gradient of its
            unweighted loss ``L_k`` in each variable (None where ``L_k`` does
            not reach the variable).
        losses: The terms' unweighted losses, a (K,) tensor.
        weights: The terms' weights in this step, a (K,) tensor.
        regularization: The gradient of the model's own losses
            (``model.losses``) in each variable, or None when it has none.
        state: The strategy's `StrategyState`.

    The gradients are true gradients also under mixed precision: the
    backend's gradient function scales each loss before differentiating it
    and unscales the gradient after, and `apply` hands a loss-scaling
    optimizer the scaled gradients it expects.
    """

    def __init__(
        self,
        model: Any,
        variables: Sequence[Any],
        gradients: Sequence[Sequence[Any]],
        losses: Any,
        weights: Any,
        regularization: Sequence[Any] | None,
        state: StrategyState,
        weight_variables: Sequence[keras.Variable],
        apply_with: Callable[[Any, list[Any], list[Any]], None] | None = None,
    ) -> None:
        self.model = model
        self.variables = list(variables)
        self.gradients = [list(g) for g in gradients]
        self.losses = losses
        self.weights = weights
        self.regularization = None if regularization is None else list(regularization)
        self.state = state
        self._weight_variables = list(weight_variables)
        # How the backend applies an update (``optimizer.apply`` unless it says otherwise).
        self._apply_with = apply_with or _apply_now
        #: Whether the model's own optimizer applied an update in this step.
        self.model_optimizer_applied = False

    def weighted(self, term: int) -> list[Any]:
        """The gradient of ``w_k L_k`` for term `term` (index), None where it does not reach."""
        weight = self.weights[term]
        return [None if g is None else ops.multiply(weight, g) for g in self.gradients[term]]

    def total(self) -> list[Any]:
        """The gradient of the whole loss ``sum_k w_k L_k`` plus regularisation, per variable."""
        sums: list[Any] = [None] * len(self.variables)
        parts = [self.weighted(k) for k in range(len(self.gradients))]
        if self.regularization is not None:
            parts.append(self.regularization)
        for part in parts:
            sums = [g if s is None else (s if g is None else s + g) for s, g in zip(sums, part, strict=True)]
        return sums

    def flat(self, gradients: Sequence[Any]) -> Any:
        """One vector of `gradients` over every variable, zeros where a gradient is None."""
        pieces = [
            ops.reshape(ops.zeros(var.shape, var.dtype) if g is None else ops.cast(g, var.dtype), (-1,))
            for g, var in zip(gradients, self.variables, strict=True)
        ]
        return ops.concatenate(pieces)

    def unflat(self, vector: Any) -> list[Any]:
        """The per-variable gradients that `flat` made into `vector`."""
        out, start = [], 0
        for var in self.variables:
            size = math.prod(var.shape)
            out.append(ops.reshape(vector[start : start + size], var.shape))
            start += size
        return out

    def apply(self, gradients: Sequence[Any], optimizer: Any = None) -> None:
        """Apply `gradients` (per variable, None to skip one) with `optimizer` (default: the model's)."""
        optimizer = self.model.optimizer if optimizer is None else optimizer
        pairs = [(g, var) for g, var in zip(gradients, self.variables, strict=True) if g is not None]
        if not pairs:
            return
        grads = [g for g, _ in pairs]
        scale = loss_scale(optimizer)
        if scale is not None:  # the optimizer divides what it receives by its loss scale
            grads = [g * ops.cast(scale, g.dtype) for g in grads]
        self._apply_with(optimizer, grads, [var for _, var in pairs])
        if optimizer is self.model.optimizer:
            self.model_optimizer_applied = True

    def set_weights(self, weights: Any) -> None:
        """Use `weights` (a (K,) tensor) as the terms' weights from the next step on."""
        for k, var in enumerate(self._weight_variables):
            var.assign(ops.cast(weights[k], var.dtype))


def _apply_now(optimizer: Any, gradients: list[Any], variables: list[Any]) -> None:
    optimizer.apply(gradients, variables)


def loss_scale(optimizer: Any) -> Any:
    """The factor by which `optimizer` scales a loss (and divides the gradients it applies), or None.

    A `keras.optimizers.LossScaleOptimizer` (mixed precision) has a dynamic
    scale; any Keras optimizer may have a fixed ``loss_scale_factor``.

    Example:
        >>> loss_scale(keras.optimizers.SGD()) is None
        True
        >>> loss_scale(keras.optimizers.SGD(loss_scale_factor=8.0))
        8.0
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) or getattr(
        optimizer, "loss_scale_factor", None
    ):
        return optimizer.scale_loss(1.0)
    return None


class Strategy:
    """Base class of weighting strategies.

    A subclass is a frozen dataclass with a class attribute `name`; it
    overrides the hooks it needs (see the module docstring) and is made
    known with `register`. A strategy that overrides `apply_gradients` takes
    over the gradient step (`needs_gradients`).

    Class attributes:
        name: Registered name.
        searchable: Fields that may be given as a `Range` (or, for
            `choices`, as a tuple of names) to be searched.
        uses_term_weights: Whether the terms' declared weights apply.
        needs_validation: Whether it reads validation values each epoch.
        reference: The paper the strategy follows.

    Example:
        >>> @register
        ... @dataclasses.dataclass(frozen=True)
        ... class SumOnly(Strategy):
        ...     name = "sum_only_example"
        ...     uses_term_weights = True
        ...     def apply_gradients(self, step):
        ...         step.apply(step.total())
        >>> SumOnly().needs_gradients
        True
    """

    name: ClassVar[str] = ""
    searchable: ClassVar[tuple[str, ...]] = ()
    choices: ClassVar[dict[str, tuple[str, ...]]] = {}
    uses_term_weights: ClassVar[bool] = False
    needs_validation: ClassVar[bool] = False
    reference: ClassVar[str] = ""

    # -- hooks ----------------------------------------------------------------
    def build_state(self, state: StrategyState) -> None:
        """Create the variables the strategy keeps (host side, once)."""

    def setup(self, model: Any) -> None:
        """Host side, once, when a `tuneweights.WeightedModel` is built with this strategy.

        Check what the strategy needs of the model, and create what it uses
        besides variables: optimizers are given to
        ``model.track_optimizers({...})`` so that checkpoints hold their state.
        """

    def initial_weights(self, count: int) -> list[float] | None:
        """Weights before the first step, or None to keep the terms' weights."""
        return None if self.uses_term_weights else [1.0] * count

    def step(self, state: StrategyState, losses: Any, weights: Any, training: bool) -> tuple[Any, Any]:
        """In the compiled step: ``(weights to use, extra loss)``; `losses` is a (K,) tensor."""
        return weights, None

    def on_epoch_begin(self, state: StrategyState, epoch: int, weights: list[keras.Variable]) -> None:
        """Host side, before each epoch; may assign `weights`."""

    def on_epoch_end(
        self, state: StrategyState, epoch: int, logs: Mapping[str, Any], weights: list[keras.Variable]
    ) -> None:
        """Host side, after each epoch, with its logs; may assign `weights`."""

    def apply_gradients(self, step: GradientStep) -> None:
        """In the compiled train step, in place of the model's update: apply `step`'s gradients.

        Only called when a subclass overrides it. Use `GradientStep.apply`
        (with the model's optimizer or one of its own) and, to change the
        weights, `GradientStep.set_weights`.
        """
        raise NotImplementedError(f"{type(self).__name__} does not take over the gradient step.")

    @property
    def needs_gradients(self) -> bool:
        """Whether the strategy takes over the gradient step (overrides `apply_gradients`)."""
        return type(self).apply_gradients is not Strategy.apply_gradients

    # -- search ----------------------------------------------------------------
    def searched_fields(self) -> list[str]:
        """The fields left for the tuner to choose."""
        out = [f for f in self.searchable if isinstance(getattr(self, f), Range)]
        out += [f for f in self.choices if isinstance(getattr(self, f), tuple)]
        return out

    def hp_prefix(self) -> str:
        """Prefix of this strategy's hyperparameters, ``strategy/<name>/``."""
        return f"{PREFIX}{self.name}/"

    def declare(self, hp: Any, terms: Sequence[str]) -> None:
        """Register the searched fields as hyperparameters."""
        for field in self.searched_fields():
            value = getattr(self, field)
            name = self.hp_prefix() + field
            if isinstance(value, Range):
                hp.Float(name, value.low, value.high, sampling=value.sampling, default=value.default_value())
            else:
                hp.Choice(name, list(value), default=value[0])

    def decode(self, values: Mapping[str, Any], terms: Sequence[str]) -> Strategy:
        """This strategy with its searched fields set from hyperparameter values."""
        chosen: dict[str, Any] = {}
        for field in self.searched_fields():
            value = getattr(self, field)
            default = value.default_value() if isinstance(value, Range) else value[0]
            raw = values.get(self.hp_prefix() + field, default)
            chosen[field] = float(raw) if isinstance(value, Range) else str(raw)
        return dataclasses.replace(self, **chosen) if chosen else self  # type: ignore[type-var]

    # -- config ----------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serialisable (see `tuneweights.ranges.encode`)."""
        return {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Strategy:
        return cls(**{key: decode(value) for key, value in config.items()})

    def describe(self) -> str:
        """A readable one-line description."""
        fields = [f"{f.name}={_show(getattr(self, f.name))}" for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        return f"{self.name}({', '.join(fields)})" if fields else self.name

    # -- validation helpers ------------------------------------------------------
    def _check_positive(self, *fields: str) -> None:
        for field in fields:
            value = decode(getattr(self, field))
            if isinstance(value, Range):
                object.__setattr__(self, field, value)
            else:
                object.__setattr__(self, field, v.check_positive(field, value))


def _show(value: Any) -> str:
    if isinstance(value, Range):
        return f"searched in [{value.low:g}, {value.high:g}]"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "searched among " + "/".join(value)
    return repr(value)


def finite(argument: str, value: Any) -> float:
    """A finite number, as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise v.invalid(argument, "be a finite number", value)
    return float(value)


def assign(weights: list[keras.Variable], values: ArrayLike) -> None:
    """Assign one value to each weight variable (host side)."""
    for var, value in zip(weights, np.asarray(values, dtype=float).tolist(), strict=True):
        var.assign(float(value))


_STRATEGIES: Registry[Strategy] = Registry("strategy", Strategy, "tuneweights.strategies", flat=False)


def register(cls: Any) -> Any:
    """Register a custom strategy class under its ``name`` (a class decorator)."""
    return _STRATEGIES.register(cls)


def registered() -> dict[str, type[Strategy]]:
    """The registered strategy classes by name (a copy).

    Example:
        >>> {"dwa", "gradnorm", "random", "scheduled", "separate", "static"} <= set(registered())
        True
    """
    return dict(_STRATEGIES.classes)


def serialize(strategy: Strategy) -> dict[str, Any]:
    """``{"name": ..., **strategy.get_config()}``, JSON-serialisable."""
    return _STRATEGIES.serialize(strategy)


def complete(config: dict[str, Any]) -> dict[str, Any]:
    """A saved strategy (from `serialize`) with the defaults of parameters added since it was saved."""
    return _STRATEGIES.complete(config)


def get(identifier: Any) -> Strategy:
    """A strategy from a registered name, a dict from `serialize`, or an instance.

    Example:
        >>> get("dwa")
        DWA(temperature=2.0)
    """
    return _STRATEGIES.get(identifier)
