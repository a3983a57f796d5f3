"""Pruners: stop unpromising trials early, from the recorded per-epoch objective.

A pruner is one method, ``prune(history, others, step, direction) -> bool``,
with no hidden state: everything it needs is in the trials' recorded
per-epoch values, which live in the project directory and cross gRPC, so
pruning survives a restart and works the same in keras-tuner's distributed
mode. `WeightOracle` asks the pruner at every reported epoch and answers a
pruned trial with a STOPPED status; the trial is then recorded as COMPLETED
(it is ranked by the best value it reached) and marked as pruned.

Histories are ``{epoch: value}`` dicts of the objective.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from tuneweights import _validation as v
from tuneweights._registry import Registry

History = Mapping[int, float]

__all__ = [
    "MedianStopping",
    "PercentilePruner",
    "Pruner",
    "SuccessiveHalving",
    "get",
    "register",
    "serialize",
]


def best_so_far(history: History, step: int, direction: str) -> float | None:
    """The best value of `history` up to and including `step` (None if none).

    Example:
        >>> best_so_far({0: 3.0, 1: 1.0, 2: 2.0}, 2, "min")
        1.0
    """
    values = [value for epoch, value in history.items() if epoch <= step and not math.isnan(value)]
    if not values:
        return None
    return min(values) if direction == "min" else max(values)


def worse(a: float, b: float, direction: str) -> bool:
    """Whether `a` is strictly worse than `b` for this direction."""
    return a > b if direction == "min" else a < b


class Pruner:
    """Base class: decide from the recorded objective whether to stop a trial."""

    name: ClassVar[str] = ""

    def prune(self, history: History, others: Sequence[History], step: int, direction: str) -> bool:
        """Whether the trial with `history` should stop after `step`.

        Args:
            history: This trial's objective per epoch, up to `step`.
            others: The objective histories of the other trials (running,
                completed or pruned).
            step: The epoch just reported.
            direction: ``"min"`` or ``"max"``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement `prune(history, others, step, direction)`."
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (JSON scalars)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Pruner:
        return cls(**config)

    def describe(self) -> str:
        """A short readable description."""
        arguments = ", ".join(f"{k}={val!r}" for k, val in self.get_config().items())
        return f"{self.name}({arguments})"


_PRUNERS: Registry[Pruner] = Registry("pruner", Pruner, "tuneweights.pruners")


def register(cls: Any) -> Any:
    """Register a custom pruner class under its ``name`` (a class decorator)."""
    return _PRUNERS.register(cls)


def serialize(pruner: Pruner) -> dict[str, Any]:
    """``{"name": ..., **pruner.get_config()}``: flat JSON scalars."""
    return _PRUNERS.serialize(pruner)


def get(identifier: Any) -> Pruner:
    """A pruner from a registered name, a dict from `serialize`, or an instance."""
    return _PRUNERS.get(identifier)


@register
@dataclasses.dataclass(frozen=True)
class PercentilePruner(Pruner):
    """Stop a trial whose best value so far is worse than a percentile of the others.

    At epoch ``step >= warmup``, the other trials that reported that epoch
    contribute their best value up to it; with at least `min_trials` of them,
    the trial stops when its own best so far is worse than their
    `percentile`-th best (the 50th is the median; a smaller percentile prunes
    more: 25 keeps only trials in the best quarter).

    Args:
        percentile: In (0, 100].
        warmup: Epochs (0-based index) before which nothing is pruned.
        min_trials: Other trials needed at an epoch to compare with.

    Example:
        >>> others = [{0: 1.0, 1: 0.5}, {0: 2.0, 1: 0.6}, {0: 3.0, 1: 0.7}]
        >>> PercentilePruner(percentile=50, warmup=1, min_trials=3).prune({0: 4.0, 1: 0.9}, others, 1, "min")
        True
    """

    name: ClassVar[str] = "percentile"
    percentile: float = 25.0
    warmup: int = 1
    min_trials: int = 3

    def __post_init__(self) -> None:
        percentile = v.check_positive("percentile", self.percentile)
        if percentile > 100:
            raise v.invalid("percentile", "be in (0, 100]", self.percentile)
        object.__setattr__(self, "percentile", percentile)
        v.check_int("warmup", self.warmup, 0)
        v.check_int("min_trials", self.min_trials, 1)

    def prune(self, history: History, others: Sequence[History], step: int, direction: str) -> bool:
        if step < self.warmup:
            return False
        own = best_so_far(history, step, direction)
        peers = [best_so_far(h, step, direction) for h in others if step in h]
        values = [p for p in peers if p is not None]
        if own is None or len(values) < self.min_trials:
            return False
        # For "max" the q-th best is the (100-q)-th percentile of the values.
        q = self.percentile if direction == "min" else 100.0 - self.percentile
        return worse(own, float(np.percentile(values, q)), direction)


@register
@dataclasses.dataclass(frozen=True)
class MedianStopping(PercentilePruner):
    """Median stopping: `PercentilePruner` at the 50th percentile.

    Example:
        >>> MedianStopping().describe()
        'median(percentile=50.0, warmup=1, min_trials=3)'
    """

    name: ClassVar[str] = "median"
    percentile: float = 50.0


@register
@dataclasses.dataclass(frozen=True)
class SuccessiveHalving(Pruner):
    """Asynchronous successive halving (ASHA, Li et al. 2020).

    Rungs sit at epochs ``min_epochs * reduction_factor**k - 1`` (0-based).
    A trial reaching a rung continues only if its value there is among the
    best ``1/reduction_factor`` of the values all trials reported at that rung
    so far (itself included; with fewer than `reduction_factor` values, only
    the best continues).

    Args:
        min_epochs: Epochs before the first rung.
        reduction_factor: The ``eta`` of successive halving, >= 2.

    Example:
        >>> asha = SuccessiveHalving(min_epochs=1, reduction_factor=2)
        >>> asha.rungs(8)
        [0, 1, 3, 7]
        >>> asha.prune({0: 5.0}, [{0: 1.0}, {0: 2.0}, {0: 3.0}], 0, "min")
        True
    """

    name: ClassVar[str] = "asha"
    min_epochs: int = 1
    reduction_factor: int = 3

    def __post_init__(self) -> None:
        v.check_int("min_epochs", self.min_epochs, 1)
        v.check_int("reduction_factor", self.reduction_factor, 2)

    def rungs(self, until: int) -> list[int]:
        """The rung epochs (0-based) up to `until`."""
        out, k = [], 0
        while self.min_epochs * self.reduction_factor**k - 1 <= until:
            out.append(self.min_epochs * self.reduction_factor**k - 1)
            k += 1
        return out

    def prune(self, history: History, others: Sequence[History], step: int, direction: str) -> bool:
        if step not in self.rungs(step) or step not in history:
            return False
        own = history[step]
        values = sorted([h[step] for h in others if step in h] + [own], reverse=direction == "max")
        keep = max(1, len(values) // self.reduction_factor)
        return worse(own, values[keep - 1], direction)
