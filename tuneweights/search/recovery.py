"""Damaged project directories: what is wrong, and what the next search does about it.

A project directory can be damaged by hand, by a full disk, or by a copy cut
short. `survey` reads every state file of a project without changing
anything; `findings` says, per problem, which file, what is wrong and what the
next ``search(overwrite=False)`` does about it, or that it cannot resume.
`WeightOracle.reload` acts on the same survey, and ``tuneweights check``
prints the findings.

What a search does, decided when the tuner is built, before any training:

* a damaged or missing ``trial_<id>/trial.json``: the trial's directory is
  moved aside to ``damaged/trial_<id>-<n>`` (nothing is deleted). When its
  hyperparameters can still be read from the file, the trial runs again
  (from its resume checkpoint when its per-epoch records could be read too,
  else from epoch 0); otherwise it is recorded as FAILED with a message
  naming where its files went, and the search moves on;
* a damaged or missing ``oracle.json``: rebuilt from the trial files (the
  trials, their statuses, and their order by trial id); refused for a
  Hyperband search, whose brackets only that file holds;
* a damaged or missing ``tuner0.json``: rewritten (the tuner keeps no search
  state in it; it only marks the project as started);
* a damaged or missing ``tuneweights.json``: rebuilt from what the tuner
  declares when ``oracle.json`` is intact, else refused;
* a damaged resume checkpoint: the trial restarts from epoch 0;
* a missing best-epoch checkpoint of a completed trial: the search goes on,
  and loading that trial's model raises an error naming the file.

The directory changes only when the search starts (`apply`): a tuner built
to read the results of a damaged project leaves it as it is.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from typing import Any

import keras_tuner as kt
from keras_tuner.src.engine import metrics_tracking
from keras_tuner.src.engine import trial as trial_module

from tuneweights._io import find_leftovers
from tuneweights._state_files import DamagedStateFile, check_key, read_state
from tuneweights.search import resume

ORACLE_FILE = "oracle.json"
TRIAL_FILE = "trial.json"
OWN_FILE = "tuneweights.json"
CHECKPOINT_FILE = "checkpoint.weights.h5"
QUARANTINE = "damaged"
"""The folder of a project directory where the directories of damaged trials are moved."""

_TRIAL_DIR = re.compile(r"trial_(\w+)")
_STATUSES = frozenset(
    getattr(trial_module.TrialStatus, name) for name in vars(trial_module.TrialStatus) if name.isupper()
)
# What keras-tuner's `Oracle.set_state` reads (its subclasses read more, checked when they load it).
_ORACLE_KEYS: dict[str, Any] = {
    "ongoing_trials": dict,
    "hyperparameters": dict,
    "start_order": list,
    "end_order": list,
    "run_times": dict,
    "retry_queue": list,
    "tried_so_far": list,
    "id_to_hash": dict,
    "display": dict,
}
_TRIAL_KEYS: dict[str, Any] = {
    "trial_id": str,
    "hyperparameters": dict,
    "metrics": dict,
    "score": (float, type(None)),
    "best_step": (int, type(None)),
    "status": str,
    "message": (str, type(None)),
}
_OWN_KEYS: dict[str, Any] = {"space": (dict, type(None)), "pruned": dict}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem of a project directory.

    Attributes:
        path: The file.
        problem: What is wrong with it.
        action: What the next ``search(overwrite=False)`` does about it.
        blocking: True when the search cannot resume (it raises
            `DamagedStateFile` before any training).
    """

    path: str
    problem: str
    action: str
    blocking: bool = False

    def error(self) -> DamagedStateFile:
        """The error a search raises for a blocking finding."""
        return DamagedStateFile(self.path, self.problem, hint=self.action)


@dataclasses.dataclass
class DamagedTrial:
    """A trial whose ``trial.json`` is missing or damaged, and what could be read of it.

    Attributes:
        trial_id: From its directory's name.
        error: What is wrong with the file.
        hyperparameters: Its hyperparameters, when they could be read.
        metrics: Its per-epoch records, when they could be read too.
    """

    trial_id: str
    error: DamagedStateFile
    hyperparameters: kt.HyperParameters | None = None
    metrics: metrics_tracking.MetricsTracker | None = None

    def rebuilt(self, destination: str) -> Any:
        """The trial the oracle records in its place (`destination`: where its directory went)."""
        where = f"its files were moved to {destination}"
        if self.hyperparameters is None:
            return trial_module.Trial(
                kt.HyperParameters(),
                trial_id=self.trial_id,
                status=trial_module.TrialStatus.FAILED,
                message=(
                    f"Its trial.json was damaged ({self.error.problem}) and its hyperparameters "
                    f"could not be read: {where}; it is not run again."
                ),
            )
        trial = trial_module.Trial(
            self.hyperparameters, trial_id=self.trial_id, status=trial_module.TrialStatus.RUNNING
        )
        if self.metrics is not None:
            trial.metrics = self.metrics
        return trial


@dataclasses.dataclass
class Survey:
    """Everything read from a project directory, nothing changed.

    Attributes:
        project_dir: The directory.
        trials: The readable trials, by id.
        damaged: The trials whose ``trial.json`` is missing or damaged, by id.
        oracle: The content of ``oracle.json``, or None.
        oracle_error: What is wrong with ``oracle.json``, or None.
        own: The content of ``tuneweights.json``, or None.
        own_error: What is wrong with ``tuneweights.json``, or None.
        tuner_error: What is wrong with the tuner's file, or None.
        resume_errors: ``{trial_id: error}`` for trials that will run again
            and whose resume checkpoint is damaged.
        leftovers: Temporary files of interrupted writes the search removes.
    """

    project_dir: str
    trials: dict[str, Any] = dataclasses.field(default_factory=dict)
    damaged: dict[str, DamagedTrial] = dataclasses.field(default_factory=dict)
    oracle: dict[str, Any] | None = None
    oracle_error: DamagedStateFile | None = None
    own: dict[str, Any] | None = None
    own_error: DamagedStateFile | None = None
    tuner_error: DamagedStateFile | None = None
    resume_errors: dict[str, DamagedStateFile] = dataclasses.field(default_factory=dict)
    leftovers: list[str] = dataclasses.field(default_factory=list)

    @property
    def started(self) -> bool:
        """Whether a search has written anything here (a project, not a new directory)."""
        return bool(self.trials or self.damaged or self.oracle is not None or self.own is not None) or any(
            e is not None and e.problem != "it is missing" for e in (self.oracle_error, self.own_error)
        )

    def trial_path(self, trial_id: str, name: str = TRIAL_FILE) -> str:
        return os.path.join(self.project_dir, f"trial_{trial_id}", name)


def trial_order(ids: Any) -> list[str]:
    """Trial ids in the order keras-tuner numbers them (numeric ids by number).

    Example:
        >>> trial_order(["10", "02", "1"])
        ['1', '02', '10']
    """
    return sorted(ids, key=lambda i: (0, int(i), i) if i.isdigit() else (1, 0, i))


def trial_ids(project_dir: str) -> list[str]:
    """The ids of the ``trial_<id>`` directories, in keras-tuner's order."""
    try:
        names = os.listdir(project_dir)
    except OSError:
        return []
    return trial_order(
        m.group(1)
        for m in map(_TRIAL_DIR.fullmatch, names)
        if m and os.path.isdir(os.path.join(project_dir, m.group(0)))
    )


def _gaps(ids: list[str]) -> list[str]:
    """The numeric ids missing below the highest one.

    keras-tuner numbers a new trial by the count of trials it knows: a trial
    it no longer knows would give the next trial the id of an existing one.

    Example:
        >>> _gaps(["00", "02", "03"])
        ['01']
    """
    numbers = [i for i in ids if i.isdigit()]
    if not numbers:
        return []
    width = max(len(i) for i in numbers)
    taken = {int(i) for i in numbers}
    return [f"{n:0{width}d}" for n in range(max(taken)) if n not in taken]


def read_trial(path: str, trial_id: str | None = None) -> Any:
    """The keras-tuner `Trial` saved in `path`.

    Raises:
        DamagedStateFile: the file is missing, unreadable, or not a trial as
            keras-tuner writes it (or one of another id than its directory's).
    """
    state = read_state(path, _TRIAL_KEYS)
    return _trial_from_state(path, state, trial_id)


def _trial_from_state(path: str, state: dict[str, Any], trial_id: str | None) -> Any:
    if trial_id is not None and state["trial_id"] != trial_id:
        raise DamagedStateFile(
            path, f"it holds trial {state['trial_id']!r}, not {trial_id!r} of its directory"
        )
    if state["status"] not in _STATUSES:
        raise DamagedStateFile(path, f"its status {state['status']!r} is not one of {sorted(_STATUSES)}")
    try:
        return trial_module.Trial.from_state(state)
    except Exception as error:  # keras-tuner's parsers raise whatever they meet
        raise DamagedStateFile(path, f"it is not a trial as keras-tuner writes it ({error!r})") from None


def _salvage(path: str, trial_id: str, error: DamagedStateFile) -> DamagedTrial:
    """What can still be read of a damaged trial file: its hyperparameters, then its records."""
    damaged = DamagedTrial(trial_id, error)
    try:
        state = read_state(path)
        damaged.hyperparameters = kt.HyperParameters.from_config(
            check_key(path, state, "hyperparameters", dict)
        )
        damaged.hyperparameters.ensure_active_values()
    except Exception:
        damaged.hyperparameters = None
        return damaged
    try:
        damaged.metrics = metrics_tracking.MetricsTracker.from_config(check_key(path, state, "metrics", dict))
    except Exception:
        damaged.metrics = None
    return damaged


def _has_files(folder: str) -> bool:
    try:
        return any(os.scandir(folder))
    except OSError:
        return False


def survey(project_dir: str, tuner_id: str = "tuner0") -> Survey:
    """Read every state file of a project directory; change nothing.

    Args:
        project_dir: The DIR/PROJECT folder.
        tuner_id: Whose tuner file to read (keras-tuner's ``tuner0`` for a
            single process or a distributed search's chief).
    """
    found = Survey(project_dir)
    found.leftovers = find_leftovers(project_dir)
    for name, keys, value, error in (
        (ORACLE_FILE, _ORACLE_KEYS, "oracle", "oracle_error"),
        (OWN_FILE, _OWN_KEYS, "own", "own_error"),
    ):
        try:
            setattr(found, value, read_state(os.path.join(project_dir, name), keys))
        except DamagedStateFile as damage:
            setattr(found, error, damage)
    if found.own is not None:
        found.own, found.own_error = _check_own(os.path.join(project_dir, OWN_FILE), found.own)
    named = set()
    if found.oracle is not None:
        named = {str(i) for i in found.oracle["start_order"]} | set(
            map(str, found.oracle["ongoing_trials"].values())
        )
    for trial_id in trial_ids(project_dir):
        path = found.trial_path(trial_id)
        if not os.path.exists(path) and trial_id not in named and not _has_files(os.path.dirname(path)):
            continue  # created by a process killed before it wrote the trial: never started
        try:
            found.trials[trial_id] = read_trial(path, trial_id)
        except DamagedStateFile as error:
            found.damaged[trial_id] = _salvage(path, trial_id, error)
    known = [*found.trials, *found.damaged]
    for trial_id in trial_order((named - set(known)) | set(_gaps([*known, *named]))):
        found.damaged[trial_id] = DamagedTrial(
            trial_id, DamagedStateFile(found.trial_path(trial_id), "it is missing, with its directory")
        )
    found.damaged = {i: found.damaged[i] for i in trial_order(found.damaged)}
    try:
        read_state(os.path.join(project_dir, f"{tuner_id}.json"))
    except DamagedStateFile as error:
        found.tuner_error = error
    for trial_id, trial in found.trials.items():
        if trial.status in (trial_module.TrialStatus.RUNNING, trial_module.TrialStatus.INVALID):
            broken = resume.damage(os.path.dirname(found.trial_path(trial_id)), _last_step(trial))
            if broken is not None:
                found.resume_errors[trial_id] = broken
    return found


def _check_own(path: str, state: dict[str, Any]) -> tuple[dict[str, Any] | None, DamagedStateFile | None]:
    """``tuneweights.json``'s facts must be ``{trial_id: int}``."""
    try:
        for key in ("pruned", "diverged", "starts"):
            facts = state.get(key) or {}
            if not isinstance(facts, dict):
                check_key(path, state, key, dict)
            for trial_id, value in facts.items():
                if isinstance(value, bool) or not isinstance(value, int):
                    raise DamagedStateFile(
                        path,
                        f"its key `{key}` holds {value!r} for trial {trial_id} where an integer is expected",
                    )
    except DamagedStateFile as error:
        return None, error
    return state, None


def _last_step(trial: Any) -> int | None:
    steps = [o.step for history in trial.metrics.metrics.values() for o in history.get_history()]
    return max(steps) if steps else None


def is_hyperband(trials: Any) -> bool:
    """Whether trials were made by a Hyperband oracle (their ``tuner/bracket`` value says so)."""
    return any("tuner/bracket" in t.hyperparameters.values for t in trials)


def findings(found: Survey, hyperband: bool | None = None) -> list[Finding]:
    """Each problem of a surveyed project and what the next search does about it.

    Args:
        found: The survey.
        hyperband: Whether the search is a Hyperband search; None to
            recognise it from the trials.
    """
    if hyperband is None:
        hyperband = is_hyperband(found.trials.values())
    out = [
        Finding(path, "a temporary file of an interrupted write", "removed, as it is no longer written to")
        for path in found.leftovers
    ]
    started = found.started
    if found.tuner_error is not None and started:
        out.append(
            Finding(
                found.tuner_error.path,
                found.tuner_error.problem,
                "rewritten (the tuner keeps no search state in it; it marks the project as started)",
            )
        )
    count = len(found.trials) + len(found.damaged)
    if found.oracle_error is not None and started:
        if hyperband and count:
            action = (
                "the search cannot resume: a Hyperband search keeps its brackets only in this file, "
                "and they cannot be rebuilt from the trial files. Restore it from a backup, or start a "
                "new search with another `project_name` or `overwrite=True`"
            )
        else:
            action = (
                f"rebuilt from the {count} trial files: the trials, their statuses and their order by trial "
                "id (the times keras-tuner shows per trial are lost)"
            )
        out.append(
            Finding(found.oracle_error.path, found.oracle_error.problem, action, hyperband and count > 0)
        )
    if found.own_error is not None and started:
        if found.oracle_error is None:
            action = (
                "rebuilt from what the tuner declares (its weight space is not compared with the saved one; "
                "pruned and diverged trials are then shown as completed and failed, and restarts are "
                "counted anew)"
            )
        else:
            action = (
                f"the search cannot resume: {OWN_FILE} is rebuilt only when {ORACLE_FILE} is intact. "
                "Restore one of them from a backup, or start a new search with another `project_name` "
                "or `overwrite=True`"
            )
        out.append(
            Finding(found.own_error.path, found.own_error.problem, action, found.oracle_error is not None)
        )
    for trial_id, damaged in found.damaged.items():
        folder = os.path.dirname(found.trial_path(trial_id))
        moved = (
            f"its directory is moved to {quarantine_path(found.project_dir, trial_id)}"
            if os.path.isdir(folder)
            else "it has no directory"
        )
        if damaged.hyperparameters is None:
            action = (
                f"{moved}; its hyperparameters cannot be read, so trial {trial_id} is recorded as FAILED "
                "and not run again (it counts towards `max_trials`)"
            )
        elif damaged.metrics is None:
            action = f"{moved}; trial {trial_id} runs again with its hyperparameters, from epoch 0"
        else:
            action = (
                f"{moved}; trial {trial_id} runs again with its hyperparameters and records, "
                "from its resume checkpoint"
            )
        out.append(Finding(damaged.error.path, damaged.error.problem, action))
    for trial_id, error in found.resume_errors.items():
        out.append(
            Finding(
                error.path,
                error.problem,
                f"trial {trial_id} restarts from epoch 0 (its per-epoch records are dropped)",
            )
        )
    completed = [t for t in found.trials if found.trials[t].status == trial_module.TrialStatus.COMPLETED]
    missing = [t for t in completed if not os.path.exists(found.trial_path(t, CHECKPOINT_FILE))]
    if len(missing) < len(completed):  # the search writes checkpoints (an overridden `run_trial` may not)
        for trial_id in missing:
            out.append(
                Finding(
                    found.trial_path(trial_id, CHECKPOINT_FILE),
                    f"the best-epoch checkpoint of completed trial {trial_id} is missing",
                    "the search goes on; `load_model` and `get_best_models` raise an error naming this "
                    "file for this trial (`get_best_hyperparameters` works)",
                )
            )
    return out


def quarantine_path(project_dir: str, trial_id: str) -> str:
    """Where a damaged trial's directory goes: ``damaged/trial_<id>-<n>``, the first `n` free."""
    n = 1
    while os.path.exists(os.path.join(project_dir, QUARANTINE, f"trial_{trial_id}-{n}")):
        n += 1
    return os.path.join(project_dir, QUARANTINE, f"trial_{trial_id}-{n}")


@dataclasses.dataclass
class Repairs:
    """What a reload decided and the search writes when it starts.

    Attributes:
        moves: ``{trial_id: (damaged trial, destination)}``.
        oracle_rebuilt: Whether ``oracle.json`` was rebuilt from the trials.
        own_rebuilt: Whether ``tuneweights.json`` was rebuilt.
    """

    moves: dict[str, tuple[DamagedTrial, str]] = dataclasses.field(default_factory=dict)
    oracle_rebuilt: bool = False
    own_rebuilt: bool = False

    def apply(self, project_dir: str) -> list[str]:
        """Move the damaged trials' directories aside and give a resumed trial its checkpoint back.

        Nothing is deleted: a trial that runs again from its checkpoint gets
        copies of its resume and best-epoch files in its new directory.

        Returns:
            The ids of the trials moved, whose new ``trial.json`` the oracle writes.
        """
        moved = list(self.moves)
        for trial_id, (damaged, destination) in list(self.moves.items()):
            source = os.path.join(project_dir, f"trial_{trial_id}")
            if os.path.isdir(source):
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                os.replace(source, destination)
            if damaged.hyperparameters is not None and damaged.metrics is not None:
                os.makedirs(source, exist_ok=True)
                for name in os.listdir(destination) if os.path.isdir(destination) else []:
                    if name == resume.POINTER or name.startswith("resume-") or name == CHECKPOINT_FILE:
                        shutil.copy2(os.path.join(destination, name), os.path.join(source, name))
            del self.moves[trial_id]
        return moved
