"""Weighting strategies: how the loss weights are set while a model trains.

A strategy decides the weights ``w_k`` of ``sum_k w_k * L_k``. `Static`, the
default, uses the weights declared on the terms (numbers, searched ranges or
schedules). The adaptive strategies set the weights themselves as training
goes, inside the compiled train step or once per epoch, never with Python per
batch:

* ``static``: the terms' weights (constants, or searched constants when
  the strategy itself is searched)
* ``scheduled``: the terms' weights, searched schedules included (only
  differs from ``static`` inside a `StrategySearch`)
* ``uncertainty``: Kendall, Gal and Cipolla (2018): learned log-variances
* ``dwa``: Liu, Johns and Davison (2019): Dynamic Weight Average
* ``random``: Lin et al. (2022): Random Loss Weighting
* ``validation``: weights from each term's validation metric, each epoch
* ``gradnorm``: Chen et al. (2018): GradNorm
* ``separate``: one optimizer per term, the terms' weights scale each

Strategies are frozen dataclasses registered by a short name (the value of
the ``strategy`` hyperparameter). A field given as a `tuneweights.Range`, or
as a tuple of names for a choice, is searched by the tuner as the flat
hyperparameter ``strategy/<name>/<field>``; `StrategySearch` makes the
strategy itself a hyperparameter. The state a strategy keeps across steps and
epochs (log-variances, loss history, optimizer moments, random state) lives
in variables saved with the model, so a resumed trial continues with it.

The update rules are module-level functions of numpy or `keras.ops` arrays
(`uncertainty_weights`, `dwa_weights`, `normalised_weights`,
`gradnorm_gradient`), tested against hand computations.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from tuneweights import _validation as v
from tuneweights._registry import Registry
from tuneweights.terms import Range

__all__ = [
    "DWA",
    "GradNorm",
    "RandomWeights",
    "Scheduled",
    "SeparateOptimizers",
    "Static",
    "Strategy",
    "StrategySearch",
    "Uncertainty",
    "ValidationDriven",
    "dwa_weights",
    "get",
    "gradnorm_gradient",
    "normalised_weights",
    "own_slots",
    "own_update",
    "register",
    "registered",
    "serialize",
    "uncertainty_weights",
]

PREFIX = "strategy/"
OWN_OPTIMIZERS = ("adam", "sgd")


# -- update rules (pure) ------------------------------------------------------
def uncertainty_weights(log_variances: Any) -> Any:
    """Kendall et al.'s weights ``w_k = exp(-s_k) / 2`` from ``s_k = log sigma_k^2``.

    Example:
        >>> uncertainty_weights(np.log([1.0, 4.0]))
        array([0.5  , 0.125])
    """
    return (
        0.5 * np.exp(-np.asarray(log_variances))
        if _is_numpy(log_variances)
        else 0.5 * ops.exp(-log_variances)
    )


def dwa_weights(previous: ArrayLike, before: ArrayLike, temperature: float) -> np.ndarray:
    """Dynamic Weight Average: ``w_k = K softmax_k(r_k / T)``, ``r_k = L_k(t-1) / L_k(t-2)``.

    Args:
        previous: Each term's mean training loss over the previous epoch.
        before: The same over the epoch before it.
        temperature: T; larger makes the weights more even.

    Example:
        >>> dwa_weights([1.0, 1.0], [2.0, 1.0], temperature=2.0).round(4)
        array([0.8756, 1.1244])
    """
    ratios = np.asarray(previous, dtype=float) / np.asarray(before, dtype=float)
    scaled = ratios / temperature
    exp = np.exp(scaled - scaled.max())
    return len(ratios) * exp / exp.sum()


def normalised_weights(scores: Sequence[float], rule: str, power: float) -> np.ndarray:
    """Weights from per-term scores, normalised to sum to the number of terms.

    ``"inverse"``: ``w_k`` proportional to ``score_k ** -power`` (terms that
    already do well get less weight when the score is a loss). ``"proportional"``:
    ``score_k ** power``.

    Example:
        >>> normalised_weights([1.0, 3.0], "inverse", 1.0)
        array([1.5, 0.5])
    """
    values = np.maximum(np.asarray(scores, dtype=float), 1e-12)
    raw = values**-power if rule == "inverse" else values**power
    return len(values) * raw / raw.sum()


def gradnorm_gradient(weights: Any, norms: Any, losses: Any, initial_losses: Any, alpha: Any) -> Any:
    """Gradient of GradNorm's loss ``sum_k |G_k - G_mean * r_k ** alpha|`` in the weights.

    ``G_k = w_k * norms_k`` is the norm of the gradient of ``w_k L_k`` in the
    last shared layer; ``r_k`` is the term's inverse training rate
    ``(L_k / L_k(0)) / mean_j(L_j / L_j(0))``. The target ``G_mean * r_k ** alpha``
    is a constant, as in the paper, so the gradient is
    ``sign(G_k - target_k) * norms_k``. Works on numpy arrays and tensors.

    Example:
        >>> gradnorm_gradient(np.array([1.0, 1.0]), np.array([2.0, 1.0]),
        ...                   np.array([1.0, 1.0]), np.array([1.0, 1.0]), 1.5)
        array([ 2., -1.])
    """
    xp: Any = np if _is_numpy(weights) else ops
    grads = weights * norms
    rates = losses / initial_losses
    inverse_rates = rates / xp.mean(rates)
    target = xp.mean(grads) * inverse_rates**alpha
    return xp.sign(grads - target) * norms


def _is_numpy(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic, float, int, list, tuple))


# -- own optimizers of strategy parameters -----------------------------------
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


# -- state ------------------------------------------------------------------
class StrategyState(keras.layers.Layer):
    """The variables of one model's strategy (saved with the model).

    Args:
        strategy: The concrete strategy.
        terms: The term names, in order.
    """

    def __init__(self, strategy: Strategy, terms: Sequence[str]) -> None:
        super().__init__(name="strategy_state")
        self.strategy = strategy
        self.terms = list(terms)
        self._slots: dict[str, keras.Variable] = {}
        self.seed_generator = keras.random.SeedGenerator(getattr(strategy, "seed", None))
        strategy.build_state(self)

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


# -- base -------------------------------------------------------------------
class Strategy:
    """Base class of weighting strategies.

    A subclass is a frozen dataclass with a class attribute `name` and
    overrides the hooks it needs: `build_state` creates variables,
    `initial_weights` gives the weights before training, `step` runs in the
    compiled train step, `on_epoch_begin`/`on_epoch_end` run on the host, and
    strategies with `needs_gradients` get `apply_gradients` in place of the
    model's own update.

    Class attributes:
        name: Registered name.
        searchable: Fields that may be given as a `Range` (or, for
            `choices`, as a tuple of names) to be searched.
        uses_term_weights: Whether the terms' declared weights apply.
        needs_gradients: Whether the strategy takes over the gradient step.
        reference: The paper the strategy follows.
    """

    name: ClassVar[str] = ""
    searchable: ClassVar[tuple[str, ...]] = ()
    choices: ClassVar[dict[str, tuple[str, ...]]] = {}
    uses_term_weights: ClassVar[bool] = False
    needs_gradients: ClassVar[bool] = False
    needs_validation: ClassVar[bool] = False
    reference: ClassVar[str] = ""

    # -- hooks ----------------------------------------------------------------
    def build_state(self, state: StrategyState) -> None:
        """Create the variables the strategy keeps (host side, once)."""

    def initial_weights(self, count: int) -> list[float] | None:
        """Weights before the first step, or None to keep the terms' weights."""
        return None if self.uses_term_weights else [1.0] * count

    def step(self, state: StrategyState, losses: Any, weights: Any, training: bool) -> tuple[Any, Any]:
        """In the compiled step: ``(weights to use, extra loss)``; `losses` is a (K,) tensor."""
        return weights, None

    def on_epoch_begin(self, state: StrategyState, epoch: int, weights: list[keras.Variable]) -> None:
        """Host side, before each epoch; may assign `weights`."""

    def on_epoch_end(
        self, state: StrategyState, epoch: int, logs: Mapping[str, Any], weights: list[keras.Variable]
    ) -> None:
        """Host side, after each epoch, with its logs; may assign `weights`."""

    # -- search ----------------------------------------------------------------
    def searched_fields(self) -> list[str]:
        """The fields left for the tuner to choose."""
        out = [f for f in self.searchable if isinstance(getattr(self, f), Range)]
        out += [f for f in self.choices if isinstance(getattr(self, f), tuple)]
        return out

    def hp_prefix(self) -> str:
        """Prefix of this strategy's hyperparameters, ``strategy/<name>/``."""
        return f"{PREFIX}{self.name}/"

    def declare(self, hp: Any, terms: Sequence[str]) -> None:
        """Register the searched fields as hyperparameters."""
        for field in self.searched_fields():
            value = getattr(self, field)
            name = self.hp_prefix() + field
            if isinstance(value, Range):
                hp.Float(name, value.low, value.high, sampling=value.sampling, default=value.default_value())
            else:
                hp.Choice(name, list(value), default=value[0])

    def decode(self, values: Mapping[str, Any], terms: Sequence[str]) -> Strategy:
        """This strategy with its searched fields set from hyperparameter values."""
        chosen: dict[str, Any] = {}
        for field in self.searched_fields():
            value = getattr(self, field)
            default = value.default_value() if isinstance(value, Range) else value[0]
            raw = values.get(self.hp_prefix() + field, default)
            chosen[field] = float(raw) if isinstance(value, Range) else str(raw)
        return dataclasses.replace(self, **chosen) if chosen else self  # type: ignore[type-var]

    # -- config ----------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serialisable (ranges as ``{"range": ...}``)."""
        config: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, Range):
                value = {"range": value.get_config()}
            elif isinstance(value, tuple):
                value = list(value)
            config[field.name] = value
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Strategy:
        restored: dict[str, Any] = {}
        for key, value in config.items():
            if isinstance(value, dict) and set(value) == {"range"}:
                value = Range.from_config(value["range"])
            elif isinstance(value, list):
                value = tuple(value)
            restored[key] = value
        return cls(**restored)

    def describe(self) -> str:
        """A readable one-line description."""
        fields = [f"{f.name}={_show(getattr(self, f.name))}" for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        return f"{self.name}({', '.join(fields)})" if fields else self.name

    # -- validation helpers ------------------------------------------------------
    def _check_positive(self, *fields: str) -> None:
        for field in fields:
            value = getattr(self, field)
            if isinstance(value, dict) and set(value) == {"range"}:
                value = Range.from_config(value["range"])
                object.__setattr__(self, field, value)
            if not isinstance(value, Range):
                object.__setattr__(self, field, v.check_positive(field, value))


def _show(value: Any) -> str:
    if isinstance(value, Range):
        return f"searched in [{value.low:g}, {value.high:g}]"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "searched among " + "/".join(value)
    return repr(value)


_STRATEGIES: Registry[Strategy] = Registry("strategy", Strategy, "tuneweights.strategies", flat=False)


def register(cls: Any) -> Any:
    """Register a custom strategy class under its ``name`` (a class decorator)."""
    return _STRATEGIES.register(cls)


def registered() -> dict[str, type[Strategy]]:
    """The registered strategy classes by name (a copy).

    Example:
        >>> sorted(registered())[:4]
        ['dwa', 'gradnorm', 'random', 'scheduled']
    """
    return dict(_STRATEGIES.classes)


def serialize(strategy: Strategy) -> dict[str, Any]:
    """``{"name": ..., **strategy.get_config()}``, JSON-serialisable."""
    return _STRATEGIES.serialize(strategy)


def get(identifier: Any) -> Strategy:
    """A strategy from a registered name, a dict from `serialize`, or an instance.

    Example:
        >>> get("dwa")
        DWA(temperature=2.0)
    """
    return _STRATEGIES.get(identifier)


# -- the strategies ------------------------------------------------------------
@register
@dataclasses.dataclass(frozen=True)
class Static(Strategy):
    """The terms' own weights (the default).

    Inside a `StrategySearch`, ``static`` searches constant weights only; a
    term declared with a `ScheduleSearch` then has its constant weight
    searched over the schedule's ``start`` range.
    """

    name: ClassVar[str] = "static"
    uses_term_weights: ClassVar[bool] = True


@register
@dataclasses.dataclass(frozen=True)
class Scheduled(Strategy):
    """The terms' own weights, searched schedules included.

    The same as `Static` outside a `StrategySearch`; inside one, the choice
    that turns the terms' `ScheduleSearch` weights on.
    """

    name: ClassVar[str] = "scheduled"
    uses_term_weights: ClassVar[bool] = True


@register
@dataclasses.dataclass(frozen=True)
class Uncertainty(Strategy):
    """Uncertainty weighting (Kendall, Gal and Cipolla, CVPR 2018).

    Each term has a learned log-variance ``s_k = log sigma_k^2``; the loss is
    ``sum_k exp(-s_k) / 2 * L_k + s_k / 2`` (the paper's form for regression),
    so the weight of term k is ``exp(-s_k) / 2``. The ``s_k`` are updated
    every step with their exact gradient ``1/2 - exp(-s_k) L_k / 2`` by their
    own optimizer (Adam or SGD, no weight decay) at their own learning rate.
    At the fixed point ``w_k = 1 / (2 L_k)``: terms with a small loss get a
    large weight, whether their targets are right or not.

    Args:
        learning_rate: Learning rate of the log-variances (searchable).
        optimizer: ``"adam"`` or ``"sgd"``.
        initial: Initial log-variance of every term.

    Example:
        >>> Uncertainty(learning_rate=0.01).describe()
        "uncertainty(learning_rate=0.01, optimizer='adam', initial=0)"
    """

    name: ClassVar[str] = "uncertainty"
    searchable: ClassVar[tuple[str, ...]] = ("learning_rate",)
    reference: ClassVar[str] = "Kendall, Gal and Cipolla, CVPR 2018, arXiv:1705.07115"
    learning_rate: Any = 1e-2
    optimizer: str = "adam"
    initial: float = 0.0

    def __post_init__(self) -> None:
        self._check_positive("learning_rate")
        v.check_choice("optimizer", self.optimizer, OWN_OPTIMIZERS)
        object.__setattr__(self, "initial", _finite("initial", self.initial))

    def build_state(self, state: StrategyState) -> None:
        state.slot("log_variance", value=self.initial)
        own_slots(state, "log_variance/")

    def initial_weights(self, count: int) -> list[float]:
        return [0.5 * math.exp(-self.initial)] * count

    def step(self, state: StrategyState, losses: Any, weights: Any, training: bool) -> tuple[Any, Any]:
        s = state.slot("log_variance")
        current = uncertainty_weights(ops.cast(s, "float32"))
        extra = 0.5 * ops.sum(s)
        if training:
            grad = 0.5 - current * ops.stop_gradient(losses)
            own_update(state, "log_variance/", s, grad, self.optimizer, float(self.learning_rate))
        return current, extra


@register
@dataclasses.dataclass(frozen=True)
class DWA(Strategy):
    """Dynamic Weight Average (Liu, Johns and Davison, CVPR 2019).

    Before epoch t the weights become ``K softmax_k(r_k / T)`` with
    ``r_k = L_k(t-1) / L_k(t-2)``, the ratio of the term's mean training loss
    over the last two epochs (`dwa_weights`): a term whose loss falls slowly
    gains weight. The first two epochs use weight 1. The last two epochs'
    losses are kept in variables, so a resumed trial continues the average.

    Args:
        temperature: T (searchable); larger is more even.

    Example:
        >>> DWA(temperature=2.0).name
        'dwa'
    """

    name: ClassVar[str] = "dwa"
    searchable: ClassVar[tuple[str, ...]] = ("temperature",)
    reference: ClassVar[str] = "Liu, Johns and Davison, CVPR 2019, arXiv:1803.10704"
    temperature: Any = 2.0

    def __post_init__(self) -> None:
        self._check_positive("temperature")

    def build_state(self, state: StrategyState) -> None:
        state.slot("previous", value=1.0)
        state.slot("before", value=1.0)
        state.slot("epochs_seen", shape=())

    def on_epoch_begin(self, state: StrategyState, epoch: int, weights: list[keras.Variable]) -> None:
        if float(state.values("epochs_seen")) < 2:
            new = np.ones(len(weights))
        else:
            new = dwa_weights(state.values("previous"), state.values("before"), float(self.temperature))
        _assign(weights, new)

    def on_epoch_end(
        self, state: StrategyState, epoch: int, logs: Mapping[str, Any], weights: list[keras.Variable]
    ) -> None:
        from tuneweights.weighted_model import loss_metric_name

        losses = [logs.get(loss_metric_name(t)) for t in state.terms]
        if any(x is None or not math.isfinite(float(x)) for x in losses):
            return
        state.slot("before").assign(state.values("previous"))
        state.slot("previous").assign(np.asarray(losses, dtype="float32"))
        state.slot("epochs_seen", shape=()).assign(float(state.values("epochs_seen")) + 1.0)


@register
@dataclasses.dataclass(frozen=True)
class RandomWeights(Strategy):
    """Random Loss Weighting (Lin et al., TMLR 2022).

    Every step draws fresh weights ``K softmax(z)``: ``z`` standard normal
    (``"normal"``, the paper's default) or uniform on [0, 1) (``"uniform"``).
    The paper's weights sum to 1; here they sum to K so that the loss has the
    scale of equal weights (with Adam only their ratios matter). The random
    state is saved with the model.

    Args:
        distribution: ``"normal"`` or ``"uniform"``.
        seed: Seed of the draws (None: a random seed).

    Example:
        >>> RandomWeights().describe()
        "random(distribution='normal', seed=None)"
    """

    name: ClassVar[str] = "random"
    reference: ClassVar[str] = "Lin et al., TMLR 2022, arXiv:2111.10603"
    distribution: str = "normal"
    seed: int | None = None

    def __post_init__(self) -> None:
        v.check_choice("distribution", self.distribution, ("normal", "uniform"))
        if self.seed is not None:
            v.check_int("seed", self.seed, minimum=0)

    def step(self, state: StrategyState, losses: Any, weights: Any, training: bool) -> tuple[Any, Any]:
        if not training:
            return weights, None
        count = len(state.terms)
        if self.distribution == "normal":
            z = keras.random.normal((count,), seed=state.seed_generator)
        else:
            z = keras.random.uniform((count,), seed=state.seed_generator)
        return count * ops.softmax(z), None


@register
@dataclasses.dataclass(frozen=True)
class ValidationDriven(Strategy):
    """Weights set after every epoch from each term's validation metric.

    After each epoch with validation, the score of term k is the logged value
    ``metric.format(term=k)`` (default: its unweighted validation loss); the
    new weights are `normalised_weights` of the scores (they sum to K), mixed
    with the previous ones as ``momentum * old + (1 - momentum) * new``. They
    apply from the next epoch; the first epoch uses weight 1.

    Args:
        metric: Template of the logged name of a term's score, with ``{term}``.
        rule: ``"inverse"`` (``w ~ score ** -power``, for losses: favour the
            terms that do well) or ``"proportional"`` (``w ~ score ** power``:
            favour the terms that lag).
        power: The exponent (searchable).
        momentum: In [0, 1); 0 takes the new weights as they are.

    Example:
        >>> ValidationDriven(rule="proportional").metric
        'val_{term}_loss'
    """

    name: ClassVar[str] = "validation"
    searchable: ClassVar[tuple[str, ...]] = ("power",)
    needs_validation: ClassVar[bool] = True
    metric: str = "val_{term}_loss"
    rule: str = "inverse"
    power: Any = 1.0
    momentum: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or "{term}" not in self.metric:
            raise v.invalid("metric", "be a string containing '{term}'", self.metric)
        v.check_choice("rule", self.rule, ("inverse", "proportional"))
        self._check_positive("power")
        momentum = v.check_non_negative("momentum", self.momentum)
        if momentum >= 1:
            raise v.invalid("momentum", "be in [0, 1)", self.momentum)
        object.__setattr__(self, "momentum", momentum)

    def names(self, terms: Sequence[str]) -> list[str]:
        """The logged names read for `terms`."""
        return [self.metric.format(term=t) for t in terms]

    def on_epoch_end(
        self, state: StrategyState, epoch: int, logs: Mapping[str, Any], weights: list[keras.Variable]
    ) -> None:
        names = self.names(state.terms)
        if not any(k.startswith("val_") for k in logs) and all(n.startswith("val_") for n in names):
            return  # no validation this epoch (validation_freq)
        missing = [n for n in names if n not in logs]
        if missing:
            raise v.invalid(
                "ValidationDriven.metric",
                f"name a value logged every epoch for every term; missing {missing} (logged: {sorted(logs)})",
                self.metric,
            )
        scores = [float(logs[n]) for n in names]
        if not all(math.isfinite(s) for s in scores):
            return
        new = normalised_weights(scores, self.rule, float(self.power))
        old = np.asarray([float(ops.convert_to_numpy(w)) for w in weights])
        _assign(weights, self.momentum * old + (1.0 - self.momentum) * new)


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
    needs_gradients: ClassVar[bool] = True
    reference: ClassVar[str] = "Chen et al., ICML 2018, arXiv:1711.02257"
    alpha: Any = 1.5
    learning_rate: Any = 0.025
    optimizer: str = "adam"
    layer: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.alpha, (Range, dict)):
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

    def update(self, state: StrategyState, losses: Any, norms: Any, weights: Any) -> Any:
        """The weights after one GradNorm step (in the compiled step)."""
        started = state.slot("started", shape=())
        initial = state.slot("initial_losses")
        first = ops.equal(started, 0.0)
        initial.assign(ops.where(first, ops.maximum(losses, 1e-12), initial))
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
    needs_gradients: ClassVar[bool] = True
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
                rate = entry["learning_rate"]
                if isinstance(rate, dict) and set(rate) == {"range"}:
                    rate = Range.from_config(rate["range"])
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
        def plain(value: Any) -> Any:
            if isinstance(value, Range):
                return {"range": value.get_config()}
            return list(value) if isinstance(value, tuple) else value

        per = None
        if self.terms:
            per = {t: {k: plain(x) for k, x in o.items()} for t, o in self.terms.items()}
        return {"optimizer": plain(self.optimizer), "learning_rate": plain(self.learning_rate), "terms": per}

    def make_optimizers(self, terms: Sequence[str]) -> dict[str, keras.optimizers.Optimizer]:
        """A fresh Keras optimizer per term (the strategy must be concrete)."""
        if self.searched_fields():
            raise v.invalid(
                "strategy",
                "have concrete optimizers and learning rates in a WeightedModel (the tuner "
                "chooses searched ones; use `WeightedHyperModel.build_weighted(hp)`)",
                self.describe(),
            )
        return {
            t: keras.optimizers.get({"class_name": opt, "config": {"learning_rate": float(rate)}})
            for t, (opt, rate) in self.settings(terms).items()
        }


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


def _finite(argument: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise v.invalid(argument, "be a finite number", value)
    return float(value)


def _assign(weights: list[keras.Variable], values: ArrayLike) -> None:
    for var, value in zip(weights, np.asarray(values, dtype=float).tolist(), strict=True):
        var.assign(float(value))


# -- searching over strategies --------------------------------------------------
class StrategySearch:
    """The strategy as a hyperparameter: a choice among candidate strategies.

    Registers ``strategy`` (an ``hp.Choice`` of the candidates' names) and,
    for each candidate, its searched fields as ``strategy/<name>/<field>``,
    active only when it is chosen. The terms' searched weights are active
    only under candidates that use them (``static``, ``scheduled``,
    ``separate``); under ``static`` a term with a `ScheduleSearch` weight has
    a constant weight searched over the schedule's ``start`` range, and its
    schedule is searched under ``scheduled``.

    Args:
        candidates: Strategies (instances or registered names), each name at
            most once.

    Example:
        >>> StrategySearch(["static", Uncertainty(learning_rate=Range(1e-3, 1e-1))]).names()
        ['static', 'uncertainty']
    """

    def __init__(
        self, candidates: Sequence[Any] = ("static", "uncertainty", "dwa", "random", "gradnorm")
    ) -> None:
        if isinstance(candidates, (str, Strategy)) or not isinstance(candidates, Sequence):
            raise v.wrong_type("candidates", "a list of strategies or strategy names", candidates)
        self.candidates = [get(c) for c in candidates]
        names = [c.name for c in self.candidates]
        if len(names) < 2 or len(set(names)) != len(names):
            raise v.invalid("candidates", "name at least two different strategies, each once", names)

    def names(self) -> list[str]:
        """The candidates' names, in order (the first is the default)."""
        return [c.name for c in self.candidates]

    def candidate(self, name: str) -> Strategy:
        """The candidate called `name`."""
        for c in self.candidates:
            if c.name == name:
                return c
        raise v.invalid("strategy", f"be one of {self.names()}", name)

    def get_config(self) -> dict[str, Any]:
        return {"candidates": [serialize(c) for c in self.candidates]}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StrategySearch:
        return cls(config["candidates"])

    def describe(self) -> str:
        return "searched among " + ", ".join(c.describe() for c in self.candidates)

    def __repr__(self) -> str:
        return f"StrategySearch({self.names()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StrategySearch) and self.get_config() == other.get_config()

    __hash__ = None  # type: ignore[assignment]


def as_strategy(value: Any) -> Strategy | StrategySearch:
    """A strategy or a `StrategySearch` from what a user passed (None: `Static`)."""
    if value is None:
        return Static()
    if isinstance(value, StrategySearch):
        return value
    if isinstance(value, dict) and set(value) == {"candidates"}:
        return StrategySearch.from_config(value)
    if isinstance(value, (list, tuple)):
        return StrategySearch(value)
    try:
        return get(value)
    except v.ConfigurationError as error:
        raise v.invalid(
            "strategy",
            f"be a registered strategy name {sorted(registered())}, a `tuneweights.strategies.Strategy`, "
            "a `StrategySearch` or a list of candidates",
            value,
        ) from error
