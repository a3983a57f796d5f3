"""Reading a search's project directory: keras-tuner's files and ``tuneweights.json``.

Nothing here knows the objective or the table: it turns the files into
`TrialRecord` values and a `SavedState`, and leaves a note for whatever it
could not read.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras_tuner.src.engine import metrics_tracking

from tuneweights import _validation as v
from tuneweights import switches as switch_module
from tuneweights._state_files import DamagedStateFile, read_state
from tuneweights.search import journal
from tuneweights.search.oracle import FINISHED, STATE_FILE
from tuneweights.space import WeightSpace
from tuneweights.terms import Term

ORACLE_FILE = "oracle.json"
TRIAL_FILE = "trial.json"


@dataclasses.dataclass
class TrialRecord:
    """A trial as keras-tuner recorded it in its ``trial.json``."""

    trial_id: str
    status: str
    message: str
    score: float | None
    best_step: int | None
    values: dict[str, Any]
    samplings: dict[str, str]
    histories: dict[str, dict[int, float]]
    directions: dict[str, str]
    mtime: float


@dataclasses.dataclass
class SavedState:
    """What tuneweights saved in ``tuneweights.json`` (all empty without the file).

    Attributes:
        space: The weight space, None when there is none or it cannot be
            rebuilt here.
        pruned: ``{trial_id: epoch}``: the epoch after which a pruner stopped
            each pruned trial.
        diverged: ``{trial_id: epoch}``: the epoch whose training loss was nan
            or inf, for each diverged trial (empty for a project saved before
            it was recorded).
        objective: The objective as saved (`search.oracle.objective_parts`),
            unchecked; None when absent.
    """

    space: WeightSpace | None = None
    pruned: dict[str, int] = dataclasses.field(default_factory=dict)
    diverged: dict[str, int] = dataclasses.field(default_factory=dict)
    objective: Any = None


def existing_directory(project_dir: Any) -> str:
    """`project_dir` as a string, if it names an existing directory.

    Raises:
        ConfigurationTypeError: it is not a path.
        ConfigurationError: it does not exist, or is a file.
    """
    if not isinstance(project_dir, (str, os.PathLike)):
        raise v.wrong_type("project_dir", "a path (str or os.PathLike)", project_dir)
    path = os.fspath(project_dir)
    if not os.path.isdir(path):
        rule = "be an existing directory" if not os.path.exists(path) else "be a directory, not a file"
        raise v.invalid("project_dir", f"{rule} (the DIR/PROJECT folder of a search)", path)
    return path


def check_project_dir(project_dir: Any) -> str:
    """`project_dir` as a string, if it is a keras-tuner project directory.

    Raises:
        ConfigurationError: it does not exist, is not a directory, or holds no
            ``oracle.json`` (the message lists the projects of a folder that
            holds some).
    """
    path = existing_directory(project_dir)
    if not os.path.isfile(os.path.join(path, ORACLE_FILE)):
        inside = sorted(d for d in os.listdir(path) if os.path.isfile(os.path.join(path, d, ORACLE_FILE)))
        hint = f"It holds the projects {inside}: pass one of them" if inside else ""
        raise v.invalid(
            "project_dir",
            f"be a search's project directory, holding keras-tuner's `{ORACLE_FILE}` "
            "and trial_*/trial.json (`directory`/`project_name` of the tuner)",
            path,
            hint=hint,
        )
    return path


def read_json(path: str, notes: list[str] | None = None) -> dict[str, Any] | None:
    """The JSON object in `path`, or None when it is missing or damaged.

    The file is read through the project's one loader
    (`tuneweights._state_files.read_state`); what is wrong with a damaged
    file goes to `notes`, when given.
    """
    try:
        return read_state(path)
    except DamagedStateFile as error:
        if notes is not None and os.path.exists(path):
            notes.append(f"{path}: {error.problem}.")
        return None


# -- the trials -------------------------------------------------------------------
def _trial_ids(project_dir: str) -> list[str]:
    ids = [d[len("trial_") :] for d in os.listdir(project_dir) if d.startswith("trial_")]
    return sorted(ids, key=lambda i: (0, int(i), i) if i.isdigit() else (1, 0, i))


def _parse_trial(state: dict[str, Any], mtime: float) -> TrialRecord:
    hp = state.get("hyperparameters") or {}
    samplings = {
        p["config"]["name"]: str(p["config"].get("sampling") or "linear")
        for p in hp.get("space", [])
        if isinstance(p, dict) and "name" in p.get("config", {})
    }
    histories, directions = {}, {}
    for name, metric in ((state.get("metrics") or {}).get("metrics") or {}).items():
        history = {}
        for observation in metric.get("observations", []):
            values = [float(x) for x in observation.get("value", [])]
            if values:
                history[int(observation["step"])] = sum(values) / len(values)
        histories[name] = history
        directions[name] = str(metric.get("direction") or "min")
    score, best_step = state.get("score"), state.get("best_step")
    return TrialRecord(
        trial_id=str(state.get("trial_id")),
        status=str(state.get("status")),
        message=str(state.get("message") or ""),
        score=None if score is None else float(score),
        best_step=None if best_step is None else int(best_step),
        values=dict(hp.get("values") or {}),
        samplings=samplings,
        histories=histories,
        directions=directions,
        mtime=mtime,
    )


def load_trials(project_dir: str, notes: list[str]) -> list[TrialRecord]:
    """Every trial with a readable ``trial.json`` (a trial just created may have none yet)."""
    trials = []
    for trial_id in _trial_ids(project_dir):
        path = os.path.join(project_dir, f"trial_{trial_id}", TRIAL_FILE)
        try:
            state = read_state(path)
        except DamagedStateFile as error:
            if os.path.exists(path):
                notes.append(f"{path}: {error.problem}; the trial is left out (see `tuneweights check`).")
            continue
        try:
            state, mtime = _with_journal(state, os.path.dirname(path), os.path.getmtime(path))
            trials.append(_parse_trial(state, mtime))
        except (KeyError, TypeError, ValueError, OSError) as error:
            notes.append(
                f"{path} is not a trial as keras-tuner writes it ({error!r}): the trial is left out."
            )
    return trials


def _with_journal(state: dict[str, Any], trial_dir: str, mtime: float) -> tuple[dict[str, Any], float]:
    """An unfinished trial's state with the metrics of its journal, and the time of its last record.

    While a trial runs, its epochs go to its journal (`tuneweights.search.journal`)
    and its ``trial.json`` holds the metrics of its start.
    """
    if state.get("status") in FINISHED:
        return state, mtime
    records = journal.read(trial_dir)
    if records is None:
        return state, mtime
    saved = metrics_tracking.MetricsTracker.from_config(state.get("metrics") or {"metrics": {}})
    tracker = journal.tracker_of(records, saved, lambda name: None)
    return {**state, "metrics": tracker.get_config()}, max(mtime, os.path.getmtime(journal.path(trial_dir)))


def durations(
    project_dir: str, trials: Sequence[TrialRecord], notes: list[str]
) -> dict[str, tuple[float | None, bool]]:
    """``{trial_id: (seconds, estimated)}`` from each start to the trial's last record.

    keras-tuner records a trial's start in ``oracle.json`` when the search
    prints its progress (``verbose`` >= 1) and once the trial ended. Otherwise
    the start is taken as the last record of the trial started before it:
    exact for one worker up to the time between two trials.
    """
    try:
        oracle = read_state(os.path.join(project_dir, ORACLE_FILE))
    except DamagedStateFile as error:
        notes.append(f"{ORACLE_FILE}: {error.problem}; trial times are not shown.")
        oracle = {}
    starts = (oracle.get("display") or {}).get("trial_start") or {}
    by_id = {t.trial_id: t for t in trials}
    order = [i for i in oracle.get("start_order", []) if i in by_id]
    order += [i for i in by_id if i not in order]
    out: dict[str, tuple[float | None, bool]] = {}
    for position, trial_id in enumerate(order):
        end = by_id[trial_id].mtime
        start = _timestamp(starts.get(trial_id))
        if start is not None:
            out[trial_id] = (end - start, False)
        elif position > 0 and end - by_id[order[position - 1]].mtime > 0:
            out[trial_id] = (end - by_id[order[position - 1]].mtime, True)
        else:
            out[trial_id] = (None, False)
    return out


def _timestamp(text: Any) -> float | None:
    """Seconds since the epoch of keras-tuner's local ISO time, None if it is not one."""
    try:
        return datetime.datetime.fromisoformat(str(text)).timestamp() if text else None
    except ValueError:
        return None


# -- tuneweights' state ---------------------------------------------------------------
def _placeholder_loss(name: str) -> Any:
    """A stand-in for a loss this process cannot rebuild (a user's class or function)."""

    def loss(y_true: Any, y_pred: Any) -> Any:
        raise RuntimeError(f"`{name}` is a stand-in for a loss that could not be rebuilt; it cannot be used.")

    loss.__name__ = name
    return loss


def _loss_name(config: Mapping[str, Any]) -> str:
    inner = config.get("config")
    if config.get("class_name") == "function" and isinstance(inner, str):
        return inner
    return str(config.get("registered_name") or config.get("class_name") or "loss")


def _loss_from_config(config: Any) -> Any:
    """A loss from `Term.get_config`'s form; a named stand-in when it cannot be rebuilt."""
    if isinstance(config, dict) and set(config) == {"switch"}:
        switch = dict(config["switch"])
        for side in ("before", "after"):
            if isinstance(switch.get(side), dict):
                switch[side] = _loss_from_config(switch[side])
        try:
            return switch_module.get(switch)
        except Exception:  # an unregistered custom switch
            return _placeholder_loss(f"{switch.get('name', 'custom')} switch")
    if isinstance(config, dict):
        try:
            return keras.saving.deserialize_keras_object(config)
        except Exception:
            return _placeholder_loss(_loss_name(config))
    return config


def rebuild_space(config: Mapping[str, Any]) -> WeightSpace:
    """The `WeightSpace` saved in ``tuneweights.json``.

    Losses that cannot be rebuilt in this process (a user's class or function)
    are replaced by named stand-ins: the weights decode all the same.

    Example:
        >>> from tuneweights.terms import Range
        >>> space = WeightSpace([Term("a", "mse"), Term("b", "mae", weight=Range(0.1, 10))])
        >>> rebuild_space(space.get_config()).decode({"ratio/b": 2.5}).weights
        {'a': 1.0, 'b': 2.5}
    """
    terms = []
    for term in config["terms"]:
        term = dict(term)
        term["loss"] = _loss_from_config(term.get("loss"))
        terms.append(Term.from_config(term))
    # a weighting strategy other than static weights is saved under "strategy"
    extra = {"strategy": config["strategy"]} if config.get("strategy") is not None else {}
    return WeightSpace(
        terms, weighting=config.get("weighting", "ratio"), reference=config.get("reference"), **extra
    )


def _epochs(saved: Any) -> dict[str, int]:
    """``{trial_id: epoch}`` as saved under ``"pruned"`` or ``"diverged"`` (absent: empty)."""
    return {str(k): int(val) for k, val in (saved or {}).items()}


def load_state(project_dir: str, notes: list[str]) -> SavedState:
    """The weight space, the pruned and diverged trials and the objective saved in ``tuneweights.json``.

    Pruned and diverged trials are facts the oracle saves there: a project
    without the file (a plain keras-tuner project) has none.
    """
    try:
        state = read_state(os.path.join(project_dir, STATE_FILE))
    except DamagedStateFile as error:
        cause = (
            "a plain keras-tuner project, or one written before it existed"
            if error.problem == "it is missing"
            else error.problem
        )
        notes.append(
            f"No readable {STATE_FILE} ({cause}): hyperparameters are shown as recorded, and no "
            "trial as pruned or diverged."
        )
        return SavedState()
    try:
        saved = SavedState(
            pruned=_epochs(state.get("pruned")),
            diverged=_epochs(state.get("diverged")),
            objective=state.get("objective"),
        )
    except (AttributeError, TypeError, ValueError) as error:
        notes.append(
            f"{STATE_FILE} does not hold its facts as tuneweights writes them ({error}): no trial is "
            "shown as pruned or diverged."
        )
        saved = SavedState(objective=state.get("objective"))
    if state.get("space") is None:  # a hypermodel without loss terms: hyperparameters as recorded
        return saved
    try:
        saved.space = rebuild_space(state["space"])
    except Exception as error:
        notes.append(
            f"The weight space in {STATE_FILE} could not be rebuilt here ({error}); "
            "hyperparameters are shown as recorded."
        )
    return saved
