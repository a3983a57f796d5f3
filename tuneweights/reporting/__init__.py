"""The results of a search, read from its project directory alone.

`report` reads keras-tuner's ``oracle.json`` and ``trial_*/trial.json`` and
tuneweights' ``tuneweights.json`` (the weight space, the objective, and the
pruned and diverged trials); it needs neither the hypermodel nor the script
that ran the search, and it works while the search is still running (every
file is written atomically).

It returns a `Report`: one `TrialRow` per trial (decoded weights, schedules
and switches, the other hyperparameters as recorded, the objective, status,
epochs and time) and the best configuration, and writes to its output folder:

* ``trials.csv``: the table;
* ``objective_vs_weights.png``: the objective against each searched weight
  (``ratio/<term>`` or ``weight/<term>``);
* ``learning_curves.png``: the objective per epoch of every trial, pruned,
  failed and diverged trials faded;
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

`check` lists what is damaged in a project directory and what the next search
does about it, without changing anything.

One module per job: `project` reads the files, `objective` settles the
objective, `rows` builds and tabulates the rows, `output` writes the CSV and
HTML files, `figures` draws.
"""

from __future__ import annotations

import os
from typing import Any

from tuneweights import _validation as v
from tuneweights.reporting.check import CheckResult, check
from tuneweights.reporting.figures import MISSING_MATPLOTLIB, draw_all, load_figure_class
from tuneweights.reporting.objective import choose_objective
from tuneweights.reporting.output import write_csv, write_html
from tuneweights.reporting.project import (
    check_project_dir,
    durations,
    load_state,
    load_trials,
    rebuild_space,
)
from tuneweights.reporting.rows import Report, TrialRow, best_row, build_rows, format_table

__all__ = [
    "MISSING_MATPLOTLIB",
    "CheckResult",
    "Report",
    "TrialRow",
    "check",
    "check_project_dir",
    "format_table",
    "rebuild_space",
    "report",
]


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
            the package's docstring).
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
    figure_class = load_figure_class() if plots else None
    notes: list[str] = []
    state = load_state(path, notes)
    trials = load_trials(path, notes)
    chosen = choose_objective(objective, state.objective, trials, state.space, notes)
    rows = build_rows(trials, chosen, state, durations(path, trials, notes), notes)
    result = Report(
        project_dir=path,
        objective=chosen.name if chosen is not None else None,
        direction=chosen.direction if chosen is not None else None,
        parts=dict(chosen.parts) if chosen is not None else {},
        rows=rows,
        best=best_row(rows, chosen.direction if chosen is not None else None),
        notes=notes,
    )
    out = os.fspath(out_dir) if out_dir is not None else os.path.join(path, "report")
    os.makedirs(out, exist_ok=True)
    result.files["csv"] = write_csv(result, os.path.join(out, "trials.csv"))
    if figure_class is not None:
        result.files.update(draw_all(figure_class, result, trials, out, top))
    result.files["html"] = write_html(result, os.path.join(out, "report.html"))
    return result
