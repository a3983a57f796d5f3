"""What a wrapped oracle proposes: the same after a restart, and never a configuration already tried.

`WeightOracle` routes the wrapped oracle's ``populate_space`` (where every
keras-tuner oracle makes its proposal) through `propose`, which

* first restores what keras-tuner's files do not keep, computed from what
  they do keep, so that a reloaded search proposes what an uninterrupted
  one would: the trials in the order they started (a reloaded oracle has
  them in the order its trial files were listed, and the Bayesian oracle's
  Gaussian process is fitted in that order), a NumPy random state seeded
  from the search's seed and the trial's number (the Bayesian oracle draws
  the starting points of its optimiser from one, which keras-tuner neither
  saves nor reseeds), and the grid search's walk through the grid (neither
  its ordered trials nor its queue are saved);
* then replaces a proposal whose values are those of a trial already run or
  running with random values not yet tried (keras-tuner's `_random_values`,
  drawn from the seed state saved in ``oracle.json``, so the replacement is
  the same after a restart), and ends the search as keras-tuner does, with a
  STOPPED trial (IDLE while other trials still run), when no untried values
  are found.

Values are compared by the wrapped oracle's own hash of them
(`_compute_values_hash`): Hyperband's leaves out the epochs, bracket and round
of a trial and keeps ``tuner/trial_id``, so a trial that continues an earlier
one with more epochs is not a repeat of it.

What keras-tuner saves in ``oracle.json`` (the seed state, Hyperband's
brackets, the retry queue, the trials tried) is written in the same file as
the trial's start, so it always agrees with the trials that started; the one
gap, a trial file written just before a crash and never recorded in
``oracle.json``, is closed when the project is reloaded (`forget_unrecorded`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import keras_tuner as kt
import numpy as np
from keras_tuner.src.engine import trial as trial_module
from keras_tuner.src.tuners import gridsearch

from tuneweights._io import is_local
from tuneweights.search import journal, resume

RUNNING = trial_module.TrialStatus.RUNNING


def install(oracle: kt.Oracle) -> None:
    """Route `oracle`'s proposals through `propose` (once per oracle).

    Args:
        oracle: The wrapped keras-tuner oracle; its ``create_trial`` calls
            ``self.populate_space``, which this replaces on the instance.
    """
    if "populate_space" in vars(oracle):
        return
    populate = oracle.populate_space

    @functools.wraps(populate)
    def populate_space(trial_id: str) -> dict[str, Any]:
        return propose(oracle, populate, trial_id)

    oracle.populate_space = populate_space


def propose(oracle: kt.Oracle, populate: Callable[[str], dict[str, Any]], trial_id: str) -> dict[str, Any]:
    """The wrapped oracle's proposal for `trial_id`, the same after a restart and never a repeat.

    Args:
        oracle: The wrapped oracle.
        populate: Its own ``populate_space``.
        trial_id: The id of the trial to propose.

    Returns:
        ``populate_space``'s answer: ``{"status": ..., "values": ...}``.
    """
    restore(oracle)
    return distinct(oracle, populate(trial_id))


def restore(oracle: kt.Oracle) -> None:
    """Bring back what the next proposal depends on and keras-tuner does not save."""
    started = {trial_id: position for position, trial_id in enumerate(oracle.start_order)}
    ordered = sorted(oracle.trials.items(), key=lambda item: (started.get(item[0], len(started)), item[0]))
    oracle.trials.clear()
    oracle.trials.update(ordered)
    if isinstance(getattr(oracle, "_random_state", None), np.random.RandomState):
        oracle._random_state = np.random.RandomState([oracle.seed % 2**32, len(oracle.trials)])
    if isinstance(oracle, gridsearch.GridSearchOracle):
        _restore_grid_walk(oracle)


def _restore_grid_walk(oracle: gridsearch.GridSearchOracle) -> None:
    """Rebuild a reloaded grid search's ordered trials and queue from its trials.

    keras-tuner keeps both in memory only, so a reloaded grid search stopped
    at once or failed on its next proposal. Every trial goes back in the
    queue: one whose next combination was tried already is skipped, as
    keras-tuner skips it, so the walk goes on from the last combination.
    """
    if all(trial_id in oracle._ordered_ids._data_to_index for trial_id in oracle.trials):
        return  # in step with the trials: nothing was reloaded
    by_values = functools.cmp_to_key(
        lambda a, b: oracle._compare(
            oracle.trials[a].hyperparameters.values, oracle.trials[b].hyperparameters.values
        )
    )
    oracle._ordered_ids = gridsearch.LinkedList()
    for trial_id in sorted(oracle.trials, key=by_values):
        oracle._ordered_ids.insert(trial_id)
    oracle._populate_next = list(oracle.trials)


def distinct(oracle: kt.Oracle, response: dict[str, Any]) -> dict[str, Any]:
    """`response`, or, if it proposes values already tried, new random values.

    Args:
        oracle: The wrapped oracle.
        response: What its ``populate_space`` answered.

    Returns:
        `response` when its values are new (or it proposes no trial);
        otherwise the same answer with values that were never tried
        (entries outside the search space, such as Hyperband's
        ``tuner/epochs``, are kept); or a STOPPED answer (IDLE while trials
        are running) when none can be found.
    """
    values = response.get("values")
    if response.get("status") != RUNNING or values is None or not oracle._duplicate(values):
        return response
    fresh = oracle._random_values()
    if fresh is None:
        status = trial_module.TrialStatus.IDLE if oracle.ongoing_trials else trial_module.TrialStatus.STOPPED
        return {"status": status, "values": None}
    space = {hp.name for hp in oracle.hyperparameters.space}
    fresh.update({name: value for name, value in values.items() if name not in space})
    return {**response, "values": fresh}


def forget_unrecorded(oracle: kt.Oracle) -> list[str]:
    """Forget the trials whose start ``oracle.json`` never recorded (call after a reload).

    keras-tuner writes a new trial's file, then ``oracle.json``. A process
    killed in between leaves a trial that never ran (``create_trial`` did not
    return), while ``oracle.json`` still holds the state from before it was
    proposed: its seed state, Hyperband's brackets. Forgetting the trial (and
    removing its file) makes the next ``create_trial`` propose it again, from
    that same state, with the same id and values.

    Args:
        oracle: The wrapped oracle, just reloaded.

    Returns:
        The ids of the trials forgotten.
    """
    recorded = set(oracle.start_order)
    forgotten = [
        trial_id
        for trial_id, trial in oracle.trials.items()
        if trial.status == RUNNING and trial_id not in recorded and not _ran(oracle, trial)
    ]
    for trial_id in forgotten:
        del oracle.trials[trial_id]
        oracle._retry_queue = [t for t in oracle._retry_queue if t != trial_id]
        oracle._id_to_hash.pop(trial_id, None)
        path = os.path.join(oracle._get_trial_dir(trial_id), "trial.json")
        if is_local(path) and os.path.exists(path):
            os.remove(path)
    return forgotten


def _ran(oracle: kt.Oracle, trial: Any) -> bool:
    """Whether a trial left any sign of training: a reported epoch, a journal or a resume checkpoint."""
    if trial.metrics.metrics:
        return True
    trial_dir = oracle._get_trial_dir(trial.trial_id)
    return is_local(trial_dir) and any(
        os.path.exists(os.path.join(trial_dir, name)) for name in (journal.FILE, resume.POINTER)
    )
