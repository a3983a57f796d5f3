"""The model that trains on ``sum_k w_k * L_k`` inside an ordinary `model.fit`.

`WeightedModel` wraps the user's model. Its loss is computed in the compiled
train step from the terms, with each weight held in a non-trainable
`keras.Variable`: assigning a new weight (from a callback, a schedule, the
tuner) takes effect at the next step and never retraces the train function.
Targets are looked up by name from the ``y`` given to ``fit``, so several terms
can share one output and use different targets without touching the data.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import keras
from keras import ops
from keras.src.losses.losses import LossFunctionWrapper

from tuneweights import _validation as v
from tuneweights import strategies as strategy_module
from tuneweights.data import fit_epochs
from tuneweights.schedules import Schedule
from tuneweights.strategies import StrategySearch, StrategyState
from tuneweights.switches import Switch
from tuneweights.terms import Range, ScheduleSearch, Term

try:  # Undo the per-replica scaling of losses under a distribution strategy.
    from keras.src.losses.loss import unscale_loss_for_distribution
except ImportError:  # pragma: no cover - older or newer Keras layouts

    def unscale_loss_for_distribution(value: Any) -> Any:
        return value


UNWEIGHTED_LOSS = "unweighted_loss"


def loss_metric_name(term: str) -> str:
    """Logged name of a term's unweighted loss, e.g. ``"rec_loss"``."""
    return f"{term}_loss"


def switch_metric_name(term: str) -> str:
    """Logged name of the epoch a term's loss switched, e.g. ``"rec_switch_epoch"``."""
    return f"{term}_switch_epoch"


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


# Where Keras builds the logs of an epoch (fit) and of `evaluate` from the metrics.
_EPOCH_LOGS_HOOK = hasattr(keras.Model, "_get_metrics_result_or_logs")


class _EpochMetric(keras.metrics.Metric):
    """A metric read once per epoch (by `WeightedModel`), not returned by every step.

    Each value a train step returns costs time at every step (about as much as
    a small layer here); these values are only needed in the epoch's logs.
    `result()` is empty, so the step returns nothing of them; `values()` gives
    them, and `WeightedModel._get_metrics_result_or_logs` adds them to the logs
    of the epoch (and of `evaluate`).
    """

    def result(self) -> dict[str, Any]:
        # A Keras without the hook that reads them per epoch gets them from every step instead.
        return {} if _EPOCH_LOGS_HOOK else self.values()

    def values(self) -> dict[str, Any]:
        raise NotImplementedError


class _TermLosses(_EpochMetric):
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

    def values(self) -> dict[str, Any]:
        means = ops.divide_no_nan(self._totals, self._count)
        out = {name: means[i] for i, name in enumerate(self._names)}
        out[UNWEIGHTED_LOSS] = ops.sum(means)
        return out


class _CurrentWeights(_EpochMetric):
    """Reports the weight variables' current values (logged each epoch)."""

    def __init__(self, terms: list[str], variables: list[keras.Variable]) -> None:
        super().__init__(name="term_weights")
        self._names = [weight_metric_name(t) for t in terms]
        self._values = variables

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        pass

    def reset_state(self) -> None:
        pass

    def values(self) -> dict[str, Any]:
        return {name: ops.convert_to_tensor(var) for name, var in zip(self._names, self._values, strict=True)}


class _SwitchEpochs(_EpochMetric):
    """Reports each switched term's switch epoch (-1 before the switch)."""

    def __init__(self, states: list[_SwitchState]) -> None:
        super().__init__(name="switch_epochs")
        self._states = states

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        pass

    def reset_state(self) -> None:
        pass

    def values(self) -> dict[str, Any]:
        return {switch_metric_name(s.term): ops.convert_to_tensor(s.switch_epoch) for s in self._states}


class _SwitchState(keras.layers.Layer):
    """The state of one term's loss switch, in variables saved with the model."""

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
        """Whether the term uses its second loss already (a switch is final)."""
        return float(self.switched) > 0.5

    def switch_at(self, epoch: int) -> None:
        """Use the second loss from `epoch` on (host side)."""
        if not self.done():
            self.switched.assign(1.0)
            self.switch_epoch.assign(float(epoch))


class _Clock(keras.callbacks.Callback):
    """Moves a WeightedModel's schedules and switches along with `fit`."""

    def __init__(self, model: WeightedModel) -> None:
        super().__init__()
        self._weighted = model

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._weighted._steps_per_epoch.assign(float(self.params.get("steps") or 0))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._weighted.begin_epoch(epoch)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        model = self._weighted
        if float(model._steps_per_epoch) == 0:
            # Data of unknown length: learn the epoch's length from the first
            # one, so that per-step schedules move within the later epochs.
            model._steps_per_epoch.assign(model._steps_done())
        model.end_epoch(epoch, logs)


class WeightedModel(keras.Model):
    """Trains `base` on the weighted sum of its loss terms.

    Every epoch the logs hold, for training and validation, ``<term>_loss``
    (unweighted), ``<term>_weight`` (current weight), ``unweighted_loss`` (the
    plain sum of the terms), ``loss`` (the weighted total, plus any
    regularisation, as Keras computes it), ``<term>_<metric>`` for the
    metrics declared on each term, and ``<term>_switch_epoch`` for terms with
    a loss switch (-1 before the switch).

    Scheduled weights follow their `Schedule` of the absolute epoch; the
    schedule's horizon is `horizon` when set (the tuner sets it to the trial's
    planned epochs, Hyperband's `max_epochs` for every round), else the
    `epochs` given to `fit`. A model trained with a custom loop instead of
    `fit` calls `begin_epoch(epoch)` and `end_epoch(epoch, logs)` itself.

    Args:
        base: A functional or Sequential model with named outputs.
        terms: The loss terms, each naming one of `base`'s outputs; weights
            are numbers or schedules (a `Range` starts at 1.0), switches have
            concrete values.
        weights: Weights (numbers or schedules) replacing those of some terms.
        strategy: How the weights are set while training: a
            `tuneweights.strategies.Strategy` or its registered name (default
            ``"static"``: the terms' weights). A strategy that sets the
            weights itself (``uncertainty``, ``dwa``, ``random``,
            ``validation``, ``gradnorm``) requires the terms' weights to be
            left at 1.

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
        weights: Mapping[str, Any] | None = None,
        strategy: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(base, keras.Model):
            raise v.wrong_type("base", "a `keras.Model`", base)
        super().__init__(**kwargs)
        self.base = base
        self._output_names = output_names(base)
        self.terms = [t.resolve(self._output_names) for t in terms]
        names = [t.name for t in self.terms]
        overrides = dict(weights or {})
        unknown = [name for name in overrides if name not in names]
        if unknown:
            raise v.invalid("weights", f"name only the terms {names}", overrides)
        initial = {}
        for term in self.terms:
            value = overrides.get(term.name)
            if value is None:
                initial[term.name] = _concrete_weight(term)
            elif isinstance(value, Schedule):
                initial[term.name] = value
            else:
                initial[term.name] = v.check_non_negative(f"weights[{term.name!r}]", value)
        self.strategy = _concrete_strategy(strategy)
        if not self.strategy.uses_term_weights:
            fixed = {n: w for n, w in initial.items() if isinstance(w, Schedule) or w != 1.0}
            if fixed:
                raise v.invalid(
                    "weights",
                    f"be left at 1 for every term under strategy {self.strategy.name!r}, "
                    "which sets the weights itself",
                    fixed,
                )
            initial = dict(zip(names, self.strategy.initial_weights(len(names)) or [], strict=True))
        self.horizon: int | None = None
        self._schedules = {i: w for i, w in enumerate(initial[n] for n in names) if isinstance(w, Schedule)}
        self._per_step = {i for i in self._schedules if self.terms[i].update == "step"}
        self._weight_vars = [
            keras.Variable(
                _start_value(initial[t.name]), trainable=False, name=f"{t.name}_weight", dtype="float32"
            )
            for t in self.terms
        ]
        self._loss_fns = [None if t.switch else _as_loss_fn(t.get_loss(), str(t.name)) for t in self.terms]
        self._switch_states = [_SwitchState(str(t.name), _concrete_switch(t)) for t in self.terms if t.switch]
        self._switch_of = {
            i: s
            for i, s in zip(
                [i for i, t in enumerate(self.terms) if t.switch], self._switch_states, strict=True
            )
        }
        self._epoch = keras.Variable(0.0, trainable=False, name="epoch", dtype="float32")
        # The optimizer's step count when the epoch began: the step within the
        # epoch is derived from it inside the train step.
        self._epoch_start = keras.Variable(0.0, trainable=False, name="epoch_start", dtype="float32")
        self._steps_per_epoch = keras.Variable(0.0, trainable=False, name="steps_per_epoch", dtype="float32")
        self._traced_horizon: int | None = None
        self._term_losses = _TermLosses(names)
        self._current_weights = _CurrentWeights(names, self._weight_vars)
        if self._switch_states:
            self._switch_epochs = _SwitchEpochs(self._switch_states)
        self._targets_needed = sorted({str(t.target) for t in self.terms})
        self._strategy_state = StrategyState(self.strategy, names)
        self._adaptive_step = type(self.strategy).step is not strategy_module.Strategy.step
        self._term_optimizers: dict[str, keras.optimizers.Optimizer] = {}
        if isinstance(self.strategy, strategy_module.SeparateOptimizers):
            self._term_optimizers = self.strategy.make_optimizers(names)
        self._shared_layer: keras.layers.Layer | None = None
        if isinstance(self.strategy, strategy_module.GradNorm):
            self._shared_layer = _shared_layer(base, self.strategy.layer, {str(t.output) for t in self.terms})
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
        """Set the weights of some terms; takes effect at the next step.

        A scheduled term's weight is set again by its schedule at the next
        epoch, or at the next step with ``update="step"``.
        """
        for name, value in weights.items():
            self.weight_variable(name).assign(v.check_non_negative(f"weights[{name!r}]", value))

    # -- training time --------------------------------------------------
    def _horizon(self) -> int:
        return int(self.horizon or self._traced_horizon or 1)

    def begin_epoch(self, epoch: int) -> None:
        """Set the weights and epoch-based switches for `epoch` (absolute)."""
        horizon = self._horizon()
        self._epoch.assign(float(epoch))
        if self.optimizer is not None:
            self._epoch_start.assign(float(self.optimizer.iterations))
        for i, schedule in self._schedules.items():
            self._weight_vars[i].assign(schedule.value(epoch, horizon))
        for state in self._switch_states:
            state.begin_epoch(epoch, horizon)
        self.strategy.on_epoch_begin(self._strategy_state, epoch, self._weight_vars)

    def _steps_done(self) -> Any:
        """Training steps taken in the current epoch (a tensor)."""
        return ops.cast(self.optimizer.iterations, "float32") - self._epoch_start

    def end_epoch(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Let metric-triggered switches and the strategy look at the epoch's logs."""
        for state in self._switch_states:
            state.end_epoch(epoch, logs)
        self.strategy.on_epoch_end(self._strategy_state, epoch, dict(logs or {}), self._weight_vars)

    def term_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """The optimizer of each term under `SeparateOptimizers` (else empty)."""
        return dict(self._term_optimizers)

    def shared_layer(self) -> keras.layers.Layer | None:
        """The layer whose gradient norms GradNorm balances (else None)."""
        return self._shared_layer

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Keras's `fit`; schedules, switches and the strategy follow the absolute epoch."""
        if len(args) > 1:  # by name from here on, so that callbacks can be added
            bound = inspect.signature(keras.Model.fit).bind_partial(self, *args, **kwargs).arguments
            bound.pop("self")
            args, kwargs = (), {**bound.pop("kwargs", {}), **bound}
        self._check_validation(args, kwargs)
        for optimizer in self._term_optimizers.values():
            if not optimizer.built:
                optimizer.build(self.trainable_variables)
        adaptive = not self.strategy.uses_term_weights or self._term_optimizers
        if not (self._schedules or self._switch_states or adaptive):
            return super().fit(*args, **kwargs)
        epochs = fit_epochs(args, kwargs)
        horizon = int(self.horizon or epochs)
        if self._per_step and self._traced_horizon not in (None, horizon):
            self.train_function = None  # the horizon is a constant of the traced step
        self._traced_horizon = horizon
        callbacks = kwargs.pop("callbacks", None)
        if isinstance(callbacks, keras.callbacks.CallbackList):
            callbacks = list(callbacks.callbacks)
        kwargs["callbacks"] = [_Clock(self), *(callbacks or [])]
        return super().fit(*args, **kwargs)

    def _check_validation(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        if not self.strategy.needs_validation:
            return
        names: list[str] = getattr(self.strategy, "names", lambda terms: [])([t.name for t in self.terms])
        validated = kwargs.get("validation_data") is not None or kwargs.get("validation_split")
        # fit(x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data)
        if len(args) > 6:
            validated = validated or bool(args[6])
        if len(args) > 7:
            validated = validated or args[7] is not None
        if not validated and any(n.startswith("val_") for n in names):
            raise v.invalid(
                "validation_data",
                f"be given (or validation_split) under strategy {self.strategy.name!r}, which reads {names}",
                None,
            )

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
        del x
        targets = self._per_term(y, "y")
        weights = self._per_term(sample_weight, "sample_weight")
        if training and self._per_step:
            time = self._epoch + ops.divide_no_nan(self._steps_done(), self._steps_per_epoch)
        values, plain, weights_used = [], [], []
        for i, term in enumerate(self.terms):
            name = term.name
            if i in self._switch_of:
                value = self._switch_of[i].loss(
                    targets[name], y_pred[name], weights[name], self._epoch, training
                )
            else:
                value = ops.cast(self._loss_fns[i](targets[name], y_pred[name], weights[name]), "float32")  # type: ignore[misc]
            weight = self._weight_vars[i]
            if training and i in self._per_step:
                weight = self._schedules[i].tensor_value(time, self._horizon())
                self._weight_vars[i].assign(weight)
            values.append(value)
            plain.append(unscale_loss_for_distribution(value))
            weights_used.append(weight)
        extra = None
        if self._adaptive_step:
            stacked = ops.stack([ops.cast(w, "float32") for w in weights_used])
            chosen, extra = self.strategy.step(self._strategy_state, ops.stack(plain), stacked, training)
            weights_used = [chosen[i] for i in range(len(values))]
            if training:
                for var, weight in zip(self._weight_vars, weights_used, strict=True):
                    var.assign(weight)
        # The per-term losses and weights of this step, for strategies that
        # take over the gradient step (`train_step` reads them in the same trace).
        object.__setattr__(self, "_traced_terms", (values, plain, weights_used))
        total = None
        for weight, value in zip(weights_used, values, strict=True):
            weighted = ops.multiply(weight, value)
            total = weighted if total is None else total + weighted
        if extra is not None:
            total = total + extra
        self._term_losses.update_state(plain, ops.shape(next(iter(y_pred.values())))[0])
        for extra in self.losses:
            total = total + ops.sum(ops.cast(extra, "float32"))
        return total

    def train_step(self, data: Any) -> Any:
        """Keras's train step, or the strategy's own gradient step (GradNorm, separate optimizers)."""
        if not self.strategy.needs_gradients:
            return super().train_step(data)
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape(persistent=True) as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            values, plain, weights = self._traced_terms
            scaled = [ops.multiply(w, value) for w, value in zip(weights, values, strict=True)]
            penalties = [ops.sum(ops.cast(r, "float32")) for r in self.losses]
            regularisation = ops.sum(ops.stack(penalties)) if penalties else None
        self._loss_tracker.update_state(
            unscale_loss_for_distribution(loss), sample_weight=ops.shape(next(iter(y_pred.values())))[0]
        )
        trainable = self.trainable_variables
        if isinstance(self.strategy, strategy_module.GradNorm):
            assert self._shared_layer is not None
            shared = self._shared_layer.trainable_variables
            norms = [_norm(tape.gradient(value, shared)) for value in values]
            self.optimizer.apply(_zeros_for_none(tape.gradient(loss, trainable), trainable), trainable)
            new = self.strategy.update(
                self._strategy_state,
                ops.stack(plain),
                ops.stack(norms),
                ops.stack([ops.cast(w, "float32") for w in weights]),
            )
            for i, var in enumerate(self._weight_vars):
                var.assign(new[i])
        else:
            grads = [tape.gradient(value, trainable) for value in scaled]
            extra = tape.gradient(regularisation, trainable) if regularisation is not None else None
            for term, term_grads in zip(self.terms, grads, strict=True):
                pairs = [(g, var) for g, var in zip(term_grads, trainable, strict=True) if g is not None]
                if pairs:
                    self._term_optimizers[term.name].apply([g for g, _ in pairs], [var for _, var in pairs])
            pairs = [(g, var) for g, var in zip(extra or [], trainable, strict=False) if g is not None]
            if pairs:
                self.optimizer.apply([g for g, _ in pairs], [var for _, var in pairs])
            else:
                self.optimizer.iterations.assign_add(1)  # the epoch clock counts steps on it
        del tape
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _get_metrics_result_or_logs(self, logs: Any) -> Any:
        # Keras's epoch logs (of `fit` and of `evaluate`), with the values read once per epoch.
        result = super()._get_metrics_result_or_logs(logs)
        if not isinstance(result, dict):
            return result
        extra = {}
        for metric in self.metrics:
            if isinstance(metric, _EpochMetric):
                extra.update(metric.values())
        return {**result, **extra}

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if self._compile_metrics is None:
            return self.get_metrics_result()
        targets = self._per_term(y, "y")
        weights = self._per_term(sample_weight, "sample_weight") if sample_weight is not None else None
        return super().compute_metrics(x, targets, y_pred, weights)


def _norm(gradients: list[Any]) -> Any:
    squares = [ops.sum(ops.square(g)) for g in gradients if g is not None]
    return ops.sqrt(ops.sum(ops.stack(squares))) if squares else ops.convert_to_tensor(0.0)


def _zeros_for_none(gradients: list[Any], variables: list[Any]) -> list[Any]:
    return [ops.zeros_like(var) if g is None else g for g, var in zip(gradients, variables, strict=True)]


def _concrete_strategy(strategy: Any) -> strategy_module.Strategy:
    if isinstance(strategy, StrategySearch):
        raise v.invalid(
            "strategy",
            "be one concrete strategy in a WeightedModel (a StrategySearch is decoded by the "
            "tuner; use `WeightedHyperModel.build_weighted(hp)`)",
            strategy,
        )
    concrete = strategy_module.get(strategy) if strategy is not None else strategy_module.Static()
    if concrete.searched_fields():
        raise v.invalid(
            "strategy",
            f"have values for its searched fields {concrete.searched_fields()} in a WeightedModel "
            "(the tuner chooses them; use `WeightedHyperModel.build_weighted(hp)`)",
            concrete,
        )
    return concrete


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


def _shared_layer(base: keras.Model, name: str | None, outputs: set[str]) -> keras.layers.Layer:
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


def _concrete_weight(term: Term) -> float | Schedule:
    if isinstance(term.weight, Range):
        return 1.0
    if isinstance(term.weight, ScheduleSearch):
        raise v.invalid(
            f"terms[{term.name!r}].weight",
            "be a number or a Schedule in a WeightedModel (a ScheduleSearch is decoded by the "
            "tuner; use `WeightedHyperModel.build_weighted(hp)`)",
            term.weight,
        )
    return term.weight


def _concrete_switch(term: Term) -> Switch:
    switch = term.switch
    assert switch is not None
    if switch.searched_fields():
        raise v.invalid(
            f"terms[{term.name!r}].loss",
            "have values for its searched fields in a WeightedModel (the tuner chooses them; use "
            "`WeightedHyperModel.build_weighted(hp)`)",
            switch.searched_fields(),
        )
    return switch


def _start_value(weight: float | Schedule) -> float:
    return weight.value(0, 1) if isinstance(weight, Schedule) else float(weight)


def _as_loss_fn(loss: Any, name: str) -> keras.losses.Loss:
    if isinstance(loss, keras.losses.Loss):
        return loss
    return LossFunctionWrapper(loss, name=name)


def compile_weighted(
    base: keras.Model,
    terms: list[Term],
    weights: Mapping[str, float] | None = None,
    optimizer: Any = None,
    strategy: Any = None,
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
    model = WeightedModel(base, terms, weights=weights, strategy=strategy)
    model.compile(optimizer=optimizer, **compile_kwargs)
    return model


def _fresh_metric(metric: Any) -> Any:
    # A Metric instance carries state; give each model its own copy.
    if isinstance(metric, keras.metrics.Metric):
        return metric.__class__.from_config(metric.get_config())
    return metric
