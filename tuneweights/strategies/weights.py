"""Strategies that set the loss weights: the terms' own, learned, averaged, random, validated.

Each runs inside ordinary `model.fit`: in the compiled train step (`step`) or
once per epoch on the host, never with Python per batch.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import keras
import numpy as np
from keras import ops

from tuneweights import _validation as v
from tuneweights.names import loss_metric_name
from tuneweights.strategies.base import Strategy, assign, finite, register
from tuneweights.strategies.rules import dwa_weights, normalised_weights, uncertainty_weights
from tuneweights.strategies.state import OWN_OPTIMIZERS, StrategyState, own_slots, own_update

__all__ = ["DWA", "RandomWeights", "Scheduled", "Static", "Uncertainty", "ValidationDriven"]


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
        object.__setattr__(self, "initial", finite("initial", self.initial))

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
        assign(weights, new)

    def on_epoch_end(
        self, state: StrategyState, epoch: int, logs: Mapping[str, Any], weights: list[keras.Variable]
    ) -> None:
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
        assign(weights, self.momentum * old + (1.0 - self.momentum) * new)
