"""Common random numbers: every trial of a search starts from the same random state.

Trials of one architecture then start from the same initial weights and see
the data in the same order, so that what differs between two trials' scores
is what their hyperparameters changed (loss weights, schedules, learning
rate), not the luck of their initialisation. The difference between two
weight settings is often smaller than the spread that initialisation alone
causes; with a common start, a search ranks them by the difference.
"""

from __future__ import annotations

from typing import Any

import keras

from tuneweights import _validation as v

#: Added to the oracle's seed so that the trials' stream differs from the oracle's own.
_OFFSET = 7919


def check(same_initial_weights: Any) -> bool:
    """The validated ``same_initial_weights`` argument of a tuner."""
    return v.check_bool("same_initial_weights", same_initial_weights)


def base_seed(oracle: Any) -> int:
    """The seed every trial of the search starts from: the oracle's own.

    In a distributed worker, keras-tuner's oracle client holds the oracle
    the worker was built with; its seed is the one given to the tuner (a
    worker given none draws its own, so pass ``seed=`` to share one).
    """
    seed = getattr(oracle, "seed", None)
    if seed is None:
        seed = getattr(getattr(oracle, "_oracle", None), "seed", None)
    return int(seed or 0)


def trial_seed(base: int, execution: int) -> int:
    """The seed of one execution of a trial: the same in every trial, different per execution.

    Example:
        >>> [trial_seed(3, 0), trial_seed(3, 0), trial_seed(3, 1)]
        [7922, 7922, 7923]
    """
    return (base + _OFFSET + execution) % 2**31


def start(base: int, execution: int) -> None:
    """Seed Python's, NumPy's and the backend's random state for an execution of a trial."""
    keras.utils.set_random_seed(trial_seed(base, execution))


class StartOfTraining(keras.callbacks.Callback):
    """Seed again when training starts, after whatever `fit` drew before its first epoch.

    A model's first `fit` draws from the random state before training (Keras
    reads a first batch to build what the model lacks, which shuffles the
    data once); a model that trained before (reused, see
    `tuneweights.search.reuse`) does not. Seeded here, every trial's first
    epoch sees the data in the same order either way.
    """

    def __init__(self, base: int, execution: int) -> None:
        super().__init__()
        self.base, self.execution = base, execution

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        start(self.base, self.execution)
