"""Pruners: stop unpromising trials early, from the recorded per-epoch objective.

A pruner is one method, ``prune(history, others, step, direction) -> bool``,
with no hidden state: everything it needs is in the trials' recorded
per-epoch values, which live in the project directory and cross gRPC, so
pruning survives a restart and works the same in keras-tuner's distributed
mode. `WeightOracle` asks the pruner at every reported epoch and answers a
pruned trial with a STOPPED status; the trial is then recorded as COMPLETED
(it is ranked by the best value it reached) and marked as pruned.

Histories are ``{epoch: value}`` dicts of the objective.

The oracle keeps `Peers`, per-epoch statistics of every trial's recorded
objective, up to date one reported epoch at a time, and asks the pruner
through `Pruner.decide`. The built-in pruners read those statistics (a
decision costs O(log n) in the n trials, independent of the epochs run);
a pruner that implements `prune` alone is handed every history, as before.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from tuneweights import _validation as v
from tuneweights._registry import Registry

History = Mapping[int, float]

__all__ = [
    "MedianStopping",
    "PercentilePruner",
    "Peers",
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


def percentile_of_sorted(values: Sequence[float], q: float, skip: int | None = None) -> float:
    """``np.percentile(values, q)`` of ascending `values`, in O(1), bit for bit.

    The element at index `skip` (when given) is left out, so that a trial's
    own value can stay in a shared sorted list. The arithmetic is numpy's
    default ("linear") method step by step, so that a pruner reading these
    statistics decides exactly as one handed every history.

    Example:
        >>> percentile_of_sorted([1.0, 2.0, 4.0, 8.0], 50)
        3.0
        >>> percentile_of_sorted([1.0, 2.0, 4.0, 8.0], 50, skip=3)
        2.0
    """
    n = len(values) - (0 if skip is None else 1)

    def at(i: int) -> float:
        i = i % n
        return values[i + 1] if skip is not None and i >= skip else values[i]

    virtual = (n - 1) * (q / 100)
    below = -1 if virtual >= n - 1 else math.floor(virtual)
    a, b = at(below), at(-1 if below == -1 else below + 1)
    t = virtual - below
    difference = b - a
    return b - difference * (1 - t) if t >= 0.5 else a + difference * t


def _best_of(previous: float | None, value: float, direction: str) -> float | None:
    if math.isnan(value):
        return previous
    if previous is None:
        return value
    return min(previous, value) if direction == "min" else max(previous, value)


class Peers:
    """Every trial's recorded objective, with per-epoch statistics kept up to date.

    For each epoch it holds, sorted, the values the trials reported at that
    epoch and each such trial's best value up to it. A reported epoch costs
    O(log n) to record in the n trials (plus the shift of a list insert);
    a trial that reports an epoch again (another execution), or one before
    its last, has its whole record recomputed. NaN values are left out of
    the sorted statistics (the oracle records a non-finite objective as
    the worst value for its direction, never NaN).

    Args:
        direction: ``"min"`` or ``"max"``, the objective's.

    Example:
        >>> peers = Peers("min")
        >>> for trial_id, history in {"a": [3.0, 1.0], "b": [2.0, 2.5]}.items():
        ...     for step, value in enumerate(history):
        ...         peers.record(trial_id, step, value)
        >>> peers.best_at(1), peers.values_at(1)
        ([1.0, 2.0], [1.0, 2.5])
    """

    def __init__(self, direction: str) -> None:
        self.direction = direction
        self._values: dict[str, dict[int, float]] = {}
        self._best: dict[str, dict[int, float | None]] = {}
        self._last: dict[str, int] = {}
        self._best_at: dict[int, list[float]] = {}
        self._values_at: dict[int, list[float]] = {}

    def __contains__(self, trial_id: object) -> bool:
        return trial_id in self._values

    def record(self, trial_id: str, step: int, value: float) -> None:
        """Record `trial_id`'s objective at `step` (its mean over executions so far)."""
        values = self._values.setdefault(trial_id, {})
        last = self._last.get(trial_id)
        if step in values or (last is not None and step < last):
            self.set_history(trial_id, {**values, step: value})
            return
        values[step] = value
        best = _best_of(None if last is None else self._best[trial_id][last], value, self.direction)
        self._best.setdefault(trial_id, {})[step] = best
        self._last[trial_id] = step
        if not math.isnan(value):
            bisect.insort(self._values_at.setdefault(step, []), value)
        if best is not None:
            bisect.insort(self._best_at.setdefault(step, []), best)

    def set_history(self, trial_id: str, history: Mapping[int, float]) -> None:
        """Replace `trial_id`'s whole record (a trial rewound, or read back from disk)."""
        self.forget(trial_id)
        for step in sorted(history):
            self.record(trial_id, int(step), float(history[step]))

    def clear(self) -> None:
        """Forget every trial."""
        for trial_id in list(self._values):
            self.forget(trial_id)

    def forget(self, trial_id: str) -> None:
        """Remove `trial_id`'s record."""
        for step, value in self._values.pop(trial_id, {}).items():
            if not math.isnan(value):
                _remove(self._values_at[step], value)
        for step, best in self._best.pop(trial_id, {}).items():
            if best is not None:
                _remove(self._best_at[step], best)
        self._last.pop(trial_id, None)

    def history(self, trial_id: str) -> Mapping[int, float]:
        """``{epoch: value}`` of one trial (read-only)."""
        return self._values.get(trial_id, {})

    def histories(self, exclude: str | None = None) -> list[dict[int, float]]:
        """Every trial's history but `exclude`'s: what `Pruner.prune` is handed (O(trials x epochs))."""
        return [dict(h) for trial_id, h in self._values.items() if trial_id != exclude]

    def trial_ids(self) -> Iterable[str]:
        """The trials with a recorded value, in the order they first reported."""
        return self._values.keys()

    def last_step(self, trial_id: str) -> int | None:
        """The latest epoch `trial_id` reported, or None."""
        return self._last.get(trial_id)

    def best_so_far(self, trial_id: str, step: int) -> float | None:
        """`best_so_far` of `trial_id`'s history at `step`."""
        best = self._best.get(trial_id, {})
        if step in best:
            return best[step]
        return best_so_far(self.history(trial_id), step, self.direction)

    def best_at(self, step: int) -> list[float]:
        """The best value up to `step` of every trial that reported `step`, ascending (read-only)."""
        return self._best_at.get(step, [])

    def values_at(self, step: int) -> list[float]:
        """The values reported at `step`, ascending (read-only)."""
        return self._values_at.get(step, [])


def _remove(values: list[float], value: float) -> None:
    del values[bisect.bisect_left(values, value)]


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

    def decide(self, trial_id: str, peers: Peers, step: int, direction: str) -> bool:
        """What the oracle asks at every reported epoch: whether `trial_id` should stop after `step`.

        The default hands `prune` the trial's history and every other
        trial's (work proportional to the whole search at every epoch); a
        pruner whose rule reads per-epoch statistics overrides this and reads
        them from `peers`, deciding exactly as `prune` would.

        Args:
            trial_id: The trial that just reported `step`.
            peers: Every trial's recorded objective (this one's included).
            step: The epoch just reported.
            direction: ``"min"`` or ``"max"``.
        """
        return self.prune(peers.history(trial_id), peers.histories(exclude=trial_id), step, direction)

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

    def decide(self, trial_id: str, peers: Peers, step: int, direction: str) -> bool:
        if step < self.warmup:
            return False
        own = peers.best_so_far(trial_id, step)
        values = peers.best_at(step)  # this trial's own value among them when it reported `step`
        reported = step in peers.history(trial_id) and own is not None
        count = len(values) - (1 if reported else 0)
        if own is None or count < self.min_trials:
            return False
        skip = bisect.bisect_left(values, own) if reported else None
        q = self.percentile if direction == "min" else 100.0 - self.percentile
        return worse(own, percentile_of_sorted(values, q, skip), direction)


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

    def decide(self, trial_id: str, peers: Peers, step: int, direction: str) -> bool:
        history = peers.history(trial_id)
        if step not in history or math.isnan(history[step]) or step not in self.rungs(step):
            return False
        own, values = history[step], peers.values_at(step)  # this trial's value among them
        keep = max(1, len(values) // self.reduction_factor)
        return worse(own, values[keep - 1] if direction == "min" else values[len(values) - keep], direction)
