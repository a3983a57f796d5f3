"""The model that trains on ``sum_k w_k * L_k`` inside an ordinary `model.fit`.

`WeightedModel` wraps the user's model. Its loss is computed in the compiled
train step from the terms, with each weight held in a non-trainable
`keras.Variable`: assigning a new weight (from a callback, a schedule, the
tuner) takes effect at the next step and never retraces the train function.
Targets are looked up by name from the ``y`` given to ``fit``, so several terms
can share one output and use different targets without touching the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
from keras import ops
from keras.src.losses.losses import LossFunctionWrapper

from tuneweights import _validation as v
from tuneweights.terms import Range, Term

try:  # Undo the per-replica scaling of losses under a distribution strategy.
    from keras.src.losses.loss import unscale_loss_for_distribution
except ImportError:  # pragma: no cover - older or newer Keras layouts

    def unscale_loss_for_distribution(value: Any) -> Any:
        return value


UNWEIGHTED_LOSS = "unweighted_loss"


def loss_metric_name(term: str) -> str:
    """Logged name of a term's unweighted loss, e.g. ``"rec_loss"``."""
    return f"{term}_loss"


def weight_metric_name(term: str) -> str:
    """Logged name of a term's current weight, e.g. ``"rec_weight"``."""
    return f"{term}_weight"


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


class _TermLosses(keras.metrics.Metric):
    """Epoch means of every term's unweighted loss, and of their sum.

    One vector of running sums updated by a single op per step (cheaper than a
    `Mean` per term). Each batch counts by its size, so the result is the mean
    over samples, as for Keras's own `loss`.
    """

    def __init__(self, terms: list[str]) -> None:
        super().__init__(name="term_losses")
        self._names = [loss_metric_name(t) for t in terms]
        self._totals = self.add_variable(shape=(len(terms),), initializer="zeros", name="totals")
        self._count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values: Any, count: Any) -> None:  # type: ignore[override]
        count = ops.cast(count, "float32")
        self._totals.assign_add(ops.stack(values) * count)
        self._count.assign_add(count)

    def reset_state(self) -> None:
        self._totals.assign(ops.zeros_like(self._totals))
        self._count.assign(0.0)

    def result(self) -> dict[str, Any]:
        means = ops.divide_no_nan(self._totals, self._count)
        out = {name: means[i] for i, name in enumerate(self._names)}
        out[UNWEIGHTED_LOSS] = ops.sum(means)
        return out


class _CurrentWeights(keras.metrics.Metric):
    """Reports the weight variables' current values (logged each epoch)."""

    def __init__(self, terms: list[str], variables: list[keras.Variable]) -> None:
        super().__init__(name="term_weights")
        self._names = [weight_metric_name(t) for t in terms]
        self._values = variables

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        pass

    def reset_state(self) -> None:
        pass

    def result(self) -> dict[str, Any]:
        return {name: ops.convert_to_tensor(var) for name, var in zip(self._names, self._values, strict=True)}


class WeightedModel(keras.Model):
    """Trains `base` on the weighted sum of its loss terms.

    Every epoch the logs hold, for training and validation, ``<term>_loss``
    (unweighted), ``<term>_weight`` (current weight), ``unweighted_loss`` (the
    plain sum of the terms) and ``loss`` (the weighted total, plus any
    regularisation, as Keras computes it), plus ``<term>_<metric>`` for the
    metrics declared on each term.

    Args:
        base: A functional or Sequential model with named outputs.
        terms: The loss terms, each naming one of `base`'s outputs.
        weights: Initial weight of each term (defaults to the fixed weights).

    Example:
        >>> inputs = keras.Input((3,))
        >>> base = keras.Model(inputs, keras.layers.Dense(1, name="y")(inputs))
        >>> model = WeightedModel(base, [Term("a", "mse"), Term("b", "mae", weight=0.5)])
        >>> model.term_weights()
        {'a': 1.0, 'b': 0.5}
    """

    def __init__(
        self,
        base: keras.Model,
        terms: list[Term],
        weights: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base = base
        self._output_names = output_names(base)
        self.terms = [t.resolve(self._output_names) for t in terms]
        self._loss_fns = [_as_loss(t) for t in self.terms]
        initial = {t.name: (1.0 if isinstance(t.weight, Range) else float(t.weight)) for t in self.terms}
        for name, value in (weights or {}).items():
            if name not in initial:
                raise v.invalid("weights", f"name only the terms {list(initial)}", dict(weights or {}))
            initial[name] = v.check_non_negative(f"weights[{name!r}]", value)
        self._weight_vars = [
            keras.Variable(float(initial[t.name]), trainable=False, name=f"{t.name}_weight", dtype="float32")
            for t in self.terms
        ]
        names = [t.name for t in self.terms]
        self._term_losses = _TermLosses(names)
        self._current_weights = _CurrentWeights(names, self._weight_vars)
        self._targets_needed = sorted({str(t.target) for t in self.terms})
        if base.built:
            self.built = True

    # -- weights --------------------------------------------------------
    def term_weights(self) -> dict[str, float]:
        """Current weight of every term."""
        return {
            t.name: float(ops.convert_to_numpy(var))
            for t, var in zip(self.terms, self._weight_vars, strict=True)
        }

    def weight_variable(self, term: str) -> keras.Variable:
        """The variable holding `term`'s weight (assign to change it)."""
        for t, var in zip(self.terms, self._weight_vars, strict=True):
            if t.name == term:
                return var
        raise v.invalid("term", f"name one of the terms {[t.name for t in self.terms]}", term)

    def assign_term_weights(self, weights: Mapping[str, float]) -> None:
        """Set the weights of some terms; takes effect at the next step."""
        for name, value in weights.items():
            self.weight_variable(name).assign(v.check_non_negative(f"weights[{name!r}]", value))

    def compile(self, optimizer: Any = "adam", loss: Any = None, metrics: Any = None, **kwargs: Any) -> None:
        """Keras's `compile`, with the terms' metrics by default.

        Args:
            optimizer: As for `keras.Model.compile` (default Adam).
            loss: Must be left out: the loss is the weighted sum of the terms.
            metrics: Defaults to the metrics declared on the terms, as
                ``{term: [...]}``.
            **kwargs: Other `keras.Model.compile` arguments.
        """
        if loss is not None or kwargs.get("loss_weights") is not None:
            raise v.invalid(
                "loss", "be left out: a WeightedModel's loss is the weighted sum of its terms", loss
            )
        if metrics is None:
            declared = {t.name: [_fresh_metric(m) for m in t.metrics] for t in self.terms if t.metrics}
            metrics = declared or None
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)

    # -- forward --------------------------------------------------------
    def call(self, inputs: Any, training: bool | None = None) -> dict[str, Any]:
        out = self.base(inputs, training=training)
        if isinstance(out, dict):
            named = out
        elif isinstance(out, (list, tuple)):
            named = dict(zip(self._output_names, out, strict=True))
        else:
            named = {self._output_names[0]: out}
        return {t.name: named[t.output] for t in self.terms}

    # -- targets --------------------------------------------------------
    def _per_term(self, data: Any, argument: str) -> dict[str, Any]:
        if data is None:
            return {t.name: None for t in self.terms}
        if isinstance(data, dict):
            missing = [k for k in self._targets_needed if k not in data]
            if missing:
                raise v.invalid(
                    argument,
                    f"be a dict with a key for every target {self._targets_needed}; missing {missing}",
                    sorted(data),
                )
            return {t.name: data[t.target] for t in self.terms}
        if len(self._targets_needed) > 1:
            raise v.invalid(
                argument,
                f"be a dict keyed by the targets {self._targets_needed} (the terms do not share one target)",
                type(data).__name__,
            )
        return {t.name: data for t in self.terms}

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        del x, training
        targets = self._per_term(y, "y")
        weights = self._per_term(sample_weight, "sample_weight")
        total = None
        plain = []
        for term, loss_fn, weight in zip(self.terms, self._loss_fns, self._weight_vars, strict=True):
            value = ops.cast(loss_fn(targets[term.name], y_pred[term.name], weights[term.name]), "float32")
            plain.append(unscale_loss_for_distribution(value))
            weighted = ops.multiply(weight, value)
            total = weighted if total is None else total + weighted
        self._term_losses.update_state(plain, ops.shape(next(iter(y_pred.values())))[0])
        for extra in self.losses:
            total = total + ops.sum(ops.cast(extra, "float32"))
        return total

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if self._compile_metrics is None:
            return self.get_metrics_result()
        targets = self._per_term(y, "y")
        weights = self._per_term(sample_weight, "sample_weight") if sample_weight is not None else None
        return super().compute_metrics(x, targets, y_pred, weights)


def _as_loss(term: Term) -> keras.losses.Loss:
    loss = term.get_loss()
    if isinstance(loss, keras.losses.Loss):
        return loss
    return LossFunctionWrapper(loss, name=term.name)


def compile_weighted(
    base: keras.Model,
    terms: list[Term],
    weights: Mapping[str, float] | None = None,
    optimizer: Any = None,
    **compile_kwargs: Any,
) -> WeightedModel:
    """Wrap `base` in a compiled `WeightedModel`.

    The optimizer is, in order: `optimizer`, the one `base` was compiled with,
    or Adam with its defaults. Metrics come from the terms.

    Raises:
        ConfigurationError: `base` was compiled with a `loss` or `metrics`
            (declare them on the terms instead), or a term names a missing
            output.
    """
    if getattr(base, "compiled", False):
        if getattr(base, "loss", None) is not None:
            raise v.invalid(
                "build(hp)",
                "return a model compiled without `loss` (declare losses as "
                "`tuneweights.Term`s; compile only to choose the optimizer)",
                base.loss,
            )
        if getattr(base, "_compile_metrics", None) is not None:
            raise v.invalid(
                "build(hp)",
                "return a model compiled without `metrics` (declare them on the "
                "terms: `Term(..., metrics=[...])`)",
                "compiled metrics",
            )
    if optimizer is None:
        optimizer = base.optimizer if getattr(base, "optimizer", None) is not None else "adam"
    model = WeightedModel(base, terms, weights=weights)
    model.compile(optimizer=optimizer, **compile_kwargs)
    return model


def _fresh_metric(metric: Any) -> Any:
    # A Metric instance carries state; give each model its own copy.
    if isinstance(metric, keras.metrics.Metric):
        return metric.__class__.from_config(metric.get_config())
    return metric
