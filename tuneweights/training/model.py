"""The model that trains on ``sum_k w_k * L_k`` inside an ordinary `model.fit`.

`WeightedModel` wraps the user's model. It is built from one `LossConfig`
(concrete terms and strategy). Its loss is computed in the compiled train
step from the terms, with each weight held in a non-trainable
`keras.Variable`: assigning a new weight (from a callback, a schedule, the
tuner) takes effect at the next step and never retraces the train function.
Targets are looked up by name from the ``y`` given to ``fit``, so several terms
can share one output and use different targets without touching the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import keras
from keras import ops

from tuneweights import _validation as v
from tuneweights import strategies as strategy_module
from tuneweights.loss_config import LossConfig
from tuneweights.schedules import Schedule
from tuneweights.strategies import StrategyState
from tuneweights.switches import SwitchState, _as_loss_fn
from tuneweights.terms import Term
from tuneweights.training import gradients, stateless
from tuneweights.training.epoch_metrics import CurrentWeights, EpochMetric, SwitchEpochs, TermLosses
from tuneweights.training.fit_arguments import FitArguments
from tuneweights.training.outputs import output_names, shared_layer

try:  # Undo the per-replica scaling of losses under a distribution strategy.
    from keras.src.losses.loss import unscale_loss_for_distribution
except ImportError:  # pragma: no cover - older or newer Keras layouts

    def unscale_loss_for_distribution(value: Any) -> Any:
        return value


__all__ = ["TermValues", "WeightedModel", "compile_weighted"]


class TermValues(NamedTuple):
    """The terms' values in one step, as `WeightedModel.term_values` returns them.

    Attributes:
        values: Each term's loss on the batch, as it enters the total.
        plain: The same, unscaled for a distribution strategy (for logs and
            strategies).
        weights: Each term's weight in this step (a variable or a tensor).
        extra: A loss a strategy adds (uncertainty weighting's penalty), or
            None.
    """

    values: list[Any]
    plain: list[Any]
    weights: list[Any]
    extra: Any


class _Clock(keras.callbacks.Callback):
    """Moves a WeightedModel's schedules, switches and strategy along with `fit`."""

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
    metrics declared on each term (also when there is a single term), and
    ``<term>_switch_epoch`` for terms with a loss switch (-1 before the
    switch).

    Scheduled weights follow their `Schedule` of the absolute epoch; the
    schedule's horizon is `horizon` when set (the tuner sets it to the trial's
    planned epochs, Hyperband's `max_epochs` for every round), else the
    `epochs` given to `fit`. A model trained with a custom loop instead of
    `fit` calls `begin_epoch(epoch)` and `end_epoch(epoch, logs)` itself.

    Args:
        base: A functional or Sequential model with named outputs.
        terms: A `LossConfig` (as `WeightSpace.decode` makes one), or the
            loss terms, each naming one of `base`'s outputs, with weights
            that are numbers or schedules and switches with values.
        weights: Weights (numbers or schedules) replacing those of some terms;
            a term declared with a `Range` needs one here.
        strategy: How the weights are set while training: a
            `tuneweights.strategies.Strategy` or its registered name (default
            ``"static"``: the terms' weights). A strategy that sets the
            weights itself (``uncertainty``, ``dwa``, ``random``,
            ``validation``, ``gradnorm``) requires the terms' weights to be
            left at 1.

    Raises:
        ConfigurationError: anything is still searched (see `LossConfig`),
            or a term names an output `base` lacks.

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
        terms: LossConfig | list[Term],
        weights: Mapping[str, Any] | None = None,
        strategy: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(base, keras.Model):
            raise v.wrong_type("base", "a `keras.Model`", base)
        if isinstance(terms, LossConfig):
            for argument, value in (("weights", weights), ("strategy", strategy)):
                if value is not None:
                    raise v.invalid(argument, "be left out with a LossConfig, which holds it already", value)
            config = terms
        else:
            config = LossConfig.declared(terms, weights=weights, strategy=strategy)
        gradients.check_backend(config.strategy)
        super().__init__(**kwargs)
        # The order of the assignments below is the order of the model's
        # variables in checkpoints: keep it.
        self.base = base
        self._output_names = output_names(base)
        self.loss_config = config.resolve(self._output_names)
        self.terms = list(self.loss_config.terms)
        names = self.loss_config.names
        self.strategy = self.loss_config.strategy
        initial = self.loss_config.weights
        if not self.strategy.uses_term_weights:
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
        self._switch_states = [SwitchState(t.name, t.switch) for t in self.terms if t.switch is not None]
        switched = [i for i, t in enumerate(self.terms) if t.switch is not None]
        self._switch_of = dict(zip(switched, self._switch_states, strict=True))
        self._epoch = keras.Variable(0.0, trainable=False, name="epoch", dtype="float32")
        # The optimizer's step count when the epoch began: the step within the
        # epoch is derived from it inside the train step.
        self._epoch_start = keras.Variable(0.0, trainable=False, name="epoch_start", dtype="float32")
        self._steps_per_epoch = keras.Variable(0.0, trainable=False, name="steps_per_epoch", dtype="float32")
        self._traced_horizon: int | None = None
        self._term_losses = TermLosses(names)
        self._current_weights = CurrentWeights(names, self._weight_vars)
        if self._switch_states:
            self._switch_epochs = SwitchEpochs(self._switch_states)
        self._targets_needed = sorted({str(t.target) for t in self.terms})
        self._metric_prefix = f"{names[0]}_" if len(names) == 1 else ""
        self._strategy_state = StrategyState(self.strategy, names)
        self._adaptive_step = type(self.strategy).step is not strategy_module.Strategy.step
        self._takes_gradients = self.strategy.needs_gradients
        # Optimizers a strategy applies gradients with (one per term under
        # SeparateOptimizers), saved with the model.
        self._term_optimizers: dict[str, keras.optimizers.Optimizer] = {}
        self._shared_layer: keras.layers.Layer | None = None
        self.strategy.setup(self)
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

    def weight_variables(self) -> list[keras.Variable]:
        """The variables holding the terms' weights, in term order."""
        return list(self._weight_vars)

    def assign_term_weights(self, weights: Mapping[str, float]) -> None:
        """Set the weights of some terms; takes effect at the next step.

        A scheduled term's weight is set again by its schedule at the next
        epoch, or at the next step with ``update="step"``. On JAX, called
        during an epoch (from a batch callback), the model's state is first
        brought back from the running train step, as `jax_state_sync` does.
        """
        if stateless.STATELESS:
            self.jax_state_sync()  # the next step then reads the state from the variables again
        for name, value in weights.items():
            self.weight_variable(name).assign(v.check_non_negative(f"weights[{name!r}]", value))

    # -- what strategies use -------------------------------------------------
    @property
    def strategy_state(self) -> StrategyState:
        """The variables of the strategy (saved with the model)."""
        return self._strategy_state

    def track_optimizers(self, optimizers: Mapping[str, keras.optimizers.Optimizer]) -> None:
        """Keep optimizers a strategy applies gradients with; they are saved and restored with the model.

        Their variables are part of the model's state (`non_trainable_variables`),
        which a JAX train step is a function of. Under the ``mixed_float16``
        policy each is wrapped in a `keras.optimizers.LossScaleOptimizer`, as
        `compile` wraps the model's own; the gradient of a term is then
        computed with the loss scale of the optimizer tracked under its name.
        """
        for name, optimizer in optimizers.items():
            if self.dtype_policy.name == "mixed_float16" and not isinstance(
                optimizer, keras.optimizers.LossScaleOptimizer
            ):
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            self._term_optimizers[name] = optimizer
            if self.built and not optimizer.built:
                optimizer.build(self.trainable_variables)

    def term_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """The optimizers a strategy tracks, by name (each term's under `SeparateOptimizers`)."""
        return dict(self._term_optimizers)

    @property
    def non_trainable_variables(self) -> list[keras.Variable]:
        """Keras's, and the variables of the optimizers a strategy tracks: the state a train step changes."""
        own = super().non_trainable_variables
        if not getattr(self, "_term_optimizers", None):
            return own
        return own + [var for optimizer in self._term_optimizers.values() for var in optimizer.variables]

    def shared_layer(self, name: str | None = None) -> keras.layers.Layer:
        """The layer named `name`, or by default the last layer with weights that every term's output uses.

        Raises:
            ConfigurationError: no such layer.
        """
        cached = self._shared_layer
        if cached is None or (name is not None and cached.name != name):
            cached = shared_layer(self.base, name, {str(t.output) for t in self.terms})
            self._shared_layer = cached
        return cached

    # -- reuse across trials ------------------------------------------
    def traced_parts(self) -> tuple[keras.Model, dict[str, Any], list[Any]]:
        """What its compiled steps depend on besides its variables and its compile arguments.

        Returns the base model, the loss configuration less what lives in
        variables (static weights and the weights of schedules followed per
        epoch are assigned on the host; a schedule followed per step is part
        of the step), and the losses and metrics given as objects. Two models
        whose parts are equal (the objects by identity) run the same steps,
        so one can train with the other's compiled steps once it holds the
        other's variables and `take_loss_config` (see
        `tuneweights.search.reuse`).
        """
        terms = []
        for i, term in enumerate(self.terms):
            config = term.get_config()
            if i not in self._per_step:
                config["weight"] = "variable"
            terms.append(config)
        objects: list[Any] = []
        for term in self.terms:
            losses = term.switch.losses() if term.switch is not None else (term.loss,)
            objects += [*losses, *term.metrics]
        loss = {"terms": terms, "strategy": strategy_module.serialize(self.strategy)}
        return self.base, loss, objects

    def take_loss_config(self, other: WeightedModel) -> None:
        """Follow `other`'s loss configuration on the host (what `traced_parts` leaves out).

        The caller has checked that the two models' `traced_parts` are equal
        and copied `other`'s variables (its weights among them) into this one.
        """
        self.loss_config = other.loss_config
        self.terms = list(other.terms)
        self._schedules = dict(other._schedules)
        self.horizon = other.horizon

    def build_optimizers(self) -> None:
        """Build the model's optimizer (as Keras's first `fit` would) and those a strategy tracks."""
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)
        self._build_term_optimizers()

    def _build_term_optimizers(self) -> None:
        for optimizer in self._term_optimizers.values():
            if not optimizer.built:
                optimizer.build(self.trainable_variables)

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

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Keras's `fit`; schedules, switches and the strategy follow the absolute epoch."""
        arguments = FitArguments.bind(args, kwargs)
        self._check_validation(arguments)
        self._build_term_optimizers()
        adaptive = not self.strategy.uses_term_weights or self._takes_gradients
        if not (self._schedules or self._switch_states or adaptive):
            return super().fit(**arguments.kwargs())
        horizon = int(self.horizon or arguments.epochs)
        if self._per_step and self._traced_horizon not in (None, horizon):
            self.train_function = None  # the horizon is a constant of the traced step
        self._traced_horizon = horizon
        return super().fit(**arguments.replace(callbacks=[_Clock(self), *arguments.callbacks]).kwargs())

    def _check_validation(self, arguments: FitArguments) -> None:
        if not self.strategy.needs_validation:
            return
        names: list[str] = getattr(self.strategy, "names", lambda terms: [])(self.loss_config.names)
        if not arguments.has_validation and any(n.startswith("val_") for n in names):
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

    # -- the loss ---------------------------------------------------------
    def term_values(self, y: Any, y_pred: Any, sample_weight: Any, training: bool) -> TermValues:
        """Each term's loss and weight on a batch (inside the compiled step), and a strategy's extra loss."""
        targets = self._per_term(y, "y")
        weights = self._per_term(sample_weight, "sample_weight")
        if training and self._per_step:
            time = self._epoch + ops.divide_no_nan(self._steps_done(), self._steps_per_epoch)
        values, plain, weights_used = [], [], []
        for i, term in enumerate(self.terms):
            name = term.name
            if i in self._switch_of:
                value = self._switch_of[i].loss(
                    targets[name], y_pred[name], weights[name], self._epoch.value, training
                )
            else:
                loss_fn = self._loss_fns[i]
                assert loss_fn is not None
                value = ops.cast(loss_fn(targets[name], y_pred[name], weights[name]), "float32")
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
        self._term_losses.update_state(plain, ops.shape(next(iter(y_pred.values())))[0])
        return TermValues(values, plain, weights_used, extra)

    def total_loss(self, terms: TermValues) -> Any:
        """``sum_k w_k L_k``, plus a strategy's extra loss and the model's own losses."""
        total = None
        for weight, value in zip(terms.weights, terms.values, strict=True):
            weighted = ops.multiply(weight, value)
            total = weighted if total is None else total + weighted
        if terms.extra is not None:
            total = total + terms.extra
        for penalty in self.losses:
            total = total + ops.sum(ops.cast(penalty, "float32"))
        return total

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        del x
        return self.total_loss(self.term_values(y, y_pred, sample_weight, training))

    def train_step(self, *args: Any) -> Any:
        """Keras's train step, or the strategy's (`Strategy.apply_gradients`) with every term's gradient.

        Called as Keras's trainer of the backend calls it: ``train_step(data)``,
        or on JAX ``train_step(state, data) -> (logs, state)``, the same step
        run as a pure function of the state (`tuneweights.training.stateless`).
        """
        if stateless.STATELESS:
            state, data = args
            return stateless.train_step(self, state, data, self._step)
        (data,) = args
        if not self._takes_gradients:
            return super().train_step(data)
        return self._step(data)

    def _step(self, data: Any) -> Any:
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if self._takes_gradients:
            step, y_pred, loss = gradients.term_gradients(self, x, y, sample_weight)
            self.strategy.apply_gradients(step)
            if not step.model_optimizer_applied:
                self.optimizer.iterations.assign_add(1)  # the epoch clock counts steps on it
        else:  # JAX only: Keras's own update, inside the stateless step
            grads, y_pred, loss = gradients.loss_gradients(self, x, y, sample_weight)
            gradients.apply(self.optimizer, grads, self.trainable_variables)
        self._loss_tracker.update_state(
            unscale_loss_for_distribution(loss), sample_weight=ops.shape(next(iter(y_pred.values())))[0]
        )
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    # -- logs -----------------------------------------------------------
    def get_metrics_result(self) -> dict[str, Any]:
        # Keras's, except that a single term's metrics are named after the term too.
        result: dict[str, Any] = {}
        for metric in self.metrics:
            value = metric.result()
            if not isinstance(value, dict):
                result[metric.name] = value
            elif self._metric_prefix and metric is self._compile_metrics:
                result.update({self._metric_prefix + name: x for name, x in value.items()})
            else:
                result.update(value)
        return result

    def _get_metrics_result_or_logs(self, logs: Any) -> Any:
        # Keras's epoch logs (of `fit` and of `evaluate`), with the values read once per epoch.
        result = super()._get_metrics_result_or_logs(logs)
        if not isinstance(result, dict):
            return result
        extra = {}
        for metric in self.metrics:
            if isinstance(metric, EpochMetric):
                extra.update(metric.epoch_values())
        return {**result, **extra}

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if self._compile_metrics is None:
            return self.get_metrics_result()
        targets = self._per_term(y, "y")
        weights = self._per_term(sample_weight, "sample_weight") if sample_weight is not None else None
        return super().compute_metrics(x, targets, y_pred, weights)


def _start_value(weight: float | Schedule) -> float:
    return weight.value(0, 1) if isinstance(weight, Schedule) else float(weight)


def compile_weighted(
    base: keras.Model,
    terms: LossConfig | list[Term],
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
