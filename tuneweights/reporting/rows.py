"""The rows of a report: one `TrialRow` per trial, ranked, and the `Report` that tabulates them.

Each trial's configuration is decoded once, by `WeightSpace.decode`, into the
weights and their descriptions that every cell and figure reads.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from tuneweights.reporting.objective import ShownObjective, best_value, objective_history
from tuneweights.reporting.project import SavedState, TrialRecord
from tuneweights.search import pareto
from tuneweights.space import WeightSpace

# Ranked: keras-tuner records a pruned trial as completed, ranked by the best value it reached.
FINISHED = ("COMPLETED", "PRUNED")
# Drawn faded and dashed: trials that stopped before their last epoch.
STOPPED_EARLY = ("PRUNED", "FAILED", "INVALID", "DIVERGED")


@dataclasses.dataclass
class TrialRow:
    """One trial of the search.

    Attributes:
        trial_id: keras-tuner's trial id.
        status: keras-tuner's status (``"COMPLETED"``, ``"RUNNING"``,
            ``"FAILED"``, ``"INVALID"``...), ``"PRUNED"`` for a trial a
            pruner stopped, or ``"DIVERGED"`` for a failed trial whose training
            loss became nan or inf (a running trial the pruner just stopped,
            or that just diverged, stays ``"RUNNING"`` until it ends, with
            `pruned_at` or `diverged_at` set).
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
        diverged_at: The epoch whose training loss was nan or inf, for a
            trial that diverged (None otherwise, and for every trial of a
            project saved before divergence was recorded).
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
    diverged_at: int | None = None


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
        cells = [row.trial_id, row.status, str(row.epochs), format_cell(row.best_epoch)]
        if self.objective is not None:
            cells.append(format_cell(row.objective))
        if len(self.parts) > 1:
            cells += [format_cell(row.objectives.get(name)) for name in self.parts]
            cells.append("yes" if row.pareto else "")
        cells += [row.described.get(term, "") for term in self.terms]
        cells += [row.strategy] if self._has_strategy() else []
        cells += [format_cell(row.hyperparameters.get(name)) for name in _other_names(self.rows)]
        seconds = format_cell(row.seconds)
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
        lines = [f"Best trial: {best.trial_id} ({self.objective} = {format_cell(best.objective)})"]
        lines += [f"  {name} = {format_cell(value)}" for name, value in best.objectives.items()]
        lines += [f"  weight {term}: {text}" for term, text in best.described.items()]
        lines += [f"  strategy: {best.strategy}"] if best.strategy else []
        lines += [f"  {name} = {format_cell(value)}" for name, value in best.hyperparameters.items()]
        return lines

    def to_text(self) -> str:
        """The summary, the table and the notes as plain text."""
        parts = [self.summary(), "", format_table(self.columns(), self.table())]
        if self.notes:
            parts += ["", "Notes:"] + [f"- {note}" for note in self.notes]
        return "\n".join(parts)


# -- building the rows ------------------------------------------------------------
def build_rows(
    trials: Sequence[TrialRecord],
    objective: ShownObjective | None,
    state: SavedState,
    times: Mapping[str, tuple[float | None, bool]],
    notes: list[str],
) -> list[TrialRow]:
    """One row per trial, with its time and, with several objectives, its place on the Pareto front.

    Args:
        trials: The trials read.
        objective: The objective shown, None while it is not known.
        state: What ``tuneweights.json`` holds: the weight space, the pruned
            and the diverged trials.
        times: ``{trial_id: (seconds, estimated)}``.
        notes: Where to say which trial's weights could not be decoded.
    """
    rows = [_row(t, objective, state, notes) for t in trials]
    for row in rows:
        row.seconds, row.seconds_estimated = times.get(row.trial_id, (None, False))
    _mark_pareto(rows, dict(objective.parts) if objective is not None else {})
    return rows


def _decode(trial: TrialRecord, space: WeightSpace | None, notes: list[str]) -> tuple[dict, dict, str, dict]:
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


def _status(trial: TrialRecord, pruned_at: int | None, diverged_at: int | None) -> str:
    """keras-tuner's status, or what tuneweights knows of how the trial ended."""
    if diverged_at is not None and trial.status == "FAILED":
        return "DIVERGED"
    if pruned_at is not None and trial.status == "COMPLETED":
        return "PRUNED"
    return trial.status


def _row(
    trial: TrialRecord, objective: ShownObjective | None, state: SavedState, notes: list[str]
) -> TrialRow:
    weights, described, strategy, others = _decode(trial, state.space, notes)
    pruned_at = state.pruned.get(trial.trial_id)
    diverged_at = state.diverged.get(trial.trial_id)
    epochs = max((len(h) for h in trial.histories.values()), default=0)
    row = TrialRow(
        trial_id=trial.trial_id,
        status=_status(trial, pruned_at, diverged_at),
        epochs=epochs,
        weights=weights,
        described=described,
        strategy=strategy,
        hyperparameters=others,
        values=dict(trial.values),
        pruned_at=pruned_at,
        message=trial.message,
        diverged_at=diverged_at,
    )
    history = objective_history(trial, objective) if objective is not None else {}
    finite = {s: x for s, x in history.items() if not math.isnan(x)}
    if objective is not None and finite:
        row.epochs = len(history)
        row.objective = best_value(finite.values(), objective.direction)
        row.best_epoch = min(s for s, x in finite.items() if x == row.objective)
        if len(objective.parts) > 1:
            row.objectives = {
                n: trial.histories[n][row.best_epoch]
                for n, _ in objective.parts
                if row.best_epoch in trial.histories.get(n, {})
            }
    return row


def ranked(rows: Sequence[TrialRow], direction: str | None) -> list[TrialRow]:
    """The finished trials (completed or pruned), best first, as keras-tuner ranks them."""
    if direction is None:
        return []
    scored = [(r.objective, r) for r in rows if r.status in FINISHED and r.objective is not None]
    ordered = sorted(scored, key=lambda pair: pair[0], reverse=direction == "max")
    return [r for _, r in ordered]


def best_row(rows: Sequence[TrialRow], direction: str | None) -> TrialRow | None:
    """The first of `ranked`, None before any trial finished."""
    first = ranked(rows, direction)
    return first[0] if first else None


def _mark_pareto(rows: Sequence[TrialRow], parts: Mapping[str, str]) -> None:
    candidates = [
        r for r in rows if r.status in FINISHED and len(r.objectives) == len(parts) and len(parts) > 1
    ]
    for index in pareto.front([r.objectives for r in candidates], parts):
        candidates[index].pareto = True


# -- formatting --------------------------------------------------------------------
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


def format_cell(value: Any) -> str:
    """A cell: numbers with 5 significant digits, None as empty.

    Example:
        >>> [format_cell(0.123456789), format_cell(3), format_cell(None), format_cell("step")]
        ['0.12346', '3', '', 'step']
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def _note(row: TrialRow, width: int = 80) -> str:
    """Why a trial stopped: the divergence or pruning epoch, or the last line of a failure's message.

    Example:
        >>> _note(TrialRow("3", "PRUNED", epochs=2, pruned_at=1))
        'pruned after epoch 1'
        >>> _note(TrialRow("4", "DIVERGED", epochs=3, diverged_at=2, message="Diverged: the training..."))
        'diverged at epoch 2'
    """
    if row.diverged_at is not None:
        return f"diverged at epoch {row.diverged_at}"
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
