"""`WeightOracle`: any keras-tuner oracle, plus ownership of the loss-weight space.

The wrapper passes every call through to the wrapped oracle by name and
changes only what it must:

* the weight hyperparameters are registered in the wrapped oracle's space at
  construction, so a Bayesian search models them from its first trial;
* a non-finite objective value is recorded as the worst value for its
  direction (+inf when minimising), never as 0, and the search strategy sees
  the worst finite score in its place (keras-tuner's Bayesian oracle turns
  inf into 0, which would make a diverged trial look best);
* a trial that is run again (retried, or resumed after a crash) starts with no
  per-epoch metrics of its earlier run;
* with a `tuneweights.pruners.Pruner`, it decides at every reported epoch
  whether the trial should stop, and says so through the STOPPED status of
  the trial it returns; a pruned trial is then recorded as COMPLETED, ranked
  by the best value it reached, and marked as pruned (its message, and
  `WeightOracle.pruned`); a trial stopped at what was its last epoch anyway
  is not marked (the oracle never sees `fit`'s epochs: the last epoch is the
  one where a completed trial that was not pruned ended, with no trial
  reporting a later one);
* a trial whose training loss became nan or inf is recorded as diverged (its
  epoch, in `WeightOracle.diverged`), from the metric `DIVERGED_METRIC` its
  report carries; diverged trials do not count towards keras-tuner's limit
  of consecutive failures;
* its own state (the weight space, the objective, the pruned and diverged
  trials) is saved beside
  keras-tuner's files as ``tuneweights.json`` and the space is checked when a
  project is reloaded;
* reloading a project removes the temporary files that interrupted writes
  left in it;
* the wrapped oracle's proposals are the same after a restart as in an
  uninterrupted search, and never repeat a configuration already run or
  running (`tuneweights.search.proposals`).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
from collections.abc import Iterator
from typing import Any

import keras_tuner as kt
from keras_tuner.src.engine import objective as kt_objective
from keras_tuner.src.engine import trial as trial_module

from tuneweights import _validation as v
from tuneweights import pruners
from tuneweights._io import is_local, remove_leftovers, write_json_atomic
from tuneweights.search import proposals, resume
from tuneweights.space import WeightSpace, differences, saved_form

STATE_FILE = "tuneweights.json"
STATE_VERSION = 1
_OWN = frozenset({"wrapped", "space", "pruner", "pruned", "diverged", "starts", "max_restarts"})
#: The metric an epoch's report carries when the training loss became nan or inf (its value: 1).
#: The oracle records the fact and keeps the metric out of the trial's records.
DIVERGED_METRIC = "tuneweights/diverged"


def _directions(objective: Any) -> dict[str, str]:
    if isinstance(objective, kt_objective.MultiObjective):
        names = dict(objective.name_to_direction)
        names[objective.name] = objective.direction
        return names
    return {objective.name: objective.direction}


def worst(direction: str) -> float:
    """The worst possible value of an objective with this direction."""
    return math.inf if direction == "min" else -math.inf


def objective_parts(objective: Any) -> list[list[str]]:
    """``[[name, direction], ...]`` of a keras-tuner objective, one entry per part of a multi-objective.

    Saved in ``tuneweights.json``, where ``tuneweights report`` reads it.

    Example:
        >>> objective_parts(kt.Objective("val_a_loss", "min"))
        [['val_a_loss', 'min']]
    """
    parts = getattr(objective, "objectives", None) or [objective]
    return [[str(part.name), str(part.direction)] for part in parts]


_VIEWS: dict[type, type] = {}


class WeightOracle(kt.Oracle):
    """Wraps `oracle` and owns the loss-weight space described by `space`.

    It is an instance of the wrapped oracle's class too (so that code which
    checks ``isinstance(tuner.oracle, BayesianOptimizationOracle)`` sees what
    it expects), but all
    state lives in the wrapped oracle: attributes and methods not changed here
    are the wrapped oracle's own.

    Args:
        oracle: Any keras-tuner oracle (RandomSearch, Hyperband, Bayesian...).
        space: The loss-weight space, or None for a hypermodel that declares
            no loss terms (the wrapper then adds per-epoch records, pruning,
            restarts and nan-safe ranking alone).
        pruner: Optional `tuneweights.pruners.Pruner` (or its name or config).
        max_restarts: How many times a trial may be taken up again after the
            search process stopped during it; beyond that it is marked
            FAILED with a message and the search moves on.

    Example:
        >>> from tuneweights import Term, Range
        >>> space = WeightSpace([Term("a", "mse"), Term("b", "mae", weight=Range(0.1, 10))])
        >>> inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=2)
        >>> oracle = WeightOracle(inner, space)
        >>> [hp.name for hp in oracle.get_space().space]
        ['ratio/b']
    """

    def __new__(cls, oracle: Any, *args: Any, **kwargs: Any) -> WeightOracle:
        inner = oracle.wrapped if isinstance(oracle, WeightOracle) else oracle
        if cls is not WeightOracle or not isinstance(inner, kt.Oracle):
            return super().__new__(cls)
        kind = type(inner)
        view = _VIEWS.get(kind)
        if view is None:
            # WeightOracle first: its methods (every Oracle method, passed through) win.
            view = _VIEWS[kind] = type(f"WeightOracle[{kind.__name__}]", (WeightOracle, kind), {})
        return super().__new__(view)

    def __init__(
        self, oracle: kt.Oracle, space: WeightSpace | None, pruner: Any = None, max_restarts: int = 3
    ) -> None:
        # Oracle.__init__ is not called on purpose: the wrapped oracle holds
        # the state, and attribute access falls through to it.
        if not isinstance(oracle, kt.Oracle):
            raise v.wrong_type("oracle", "a `keras_tuner.Oracle`", oracle)
        if isinstance(oracle, WeightOracle):
            oracle = oracle.wrapped
        if pruner is not None and isinstance(oracle, kt.oracles.HyperbandOracle):
            raise v.invalid(
                "pruner",
                "be left out with Hyperband, which stops trials by its own brackets "
                "(use RandomSearch or BayesianOptimization to prune)",
                pruner,
            )
        object.__setattr__(self, "wrapped", oracle)
        object.__setattr__(self, "space", space)
        object.__setattr__(self, "pruner", None if pruner is None else pruners.get(pruner))
        v.check_int("max_restarts", max_restarts, 0)
        object.__setattr__(self, "pruned", {})
        object.__setattr__(self, "diverged", {})
        object.__setattr__(self, "starts", {})
        object.__setattr__(self, "max_restarts", max_restarts)
        if space is not None:
            space.declare(oracle.hyperparameters)
        _write_atomically(oracle)
        _count_divergence_apart(oracle, self.diverged)
        proposals.install(oracle)

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:  # not yet set (during unpickling): avoid recursion
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.wrapped, name, value)

    # -- what changes -----------------------------------------------------
    @kt.synchronized
    def create_trial(self, tuner_id: str) -> Any:
        while True:
            with self._finite_scores():
                trial = self.wrapped.create_trial(tuner_id)
            if trial.status != trial_module.TrialStatus.RUNNING:
                return trial
            starts = self.starts.get(trial.trial_id, 0) + 1
            if starts > 1 + self.max_restarts:
                self._give_up(trial, starts - 1)
                continue
            self.starts[trial.trial_id] = starts
            if starts > 1 or trial.metrics.metrics:
                self._rewind(trial)
            else:  # a new trial: whatever a resume file says belongs to an older one
                resume.clear(self.wrapped._get_trial_dir(trial.trial_id))
            self._save_own_state()  # counts this start before any training
            return trial

    def _rewind(self, trial: Any) -> None:
        """Prepare a trial handed out again (after a crash or a retry).

        Its per-epoch values after the last resume checkpoint were reported by
        a run that did not finish; the tuner continues after that checkpoint
        (or from epoch 0 without one), so those values are dropped, and every
        epoch ends up recorded exactly once.
        """
        last = resume.last_epoch(self.wrapped._get_trial_dir(trial.trial_id))
        trial.metrics = resume.truncate(trial.metrics, last)
        trial.score = None
        trial.best_step = 0
        if last is None or self.pruned.get(trial.trial_id, -1) > last:
            self.pruned.pop(trial.trial_id, None)
        self.diverged.pop(trial.trial_id, None)
        self.wrapped._save_trial(trial)

    def _give_up(self, trial: Any, crashes: int) -> None:
        trial.status = trial_module.TrialStatus.FAILED
        trial.message = (
            f"The search process stopped {crashes} times while running this trial; it is marked "
            f"failed so that the search moves on (at most {self.max_restarts} restarts of a trial)."
        )
        self.wrapped.end_trial(trial)
        self.starts.pop(trial.trial_id, None)
        self._save_own_state()

    @kt.synchronized
    def update_trial(self, trial_id: str, metrics: dict[str, Any], step: int = 0) -> Any:
        if trial_id in self.pruned and step > self.pruned[trial_id]:
            # Pruned already (a run taken up again after a crash went one epoch
            # further): nothing after the pruning epoch is recorded.
            return self._stopped(self.wrapped.get_trial(trial_id))
        cleaned = dict(metrics)
        if cleaned.pop(DIVERGED_METRIC, None) is not None:
            self.diverged[trial_id] = int(step)
            self._save_own_state()
        for name, direction in _directions(self.wrapped.objective).items():
            if name in cleaned:
                value = float(cleaned[name])
                if not math.isfinite(value):
                    cleaned[name] = worst(direction)
        trial = self.wrapped.update_trial(trial_id, cleaned, step=step)
        if trial_id not in self.pruned and not self._should_prune(trial, step):
            return trial
        if trial_id not in self.pruned:
            self.pruned[trial_id] = int(step)
            self._save_own_state()  # as the chief of a distributed search, nobody else saves it
        return self._stopped(trial)

    @staticmethod
    def _stopped(trial: Any) -> Any:
        stopped = copy.copy(trial)  # the record stays RUNNING until the trial ends
        stopped.status = trial_module.TrialStatus.STOPPED
        return stopped

    def _should_prune(self, trial: Any, step: int) -> bool:
        name = self.wrapped.objective.name
        if self.pruner is None or not trial.metrics.exists(name):
            return False
        histories = {
            t.trial_id: {o.step: float(o.mean()) for o in t.metrics.get_history(name)}
            for t in self.wrapped.trials.values()
            if t.metrics.exists(name)
        }
        own = histories.pop(trial.trial_id)
        return bool(
            self.pruner.prune(own, list(histories.values()), int(step), self.wrapped.objective.direction)
        )

    @kt.synchronized
    def end_trial(self, trial: Any) -> None:
        recorded = self.wrapped.get_trial(trial.trial_id)
        name = self.wrapped.objective.name
        if trial.status == trial_module.TrialStatus.COMPLETED and not recorded.metrics.exists(name):
            trial.status = trial_module.TrialStatus.FAILED
            trial.message = (
                f"The trial completed without reporting the objective `{name}` (did `fit` run no epoch?)."
            )
        elif trial.trial_id in self.pruned and self.pruner is not None:
            if self._ran_every_epoch(trial.trial_id, self.pruned[trial.trial_id]):
                del self.pruned[trial.trial_id]  # stopped where it ended anyway: nothing was pruned
            else:
                trial.message = (
                    f"Pruned after epoch {self.pruned[trial.trial_id]} by {self.pruner.describe()}."
                )
        self.wrapped.end_trial(trial)
        self.starts.pop(trial.trial_id, None)
        self._save_own_state()

    def _ran_every_epoch(self, trial_id: str, step: int) -> bool:
        """Whether a trial stopped after `step` had reached its last epoch anyway.

        The oracle never sees `fit`'s `epochs`; the search's record answers
        instead, for trials that all train the same number of epochs (as
        RandomSearch, GridSearch and BayesianOptimization run them): the last
        epoch is `step` when a completed trial that was not pruned ended there
        and no trial reported a later epoch. Without that evidence (a
        distributed search whose other trials are still running), the trial
        stays marked as pruned.

        Args:
            trial_id: The trial that the pruner stopped.
            step: The epoch it was stopped after.

        Returns:
            True when `step` was the trial's last epoch.
        """
        name = self.wrapped.objective.name
        ended_there = False
        for other in self.wrapped.trials.values():
            steps = [o.step for o in other.metrics.get_history(name)] if other.metrics.exists(name) else []
            if other.trial_id == trial_id or not steps:
                continue
            last = max(steps)
            if last > step:
                return False
            finished = (
                other.status == trial_module.TrialStatus.COMPLETED and other.trial_id not in self.pruned
            )
            ended_there = ended_there or (finished and last == step)
        return ended_there

    @contextlib.contextmanager
    def _finite_scores(self) -> Iterator[None]:
        """Let the strategy see the worst finite score instead of +-inf."""
        direction = self.wrapped.objective.direction
        done = [
            t
            for t in self.wrapped.trials.values()
            if t.status == trial_module.TrialStatus.COMPLETED and t.score is not None
        ]
        finite = [t.score for t in done if math.isfinite(t.score)]
        patched = [(t, t.score) for t in done if not math.isfinite(t.score)]
        # With no finite score yet, all diverged trials are equally bad.
        stand_in = (max(finite) if direction == "min" else min(finite)) if finite else 0.0
        for t, _ in patched:
            t.score = stand_in
        try:
            yield
        finally:
            for t, score in patched:
                t.score = score

    # -- own state --------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The wrapper's own state, JSON scalars only."""
        return {
            "version": STATE_VERSION,
            "space": None if self.space is None else self.space.get_config(),
            "objective": objective_parts(self.wrapped.objective),
            "pruned": dict(self.pruned),
            "diverged": dict(self.diverged),
            "starts": dict(self.starts),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Check a saved state against this wrapper's space."""
        saved, current = state.get("space"), None if self.space is None else self.space.get_config()
        if saved is None or current is None:
            changed = [] if saved is current else [f"space: saved {saved}, declared {current}"]
        else:
            changed = differences(saved_form(saved), saved_form(current))
        if changed:
            raise v.ConfigurationError(
                "The project directory was created with other loss terms or weight ranges:\n  "
                + "\n  ".join(changed)
                + "\nRestore the original declaration to resume, or start a new search "
                "with another `project_name` or `overwrite=True`."
            )
        for facts, key in ((self.pruned, "pruned"), (self.diverged, "diverged")):
            facts.clear()
            facts.update({str(k): int(val) for k, val in (state.get(key) or {}).items()})
        self.starts.clear()
        self.starts.update({str(k): int(val) for k, val in state.get("starts", {}).items()})

    def _state_path(self) -> str:
        return os.path.join(self.wrapped._project_dir, STATE_FILE)

    def _save_own_state(self) -> None:
        write_json_atomic(self._state_path(), self.get_state())

    def save(self) -> None:
        self.wrapped.save()
        self._save_own_state()

    def reload(self) -> None:
        """Reload the project: this wrapper's state, the wrapped oracle's, then reconcile them.

        Temporary files left by interrupted writes are removed first
        (`tuneweights._io.remove_leftovers`: those unmodified for ten
        minutes). keras-tuner reloads the oracle only in a search's single
        process or in the chief of a distributed one, never in a worker, so
        this is the one place that cleans a project.
        """
        if is_local(self.wrapped._project_dir):
            remove_leftovers(self.wrapped._project_dir)
        path = self._state_path()
        if os.path.exists(path):
            with open(path) as f:
                self.set_state(json.load(f))
        self.wrapped.reload()
        self._reconcile()

    def _reconcile(self) -> None:
        """Make ``oracle.json`` agree with the trial files after a crash between two writes.

        keras-tuner writes a trial's file, then its own state: a process
        killed in between leaves a trial that ended but is still queued to run
        again (the trial files are the later record, so they win), or a new
        trial that never started, which is forgotten so that it is proposed
        again from the state saved before it
        (`tuneweights.search.proposals.forget_unrecorded`).
        """
        inner = self.wrapped
        proposals.forget_unrecorded(inner)  # its proposal is made again, from the state saved before it
        queued = set(inner._retry_queue)
        for trial_id, trial in inner.trials.items():
            if trial.status in (trial_module.TrialStatus.COMPLETED, trial_module.TrialStatus.FAILED):
                inner._retry_queue = [t for t in inner._retry_queue if t != trial_id]
                if trial_id not in inner.end_order:
                    inner.end_order.append(trial_id)
                inner._run_times[trial_id] = max(1, inner._run_times[trial_id])
                self.starts.pop(trial_id, None)
            elif trial_id not in queued:
                inner._retry_queue.append(trial_id)  # RUNNING, or INVALID awaiting its retry
            if trial_id not in inner.start_order:
                inner.start_order.append(trial_id)
            if inner._id_to_hash[trial_id] is None:
                inner._record_values(trial)


def _write_atomically(oracle: kt.Oracle) -> None:
    """Make the wrapped oracle write its state and trial files atomically.

    keras-tuner truncates and rewrites ``oracle.json`` and ``trial.json`` in
    place; these instance methods write the same JSON through a rename
    instead (local directories only).
    """

    def save() -> None:
        fname = oracle._get_oracle_fname()
        if not is_local(fname):
            return type(oracle).save(oracle)
        write_json_atomic(fname, oracle.get_state())

    def save_trial(trial: Any) -> None:
        fname = os.path.join(oracle._get_trial_dir(trial.trial_id), "trial.json")
        if not is_local(fname):
            return type(oracle)._save_trial(oracle, trial)
        write_json_atomic(fname, trial.get_state())

    oracle.save = save
    oracle._save_trial = save_trial


def _count_divergence_apart(oracle: kt.Oracle, diverged: dict[str, int]) -> None:
    """Let diverged trials not count towards keras-tuner's consecutive-failure limit.

    A trial whose loss became nan or inf fails because of its hyperparameters
    (a learning rate or a weight too large), not because the setup is broken:
    several in a row must not stop the search.
    """

    def check() -> None:
        consecutive = 0
        limit = oracle.max_consecutive_failed_trials
        for trial_id in oracle.end_order:
            trial = oracle.trials[trial_id]
            if trial.status == trial_module.TrialStatus.FAILED and trial_id not in diverged:
                consecutive += 1
            elif trial.status != trial_module.TrialStatus.FAILED:
                consecutive = 0
            if consecutive == limit:
                raise RuntimeError(
                    f"Number of consecutive failures exceeded the limit of {limit}.\n{trial.message or ''}"
                )

    oracle._check_consecutive_failures = check


def _pass_through(name: str) -> Any:
    def method(self: WeightOracle, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.wrapped, name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"Calls the wrapped oracle's `{name}`."
    return method


# Every other Oracle method is the wrapped oracle's own, so that subclasses'
# overrides (Hyperband's hashing, Bayesian's space population) stay in force.
for _name, _member in vars(kt.Oracle).items():
    if callable(_member) and not _name.startswith("__") and _name not in vars(WeightOracle):
        setattr(WeightOracle, _name, _pass_through(_name))
