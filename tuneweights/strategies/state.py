"""What a strategy keeps per model: its variables, and the optimizer of its own parameters.

`StrategyState` is a layer of the model, so its variables are saved with the
model and a resumed trial continues with them. `own_update` is one Adam or
SGD step on a strategy's own parameter (uncertainty weighting's
log-variances, GradNorm's weights), with its moments in the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

__all__ = ["OWN_OPTIMIZERS", "StrategyState", "own_slots", "own_update"]

OWN_OPTIMIZERS = ("adam", "sgd")


class StrategyState(keras.layers.Layer):
    """The variables of one model's strategy (saved with the model).

    Args:
        strategy: The concrete strategy (its `build_state` creates the slots).
        terms: The term names, in order.
    """

    def __init__(self, strategy: Any, terms: Sequence[str]) -> None:
        super().__init__(name="strategy_state")
        self.strategy = strategy
        self.terms = list(terms)
        self._slots: dict[str, keras.Variable] = {}
        self.seed_generator = keras.random.SeedGenerator(getattr(strategy, "seed", None))
        strategy.build_state(self)
        # Its variables exist now. An unbuilt layer would make every `fit` and
        # `evaluate` (each epoch's validation too) trace the model symbolically.
        self.built = True

    def slot(self, name: str, shape: tuple[int, ...] | None = None, value: float = 0.0) -> keras.Variable:
        """The non-trainable variable `name`, created by the first call.

        Create every slot in `Strategy.build_state`: a model restored from a
        checkpoint must hold the same variables before its first step.
        """
        if name not in self._slots:
            self._slots[name] = self.add_weight(
                shape=(len(self.terms),) if shape is None else shape,
                initializer=keras.initializers.Constant(value),
                trainable=False,
                name=name.replace("/", "_"),
            )
        return self._slots[name]

    def values(self, name: str) -> np.ndarray:
        """A slot's current value as numpy."""
        return np.asarray(ops.convert_to_numpy(self._slots[name]))


def own_slots(state: StrategyState, prefix: str, shape: tuple[int, ...] | None = None) -> None:
    """Create the slots of `own_update`'s Adam for a parameter of `shape` (default: one per term)."""
    state.slot(prefix + "m", shape=shape)
    state.slot(prefix + "v", shape=shape)
    state.slot(prefix + "t", shape=())


def own_update(state: StrategyState, prefix: str, param: Any, grad: Any, kind: str, rate: float) -> None:
    """One Adam or SGD step on a strategy's parameter `param`, in the train step.

    A strategy's own parameters have their own optimizer, with no weight
    decay, so the model's optimizer settings never reach them. Adam's moments
    and step count live in the slots ``<prefix>m``, ``<prefix>v`` and
    ``<prefix>t`` of `state` (saved with the model), which
    `Strategy.build_state` creates with `own_slots`.

    Args:
        state: The model's strategy state.
        prefix: Prefix of the optimizer's slots, e.g. ``"log_variance/"``.
        param: The variable to update.
        grad: Its gradient (a tensor of the same shape).
        kind: ``"adam"`` or ``"sgd"``.
        rate: The learning rate.
    """
    if kind == "sgd":
        param.assign(param - rate * grad)
        return
    m, u, t = state.slot(prefix + "m"), state.slot(prefix + "v"), state.slot(prefix + "t", shape=())
    b1, b2, eps = 0.9, 0.999, 1e-7
    t.assign(t + 1.0)
    m.assign(b1 * m + (1.0 - b1) * grad)
    u.assign(b2 * u + (1.0 - b2) * grad * grad)
    m_hat = m / (1.0 - ops.power(b1, t))
    u_hat = u / (1.0 - ops.power(b2, t))
    param.assign(param - rate * m_hat / (ops.sqrt(u_hat) + eps))
