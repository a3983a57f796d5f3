"""The data given to `fit`, checked against the model and its terms before any training.

Only what is cheap is read: the shapes, dtypes and lengths of arrays and
tensors, a `tf.data` dataset's ``element_spec`` and known cardinality. No
pass is made over the values (a NaN in the data is left to training, where a
nan loss fails the trial as diverged), and generators and other iterables are
left to Keras.

The model's side is a `ModelShapes`: the shapes and dtypes of the inputs of
the model `build(hp)` returns, and the shapes of its outputs, read once from
a model built with the default hyperparameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from tuneweights import _validation as v
from tuneweights.training.fit_arguments import FitArguments
from tuneweights.training.outputs import output_names

__all__ = ["ModelShapes", "check_data"]

Shape = tuple[Any, ...]

# Keras's losses that compare the target and the output element by element
# (after matching their ranks by a trailing axis of 1): a target of another
# shape is broadcast against the output, silently.
_ELEMENTWISE = frozenset(
    {
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "huber",
        "log_cosh",
        "binary_crossentropy",
        "binary_focal_crossentropy",
        "categorical_crossentropy",
        "categorical_focal_crossentropy",
        "kl_divergence",
        "poisson",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "cosine_similarity",
    }
)
# Keras's losses whose target holds class indices: the output's shape less its last axis.
_SPARSE = frozenset({"sparse_categorical_crossentropy"})


@dataclasses.dataclass(frozen=True)
class ModelShapes:
    """What a model takes and gives, without the batch axis.

    Attributes:
        inputs: The model's inputs, as ``model.input`` nests them (one
            ``(shape, dtype)`` pair, a list of them or a dict of them), or
            None when they are not known (a subclassed model).
        outputs: ``{output name: shape}``.
    """

    inputs: Any
    outputs: Mapping[str, Shape]

    @classmethod
    def of(cls, model: keras.Model) -> ModelShapes:
        """Read the shapes of a functional or Sequential model."""
        try:
            structure = model.input
        except (AttributeError, ValueError):
            known = getattr(model, "inputs", None)
            structure = known[0] if known and len(known) == 1 else None
        inputs = keras.tree.map_structure(_spec, structure) if structure is not None else None
        names = output_names(model)
        tensors = list(model.output.values()) if isinstance(model.output, dict) else model.outputs
        outputs = {name: tuple(t.shape[1:]) for name, t in zip(names, tensors, strict=True)}
        return cls(inputs, outputs)


def _spec(tensor: Any) -> tuple[Shape, str]:
    return tuple(tensor.shape[1:]), str(tensor.dtype)


def check_data(fit: FitArguments, terms: Sequence[Any] = (), shapes: ModelShapes | None = None) -> None:
    """Refuse data that cannot train the model: before any training, from shapes and dtypes only.

    Args:
        fit: The arguments of `fit`.
        terms: The resolved terms (with `output` and `target`); none for a
            plain model, whose targets are not checked.
        shapes: The model's shapes, or None when they are not known.

    Raises:
        ConfigurationError: arrays of different lengths, no samples, an input
            or target whose shape or dtype the model cannot take, or a
            `validation_split` that leaves no sample on one side.
    """
    _check_set(fit.x, fit.y, fit.get("sample_weight"), "x", "y", "sample_weight", terms, shapes)
    count = _count(fit.x)
    split = fit.get("validation_split")
    if count is not None and split and fit.validation_data is None:
        kept = int(np.floor(count * (1.0 - split)))
        if kept in (0, count):
            raise v.invalid(
                "validation_split",
                f"leave at least one of the {count} samples for training and one for validation",
                split,
            )
    validation = fit.validation_data
    if isinstance(validation, (tuple, list)) and len(validation) in (2, 3):
        weights = validation[2] if len(validation) == 3 else None
        _check_set(
            validation[0],
            validation[1],
            weights,
            "validation_data[0]",
            "validation_data[1]",
            "validation_data[2]",
            terms,
            shapes,
        )
    elif validation is not None:
        _check_dataset(validation, "validation_data", terms, shapes)


def _check_set(
    x: Any,
    y: Any,
    weights: Any,
    x_name: str,
    y_name: str,
    weights_name: str,
    terms: Sequence[Any],
    shapes: ModelShapes | None,
) -> None:
    if _is_dataset(x):
        _check_dataset(x, x_name, terms, shapes)
        return
    leaves = _leaves(x, x_name) + _leaves(y, y_name) + _leaves(weights, weights_name)
    if not leaves:
        return  # a generator, a PyDataset or a structure of lists: Keras reads it
    name, first = leaves[0]
    length = first.shape[0] if first.shape else None
    for other, array in leaves:
        if not array.shape:
            raise v.invalid(other, "be an array with one row per sample", _show(array))
        if array.shape[0] != length:
            raise v.invalid(
                other, f"have as many samples as `{name}` ({length}), one row per sample", _show(array)
            )
    if length == 0:
        raise v.invalid(name, "hold at least one sample", _show(first))
    targets = sorted({str(t.target) for t in terms})
    if targets and y is None:
        raise v.invalid(y_name, f"be given: the terms read the targets {targets}", None)
    if shapes is not None:
        _check_inputs(x, x_name, shapes.inputs)
    _check_targets(y, y_name, terms, shapes)


def _check_dataset(data: Any, argument: str, terms: Sequence[Any], shapes: ModelShapes | None) -> None:
    """A `tf.data` dataset, from its element spec and cardinality (other iterables are left to Keras)."""
    if not _is_dataset(data):
        if _leaves(data, argument) or isinstance(data, Mapping):
            raise v.invalid(
                argument,
                "be (x, y), (x, y, sample_weight) or a dataset yielding them, with the targets the "
                "terms read",
                _show(data),
            )
        return
    cardinality = getattr(data, "cardinality", None)
    if callable(cardinality) and int(cardinality()) == 0:
        raise v.invalid(argument, "hold at least one batch (its cardinality is 0)", _show(data))
    spec = data.element_spec
    if terms and (not isinstance(spec, tuple) or len(spec) not in (2, 3)):
        raise v.invalid(
            argument,
            "yield (x, y) or (x, y, sample_weight), with the targets the terms read",
            _show(data),
        )
    if not isinstance(spec, tuple):
        return
    if shapes is not None:
        _check_inputs(spec[0], f"{argument} (its x)", shapes.inputs)
    if len(spec) > 1:
        _check_targets(spec[1], f"{argument} (its y)", terms, shapes)


def _check_inputs(x: Any, argument: str, inputs: Any) -> None:
    """Each input array against the model input it feeds (rank, known sizes, strings)."""
    if inputs is None:
        return
    pairs: list[tuple[str, Any, Any]] = []
    if isinstance(inputs, Mapping):
        if _is_array(x) and len(inputs) > 1:
            raise v.invalid(argument, f"be a dict with one array per model input {list(inputs)}", _show(x))
        if isinstance(x, Mapping):
            missing = [k for k in inputs if k not in x]
            if missing:
                raise v.invalid(
                    argument, f"hold every model input {list(inputs)} (missing {missing})", sorted(x)
                )
            pairs = [(f"{argument}[{k!r}]", x[k], spec) for k, spec in inputs.items()]
    elif _is_pair(inputs):
        pairs = [(argument, x, inputs)]
    elif isinstance(inputs, (list, tuple)):
        count = len(inputs)
        if isinstance(x, (list, tuple)):
            if len(x) != count:
                raise v.invalid(argument, f"hold one array per model input ({count})", _show(x))
            matched = enumerate(zip(x, inputs, strict=True))
            pairs = [(f"{argument}[{i}]", item, spec) for i, (item, spec) in matched]
        elif _is_array(x) and count > 1:
            raise v.invalid(argument, f"hold one array per model input ({count}), as a list", _show(x))
        elif count == 1:
            pairs = [(argument, x, inputs[0])]
    for name, array, (shape, dtype) in pairs:
        if not _is_array(array):
            continue
        given = tuple(array.shape[1:])
        if not _fits(given, shape):
            raise v.invalid(
                name,
                f"have the shape the model input takes: (batch, {_dims(shape)})",
                _show(array),
            )
        if dtype != "string" and _holds_text(array.dtype):
            raise v.invalid(name, f"hold numbers: the model input is {dtype}", _show(array))


def _check_targets(y: Any, argument: str, terms: Sequence[Any], shapes: ModelShapes | None) -> None:
    """Each term's target: numeric, and of a shape its loss compares with the output without broadcasting."""
    checked: set[str] = set()
    for term in terms:
        target = term.target
        array: Any = y.get(target) if isinstance(y, Mapping) else y
        name = f"{argument}[{target!r}]" if isinstance(y, Mapping) else argument
        if target in checked or not _is_array(array):
            continue
        checked.add(target)
        if _holds_text(array.dtype):
            raise v.invalid(name, "hold numbers: a loss cannot compare strings or objects", _show(array))
        if shapes is None or term.output not in shapes.outputs:
            continue
        output = shapes.outputs[term.output]
        for loss in _losses(term):
            rule = _shape_rule(loss, tuple(array.shape[1:]), output)
            if rule:
                raise v.invalid(name, f"{rule} (term {term.name!r}, output {term.output!r})", _show(array))


def _shape_rule(loss: Any, target: Shape, output: Shape) -> str:
    """The rule a target of this shape breaks for a Keras loss on this output, or ''."""
    name = _keras_loss_name(loss)
    if name in _SPARSE:
        if _fits(target, output[:-1]) or _fits(target, output[:-1] + (1,)):
            return ""
        return f"have the shape of the output less its class axis, (batch, {_dims(output[:-1])}), for {name}"
    if name in _ELEMENTWISE:
        if _fits(target, output) or _fits(target + (1,), output) or _fits(target, output + (1,)):
            return ""
        return f"have the shape of the output, (batch, {_dims(output)}), for {name}: other shapes broadcast"
    return ""


def _losses(term: Any) -> list[Any]:
    switch = getattr(term, "switch", None)
    return list(switch.losses()) if switch is not None else [term.get_loss()]


def _keras_loss_name(loss: Any) -> str | None:
    """The name of one of Keras's own loss functions behind `loss`, else None (a user's loss)."""
    fn = getattr(loss, "fn", loss) if isinstance(loss, keras.losses.Loss) else loss
    module = getattr(fn, "__module__", "") or ""
    return getattr(fn, "__name__", None) if module.startswith("keras.") else None


def _fits(given: Shape, expected: Shape) -> bool:
    if len(given) != len(expected):
        return False
    return all(e is None or g is None or g == e for g, e in zip(given, expected, strict=True))


def _dims(shape: Shape) -> str:
    return ", ".join("None" if d is None else str(d) for d in shape)


def _is_dataset(data: Any) -> bool:
    return hasattr(data, "element_spec")


def _is_array(value: Any) -> bool:
    shape = getattr(value, "shape", None)
    return shape is not None and hasattr(value, "dtype") and isinstance(tuple(shape), tuple)


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str)


def _leaves(data: Any, argument: str) -> list[tuple[str, Any]]:
    """The arrays in a nest of lists, tuples and dicts, each with its name in a message."""
    if data is None:
        return []
    if _is_array(data):
        return [(argument, data)]
    if isinstance(data, Mapping):
        return [leaf for k, item in data.items() for leaf in _leaves(item, f"{argument}[{k!r}]")]
    if isinstance(data, (list, tuple)):
        return [leaf for i, item in enumerate(data) for leaf in _leaves(item, f"{argument}[{i}]")]
    return []


def _count(x: Any) -> int | None:
    leaves = _leaves(x, "x")
    return int(leaves[0][1].shape[0]) if leaves and leaves[0][1].shape else None


def _holds_text(dtype: Any) -> bool:
    """Whether a dtype holds strings or Python objects (numpy's kinds U, S and O)."""
    kind = _kind(dtype)
    return kind is not None and kind in "USO"


def _kind(dtype: Any) -> str | None:
    """numpy's kind letter of a dtype (numpy, TensorFlow or a name), None when unknown."""
    for candidate in (dtype, getattr(dtype, "as_numpy_dtype", None)):
        if candidate is None:
            continue
        try:
            return np.dtype(candidate).kind
        except TypeError:
            continue
    return None


def _show(value: Any) -> v.Shown:
    """An array or dataset as its type, shape and dtype (never its values)."""
    if _is_dataset(value):
        return v.Shown(f"{type(value).__name__} of element_spec {value.element_spec}")
    if _is_array(value):
        dtype = (
            value.dtype if isinstance(value.dtype, np.dtype) else getattr(value.dtype, "name", value.dtype)
        )
        return v.Shown(f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {dtype}")
    if isinstance(value, Mapping):
        return v.Shown("{" + ", ".join(f"{k!r}: {_show(item)}" for k, item in value.items()) + "}")
    if isinstance(value, (list, tuple)):
        inner = ", ".join(str(_show(item)) for item in value)
        return v.Shown(f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
    return v.Shown(v.describe(value))
