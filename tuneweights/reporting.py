"""The results of a search, read from its project directory alone.

`report` reads keras-tuner's ``oracle.json`` and ``trial_*/trial.json`` and
tuneweights' ``tuneweights.json`` (the weight space and the pruned trials);
it needs neither the hypermodel nor the script that ran the search, and it
works while the search is still running (every file is written atomically).

It returns a `Report`: one `TrialRow` per trial (decoded weights, schedules
and switches, the other hyperparameters as recorded, the objective, status,
epochs and time) and the best configuration, and writes to its output folder:

* ``trials.csv``: the table;
* ``objective_vs_weights.png``: the objective against each searched weight
  (``ratio/<term>`` or ``weight/<term>``);
* ``learning_curves.png``: the objective per epoch of every trial, pruned
  trials faded;
* ``schedules.png``: the weights of the best trials over training, when a
  weight follows a schedule;
* ``pareto_front.png``: the Pareto front, when the search has several
  objectives;
* ``report.html``: all of the above in one self-contained file.

The objective is the tuner's, which tuneweights saves in
``tuneweights.json``; ``objective=`` shows another one. keras-tuner itself
keeps the objective in the tuner's memory only, so for a project written
without it (a plain keras-tuner project, or an older one) the objective is
recognised from the trials: a single objective is the logged name whose best value is every completed
trial's score, at the trial's best epoch (validation names first among names
with the same values). A search with several objectives logs
``multi_objective``, their sum (those to maximise counted negatively); its
parts are the fewest logged names, up to four, whose sum it is at every
recorded epoch (validation names first, and names that add up others, such
as ``val_unweighted_loss``, last). Such a sum can be ambiguous; the objective
given explicitly settles it.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime
import html
import itertools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import keras
import keras_tuner as kt

from tuneweights import _validation as v
from tuneweights import plots
from tuneweights import switches as switch_module
from tuneweights.schedules import Schedule
from tuneweights.search import objectives as objectives_module
from tuneweights.search import pareto
from tuneweights.search.oracle import STATE_FILE
from tuneweights.space import RATIO_PREFIX, WEIGHT_PREFIX, WeightSpace
from tuneweights.terms import Term

__all__ = [
    "MISSING_MATPLOTLIB",
    "Report",
    "TrialRow",
    "check_project_dir",
    "format_table",
    "rebuild_space",
    "report",
]

ORACLE_FILE = "oracle.json"
TRIAL_FILE = "trial.json"
MULTI_OBJECTIVE = "multi_objective"
MISSING_MATPLOTLIB = (
    "The report's plots need matplotlib, an optional dependency: pip install 'tuneweights[plots]' "
    "(or pass plots=False, `--no-plots` on the command line, for the table and the HTML without plots)"
)
_FINISHED = ("COMPLETED", "PRUNED")
# Names that add up other logged names: a multi-objective is explained by its parts first.
_SUMS = ("loss", "unweighted_loss")
_MAX_PARTS = 4
_MAX_SETS = 200_000  # sets of names of one size tried as a multi-objective's parts
_NOT_OBJECTIVES = ("_weight", "_switch_epoch")
_FIGURE_TITLES = {
    "objective_vs_weights": "Objective against each searched weight",
    "learning_curves": "Learning curves",
    "schedules": "Weights of the best trials over training",
    "pareto_front": "Pareto front",
}


# -- the result ---------------------------------------------------------------
@dataclasses.dataclass
class TrialRow:
    """One trial of the search.

    Attributes:
        trial_id: keras-tuner's trial id.
        status: keras-tuner's status (``"COMPLETED"``, ``"RUNNING"``,
            ``"FAILED"``, ``"INVALID"``...), or ``"PRUNED"`` for a trial a
            pruner stopped (a running trial the pruner just stopped stays
            ``"RUNNING"`` until it ends, with `pruned_at` set).
        epochs: Number of epochs recorded.
        best_epoch: The epoch of the best objective value (0-based, Keras's
            index), None when the objective is unknown or not recorded.
        objective: The best objective value (for a running trial, so far).
        objectives: Each objective at `best_epoch`, for a search with several.
        weights: ``{term: weight or Schedule}`` (empty without a weight space).
        described: ``{term: text}``: the weight or schedule, and the loss
            switch with its values.
        strategy: The weighting strategy with its values, for a search with a
            strategy other than static weights ("" otherwise).
        hyperparameters: The hyperparameters outside the weight space, as
            recorded.
        values: Every recorded hyperparameter value.
        seconds: Time from the start of the trial to its last record.
        seconds_estimated: Whether `seconds` is estimated (see `report`).
        pruned_at: The epoch after which a pruner stopped the trial.
        pareto: Whether the trial is on the Pareto front.
        message: keras-tuner's trial message (why it failed or was pruned).
    """

    trial_id: str
    status: str
    epochs: int
    best_epoch: int | None = None
    objective: float | None = None
    objectives: dict[str, float] = dataclasses.field(default_factory=dict)
    weights: dict[str, Any] = dataclasses.field(default_factory=dict)
    described: dict[str, str] = dataclasses.field(default_factory=dict)
    strategy: str = ""
    hyperparameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    seconds: float | None = None
    seconds_estimated: bool = False
    pruned_at: int | None = None
    pareto: bool = False
    message: str = ""


@dataclasses.dataclass
class Report:
    """What `report` found and wrote.

    Attributes:
        project_dir: The project directory read.
        objective: The objective's name (``"multi_objective"`` with several),
            None when it is not known yet.
        direction: ``"min"`` or ``"max"``, None when unknown.
        parts: ``{name: direction}`` of each objective (one entry for a single
            objective).
        rows: One `TrialRow` per trial, by trial id.
        best: The best finished trial (completed or pruned), as keras-tuner
            ranks them; None before any.
        files: ``{kind: path}`` of every file written (``"csv"``, ``"html"``
            and one per figure).
        notes: What could not be shown, and why.
    """

    project_dir: str
    objective: str | None
    direction: str | None
    parts: dict[str, str]
    rows: list[TrialRow]
    best: TrialRow | None
    files: dict[str, str] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        """The loss terms, in declaration order."""
        return _terms_of(self.rows)

    def columns(self) -> list[str]:
        """The table's column names."""
        columns = ["trial", "status", "epochs", "best epoch"]
        if self.objective is not None:
            columns.append(self.objective)
        if len(self.parts) > 1:
            columns += list(self.parts) + ["pareto"]
        columns += [f"weight {term}" for term in self.terms]
        columns += ["strategy"] if self._has_strategy() else []
        columns += _other_names(self.rows)
        return columns + ["time (s)", "note"]

    def table(self) -> list[list[str]]:
        """The table's cells as text, one list per trial, in `columns` order."""
        return [self._cells(row) for row in self.rows]

    def _cells(self, row: TrialRow) -> list[str]:
        cells = [row.trial_id, row.status, str(row.epochs), _text(row.best_epoch)]
        if self.objective is not None:
            cells.append(_text(row.objective))
        if len(self.parts) > 1:
            cells += [_text(row.objectives.get(name)) for name in self.parts]
            cells.append("yes" if row.pareto else "")
        cells += [row.described.get(term, "") for term in self.terms]
        cells += [row.strategy] if self._has_strategy() else []
        cells += [_text(row.hyperparameters.get(name)) for name in _other_names(self.rows)]
        seconds = _text(row.seconds)
        cells.append(f"~{seconds}" if row.seconds_estimated and row.seconds is not None else seconds)
        return cells + [_note(row)]

    def _has_strategy(self) -> bool:
        return any(row.strategy for row in self.rows)

    def summary(self) -> str:
        """A few lines: the project, the objective, the trials by status, the best trial."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        statuses = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items())) or "none yet"
        lines = [f"Project: {self.project_dir}", f"Trials: {len(self.rows)} ({statuses})"]
        if self.objective is None:
            lines.append("Objective: not known yet")
        else:
            parts = f" = {_signed_sum(self.parts)}" if len(self.parts) > 1 else ""
            lines.append(f"Objective: {self.objective} ({self.direction}){parts}")
        lines += self.best_lines()
        return "\n".join(lines)

    def best_lines(self) -> list[str]:
        """The best configuration, one line per entry."""
        best = self.best
        if best is None:
            return ["Best trial: none finished yet"]
        lines = [f"Best trial: {best.trial_id} ({self.objective} = {_text(best.objective)})"]
        lines += [f"  {name} = {_text(value)}" for name, value in best.objectives.items()]
        lines += [f"  weight {term}: {text}" for term, text in best.described.items()]
        lines += [f"  strategy: {best.strategy}"] if best.strategy else []
        lines += [f"  {name} = {_text(value)}" for name, value in best.hyperparameters.items()]
        return lines

    def to_text(self) -> str:
        """The summary, the table and the notes as plain text."""
        parts = [self.summary(), "", format_table(self.columns(), self.table())]
        if self.notes:
            parts += ["", "Notes:"] + [f"- {note}" for note in self.notes]
        return "\n".join(parts)


def format_table(columns: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """Columns aligned with spaces, a dashed line under the header.

    Example:
        >>> print(format_table(["trial", "loss"], [["0", "0.5"], ["1", "0.25"]]))
        trial  loss
        -----  ----
        0      0.5
        1      0.25
    """
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = [columns, ["-" * w for w in widths], *cells]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


# -- reading the project ------------------------------------------------------
@dataclasses.dataclass
class _Trial:
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


def check_project_dir(project_dir: Any) -> str:
    """`project_dir` as a string, if it is a keras-tuner project directory.

    Raises:
        ConfigurationError: it does not exist, is not a directory, or holds no
            ``oracle.json`` (the message lists the projects of a folder that
            holds some).
    """
    if not isinstance(project_dir, (str, os.PathLike)):
        raise v.wrong_type("project_dir", "a path (str or os.PathLike)", project_dir)
    path = os.fspath(project_dir)
    if not os.path.isdir(path):
        rule = "be an existing directory" if not os.path.exists(path) else "be a directory, not a file"
        raise v.invalid("project_dir", f"{rule} (the DIR/PROJECT folder of a search)", path)
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


def _read_json(path: str) -> dict[str, Any] | None:
    """The JSON object in `path`, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _trial_ids(project_dir: str) -> list[str]:
    ids = [d[len("trial_") :] for d in os.listdir(project_dir) if d.startswith("trial_")]
    return sorted(ids, key=lambda i: (0, int(i), i) if i.isdigit() else (1, 0, i))


def _parse_trial(state: dict[str, Any], mtime: float) -> _Trial:
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
    return _Trial(
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


def _load_trials(project_dir: str, notes: list[str]) -> list[_Trial]:
    """Every trial with a readable ``trial.json`` (a trial just created may have none yet)."""
    trials = []
    for trial_id in _trial_ids(project_dir):
        path = os.path.join(project_dir, f"trial_{trial_id}", TRIAL_FILE)
        state = _read_json(path)
        if state is None:
            if os.path.exists(path):
                notes.append(f"{path} could not be read as JSON: the trial is left out.")
            continue
        try:
            trials.append(_parse_trial(state, os.path.getmtime(path)))
        except (KeyError, TypeError, ValueError, OSError) as error:
            notes.append(
                f"{path} is not a trial as keras-tuner writes it ({error!r}): the trial is left out."
            )
    return trials


# -- the weight space -----------------------------------------------------------
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


def _saved_objective(state: Mapping[str, Any]) -> _Objective | None:
    """The objective the tuner saved (`search.oracle.objective_parts`); None if absent or malformed."""
    saved = state.get("objective")
    try:
        parts = tuple((str(name), str(direction)) for name, direction in saved)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if not parts or any(direction not in ("min", "max") for _, direction in parts):
        return None
    if len(parts) == 1:
        return _Objective(parts[0][0], parts[0][1], parts)
    return _Objective(MULTI_OBJECTIVE, "min", parts)


def _recorded_anywhere(objective: _Objective, trials: Sequence[_Trial], notes: list[str]) -> bool:
    """Whether the saved objective can be shown: no trial recorded anything yet, or one recorded its names."""
    names = {name for name, _ in objective.parts}
    recorded = [t for t in trials if t.histories]
    if not recorded or any(names <= set(t.histories) for t in recorded):
        return True
    notes.append(
        f"The objective saved in {STATE_FILE} ({', '.join(sorted(names))}) was recorded by no trial; "
        "it is recognised from the records instead."
    )
    return False


def _load_state(
    project_dir: str, notes: list[str]
) -> tuple[WeightSpace | None, dict[str, int], _Objective | None]:
    """The weight space, the pruned trials and the objective saved in ``tuneweights.json``."""
    state = _read_json(os.path.join(project_dir, STATE_FILE))
    if state is None:
        notes.append(
            f"No readable {STATE_FILE} (a plain keras-tuner project, or one written before it "
            "existed): hyperparameters are shown as recorded and pruned trials are recognised by "
            "their message."
        )
        return None, {}, None
    pruned = {str(k): int(val) for k, val in (state.get("pruned") or {}).items()}
    objective = _saved_objective(state)
    try:
        return rebuild_space(state["space"]), pruned, objective
    except Exception as error:
        notes.append(
            f"The weight space in {STATE_FILE} could not be rebuilt here ({error}); "
            "hyperparameters are shown as recorded."
        )
        return None, pruned, objective


# -- the objective ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Objective:
    name: str
    direction: str
    parts: tuple[tuple[str, str], ...]


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _best(values: Iterable[float], direction: str) -> float:
    finite = [x for x in values if not math.isnan(x)]
    return min(finite) if direction == "min" else max(finite)


def _preference(name: str) -> tuple[bool, bool, str]:
    """Validation names first, sums of other names last."""
    base = name[4:] if name.startswith("val_") else name
    return (not name.startswith("val_"), base in _SUMS, name)


def _scored(trials: Sequence[_Trial]) -> list[_Trial]:
    return [
        t
        for t in trials
        if t.status == "COMPLETED"
        and t.score is not None
        and not math.isnan(t.score)
        and t.best_step is not None
    ]


def _single_candidates(trial: _Trial) -> set[str]:
    """Names whose best value is the trial's score, reached at its best step."""
    names = set()
    for name, history in trial.histories.items():
        if history and _same(history.get(trial.best_step or 0), trial.score):
            if _same(_best(history.values(), trial.directions[name]), trial.score):
                names.add(name)
    return names


def _signs(trials: Sequence[_Trial]) -> dict[str, float]:
    signs: dict[str, float] = {}
    for trial in trials:
        for name, direction in trial.directions.items():
            signs.setdefault(name, 1.0 if direction == "min" else -1.0)
    return signs


def _part_candidates(trials: Sequence[_Trial], points: Sequence[tuple[_Trial, int, float]]) -> list[str]:
    """Logged names recorded wherever ``multi_objective`` is, validation names first.

    A term's weight and switch epoch cannot be objectives (the tuners refuse them).
    """
    names = {n for t in trials for n in t.histories} - {MULTI_OBJECTIVE}
    names = {n for n in names if not n.endswith(_NOT_OBJECTIVES)}
    return sorted(
        (n for n in names if all(s in t.histories.get(n, {}) for t, s, _ in points)), key=_preference
    )


def _sums_to(
    combo: Sequence[str], columns: Mapping[str, list[float]], target: Sequence[float], at: Iterable[int]
) -> bool:
    for i in at:
        total = sum(columns[n][i] for n in combo)
        if math.isfinite(total) and not _same(total, target[i]):
            return False
    return True


def _infer_parts(trials: Sequence[_Trial]) -> tuple[tuple[str, str], ...]:
    """The fewest logged names whose signed sum is ``multi_objective`` at every recorded epoch."""
    points = [
        (t, step, value)
        for t in trials
        for step, value in t.histories.get(MULTI_OBJECTIVE, {}).items()
        if math.isfinite(value)
    ]
    if not points:
        return ()
    signs = _signs(trials)
    names = _part_candidates(trials, points)
    columns = {n: [signs[n] * t.histories[n][s] for t, s, _ in points] for n in names}
    target = [value for _, _, value in points]
    probe = range(min(3, len(points)))  # most sets fail at once: check everything only after these
    validation = [n for n in names if n.startswith("val_")]
    sizes = range(2, _MAX_PARTS + 1)
    attempts = [(validation, k) for k in sizes] + [(names, k) for k in sizes] + [(names, 1)]
    for pool, size in attempts:
        for combo in itertools.islice(itertools.combinations(pool, size), _MAX_SETS):
            if _sums_to(combo, columns, target, probe) and _sums_to(
                combo, columns, target, range(len(points))
            ):
                return tuple((n, "min" if signs[n] > 0 else "max") for n in combo)
    return ()


def _infer_objective(trials: Sequence[_Trial]) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    """The search's objective, recognised from its trials (see the module's docstring).

    Returns:
        ``(name, direction, ((part, direction), ...))``, or None when no
        completed trial tells it yet.
    """
    if any(MULTI_OBJECTIVE in t.histories for t in trials):
        return MULTI_OBJECTIVE, "min", _infer_parts(trials)
    scored = _scored(trials)
    if not scored:
        return None
    candidates = set.intersection(*(_single_candidates(t) for t in scored))
    if not candidates:
        return None
    name = min(candidates, key=_preference)
    direction = scored[0].directions[name]
    return name, direction, ((name, direction),)


def _resolve_objective(objective: Any, trials: Sequence[_Trial], space: WeightSpace | None) -> _Objective:
    """An objective given to `report`, checked against the recorded names.

    A name's direction is inferred as the tuners do, else taken from the
    trials' records.
    """
    listed = list(objective) if isinstance(objective, (list, tuple)) else [objective]
    if not listed:
        raise v.invalid("objective", "be a name, a `keras_tuner.Objective` or a non-empty list", objective)
    recorded: dict[str, str] = {}
    for trial in trials:
        for name, direction in trial.directions.items():
            recorded.setdefault(name, direction)
    terms = space.terms if space is not None else []
    parts = []
    for item in listed:
        if not isinstance(item, (str, kt.Objective)):
            raise v.wrong_type("objective", "a metric name, a `keras_tuner.Objective` or a list", item)
        name = item if isinstance(item, str) else item.name
        if name not in recorded:
            raise v.invalid("objective", f"name recorded metrics, among {sorted(recorded)}", name)
        given = item.direction if isinstance(item, kt.Objective) else None
        direction = given or objectives_module.infer_direction(name, terms) or recorded[name]
        parts.append((name, v.check_choice("objective.direction", direction, ("min", "max"))))
    if len(parts) == 1:
        return _Objective(parts[0][0], parts[0][1], tuple(parts))
    return _Objective(MULTI_OBJECTIVE, "min", tuple(parts))


def _objective_history(trial: _Trial, objective: _Objective) -> dict[int, float]:
    if objective.name in trial.histories:
        return trial.histories[objective.name]
    # A multi-objective given to `report` that the search did not log: its signed sum.
    histories = [(trial.histories.get(n, {}), 1.0 if d == "min" else -1.0) for n, d in objective.parts]
    steps = set.intersection(*(set(h) for h, _ in histories)) if histories else set()
    return {s: sum(sign * h[s] for h, sign in histories) for s in sorted(steps)}


# -- rows -----------------------------------------------------------------------
def _decode(trial: _Trial, space: WeightSpace | None, notes: list[str]) -> tuple[dict, dict, str, dict]:
    """``(weights, described, strategy, other hyperparameters)`` of a trial.

    The strategy is shown when the space has one other than static weights.
    """
    if space is None:
        return {}, {}, "", dict(trial.values)
    try:
        own = set(space.hp_names())
        config = space.decode(trial.values)
    except Exception as error:
        notes.append(f"Trial {trial.trial_id}: its weights could not be decoded ({error}).")
        return {}, {}, "", dict(trial.values)
    strategy = config.strategy.describe() if "strategy" in space.get_config() else ""
    others = {k: val for k, val in trial.values.items() if k not in own}
    return config.weights, config.describe(), strategy, others


def _pruned_at(trial: _Trial, pruned: Mapping[str, int]) -> int | None:
    if trial.trial_id in pruned:
        return pruned[trial.trial_id]
    if trial.message.startswith("Pruned after epoch "):
        word = trial.message.split()[3].rstrip(".")
        return int(word) if word.isdigit() else None
    return None


def _status(trial: _Trial, pruned_at: int | None) -> str:
    if pruned_at is not None and trial.status == "COMPLETED":
        return "PRUNED"
    return trial.status


def _durations(
    project_dir: str, trials: Sequence[_Trial], notes: list[str]
) -> dict[str, tuple[float | None, bool]]:
    """``{trial_id: (seconds, estimated)}`` from each start to the trial's last record.

    keras-tuner records a trial's start in ``oracle.json`` when the search
    prints its progress (``verbose`` >= 1) and once the trial ended. Otherwise
    the start is taken as the last record of the trial started before it:
    exact for one worker up to the time between two trials.
    """
    oracle = _read_json(os.path.join(project_dir, ORACLE_FILE))
    if oracle is None:
        notes.append(f"{ORACLE_FILE} could not be read: trial times are not shown.")
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


def _row(
    trial: _Trial,
    objective: _Objective | None,
    space: WeightSpace | None,
    pruned: Mapping[str, int],
    notes: list[str],
) -> TrialRow:
    weights, described, strategy, others = _decode(trial, space, notes)
    pruned_at = _pruned_at(trial, pruned)
    epochs = max((len(h) for h in trial.histories.values()), default=0)
    row = TrialRow(
        trial_id=trial.trial_id,
        status=_status(trial, pruned_at),
        epochs=epochs,
        weights=weights,
        described=described,
        strategy=strategy,
        hyperparameters=others,
        values=dict(trial.values),
        pruned_at=pruned_at,
        message=trial.message,
    )
    history = _objective_history(trial, objective) if objective is not None else {}
    finite = {s: x for s, x in history.items() if not math.isnan(x)}
    if objective is not None and finite:
        row.epochs = len(history)
        row.objective = _best(finite.values(), objective.direction)
        row.best_epoch = min(s for s, x in finite.items() if x == row.objective)
        if len(objective.parts) > 1:
            row.objectives = {
                n: trial.histories[n][row.best_epoch]
                for n, _ in objective.parts
                if row.best_epoch in trial.histories.get(n, {})
            }
    return row


def _ranked(rows: Sequence[TrialRow], direction: str | None) -> list[TrialRow]:
    """The finished trials (completed or pruned), best first, as keras-tuner ranks them."""
    if direction is None:
        return []
    scored = [(r.objective, r) for r in rows if r.status in _FINISHED and r.objective is not None]
    ordered = sorted(scored, key=lambda pair: pair[0], reverse=direction == "max")
    return [r for _, r in ordered]


def _best_row(rows: Sequence[TrialRow], direction: str | None) -> TrialRow | None:
    ranked = _ranked(rows, direction)
    return ranked[0] if ranked else None


def _mark_pareto(rows: Sequence[TrialRow], parts: Mapping[str, str]) -> None:
    candidates = [
        r for r in rows if r.status in _FINISHED and len(r.objectives) == len(parts) and len(parts) > 1
    ]
    for index in pareto.front([r.objectives for r in candidates], parts):
        candidates[index].pareto = True


# -- the report -------------------------------------------------------------------
def report(
    project_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    plots: bool = True,
    objective: Any = None,
    top: int = 3,
) -> Report:
    """Read a search's project directory and write its report.

    Works on a finished search and on one still running (its running trials
    show their best value so far). Reading needs only the project directory:
    keras-tuner's files and ``tuneweights.json``.

    Args:
        project_dir: The search's ``directory/project_name`` folder.
        out_dir: Where to write the files; defaults to
            ``<project_dir>/report``.
        plots: Whether to draw the figures (needs matplotlib). Without them,
            the CSV table and the HTML page are still written.
        objective: The objective to show (a name, a `keras_tuner.Objective`
            or a list); when None, the tuner's, saved in ``tuneweights.json``,
            or for a project that lacks it, recognised from the trials (see
            the module's docstring).
        top: How many of the best trials `schedules.png` shows.

    Returns:
        The `Report`: rows, best trial, files written and notes.

    Raises:
        ConfigurationError: `project_dir` is not a project directory; `top` is
            not an int >= 1; `objective` names metrics no trial recorded.
        ImportError: `plots` is True and matplotlib is not installed.

    Example:
        >>> result = report("runs/sources")  # doctest: +SKIP
        >>> print(result.to_text())  # doctest: +SKIP
        >>> result.files["html"]  # doctest: +SKIP
        'runs/sources/report/report.html'
    """
    path = check_project_dir(project_dir)
    v.check_int("top", top, 1)
    figure_class = _figure_class() if plots else None
    notes: list[str] = []
    space, pruned, saved = _load_state(path, notes)
    trials = _load_trials(path, notes)
    if objective is None and saved is not None and _recorded_anywhere(saved, trials, notes):
        chosen: _Objective | None = saved
    else:
        chosen = _choose_objective(objective, trials, space, notes)
    times = _durations(path, trials, notes)
    rows = [_row(t, chosen, space, pruned, notes) for t in trials]
    for row in rows:
        row.seconds, row.seconds_estimated = times.get(row.trial_id, (None, False))
    parts = dict(chosen.parts) if chosen is not None else {}
    _mark_pareto(rows, parts)
    result = Report(
        project_dir=path,
        objective=chosen.name if chosen is not None else None,
        direction=chosen.direction if chosen is not None else None,
        parts=parts,
        rows=rows,
        best=_best_row(rows, chosen.direction if chosen is not None else None),
        notes=notes,
    )
    out = os.fspath(out_dir) if out_dir is not None else os.path.join(path, "report")
    os.makedirs(out, exist_ok=True)
    result.files["csv"] = _write_csv(result, os.path.join(out, "trials.csv"))
    if figure_class is not None:
        result.files.update(_draw_all(figure_class, result, trials, out, top))
    result.files["html"] = _write_html(result, os.path.join(out, "report.html"))
    return result


def _choose_objective(
    objective: Any, trials: Sequence[_Trial], space: WeightSpace | None, notes: list[str]
) -> _Objective | None:
    if objective is not None:
        return _resolve_objective(objective, trials, space)
    found = _infer_objective(trials)
    if found is None:
        notes.append(
            "The objective is not known yet: no trial has completed (pass `objective=`, "
            "`--objective` on the command line, to show it)."
        )
        return None
    name, direction, parts = found
    if name == MULTI_OBJECTIVE and not parts:
        notes.append(
            "The parts of the multi-objective could not be recognised from the logged names "
            "(pass `objective=`, `--objective` on the command line): no Pareto front."
        )
    return _Objective(name, direction, parts)


# -- files ------------------------------------------------------------------------
def _write_csv(result: Report, path: str) -> str:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(result.columns())
        writer.writerows(result.table())
    return path


_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:90%}"
    "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#eee}"
    "tr.PRUNED,tr.FAILED{color:#888}tr.best{font-weight:bold}img{max-width:100%;margin:1em 0}"
    "pre{background:#f6f6f6;padding:1em}"
)


def _html_table(result: Report) -> str:
    best = result.best.trial_id if result.best is not None else None
    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.columns())
    body = []
    for row, cells in zip(result.rows, result.table(), strict=True):
        css = row.status + (" best" if row.trial_id == best else "")
        tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        body.append(f'<tr class="{html.escape(css)}">{tds}</tr>')
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _write_html(result: Report, path: str) -> str:
    """One self-contained page: the figures are embedded as base64 PNGs."""
    sections = [
        f"<h1>Search report: {html.escape(os.path.basename(result.project_dir))}</h1>",
        f"<pre>{html.escape(result.summary())}</pre>",
        "<h2>Trials</h2>",
        _html_table(result),
    ]
    for kind, title in _FIGURE_TITLES.items():
        if kind in result.files:
            with open(result.files[kind], "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            sections += [f"<h2>{title}</h2>", f'<img alt="{kind}" src="data:image/png;base64,{data}">']
    if result.notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
        sections += ["<h2>Notes</h2>", f"<ul>{items}</ul>"]
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Search report</title>'
        f"<style>{_STYLE}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n"
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


# -- figures -----------------------------------------------------------------------
def _figure_class() -> Any:
    """matplotlib's `Figure` (no pyplot: no window, no global state)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(MISSING_MATPLOTLIB) from error
    return Figure


def _draw_all(
    figure_class: Any, result: Report, trials: Sequence[_Trial], out: str, top: int
) -> dict[str, str]:
    """Draw and save every figure that the search's records allow; a note for each other."""
    drawers = {
        "objective_vs_weights": lambda: _draw_objective_vs_weights(figure_class, result, trials),
        "learning_curves": lambda: _draw_learning_curves(figure_class, result, trials),
        "schedules": lambda: _draw_schedules(figure_class, result, trials, top),
        "pareto_front": lambda: _draw_pareto(figure_class, result),
    }
    files = {}
    for kind, draw in drawers.items():
        try:
            figure, reason = draw()
        except Exception as error:  # odd records must not cost the rest of the report
            figure, reason = None, f"it could not be drawn ({error!r})"
        if figure is None:
            result.notes.append(f"No figure '{_FIGURE_TITLES[kind]}': {reason}.")
            continue
        path = os.path.join(out, f"{kind}.png")
        figure.savefig(path, dpi=100, bbox_inches="tight")
        files[kind] = path
    return files


def _grid(figure_class: Any, rows: int, cols: int, size: tuple[float, float] = (4.5, 3.2)) -> tuple:
    figure = figure_class(figsize=(size[0] * cols, size[1] * rows), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False)
    return figure, axes


def _shown(result: Report) -> list[tuple[str, str]]:
    """The objectives plotted: each part, or the single objective."""
    if len(result.parts) > 1:
        return list(result.parts.items())
    if result.objective is None or result.direction is None:
        return []
    return [(result.objective, result.direction)]


def _value(row: TrialRow, name: str) -> float | None:
    return row.objectives.get(name, row.objective if not row.objectives else None)


def _draw_objective_vs_weights(figure_class: Any, result: Report, trials: Sequence[_Trial]) -> tuple:
    names = sorted(
        {n for r in result.rows for n in r.values if n.startswith((RATIO_PREFIX, WEIGHT_PREFIX))},
    )
    shown = _shown(result)
    if not names:
        return None, "no weight or ratio is searched"
    if not shown:
        return None, "the objective is not known yet"
    samplings = {n: s for t in trials for n, s in t.samplings.items()}
    figure, axes = _grid(figure_class, len(shown), len(names))
    best = result.best.trial_id if result.best is not None else None
    for i, (objective, direction) in enumerate(shown):
        for j, name in enumerate(names):
            ax = axes[i][j]
            for row in result.rows:
                y = _value(row, objective)
                if row.status not in _FINISHED or y is None or name not in row.values:
                    continue
                style = _point_style(row, best)
                ax.scatter([float(row.values[name])], [y], **style)
            if samplings.get(name) == "log":
                ax.set_xscale("log")
            ax.set_xlabel(name)
            ax.set_ylabel(f"{objective} ({direction})")
    axes[0][0].legend(handles=_legend_handles(result.rows), fontsize="small")
    return figure, ""


def _point_style(row: TrialRow, best: str | None) -> dict[str, Any]:
    if row.trial_id == best:
        return {"marker": "*", "s": 160, "color": "tab:red", "zorder": 3}
    if row.status == "PRUNED":
        return {"marker": "o", "s": 30, "color": "tab:blue", "alpha": 0.3}
    return {"marker": "o", "s": 30, "color": "tab:blue"}


def _legend_handles(rows: Sequence[TrialRow]) -> list[Any]:
    from matplotlib.lines import Line2D

    statuses = {r.status for r in rows}
    handles = [Line2D([], [], marker="*", color="tab:red", linestyle="", markersize=11, label="best")]
    handles.append(Line2D([], [], marker="o", color="tab:blue", linestyle="", label="completed"))
    if "PRUNED" in statuses:
        handles.append(Line2D([], [], marker="o", color="tab:blue", alpha=0.3, linestyle="", label="pruned"))
    return handles


def _curve_handles(rows: Sequence[TrialRow]) -> list[Any]:
    from matplotlib.lines import Line2D

    statuses = {r.status for r in rows}
    handles = [Line2D([], [], color="tab:red", linewidth=2.2, label="best")]
    handles.append(Line2D([], [], color="tab:blue", label="completed"))
    if "RUNNING" in statuses:
        handles.append(Line2D([], [], color="tab:blue", marker="o", markersize=3, label="running"))
    if statuses & {"PRUNED", "FAILED", "INVALID"}:
        handles.append(Line2D([], [], color="tab:blue", alpha=0.3, linestyle="--", label="pruned or failed"))
    return handles


def _draw_learning_curves(figure_class: Any, result: Report, trials: Sequence[_Trial]) -> tuple:
    shown = _shown(result)
    if not shown:
        return None, "the objective is not known yet"
    figure, axes = _grid(figure_class, 1, len(shown), size=(6.0, 3.8))
    best = result.best.trial_id if result.best is not None else None
    rows = {r.trial_id: r for r in result.rows}
    for ax, (objective, direction) in zip(axes[0], shown, strict=True):
        for trial in trials:
            history = trial.histories.get(objective, {})
            if not history:
                continue
            steps = sorted(history)
            row = rows[trial.trial_id]
            faded = row.status in ("PRUNED", "FAILED", "INVALID")
            ax.plot(  # best in red; pruned and failed dashed and faded
                steps,
                [history[s] for s in steps],
                color="tab:red" if trial.trial_id == best else "tab:blue",
                alpha=0.3 if faded else 0.9,
                linestyle="--" if faded else "-",
                linewidth=2.2 if trial.trial_id == best else 1.0,
                marker="o" if row.status == "RUNNING" else None,
                markersize=3,
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{objective} ({direction})")
        ax.set_yscale("log" if _spread(trials, objective) else "linear")
    axes[0][0].legend(handles=_curve_handles(result.rows), fontsize="small")
    return figure, ""


def _spread(trials: Sequence[_Trial], name: str) -> bool:
    values = [x for t in trials for x in t.histories.get(name, {}).values() if math.isfinite(x)]
    return bool(values) and min(values) > 0 and max(values) / min(values) > 20


def _horizon(row: TrialRow, trials: Sequence[_Trial]) -> int:
    """The planned epochs of a trial: Hyperband's ``tuner/epochs``, else the longest trial's."""
    planned = row.values.get("tuner/epochs")
    if isinstance(planned, int) and planned >= 1:
        return planned
    last = [max(h) for t in trials for h in t.histories.values() if h]
    return max(last, default=0) + 1


def _draw_schedules(figure_class: Any, result: Report, trials: Sequence[_Trial], top: int) -> tuple:
    ranked = _ranked(result.rows, result.direction)
    chosen = [r for r in ranked if any(isinstance(w, Schedule) for w in r.weights.values())][:top]
    if not chosen:
        return None, "no finished trial has a scheduled weight"
    by_id = {t.trial_id: t for t in trials}
    figure, axes = _grid(figure_class, 1, len(chosen), size=(5.0, 3.5))
    for ax, row in zip(axes[0], chosen, strict=True):
        title = f"trial {row.trial_id}: {result.objective} = {_text(row.objective)}"
        plots.plot_weights(row.weights, _horizon(row, trials), ax=ax, title=title)
        for line, term in zip(ax.get_lines(), row.weights, strict=True):
            logged = by_id[row.trial_id].histories.get(f"{term}_weight", {})
            steps = sorted(logged)
            ax.plot(steps, [logged[s] for s in steps], "o", color=line.get_color(), markersize=3)
        ax.title.set_fontsize("small")
    axes[0][0].annotate("lines: decoded; dots: logged per epoch", (0.0, -0.25), xycoords="axes fraction")
    return figure, ""


def _draw_pareto(figure_class: Any, result: Report) -> tuple:
    if len(result.parts) < 2:
        return None, "the search has a single objective"
    names = list(result.parts)
    pairs = list(itertools.combinations(names, 2))[:6]
    figure, axes = _grid(figure_class, 1, len(pairs))
    rows = [r for r in result.rows if r.status in _FINISHED and len(r.objectives) == len(names)]
    for ax, (x_name, y_name) in zip(axes[0], pairs, strict=True):
        others = [r for r in rows if not r.pareto]
        front = sorted((r for r in rows if r.pareto), key=lambda r: r.objectives[x_name])
        ax.scatter(
            [r.objectives[x_name] for r in others],
            [r.objectives[y_name] for r in others],
            color="tab:blue",
            alpha=0.5,
            label="dominated",
        )
        ax.plot(
            [r.objectives[x_name] for r in front],
            [r.objectives[y_name] for r in front],
            "o-",
            color="tab:red",
            label="Pareto front",
        )
        for r in front:
            ax.annotate(r.trial_id, (r.objectives[x_name], r.objectives[y_name]), fontsize="x-small")
        ax.set_xlabel(f"{x_name} ({result.parts[x_name]})")
        ax.set_ylabel(f"{y_name} ({result.parts[y_name]})")
        ax.legend(fontsize="small")
    return figure, ""


# -- formatting --------------------------------------------------------------------
def _text(value: Any) -> str:
    """A cell: numbers with 5 significant digits, None as empty.

    Example:
        >>> [_text(0.123456789), _text(3), _text(None), _text("step")]
        ['0.12346', '3', '', 'step']
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def _note(row: TrialRow, width: int = 80) -> str:
    """Why a trial stopped: the pruning epoch, or the last line of a failure's message.

    Example:
        >>> _note(TrialRow("3", "PRUNED", epochs=2, pruned_at=1))
        'pruned after epoch 1'
    """
    if row.status in ("FAILED", "INVALID") and row.message.strip():
        last = row.message.strip().splitlines()[-1].strip()
        return last if len(last) <= width else last[: width - 3] + "..."
    return f"pruned after epoch {row.pruned_at}" if row.pruned_at is not None else ""


def _signed_sum(parts: Mapping[str, str]) -> str:
    text = ""
    for name, direction in parts.items():
        sign = "+" if direction == "min" else "-"
        text += f" {sign} {name}" if text else (name if sign == "+" else f"-{name}")
    return text


def _terms_of(rows: Sequence[TrialRow]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names += [t for t in row.described if t not in names]
    return names


def _other_names(rows: Sequence[TrialRow]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names += [n for n in row.hyperparameters if n not in names]
    return names
