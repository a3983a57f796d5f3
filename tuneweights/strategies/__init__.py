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

The package's modules: `base` (the `Strategy` class, its hooks and the
`GradientStep` a gradient-level strategy receives, the registry), `state`
(the per-model variables and the strategies' own optimizer), `rules` (the
update rules as pure functions of numpy or `keras.ops` arrays, tested
against hand computations), `weights` (strategies that set the weights),
`gradients` (strategies that take over the gradient step) and `search`
(`StrategySearch`). Everything is importable from `tuneweights.strategies`.
"""

from __future__ import annotations

from tuneweights.strategies.base import (
    PREFIX,
    GradientStep,
    Strategy,
    complete,
    get,
    loss_scale,
    register,
    registered,
    serialize,
)
from tuneweights.strategies.gradients import SCALE_INVARIANT, GradNorm, SeparateOptimizers
from tuneweights.strategies.rules import (
    dwa_weights,
    gradnorm_gradient,
    normalised_weights,
    uncertainty_weights,
)
from tuneweights.strategies.search import StrategySearch, as_strategy
from tuneweights.strategies.state import OWN_OPTIMIZERS, StrategyState, own_slots, own_update
from tuneweights.strategies.weights import (
    DWA,
    RandomWeights,
    Scheduled,
    Static,
    Uncertainty,
    ValidationDriven,
)

__all__ = [
    "DWA",
    "OWN_OPTIMIZERS",
    "PREFIX",
    "SCALE_INVARIANT",
    "GradNorm",
    "GradientStep",
    "RandomWeights",
    "Scheduled",
    "SeparateOptimizers",
    "Static",
    "Strategy",
    "StrategySearch",
    "StrategyState",
    "Uncertainty",
    "ValidationDriven",
    "as_strategy",
    "complete",
    "dwa_weights",
    "get",
    "gradnorm_gradient",
    "loss_scale",
    "normalised_weights",
    "own_slots",
    "own_update",
    "register",
    "registered",
    "serialize",
    "uncertainty_weights",
]
