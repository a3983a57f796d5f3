"""What a `tuneweights.WeightedModel` needs to know of the user's model: its outputs and shared layers."""

from __future__ import annotations

from typing import Any

import keras

from tuneweights import _validation as v

__all__ = ["output_names", "shared_layer"]


def output_names(model: keras.Model) -> list[str]:
    """Names of a model's outputs: dict keys, else the output layers' names.

    Raises:
        ConfigurationError: the model has no symbolic outputs (subclassed and
            never built on a `keras.Input`).
    """
    try:
        structure = model.output
    except (AttributeError, ValueError):
        structure = None
    if isinstance(structure, dict):
        return [str(k) for k in structure]
    outputs = getattr(model, "outputs", None)
    if not outputs:
        raise v.invalid(
            "build(hp)",
            "return a functional or Sequential Keras model built on `keras.Input` "
            "(its outputs must be known to name them)",
            model,
        )
    return [t._keras_history.operation.name for t in outputs]


def _ancestors(tensor: Any) -> set[int]:
    """Ids of the layers a symbolic tensor depends on."""
    seen: set[int] = set()
    stack = [tensor]
    while stack:
        history = getattr(stack.pop(), "_keras_history", None)
        if history is None or id(history.operation) in seen:
            continue
        seen.add(id(history.operation))
        node = history.operation._inbound_nodes[history.node_index]
        stack.extend(node.input_tensors)
    return seen


def shared_layer(base: keras.Model, name: str | None, outputs: set[str]) -> keras.layers.Layer:
    """The last layer with trainable weights that every used output depends on."""
    if name is not None:
        try:
            return base.get_layer(name)
        except ValueError:
            raise v.invalid(
                "GradNorm.layer", f"name a layer of the model {[x.name for x in base.layers]}", name
            ) from None
    names = output_names(base)
    tensors = base.outputs if not isinstance(base.output, dict) else list(base.output.values())
    sets = [_ancestors(t) for n, t in zip(names, tensors, strict=True) if n in outputs]
    common = set.intersection(*sets) if sets else set()
    shared = [layer for layer in base.layers if id(layer) in common and layer.trainable_weights]
    if not shared:
        raise v.invalid(
            "GradNorm.layer",
            "be given: no layer with trainable weights is shared by every term's output",
            None,
        )
    return shared[-1]
