"""Each term's gradient in one train step, computed the way the Keras backend computes gradients.

A strategy that takes over the gradient step (`Strategy.apply_gradients`)
receives a `GradientStep` holding the gradient of every term's unweighted
loss. How those gradients are taken is the backend's business: TensorFlow
records one `tf.GradientTape`. Each backend supplies one function of the
model and a batch; `term_gradients` picks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from tuneweights import _validation as v
from tuneweights.strategies import GradientStep

__all__ = ["check_backend", "term_gradients"]


def _tensorflow(model: Any, x: Any, y: Any, sample_weight: Any) -> tuple[GradientStep, Any, Any]:
    # TensorFlow is only imported when it is the backend.
    import tensorflow as tf

    with tf.GradientTape(persistent=True) as tape:
        y_pred = model(x, training=True)
        terms = model.term_values(y, y_pred, sample_weight, training=True)
        loss = model.total_loss(terms)
        penalties = [ops.sum(ops.cast(r, "float32")) for r in model.losses]
        regularisation = ops.sum(ops.stack(penalties)) if penalties else None
    variables = model.trainable_variables
    gradients = [tape.gradient(value, variables) for value in terms.values]
    extra = tape.gradient(regularisation, variables) if regularisation is not None else None
    del tape
    step = GradientStep(
        model=model,
        variables=variables,
        gradients=gradients,
        losses=ops.stack(terms.plain),
        weights=ops.stack([ops.cast(w, "float32") for w in terms.weights]),
        regularization=extra,
        state=model.strategy_state,
        weight_variables=model.weight_variables(),
    )
    return step, y_pred, loss


_BY_BACKEND: dict[str, Callable[[Any, Any, Any, Any], tuple[GradientStep, Any, Any]]] = {
    "tensorflow": _tensorflow,
}


def check_backend(strategy: Any) -> None:
    """Refuse, before training, a gradient-level strategy on a backend without a gradient function.

    Raises:
        ConfigurationError: the strategy overrides `apply_gradients` and the
            Keras backend has none here.
    """
    backend = keras.backend.backend()
    if strategy.needs_gradients and backend not in _BY_BACKEND:
        raise v.invalid(
            "strategy",
            f"not take over the gradient step on the {backend!r} backend ({strategy.name!r} does; "
            f"it runs on {sorted(_BY_BACKEND)})",
            strategy.name,
        )


def term_gradients(model: Any, x: Any, y: Any, sample_weight: Any) -> tuple[GradientStep, Any, Any]:
    """``(GradientStep, y_pred, total loss)`` of one batch, by the backend's gradient function."""
    return _BY_BACKEND[keras.backend.backend()](model, x, y, sample_weight)
