"""Each term's gradient in one train step, computed the way the Keras backend computes gradients.

A strategy that takes over the gradient step (`Strategy.apply_gradients`)
receives a `GradientStep` holding the gradient of every term's unweighted
loss in every trainable variable, None where the term does not reach the
variable. How those gradients are taken is the backend's business; each
backend supplies one function of the model and a batch, and `term_gradients`
picks it:

* TensorFlow records one persistent `tf.GradientTape` and asks it once per term;
* PyTorch builds one graph and runs `torch.autograd.grad` once per term on it;
* JAX differentiates the forward pass as a function of the trainable values
  (one `jax.vjp`, one backward pass per term), inside the stateless step of
  `tuneweights.training.stateless`; where a term does not reach a variable is
  read from the backward pass's own graph (its jaxpr).

Under mixed precision (a `keras.optimizers.LossScaleOptimizer`) each term's
loss is scaled by the loss scale of the optimizer that applies it (the one a
strategy tracks under the term's name, else the model's) before it is
differentiated, and its gradient unscaled after: the strategy sees true
gradients, and `GradientStep.apply` hands each optimizer what it expects.

On JAX, the model's own update (no gradient-level strategy) is made here too
(`loss_gradients` and `apply`): Keras's JAX step computes the loss in a scope
that lacks the optimizer's variables, which a per-step schedule reads.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import ops

from tuneweights import _validation as v
from tuneweights.strategies import GradientStep
from tuneweights.strategies.base import loss_scale
from tuneweights.training.stateless import StateScope, state_variables

__all__ = ["apply", "check_backend", "loss_gradients", "term_gradients"]

Result = tuple[GradientStep, Any, Any]


def _regularisation(model: Any) -> Any:
    penalties = [ops.sum(ops.cast(r, "float32")) for r in model.losses]
    return ops.sum(ops.stack(penalties)) if penalties else None


def _scales(model: Any) -> list[Any]:
    """The loss scale (or None) of each term's gradient, then of the regularisation's."""
    tracked = model.term_optimizers()
    own = loss_scale(model.optimizer)
    return [loss_scale(tracked[n]) if n in tracked else own for n in model.loss_config.names] + [own]


def _scaled(value: Any, scale: Any) -> Any:
    return value if scale is None or value is None else value * ops.cast(scale, value.dtype)


def _unscaled(gradients: Sequence[Any], scale: Any) -> list[Any]:
    if scale is None:
        return list(gradients)
    return [None if g is None else g / ops.cast(scale, g.dtype) for g in gradients]


def _step(
    model: Any,
    variables: Sequence[Any],
    gradients: Sequence[Any],
    plain: Sequence[Any],
    weights: Sequence[Any],
    apply_with: Callable[[Any, list[Any], list[Any]], None] | None = None,
) -> GradientStep:
    return GradientStep(
        model=model,
        variables=variables,
        gradients=gradients[:-1],
        losses=ops.stop_gradient(ops.stack(list(plain))),
        weights=ops.stop_gradient(ops.stack([ops.cast(w, "float32") for w in weights])),
        regularization=gradients[-1],
        state=model.strategy_state,
        weight_variables=model.weight_variables(),
        apply_with=apply_with,
    )


# -- TensorFlow ------------------------------------------------------------------------------
def _tensorflow(model: Any, x: Any, y: Any, sample_weight: Any) -> Result:
    import tensorflow as tf  # only imported when it is the backend

    scales = _scales(model)
    with tf.GradientTape(persistent=True) as tape:
        y_pred = model(x, training=True)
        terms = model.term_values(y, y_pred, sample_weight, training=True)
        loss = model.total_loss(terms)
        targets = [
            _scaled(t, s) for t, s in zip([*terms.values, _regularisation(model)], scales, strict=True)
        ]
    variables = model.trainable_variables
    gradients = [
        None if t is None else _unscaled(tape.gradient(t, variables), s)
        for t, s in zip(targets, scales, strict=True)
    ]
    del tape
    return _step(model, variables, gradients, terms.plain, terms.weights), y_pred, loss


# -- PyTorch ---------------------------------------------------------------------------------
def _torch(model: Any, x: Any, y: Any, sample_weight: Any) -> Result:
    import torch  # only imported when it is the backend

    scales = _scales(model)
    y_pred = model(x, training=True)
    terms = model.term_values(y, y_pred, sample_weight, training=True)
    loss = model.total_loss(terms)
    targets = [_scaled(t, s) for t, s in zip([*terms.values, _regularisation(model)], scales, strict=True)]
    variables = model.trainable_variables
    tensors = [var.value for var in variables]
    last = max(i for i, t in enumerate(targets) if t is not None)
    gradients: list[Any] = []
    for i, (target, scale) in enumerate(zip(targets, scales, strict=True)):
        if target is None or not target.requires_grad:
            gradients.append(None if target is None else [None] * len(variables))
            continue
        found = torch.autograd.grad(target, tensors, retain_graph=i < last, allow_unused=True)
        gradients.append(_unscaled(found, scale))
    return _step(model, variables, gradients, terms.plain, terms.weights, _torch_apply), y_pred, loss


def _torch_apply(optimizer: Any, gradients: list[Any], variables: list[Any]) -> None:
    import torch

    with torch.no_grad():  # as Keras's own PyTorch train step applies its update
        optimizer.apply(gradients, variables)


# -- JAX ---------------------------------------------------------------------------------------
def _jax_pass(model: Any, x: Any, y: Any, sample_weight: Any, outputs: Callable[..., Any]) -> Any:
    """`jax.vjp` of the forward pass, a function of the trainable values, inside the stateless step.

    The pass reads every other variable of the state at its value in the step
    so far; what it assigns (a per-step weight, a strategy's slots, a
    switch's average, the epoch metrics) comes out as auxiliary values and is
    assigned in the step's scope. Returns ``(outputs, backward, y_pred,
    loss, plain, weights)``.
    """
    import jax

    variables = model.trainable_variables
    trainable = {id(var) for var in variables}
    others = [var for group in state_variables(model)[1:] for var in group if id(var) not in trainable]
    current = [(var, var.value) for var in others]
    changed: list[Any] = []

    def forward(values: list[Any]) -> Any:
        with StateScope(current + list(zip(variables, values, strict=True)), collect_losses=True) as scope:
            y_pred = model(x, training=True)
            terms = model.term_values(y, y_pred, sample_weight, training=True)
            loss = model.total_loss(terms)
            result = outputs(terms, _regularisation(model), loss)
        changed[:] = [var for var in scope.assigned() if id(var) not in trainable]
        weights = [ops.convert_to_tensor(w) for w in terms.weights]
        updates = [scope.get_current_value(var) for var in changed]
        return result, (y_pred, loss, list(terms.plain), weights, updates)

    result, backward, aux = jax.vjp(forward, [var.value for var in variables], has_aux=True)
    y_pred, loss, plain, weights, updates = aux
    for var, value in zip(changed, updates, strict=True):
        var.assign(value)
    return result, backward, y_pred, loss, plain, weights


def _jax(model: Any, x: Any, y: Any, sample_weight: Any) -> Result:
    import jax.numpy as jnp

    scales = _scales(model)
    variables = model.trainable_variables

    def outputs(terms: Any, regularisation: Any, loss: Any) -> tuple[Any, ...]:
        return (*terms.values, *(() if regularisation is None else (regularisation,)))

    result, backward, y_pred, loss, plain, weights = _jax_pass(model, x, y, sample_weight, outputs)
    reach = _reach(backward, result)
    gradients: list[Any] = []
    for k, scale in enumerate(scales):
        if k == len(result):  # no regularisation
            gradients.append(None)
            continue
        cotangent = tuple(
            jnp.asarray(0.0 if j != k else (1.0 if scale is None else scale), dtype=r.dtype)
            for j, r in enumerate(result)
        )
        (found,) = backward(cotangent)
        gradients.append(_unscaled([g if k in reach[i] else None for i, g in enumerate(found)], scale))
    return _step(model, variables, gradients, plain, weights, _jax_apply), y_pred, loss


def _reach(backward: Callable[..., Any], result: Sequence[Any]) -> list[set[int]]:
    """For each trainable variable, the outputs whose gradient reaches it (from the backward pass's jaxpr)."""
    import jax

    jaxpr = jax.make_jaxpr(backward)(tuple(result)).jaxpr
    labels = [frozenset({i}) for i in range(len(jaxpr.invars))]
    return [set(d) for d in _dependencies(jaxpr, labels)]


def _dependencies(jaxpr: Any, inputs: Sequence[frozenset[int]]) -> list[frozenset[int]]:
    """For each output of `jaxpr`, the labels of the inputs it depends on."""
    empty: frozenset[int] = frozenset()
    env: dict[Any, frozenset[int]] = dict(zip(jaxpr.invars, inputs, strict=True))

    def read(var: Any) -> frozenset[int]:
        return empty if hasattr(var, "val") else env.get(var, empty)  # a literal has a `val`

    for eqn in jaxpr.eqns:
        ins = [read(var) for var in eqn.invars]
        inner = _inner_jaxpr(eqn)
        if inner is not None and len(inner.invars) == len(ins) and len(inner.outvars) == len(eqn.outvars):
            outs = _dependencies(inner, ins)
        else:  # any other nested computation: each output may depend on each input
            outs = [empty.union(*ins)] * len(eqn.outvars)
        env.update(zip(eqn.outvars, outs, strict=True))
    return [read(var) for var in jaxpr.outvars]


def _inner_jaxpr(eqn: Any) -> Any:
    for key in ("jaxpr", "call_jaxpr"):
        inner = eqn.params.get(key)
        if inner is not None:
            return getattr(inner, "jaxpr", inner)  # a ClosedJaxpr holds its Jaxpr
    return None


def _jax_apply(optimizer: Any, gradients: list[Any], variables: list[Any]) -> None:
    """An update by `optimizer` in the stateless step: its `stateless_apply`, written back to the scope."""
    built = list(optimizer._trainable_variables)  # the variables it was built on, in its order
    by_id = {id(var): g for g, var in zip(gradients, variables, strict=True)}
    full = [by_id.get(id(var)) for var in built]
    with warnings.catch_warnings():  # an optimizer that does not update every variable is no mistake here
        warnings.filterwarnings("ignore", message="Gradients do not exist")
        values, state = optimizer.stateless_apply(
            [var.value for var in optimizer.variables], full, [var.value for var in built]
        )
    for var, value in zip(built, values, strict=True):
        var.assign(value)
    for var, value in zip(optimizer.variables, state, strict=True):
        var.assign(value)


_BY_BACKEND: dict[str, Callable[[Any, Any, Any, Any], Result]] = {
    "tensorflow": _tensorflow,
    "torch": _torch,
    "jax": _jax,
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


def term_gradients(model: Any, x: Any, y: Any, sample_weight: Any) -> Result:
    """``(GradientStep, y_pred, total loss)`` of one batch, by the backend's gradient function."""
    return _BY_BACKEND[keras.backend.backend()](model, x, y, sample_weight)


def loss_gradients(model: Any, x: Any, y: Any, sample_weight: Any) -> tuple[list[Any], Any, Any]:
    """JAX: ``(gradients of the total loss scaled by the model's optimizer, y_pred, total loss)``."""
    import jax.numpy as jnp

    def outputs(terms: Any, regularisation: Any, loss: Any) -> Any:
        return model.optimizer.scale_loss(loss)

    result, backward, y_pred, loss, _, _ = _jax_pass(model, x, y, sample_weight, outputs)
    (gradients,) = backward(jnp.ones_like(result))
    return list(gradients), y_pred, loss


def apply(optimizer: Any, gradients: list[Any], variables: list[Any]) -> None:
    """JAX: apply `gradients` (as the optimizer expects them, scaled) in the stateless step."""
    _jax_apply(optimizer, gradients, variables)
