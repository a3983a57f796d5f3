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
  left in it, reads every state file through one loader
  (`tuneweights._state_files`), and repairs what a damaged file lost before
  any training, or refuses to resume (`tuneweights.search.recovery`);
* as the chief of a distributed search, it hears from the workers through
  their requests (`tuneweights.search.heartbeat`): the trial of a worker
  silent for longer than `heartbeat_timeout` goes to the next worker that
  asks for a trial, which continues it from its last resume checkpoint, and
  a late report from the silent worker is refused, never recorded twice.
* a reported epoch costs the same at epoch 500 as at epoch 5: it is appended
  to the trial's journal (`tuneweights.search.journal`) instead of rewriting
  ``trial.json``, which is written when the trial starts, is taken up again,
  or ends; the pruner reads per-epoch statistics kept up to date one epoch
  at a time (`tuneweights.pruners.Peers`), rebuilt from the trials when a
  project is reloaded.
* the wrapped oracle's proposals are the same after a restart as in an
  uninterrupted search, and never repeat a configuration already run or
  running (`tuneweights.search.proposals`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import warnings
from collections.abc import Iterator
from typing import Any

import keras_tuner as kt
from keras_tuner.src.distribute import utils as dist_utils
from keras_tuner.src.engine import objective as kt_objective
from keras_tuner.src.engine import trial as trial_module
from keras_tuner.src.engine.oracle import _maybe_infer_direction_from_objective

from tuneweights import _validation as v
from tuneweights import pruners
from tuneweights._io import is_local, remove_leftovers, write_json_atomic
from tuneweights._state_files import DamagedOracleState, DamagedStateFile, read_state
from tuneweights.search import heartbeat, journal, proposals, recovery, resume
from tuneweights.space import WeightSpace, differences, saved_form

STATE_FILE = "tuneweights.json"
STATE_VERSION = 1
_OWN = frozenset(
    {
        "wrapped",
        "space",
        "pruner",
        "pruned",
        "diverged",
        "starts",
        "max_restarts",
        "repairs",
        "heartbeats",
        "peers",
    }
)
#: A trial with one of these statuses has ended for good: its ``trial.json`` holds all its metrics.
FINISHED = frozenset({trial_module.TrialStatus.COMPLETED, trial_module.TrialStatus.FAILED})
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
        heartbeat_timeout: Seconds after which a worker of a distributed
            search that sent nothing (no report, no request) is presumed
            dead: its trial is handed to the next worker that asks for one.
            It must exceed the longest epoch (and a trial's set-up before its
            first epoch). None waits for the worker itself to come back, as
            keras-tuner does.

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
        self,
        oracle: kt.Oracle,
        space: WeightSpace | None,
        pruner: Any = None,
        max_restarts: int = 3,
        heartbeat_timeout: float | None = heartbeat.DEFAULT_TIMEOUT,
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
        object.__setattr__(self, "heartbeats", heartbeat.Heartbeats(heartbeat_timeout))
        object.__setattr__(self, "peers", pruners.Peers(oracle.objective.direction))
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
        self._take_over_silent_trial(tuner_id)
        while True:
            with self._finite_scores():
                trial = self.wrapped.create_trial(tuner_id)
            if trial.status != trial_module.TrialStatus.RUNNING:
                return self._hold_while_others_run(tuner_id, trial)
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
        self.peers.set_history(trial.trial_id, self._objective_history(trial))
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
        metrics, answer = self._check_reporter(trial_id, metrics)
        if answer is not None:
            return answer
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
        trial = self._record_epoch(trial_id, cleaned, int(step))
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

    def _record_epoch(self, trial_id: str, metrics: dict[str, Any], step: int) -> Any:
        """Record one epoch of a running trial, at a cost independent of the epochs before it.

        The metrics go into the trial's tracker without keras-tuner's
        per-update best-value scans, and to disk as one appended journal
        line (`tuneweights.search.journal`), not a rewrite of ``trial.json``.
        A wrapped oracle that overrides `update_trial`, or a project
        directory that is not local, gets keras-tuner's `update_trial`.
        """
        inner = self.wrapped
        if not self._journals():
            trial = inner.update_trial(trial_id, metrics, step=step)
        else:
            trial = inner.trials[trial_id]
            inner._check_objective_found(metrics)
            journal.record(trial.metrics, metrics, step, self._direction_of)
            trial_dir = os.path.join(inner._project_dir, f"trial_{trial_id}")
            if journal.exists(trial_dir):
                journal.append(trial_dir, step, metrics)
            else:  # the first line of this trial's journal: it starts with every epoch recorded so far
                journal.write(trial_dir, journal.records_of(trial.metrics))
        history = trial.metrics.metrics.get(inner.objective.name)
        observation = None if history is None else history._observations.get(step)
        if observation is not None:
            self.peers.record(trial_id, step, float(observation.mean()))
        return trial

    def _journals(self) -> bool:
        """Whether epochs are journaled (keras-tuner's own `update_trial`, a local directory)."""
        inner = self.wrapped
        return type(inner).update_trial is kt.Oracle.update_trial and is_local(inner._project_dir)

    def _direction_of(self, name: str) -> str | None:
        return _maybe_infer_direction_from_objective(self.wrapped.objective, name)

    def _objective_history(self, trial: Any) -> dict[int, float]:
        name = self.wrapped.objective.name
        if not trial.metrics.exists(name):
            return {}
        return {int(o.step): float(o.mean()) for o in trial.metrics.get_history(name)}

    def _should_prune(self, trial: Any, step: int) -> bool:
        if self.pruner is None or trial.trial_id not in self.peers:
            return False
        direction = self.wrapped.objective.direction
        return bool(self.pruner.decide(trial.trial_id, self.peers, int(step), direction))

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
        ended_there = False
        for other_id in self.peers.trial_ids():
            last = self.peers.last_step(other_id)
            if other_id == trial_id or last is None:
                continue
            if last > step:
                return False
            other = self.wrapped.trials[other_id]
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
        repairs = getattr(self, "repairs", None)
        if repairs is not None:  # what `reload` decided, written when the search starts
            for trial_id in repairs.apply(self.wrapped._project_dir):
                self.wrapped._save_trial(self.wrapped.trials[trial_id])
        self.wrapped.save()
        self._save_own_state()

    def reload(self) -> None:
        """Reload the project: this wrapper's state, the wrapped oracle's, then reconcile them.

        Temporary files left by interrupted writes are removed first
        (`tuneweights._io.remove_leftovers`: those unmodified for ten
        minutes). keras-tuner reloads the oracle only in a search's single
        process or in the chief of a distributed one, never in a worker, so
        this is the one place that cleans a project.

        Every state file is read through `tuneweights._state_files`; what a
        damaged one lost is rebuilt from the others in memory, as
        `tuneweights.search.recovery` describes, and written when the search
        starts (`save`), each problem announced by a warning. A project that
        cannot resume raises `DamagedStateFile` before anything is changed.

        Raises:
            DamagedStateFile: the project cannot resume (``oracle.json`` of a
                Hyperband search, or both ``oracle.json`` and
                ``tuneweights.json``, damaged).
            ConfigurationError: the saved weight space differs from this
                oracle's.
        """
        inner = self.wrapped
        project = inner._project_dir
        if not is_local(project):
            inner.reload()
            self._read_journals()
            self._reconcile()
            self._keep_trials_with_their_workers()
            return
        remove_leftovers(project)
        found = recovery.survey(project)
        problems = recovery.findings(found, hyperband=isinstance(inner, kt.oracles.HyperbandOracle))
        for problem in problems:
            if problem.blocking:
                raise problem.error()
        if found.own is not None:
            self.set_state(found.own)
        repairs = recovery.Repairs(own_rebuilt=found.own_error is not None and found.started)
        inner.trials.update(found.trials)
        for trial_id, damaged in found.damaged.items():
            destination = recovery.quarantine_path(project, trial_id)
            repairs.moves[trial_id] = (damaged, destination)
            inner.trials[trial_id] = damaged.rebuilt(destination)
        if found.oracle is not None:
            try:
                inner.set_state(found.oracle)
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise DamagedOracleState(
                    inner._get_oracle_fname(),
                    f"it is not the state of this oracle ({type(inner).__name__}) as keras-tuner writes it "
                    f"({error!r}): another oracle's project, or a damaged file",
                ) from None
            # as keras-tuner's `Oracle.reload`: the trials that were running are run again
            inner._retry_queue.extend(trial.trial_id for trial in inner.ongoing_trials.values())
            inner.ongoing_trials = {}
        else:
            repairs.oracle_rebuilt = found.started
            for trial_id in recovery.trial_order(inner.trials):
                inner.hyperparameters.merge(inner.trials[trial_id].hyperparameters.space)
        self._read_journals()
        self._reconcile(oracle_read=found.oracle is not None)
        self._keep_trials_with_their_workers()
        object.__setattr__(self, "repairs", repairs)
        for problem in problems:
            warnings.warn(f"{problem.path}: {problem.problem}; {problem.action}.", UserWarning, stacklevel=2)

    def _read_journals(self) -> None:
        """Rebuild the metrics of unfinished trials from their journals, then the pruner's statistics.

        A finished trial's ``trial.json`` holds all its metrics; a journal
        or resume files left beside it (a process killed between the writes)
        are removed.
        """
        inner = self.wrapped
        for trial in inner.trials.values():
            trial_dir = os.path.join(inner._project_dir, f"trial_{trial.trial_id}")
            if not is_local(trial_dir):
                continue
            if trial.status in FINISHED:
                journal.remove(trial_dir)
                resume.clear(trial_dir)
                continue
            records = journal.read(trial_dir)
            if records is not None:
                trial.metrics = journal.tracker_of(records, trial.metrics, self._direction_of)
        self.peers.clear()
        for trial in inner.trials.values():
            self.peers.set_history(trial.trial_id, self._objective_history(trial))

    def _reconcile(self, oracle_read: bool = True) -> None:
        """Make ``oracle.json`` agree with the trial files after a crash between two writes.

        keras-tuner writes a trial's file, then its own state: a process
        killed in between leaves a trial that ended but is still queued to run
        again (the trial files are the later record, so they win), or a new
        trial that never started, which is forgotten so that it is proposed
        again from the state saved before it
        (`tuneweights.search.proposals.forget_unrecorded`). When ``oracle.json``
        was rebuilt from the trial files (`oracle_read` False), it records no
        start, and nothing is forgotten.
        """
        inner = self.wrapped
        if oracle_read:
            proposals.forget_unrecorded(inner)  # its proposal is made again, from the state saved before it
        queued = set(inner._retry_queue)
        for trial_id in recovery.trial_order(inner.trials):
            trial = inner.trials[trial_id]
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

    # -- heartbeats (distributed search) ----------------------------------
    @property
    def heartbeat_timeout(self) -> float | None:
        """Seconds of silence after which a worker's trial is handed to another (None: never)."""
        return self.heartbeats.timeout

    @property
    def tuner_ids(self) -> set[str]:
        """The workers the chief waits for before it exits: keras-tuner's, less the silent ones.

        keras-tuner's chief returns from `search` once no trial runs and
        every worker it handed a trial to was told to stop; a worker killed
        between two trials would keep it waiting for ever. The wrapped
        oracle's own set is left as it is.
        """
        ids: set[str] = self.wrapped.tuner_ids
        return {tuner_id for tuner_id in ids if not self.heartbeats.silent(tuner_id)}

    def _owner(self, trial_id: str) -> str | None:
        """The worker running `trial_id`, as keras-tuner records it (None: nobody)."""
        ongoing = self.wrapped.ongoing_trials
        return next((tuner_id for tuner_id, t in ongoing.items() if t.trial_id == trial_id), None)

    def _take_over_silent_trial(self, tuner_id: str) -> None:
        """Hear `tuner_id` ask for a trial, and hand it the trial of a silent worker, if any.

        The trial of the worker silent the longest moves to `tuner_id` in
        keras-tuner's record of running trials, so that the wrapped oracle
        hands it out as the asker's own; `create_trial` then counts the
        start and drops the epochs after the last resume checkpoint, which
        the asker continues from.
        """
        self.heartbeats.hear(tuner_id)
        ongoing = self.wrapped.ongoing_trials
        if self.heartbeats.timeout is None or tuner_id in ongoing:
            return
        silent = [owner for owner in ongoing if self.heartbeats.silent(owner)]
        if not silent:
            return
        owner = max(silent, key=self.heartbeats.silence)
        quiet = self.heartbeats.silence(owner)
        trial = ongoing.pop(owner)
        ongoing[tuner_id] = trial
        self.wrapped.tuner_ids.discard(owner)  # back among them if it asks again
        self.heartbeats.heard.pop(owner, None)
        self.wrapped.save()
        last = resume.last_epoch(self.wrapped._get_trial_dir(trial.trial_id))
        where = "from its first epoch" if last is None else f"after epoch {last}"
        print(
            f"Trial {trial.trial_id}: no word from worker {owner} for {quiet:.0f} s "
            f"(heartbeat_timeout={self.heartbeats.timeout:g}); handed to worker {tuner_id}, which "
            f"continues it {where}."
        )

    def _hold_while_others_run(self, tuner_id: str, trial: Any) -> Any:
        """Answer IDLE instead of STOPPED while another worker's trial runs.

        The asking worker stays, so that it can take that trial over if its
        worker falls silent; without heartbeats it is told to stop, as
        keras-tuner does.
        """
        others = [owner for owner in self.wrapped.ongoing_trials if owner != tuner_id]
        if trial.status != trial_module.TrialStatus.STOPPED or self.heartbeats.timeout is None or not others:
            return trial
        self.wrapped.tuner_ids.add(tuner_id)  # keras-tuner removed it with its STOPPED answer
        held = copy.copy(trial)
        held.status = trial_module.TrialStatus.IDLE
        return held

    def _check_reporter(self, trial_id: str, metrics: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Take the sender out of a report, hear it, and refuse it when the trial is another's.

        A report that names no sender (a custom `run_trial` calling
        `update_trial`) counts as a heartbeat of the trial's worker. A
        report that names only its sender, with no metric, asks whether the
        trial is still the sender's: the worker sends one before it ends a
        trial.

        Returns:
            ``(metrics, None)`` for a report to record, or ``(metrics,
            answer)``: the trial with the status `heartbeat.LOST` for a
            worker that no longer runs it, or the trial itself for the
            question.
        """
        reporter, cleaned = heartbeat.sender(metrics)
        if trial_id not in self.wrapped.trials:
            return cleaned, None  # the wrapped oracle says what it says of an unknown trial
        owner = self._owner(trial_id)
        if reporter is None:
            if owner is not None:
                self.heartbeats.hear(owner)
            return cleaned, None
        if owner is None:
            owner = self._adopt(trial_id, reporter)
        trial = self.wrapped.trials[trial_id]
        if owner != reporter:
            lost = copy.copy(trial)
            lost.status = heartbeat.LOST
            return cleaned, lost
        self.heartbeats.hear(reporter)
        return cleaned, (None if cleaned else trial)

    def _adopt(self, trial_id: str, reporter: str) -> str | None:
        """Give a running trial that nobody runs to the worker reporting it.

        A restarted chief without heartbeats queues the trials that were
        running for a retry (keras-tuner's reload); the worker still
        training one of them keeps it when its report comes before another
        worker asked for it.

        Returns:
            `reporter` when it now owns the trial, else None.
        """
        inner = self.wrapped
        trial = inner.trials[trial_id]
        if (
            trial.status != trial_module.TrialStatus.RUNNING
            or reporter in inner.ongoing_trials
            or trial_id not in inner._retry_queue
        ):
            return None
        inner._retry_queue.remove(trial_id)
        inner.ongoing_trials[reporter] = trial
        inner.tuner_ids.add(reporter)
        inner.save()
        return reporter

    def _keep_trials_with_their_workers(self) -> None:
        """On a restarted chief, give the running trials back to their workers.

        keras-tuner's reload queues them for a retry, so that the first
        worker to ask would run a trial that its own worker may still be
        training. With heartbeats, each stays with the worker that ran it
        (as ``oracle.json`` records), which gets a full `heartbeat_timeout`
        from now to be heard before its trial is handed on.
        """
        inner = self.wrapped
        path = inner._get_oracle_fname()
        if self.heartbeats.timeout is None or not dist_utils.is_chief_oracle() or not os.path.exists(path):
            return
        try:
            running = read_state(path).get("ongoing_trials") or {}
        except DamagedStateFile:
            return  # rebuilt from the trial files: no worker is known to hold a trial
        if not isinstance(running, dict):
            return
        for owner, trial_id in running.items():
            trial = inner.trials.get(trial_id)
            if (
                trial is None
                or trial.status != trial_module.TrialStatus.RUNNING
                or trial_id not in inner._retry_queue
                or owner in inner.ongoing_trials
            ):
                continue
            inner._retry_queue.remove(trial_id)
            inner.ongoing_trials[owner] = trial
            self.heartbeats.hear(owner)


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
        trial_dir = oracle._get_trial_dir(trial.trial_id)
        fname = os.path.join(trial_dir, "trial.json")
        if not is_local(fname):
            return type(oracle)._save_trial(oracle, trial)
        _write_trial(trial_dir, fname, trial)

    oracle.save = save
    oracle._save_trial = save_trial


def _write_trial(trial_dir: str, fname: str, trial: Any) -> None:
    """Write ``trial.json``, keeping the trial's journal in agreement with it.

    The journal of an unfinished trial is its record of metrics, so it is
    rewritten first (a trial taken up again drops epochs); a finished trial's
    file holds every epoch, and its journal is removed after it.
    """
    finished = trial.status in FINISHED
    if not finished and journal.exists(trial_dir):
        journal.write(trial_dir, journal.records_of(trial.metrics))
    write_json_atomic(fname, trial.get_state())
    if finished:
        journal.remove(trial_dir)


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
