"""The report's figures, drawn with matplotlib's `Figure` (no pyplot: no window, no global state).

matplotlib is an optional dependency, imported only when a report draws.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from typing import Any

from tuneweights import plots
from tuneweights.reporting.project import TrialRecord
from tuneweights.reporting.rows import FINISHED, STOPPED_EARLY, Report, TrialRow, format_cell, ranked
from tuneweights.schedules import Schedule
from tuneweights.space import RATIO_PREFIX, WEIGHT_PREFIX

MISSING_MATPLOTLIB = (
    "The report's plots need matplotlib, an optional dependency: pip install 'tuneweights[plots]' "
    "(or pass plots=False, `--no-plots` on the command line, for the table and the HTML without plots)"
)
TITLES = {
    "objective_vs_weights": "Objective against each searched weight",
    "learning_curves": "Learning curves",
    "schedules": "Weights of the best trials over training",
    "pareto_front": "Pareto front",
}


def load_figure_class() -> Any:
    """matplotlib's `Figure`, or an error saying how to install matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(MISSING_MATPLOTLIB) from error
    return Figure


def draw_all(
    figure_class: Any, result: Report, trials: Sequence[TrialRecord], out: str, top: int
) -> dict[str, str]:
    """Draw and save every figure that the search's records allow; a note for each other.

    Returns:
        ``{kind: path}`` of the figures saved, in `TITLES` order.
    """
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
            result.notes.append(f"No figure '{TITLES[kind]}': {reason}.")
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


# -- the objective against each weight ----------------------------------------------
def _draw_objective_vs_weights(figure_class: Any, result: Report, trials: Sequence[TrialRecord]) -> tuple:
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
                if row.status not in FINISHED or y is None or name not in row.values:
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


# -- learning curves ------------------------------------------------------------------
def _curve_handles(rows: Sequence[TrialRow]) -> list[Any]:
    from matplotlib.lines import Line2D

    statuses = {r.status for r in rows}
    handles = [Line2D([], [], color="tab:red", linewidth=2.2, label="best")]
    handles.append(Line2D([], [], color="tab:blue", label="completed"))
    if "RUNNING" in statuses:
        handles.append(Line2D([], [], color="tab:blue", marker="o", markersize=3, label="running"))
    if statuses & set(STOPPED_EARLY):
        handles.append(Line2D([], [], color="tab:blue", alpha=0.3, linestyle="--", label="pruned or failed"))
    return handles


def _draw_learning_curves(figure_class: Any, result: Report, trials: Sequence[TrialRecord]) -> tuple:
    """The objective per epoch of every trial: ``(figure, "")``, or ``(None, why not)``.

    The best trial is drawn in red; trials that stopped early (pruned, failed,
    diverged) dashed and faded; running trials with dots.
    """
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
            faded = row.status in STOPPED_EARLY
            ax.plot(
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


def _spread(trials: Sequence[TrialRecord], name: str) -> bool:
    values = [x for t in trials for x in t.histories.get(name, {}).values() if math.isfinite(x)]
    return bool(values) and min(values) > 0 and max(values) / min(values) > 20


# -- schedules ------------------------------------------------------------------------
def _horizon(row: TrialRow, trials: Sequence[TrialRecord]) -> int:
    """The planned epochs of a trial: Hyperband's ``tuner/epochs``, else the longest trial's."""
    planned = row.values.get("tuner/epochs")
    if isinstance(planned, int) and planned >= 1:
        return planned
    last = [max(h) for t in trials for h in t.histories.values() if h]
    return max(last, default=0) + 1


def _draw_schedules(figure_class: Any, result: Report, trials: Sequence[TrialRecord], top: int) -> tuple:
    best_first = ranked(result.rows, result.direction)
    chosen = [r for r in best_first if any(isinstance(w, Schedule) for w in r.weights.values())][:top]
    if not chosen:
        return None, "no finished trial has a scheduled weight"
    by_id = {t.trial_id: t for t in trials}
    figure, axes = _grid(figure_class, 1, len(chosen), size=(5.0, 3.5))
    for ax, row in zip(axes[0], chosen, strict=True):
        title = f"trial {row.trial_id}: {result.objective} = {format_cell(row.objective)}"
        plots.plot_weights(row.weights, _horizon(row, trials), ax=ax, title=title)
        for line, term in zip(ax.get_lines(), row.weights, strict=True):
            logged = by_id[row.trial_id].histories.get(f"{term}_weight", {})
            steps = sorted(logged)
            ax.plot(steps, [logged[s] for s in steps], "o", color=line.get_color(), markersize=3)
        ax.title.set_fontsize("small")
    axes[0][0].annotate("lines: decoded; dots: logged per epoch", (0.0, -0.25), xycoords="axes fraction")
    return figure, ""


# -- the Pareto front -------------------------------------------------------------------
def _draw_pareto(figure_class: Any, result: Report) -> tuple:
    if len(result.parts) < 2:
        return None, "the search has a single objective"
    names = list(result.parts)
    pairs = list(itertools.combinations(names, 2))[:6]
    figure, axes = _grid(figure_class, 1, len(pairs))
    rows = [r for r in result.rows if r.status in FINISHED and len(r.objectives) == len(names)]
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
