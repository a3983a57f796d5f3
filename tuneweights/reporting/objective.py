"""The objective a report shows: given, saved by the tuner, or recognised from the trials.

See the package's docstring for how an objective is recognised in a project
written without it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import keras_tuner as kt

from tuneweights import _validation as v
from tuneweights.reporting.project import TrialRecord
from tuneweights.search import objectives as objectives_module
from tuneweights.search.oracle import STATE_FILE
from tuneweights.space import WeightSpace

MULTI_OBJECTIVE = "multi_objective"
# Names that add up other logged names: a multi-objective is explained by its parts first.
_SUMS = ("loss", "unweighted_loss")
_MAX_PARTS = 4
_MAX_SETS = 200_000  # sets of names of one size tried as a multi-objective's parts
_NOT_OBJECTIVES = ("_weight", "_switch_epoch")


@dataclasses.dataclass(frozen=True)
class ShownObjective:
    """The objective shown: its name (``multi_objective`` with several), direction and parts."""

    name: str
    direction: str
    parts: tuple[tuple[str, str], ...]


def _of_parts(parts: Sequence[tuple[str, str]]) -> ShownObjective:
    if len(parts) == 1:
        return ShownObjective(parts[0][0], parts[0][1], tuple(parts))
    return ShownObjective(MULTI_OBJECTIVE, "min", tuple(parts))


def choose_objective(
    objective: Any,
    saved: Any,
    trials: Sequence[TrialRecord],
    space: WeightSpace | None,
    notes: list[str],
) -> ShownObjective | None:
    """The objective to show: the one given, else the saved one, else the one recognised.

    Args:
        objective: The objective given to `report` (None when not given).
        saved: The objective saved in ``tuneweights.json``, as saved.
        trials: The trials read.
        space: The weight space (for the directions of its terms' names).
        notes: Where to say what could not be recognised.

    Returns:
        The objective, or None while it is not known.

    Raises:
        ConfigurationError: a given `objective` is malformed or names metrics
            no trial recorded.
    """
    if objective is not None:
        return _resolve_objective(objective, trials, space)
    found = _saved_objective(saved)
    if found is not None and _recorded_anywhere(found, trials, notes):
        return found
    inferred = _infer_objective(trials)
    if inferred is None:
        notes.append(
            "The objective is not known yet: no trial has completed (pass `objective=`, "
            "`--objective` on the command line, to show it)."
        )
        return None
    name, direction, parts = inferred
    if name == MULTI_OBJECTIVE and not parts:
        notes.append(
            "The parts of the multi-objective could not be recognised from the logged names "
            "(pass `objective=`, `--objective` on the command line): no Pareto front."
        )
    return ShownObjective(name, direction, parts)


def _saved_objective(saved: Any) -> ShownObjective | None:
    """The objective the tuner saved (`search.oracle.objective_parts`); None if absent or malformed."""
    try:
        parts = tuple((str(name), str(direction)) for name, direction in saved)
    except (TypeError, ValueError):
        return None
    if not parts or any(direction not in ("min", "max") for _, direction in parts):
        return None
    return _of_parts(parts)


def _recorded_anywhere(objective: ShownObjective, trials: Sequence[TrialRecord], notes: list[str]) -> bool:
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


def _resolve_objective(
    objective: Any, trials: Sequence[TrialRecord], space: WeightSpace | None
) -> ShownObjective:
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
    return _of_parts(parts)


def objective_history(trial: TrialRecord, objective: ShownObjective) -> dict[int, float]:
    """``{epoch: value}`` of the objective in one trial."""
    if objective.name in trial.histories:
        return trial.histories[objective.name]
    # A multi-objective given to `report` that the search did not log: its signed sum.
    histories = [(trial.histories.get(n, {}), 1.0 if d == "min" else -1.0) for n, d in objective.parts]
    steps = set.intersection(*(set(h) for h, _ in histories)) if histories else set()
    return {s: sum(sign * h[s] for h, sign in histories) for s in sorted(steps)}


def best_value(values: Iterable[float], direction: str) -> float:
    """The best of `values` that is not nan.

    Example:
        >>> best_value([3.0, float("nan"), 1.0], "min"), best_value([3.0, 1.0], "max")
        (1.0, 3.0)
    """
    finite = [x for x in values if not math.isnan(x)]
    return min(finite) if direction == "min" else max(finite)


# -- recognising the objective from the records -----------------------------------
def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _preference(name: str) -> tuple[bool, bool, str]:
    """Validation names first, sums of other names last."""
    base = name[4:] if name.startswith("val_") else name
    return (not name.startswith("val_"), base in _SUMS, name)


def _scored(trials: Sequence[TrialRecord]) -> list[TrialRecord]:
    return [
        t
        for t in trials
        if t.status == "COMPLETED"
        and t.score is not None
        and not math.isnan(t.score)
        and t.best_step is not None
    ]


def _single_candidates(trial: TrialRecord) -> set[str]:
    """Names whose best value is the trial's score, reached at its best step."""
    names = set()
    for name, history in trial.histories.items():
        if history and _same(history.get(trial.best_step or 0), trial.score):
            if _same(best_value(history.values(), trial.directions[name]), trial.score):
                names.add(name)
    return names


def _signs(trials: Sequence[TrialRecord]) -> dict[str, float]:
    signs: dict[str, float] = {}
    for trial in trials:
        for name, direction in trial.directions.items():
            signs.setdefault(name, 1.0 if direction == "min" else -1.0)
    return signs


def _part_candidates(
    trials: Sequence[TrialRecord], points: Sequence[tuple[TrialRecord, int, float]]
) -> list[str]:
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


def _infer_parts(trials: Sequence[TrialRecord]) -> tuple[tuple[str, str], ...]:
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


def _infer_objective(
    trials: Sequence[TrialRecord],
) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    """The search's objective, recognised from its trials (see the package's docstring).

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
