"""One compiled model for the trials of an architecture.

A short trial's cost is mostly not its epochs: it is compiling (tracing) the
model's train and test steps, which a model does on its first `fit`. Trials
that differ only in values the compiled steps read from variables (a
`WeightedModel`'s loss weights, schedules followed per epoch, an optimizer's
learning rate) can train the model of an earlier trial instead of their own.
Each trial still builds its model (cheap: no step is compiled), so that what
it starts from is exactly what it would have started from: its initial
weights (the parent's, for a Hyperband round), its loss configuration, a
fresh optimizer. That state is then copied into the kept model, whose
compiled steps run it.

Two models are interchangeable when their *signatures* are equal:

* the model is a functional or `Sequential` model, or a `WeightedModel` over
  one (a subclassed model's `call` is code, which no config describes), and
  no `Lambda` layer (whose function's closure is not in its config);
* their configs (`get_config`) are equal, and so are their compile
  arguments, the optimizer's learning rate aside when it is a number (a
  variable), not a schedule;
* losses and metrics given as objects, other than Keras's own, are the same
  objects (a loss made inside `build(hp)` from a hyperparameter is a new one
  every trial, and its config need not hold that value);
* for a `WeightedModel`, the loss configuration less the weights held in
  variables is equal (`WeightedModel.traced_parts`);
* their variables and their optimizers' variables have the same shapes.

Anything else builds and compiles a model of its own, as keras-tuner does.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable
from typing import Any

import keras

#: Model classes whose config describes what they compute.
_DESCRIBED = ("Functional", "Sequential")


def signature(model: keras.Model) -> str | None:
    """What a model's compiled steps depend on, besides its variables' values; None: not reusable.

    Builds the model's optimizers (as its first `fit` would) to read their
    variables' shapes.
    """
    parts = getattr(model, "traced_parts", None)
    base, loss, objects = parts() if callable(parts) else (model, None, [])
    graph = _graph_config(base)
    compiled = _compile_config(model)
    if graph is None or compiled is None or getattr(model, "optimizer", None) is None:
        return None
    names = _names(base, model)
    objects = [*objects, getattr(model, "loss", None), *_compiled_metrics(model)]
    _build_optimizers(model)
    shapes = [(tuple(var.shape), str(var.dtype)) for var in _state(model)]
    described = {
        "class": type(model).__name__,
        "graph": _renamed(graph, names),
        "compile": _renamed(_variable_learning_rate(compiled, model.optimizer), names),
        "loss": loss,
        "objects": sorted(_identities(objects)),
        "shapes": shapes,
    }
    return json.dumps(described, sort_keys=True, default=repr)


def copy_state(source: keras.Model, target: keras.Model) -> None:
    """Give `target` the state of `source`: variables, optimizer state and (hook) loss configuration."""
    for to, value in zip(_state(target), _state(source), strict=True):
        to.assign(value.value)
    take = getattr(target, "take_loss_config", None)
    if callable(take):
        take(source)


class ModelReuse:
    """Keeps the model of the last architecture trained, and lends it to the next trial that fits it."""

    def __init__(self) -> None:
        self._model: keras.Model | None = None
        self._signature: str | None = None
        #: How many trials trained a kept model rather than their own.
        self.reused = 0

    def take(self, model: keras.Model) -> keras.Model:
        """The model a trial trains: the kept one, holding `model`'s state, or `model` itself.

        `model` is what the trial built (compiled, with its starting weights).
        When it cannot reuse the kept model, it becomes the kept one, and
        what the previous one held is collected.
        """
        described = signature(model)
        if described is not None and described == self._signature and self._model is not None:
            copy_state(model, self._model)
            self.reused += 1
            return self._model
        replaced = self._model is not None
        self._model, self._signature = (model, described) if described is not None else (None, None)
        if replaced:
            gc.collect()  # the previous architecture's model and steps are garbage now
        return model

    def clear(self) -> None:
        """Keep nothing (after a failed trial, whose model may be half-way through anything)."""
        self._model, self._signature = None, None


def _graph_config(model: Any) -> Any:
    if type(model).__name__ not in _DESCRIBED or not isinstance(model, keras.Model):
        return None
    if any(isinstance(layer, keras.layers.Lambda) for layer in _all_layers(model)):
        return None
    try:
        return model.get_config()
    except (NotImplementedError, TypeError, ValueError):
        return None


def _names(base: keras.Model, model: keras.Model) -> dict[str, str]:
    """The names Keras made unique (``dense_7``, ``adam_3``), each mapped to its place in the model."""
    optimizers = [model.optimizer, getattr(model.optimizer, "inner_optimizer", None)]
    per_term = getattr(model, "term_optimizers", None)
    optimizers += list(per_term().values()) if callable(per_term) else []
    names: dict[str, str] = {}
    for named in [base, *_all_layers(base), *optimizers]:
        if named is not None:
            names.setdefault(named.name, f"#{len(names)}")
    return names


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """`value` with every string that names a layer replaced by its place.

    The layers of models built one after the other are named apart
    (``dense``, then ``dense_2``) unless Keras's session is cleared between
    them, which would also drop the compiled steps' kernels.
    """
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {k: _renamed(item, names) for k, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_renamed(item, names) for item in value]
    return value


def _compile_config(model: keras.Model) -> Any:
    """The model's compile arguments as Keras serialises them; None when it cannot (or was not compiled).

    keras-tuner's `loss`/`metrics` overrides compile with metric objects
    whose config Keras cannot write.
    """
    if not getattr(model, "compiled", False):
        return None
    try:
        return model.get_compile_config()
    except (NotImplementedError, TypeError, ValueError):
        return None


def _all_layers(model: keras.Model) -> Iterable[keras.layers.Layer]:
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _compiled_metrics(model: keras.Model) -> list[Any]:
    metrics = getattr(model, "_compile_metrics", None)
    return [getattr(metrics, "_user_metrics", None), getattr(metrics, "_user_weighted_metrics", None)]


def _identities(objects: Iterable[Any]) -> list[str]:
    """A token per loss or metric object that its config may not describe: its identity."""
    tokens = []
    for leaf in keras.tree.flatten(list(objects)):
        module = getattr(leaf, "__module__", None) or type(leaf).__module__
        if leaf is None or isinstance(leaf, (str, bool, int, float)) or module.startswith("keras."):
            continue
        tokens.append(f"{module}.{getattr(leaf, '__qualname__', type(leaf).__qualname__)}@{id(leaf)}")
    return tokens


def _variable_learning_rate(compiled: dict[str, Any], optimizer: Any) -> dict[str, Any]:
    """The compile config, the learning rate left out where it is a variable the trial assigns."""
    if isinstance(getattr(optimizer, "learning_rate", None), keras.optimizers.schedules.LearningRateSchedule):
        return compiled
    return _without_numeric(compiled, "learning_rate")


def _without_numeric(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return {
            k: "variable" if k == key and isinstance(item, (int, float)) else _without_numeric(item, key)
            for k, item in value.items()
        }
    if isinstance(value, list):
        return [_without_numeric(item, key) for item in value]
    return value


def _build_optimizers(model: keras.Model) -> None:
    build = getattr(model, "build_optimizers", None)
    if callable(build):
        build()
    elif not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _state(model: keras.Model) -> list[Any]:
    """The variables a trial starts from: the model's (trainable and not) and its optimizer's."""
    return [*model.trainable_variables, *model.non_trainable_variables, *model.optimizer.variables]
