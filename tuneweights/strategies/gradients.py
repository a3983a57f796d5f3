"""Strategies that take over the gradient step: GradNorm, and one optimizer per term.

Both are written against `Strategy.apply_gradients`, the hook a
user's gradient-level strategy (a projection of conflicting gradients, say)
overrides the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import keras
from keras import ops

from tuneweights import _validation as v
from tuneweights.ranges import Range, decode, encode
from tuneweights.strategies.base import GradientStep, Strategy, register
from tuneweights.strategies.rules import gradnorm_gradient
from tuneweights.strategies.state import OWN_OPTIMIZERS, StrategyState, own_slots, own_update

__all__ = ["SCALE_INVARIANT", "GradNorm", "SeparateOptimizers"]

#: Keras optimizers whose step does not change when the gradient is multiplied by a constant.
SCALE_INVARIANT = frozenset(
    {"adam", "adamw", "adamax", "nadam", "rmsprop", "adagrad", "adadelta", "adafactor", "lion", "lamb"}
)


def _norm(gradients: list[Any]) -> Any:
    squares = [ops.sum(ops.square(g)) for g in gradients if g is not None]
    return ops.sqrt(ops.sum(ops.stack(squares))) if squares else ops.convert_to_tensor(0.0)


@register
@dataclasses.dataclass(frozen=True)
class GradNorm(Strategy):
    """GradNorm (Chen, Badrinarayanan, Lee and Rabinovich, ICML 2018).

    Every step, after the model's update, the weights take one step of their
    own optimizer on ``sum_k |G_k - mean(G) r_k ** alpha|`` (`gradnorm_gradient`),
    where ``G_k`` is the norm of the gradient of ``w_k L_k`` in the trainable
    variables of the last shared layer and ``r_k`` the term's relative inverse
    training rate against its loss at the first step; then they are clipped
    at a small positive value and renormalised to sum to K, as in the paper.

    Args:
        alpha: Asymmetry (searchable); 0 equalises gradient norms.
        learning_rate: Learning rate of the weights (searchable).
        optimizer: ``"adam"`` or ``"sgd"``.
        layer: Name of the last shared layer of the model; by default the
            last layer whose output every term depends on.

    Example:
        >>> GradNorm(alpha=1.5).needs_gradients
        True
    """

    name: ClassVar[str] = "gradnorm"
    searchable: ClassVar[tuple[str, ...]] = ("alpha", "learning_rate")
    reference: ClassVar[str] = "Chen et al., ICML 2018, arXiv:1711.02257"
    alpha: Any = 1.5
    learning_rate: Any = 0.025
    optimizer: str = "adam"
    layer: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(decode(self.alpha), Range):
            object.__setattr__(self, "alpha", v.check_non_negative("alpha", self.alpha))
        else:
            self._check_positive("alpha")
        self._check_positive("learning_rate")
        v.check_choice("optimizer", self.optimizer, OWN_OPTIMIZERS)
        if self.layer is not None and not isinstance(self.layer, str):
            raise v.wrong_type("layer", "a layer name or None", self.layer)

    def build_state(self, state: StrategyState) -> None:
        state.slot("initial_losses", value=1.0)
        state.slot("started", shape=())
        state.slot("w", value=1.0)
        own_slots(state, "w/")

    def setup(self, model: Any) -> None:
        model.shared_layer(self.layer)  # refuses a model without one, before training

    def apply_gradients(self, step: GradientStep) -> None:
        """The model's update with the weighted gradient, then one GradNorm step on the weights."""
        shared = {id(var) for var in step.model.shared_layer(self.layer).trainable_variables}
        norms = [
            _norm([g for g, var in zip(gradients, step.variables, strict=True) if id(var) in shared])
            for gradients in step.gradients
        ]
        step.apply(step.total())
        step.set_weights(self.update(step.state, step.losses, ops.stack(norms), step.weights))

    def update(self, state: StrategyState, losses: Any, norms: Any, weights: Any) -> Any:
        """The weights after one GradNorm step (in the compiled step)."""
        started = state.slot("started", shape=())
        initial = state.slot("initial_losses")
        first = ops.equal(started, 0.0)
        initial.assign(ops.where(first, ops.maximum(losses, 1e-12), initial.value))
        started.assign(1.0)
        grad = gradnorm_gradient(weights, norms, losses, ops.cast(initial, "float32"), float(self.alpha))
        state.slot("w").assign(weights)
        w = state.slot("w")
        own_update(state, "w/", w, grad, self.optimizer, float(self.learning_rate))
        clipped = ops.maximum(ops.cast(w, "float32"), 1e-6)
        return len(state.terms) * clipped / ops.sum(clipped)


@register
@dataclasses.dataclass(frozen=True)
class SeparateOptimizers(Strategy):
    """One optimizer per term, each applying its term's gradient.

    Every step, term k's gradient ``grad(w_k L_k)`` is applied by term k's
    own optimizer to the trainable variables that ``L_k`` reaches (those
    with a gradient). A shared variable is updated by each optimizer whose
    term reaches it, one after the other, every one with its own state and
    all from gradients taken before any update; a head used by one term is
    updated by that term's optimizer only. The terms' weights (fixed,
    searched or scheduled) scale the gradients. Regularisation losses of the
    model (``model.losses``) are applied by the model's compiled optimizer.

    Args:
        optimizer: The optimizer of every term (a Keras optimizer name), or a
            tuple of names for the tuner to choose from, per term.
        learning_rate: The learning rate of every term, or a `Range` for the
            tuner to search per term.
        terms: Per-term overrides ``{term: {"optimizer": ..., "learning_rate": ...}}``.

    Example:
        >>> s = SeparateOptimizers("adam", 1e-3, terms={"rec": {"optimizer": "sgd"}})
        >>> s.settings(["cls", "rec"])
        {'cls': ('adam', 0.001), 'rec': ('sgd', 0.001)}
    """

    name: ClassVar[str] = "separate"
    uses_term_weights: ClassVar[bool] = True
    optimizer: Any = "adam"
    learning_rate: Any = 1e-3
    terms: Any = None

    def __post_init__(self) -> None:
        per = {} if self.terms is None else self.terms
        if not isinstance(per, Mapping):
            raise v.wrong_type(
                "terms", "a dict {term: {'optimizer': ..., 'learning_rate': ...}} or None", per
            )
        fixed: dict[str, dict[str, Any]] = {}
        for term, override in per.items():
            if not isinstance(override, Mapping) or not set(override) <= {"optimizer", "learning_rate"}:
                raise v.invalid(
                    f"terms[{term!r}]", "be a dict with keys among 'optimizer' and 'learning_rate'", override
                )
            entry = dict(override)
            if "learning_rate" in entry:
                rate = decode(entry["learning_rate"])
                entry["learning_rate"] = (
                    rate
                    if isinstance(rate, Range)
                    else v.check_positive(f"terms[{term!r}]['learning_rate']", rate)
                )
            if "optimizer" in entry:
                entry["optimizer"] = _optimizer_names(f"terms[{term!r}]['optimizer']", entry["optimizer"])
            fixed[str(term)] = entry
        object.__setattr__(self, "terms", fixed or None)
        object.__setattr__(self, "optimizer", _optimizer_names("optimizer", self.optimizer))
        self._check_positive("learning_rate")

    def settings(self, terms: Sequence[str]) -> dict[str, tuple[Any, Any]]:
        """``{term: (optimizer, learning_rate)}``, either possibly still searched."""
        per = self.terms or {}
        return {
            t: (
                per.get(t, {}).get("optimizer", self.optimizer),
                per.get(t, {}).get("learning_rate", self.learning_rate),
            )
            for t in terms
        }

    def searched_fields(self) -> list[str]:
        searched = isinstance(self.optimizer, tuple) or isinstance(self.learning_rate, Range)
        per = any(
            isinstance(o.get("optimizer"), tuple) or isinstance(o.get("learning_rate"), Range)
            for o in (self.terms or {}).values()
        )
        return ["optimizer/learning_rate"] if searched or per else []

    def declare(self, hp: Any, terms: Sequence[str]) -> None:
        for term, (opt, rate) in self.settings(terms).items():
            if isinstance(opt, tuple):
                hp.Choice(f"{self.hp_prefix()}{term}/optimizer", list(opt), default=opt[0])
            if isinstance(rate, Range):
                hp.Float(
                    f"{self.hp_prefix()}{term}/learning_rate",
                    rate.low,
                    rate.high,
                    sampling=rate.sampling,
                    default=rate.default_value(),
                )

    def decode(self, values: Mapping[str, Any], terms: Sequence[str]) -> Strategy:
        per: dict[str, dict[str, Any]] = {}
        for term, (opt, rate) in self.settings(terms).items():
            if isinstance(opt, tuple):
                opt = str(values.get(f"{self.hp_prefix()}{term}/optimizer", opt[0]))
            if isinstance(rate, Range):
                rate = float(values.get(f"{self.hp_prefix()}{term}/learning_rate", rate.default_value()))
            per[term] = {"optimizer": opt, "learning_rate": rate}
        # Every term now has its own concrete values; the shared fields keep
        # their defaults only to make the strategy concrete.
        optimizer = self.optimizer[0] if isinstance(self.optimizer, tuple) else self.optimizer
        rate = self.learning_rate
        rate = rate.default_value() if isinstance(rate, Range) else rate
        return dataclasses.replace(self, optimizer=optimizer, learning_rate=rate, terms=per)

    def get_config(self) -> dict[str, Any]:
        return {
            "optimizer": encode(self.optimizer),
            "learning_rate": encode(self.learning_rate),
            "terms": encode(self.terms) if self.terms else None,
        }

    def make_optimizers(self, terms: Sequence[str]) -> dict[str, keras.optimizers.Optimizer]:
        """A fresh Keras optimizer per term (the strategy is concrete)."""
        return {
            t: keras.optimizers.get({"class_name": opt, "config": {"learning_rate": float(rate)}})
            for t, (opt, rate) in self.settings(terms).items()
        }

    def scale_invariant(self, terms: Sequence[str]) -> dict[str, str]:
        """``{term: optimizer name}`` of the terms whose optimizer (or one of its choices) ignores a weight.

        Adam, RMSprop, Adagrad and their kin divide each step by a running
        scale of the gradient they see: a constant weight on a term that has
        one of them to itself changes nothing.

        Example:
            >>> SeparateOptimizers("adam", terms={"b": {"optimizer": "sgd"}}).scale_invariant(["a", "b"])
            {'a': 'adam'}
        """
        found = {}
        for term, (optimizer, _) in self.settings(terms).items():
            names = optimizer if isinstance(optimizer, tuple) else (optimizer,)
            invariant = [n for n in names if n.lower() in SCALE_INVARIANT]
            if invariant:
                found[term] = invariant[0]
        return found

    def setup(self, model: Any) -> None:
        model.track_optimizers(self.make_optimizers(model.loss_config.names))

    def apply_gradients(self, step: GradientStep) -> None:
        """Each term's weighted gradient by its own optimizer; regularisation by the model's."""
        optimizers = step.model.term_optimizers()
        for k, name in enumerate(step.model.loss_config.names):
            step.apply(step.weighted(k), optimizers[name])
        if step.regularization is not None:
            step.apply(step.regularization)


def _optimizer_names(argument: str, value: Any) -> Any:
    names = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not names:
        raise v.invalid(argument, "name a Keras optimizer, or be a non-empty tuple of names", value)
    for name in names:
        try:
            if not isinstance(name, str):
                raise ValueError
            keras.optimizers.get(name)
        except ValueError:
            raise v.invalid(
                argument, "name a Keras optimizer known to `keras.optimizers.get`", name
            ) from None
    return names if len(names) > 1 else names[0]
