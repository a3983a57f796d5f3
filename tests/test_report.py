"""The report of a search, read from its project directory alone."""

import base64
import csv
import json
import os
import re
import sys

import keras
import keras_tuner as kt
import pytest
from matplotlib.figure import Figure

import tuneweights as tw
from tests.conftest import make_data
from tuneweights import cli
from tuneweights.reporting import MISSING_MATPLOTLIB, figures, project, rebuild_space, report
from tuneweights.search.objectives import resolve
from tuneweights.search.oracle import WeightOracle
from tuneweights.space import WeightSpace

EPOCHS = 3
PNG = b"\x89PNG\r\n\x1a\n"


class Scheduled(tw.WeightedHyperModel):
    """A searched ratio, a searched schedule, and hyperparameters the report does not know."""

    terms = [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term("b", "mse", output="pred", target="yb", weight=tw.Range(0.01, 100.0)),
        tw.Term(
            "c", "mae", output="pred", target="yb", weight=tw.ScheduleSearch(families=("step", "linear"))
        ),
    ]

    def build(self, hp):
        keras.utils.set_random_seed(0)
        # names the report does not know, one of them conditional: shown as recorded
        hp.Choice("extra", ["none", "some"])
        with hp.conditional_scope("extra", ["none"]):
            hp.Float("extra/none/rate", 0.1, 3.0)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        return model


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A finished search (some trials pruned) and its report with every plot."""
    directory = tmp_path_factory.mktemp("runs")
    tuner = tw.RandomSearch(
        Scheduled(),
        objective="val_a_loss",
        max_trials=3,
        seed=3,
        directory=str(directory),
        project_name="p",
        pruner=tw.MedianStopping(warmup=1, min_trials=2),
    )
    x, y = make_data()
    tuner.search(x, y, validation_data=(x, y), epochs=EPOCHS, verbose=0)
    assert tuner.oracle.pruned, "the search must prune a trial for these tests to mean anything"
    out = directory / "out"
    return tuner, report(directory / "p", out), out


def test_rows_match_the_oracle_records(searched):
    tuner, result, _ = searched
    oracle = tuner.oracle
    assert result.objective == "val_a_loss" and result.direction == "min"
    assert [r.trial_id for r in result.rows] == sorted(oracle.trials)
    for row in result.rows:
        trial = oracle.get_trial(row.trial_id)
        steps = [o.step for o in trial.metrics.get_history("val_a_loss")]
        assert row.objective == trial.score and row.best_epoch == trial.best_step
        assert row.epochs == len(steps)
        if row.trial_id in oracle.pruned:
            assert row.status == "PRUNED" and row.pruned_at == oracle.pruned[row.trial_id]
            assert row.epochs == oracle.pruned[row.trial_id] + 1 < EPOCHS
        else:
            assert row.status == "COMPLETED" and row.pruned_at is None and row.epochs == EPOCHS
        values = trial.hyperparameters.values
        assert row.weights == tuner.hypermodel.space.decode(values).weights
        assert isinstance(row.weights["c"], tw.Schedule)
        assert row.weights["b"] == pytest.approx(values["ratio/b"])
        # names outside the weight space are shown as recorded
        assert row.hyperparameters == {k: val for k, val in values.items() if k.startswith("extra")}
    assert result.best.trial_id == oracle.get_best_trials(1)[0].trial_id
    assert result.best.weights == tuner.get_best_weights()[0]


def test_table_cells(searched):
    tuner, result, _ = searched
    columns = result.columns()
    assert columns[:5] == ["trial", "status", "epochs", "best epoch", "val_a_loss"]
    assert ["weight a", "weight b", "weight c", "extra"] == columns[5:9]
    assert columns[-2:] == ["time (s)", "note"]
    for row, cells in zip(result.rows, result.table(), strict=True):
        cell = dict(zip(columns, cells, strict=True))
        values = tuner.oracle.get_trial(row.trial_id).hyperparameters.values
        assert cell["weight b"] == f"{values['ratio/b']:g}"
        assert cell["weight c"] == row.weights["c"].describe()
        assert cell["extra"] == values["extra"]
        assert columns[9] == "extra/none/rate"  # conditional: shown where it is active
        assert cell["extra/none/rate"] == (
            f"{values['extra/none/rate']:.5g}" if values["extra"] == "none" else ""
        )
        assert float(cell["val_a_loss"]) == pytest.approx(row.objective, rel=1e-4)
        if row.status == "PRUNED":
            assert cell["note"] == f"pruned after epoch {row.pruned_at}"
    # a search run with verbose=0 records no start: times follow from the trial before
    later = result.rows[1:]
    assert all(r.seconds > 0 and r.seconds_estimated for r in later)
    assert "Best trial: " + result.best.trial_id in result.to_text()


def test_files_written(searched):
    _, result, out = searched
    assert set(result.files) == {"csv", "html", "objective_vs_weights", "learning_curves", "schedules"}
    for kind in ("objective_vs_weights", "learning_curves", "schedules"):
        assert result.files[kind] == str(out / f"{kind}.png")
        with open(result.files[kind], "rb") as f:
            assert f.read(8) == PNG
    assert "No figure 'Pareto front': the search has a single objective." in result.notes
    with open(result.files["csv"], newline="") as f:
        lines = list(csv.reader(f))
    assert lines == [result.columns(), *result.table()]


def test_html_is_self_contained(searched):
    _, result, _ = searched
    with open(result.files["html"], encoding="utf-8") as f:
        page = f.read()
    images = re.findall(r'<img alt="(\w+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [kind for kind, _ in images] == ["objective_vs_weights", "learning_curves", "schedules"]
    for kind, data in images:
        with open(result.files[kind], "rb") as f:
            assert base64.b64decode(data) == f.read()
    assert page.count("<img") == 3 and ".png" not in page.replace("data:image/png", "")
    assert page.count("<tr class=") == len(result.rows)


# -- projects written by driving the oracle as a search does -------------------------
TERMS = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.01, 100))]


def oracle_in(tmp_path, objective, terms=TERMS):
    inner = kt.oracles.RandomSearchOracle(objective, max_trials=20, seed=1)
    inner.verbose = 0
    oracle = WeightOracle(inner, WeightSpace(terms))
    oracle._set_project_dir(str(tmp_path), "p")
    return oracle


def run_trial(oracle, epochs, end=True):
    """Report `epochs` (a list of {name: value}) as the tuner does, the combined value included."""
    trial = oracle.create_trial("t0")
    for step, logs in enumerate(epochs):
        logs = dict(logs)
        if hasattr(oracle.objective, "objectives"):
            logs["multi_objective"] = oracle.objective.get_value(logs)
        oracle.update_trial(trial.trial_id, logs, step=step)
    if end:
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return trial.trial_id


def losses(a, b):
    return {"val_a_loss": a, "val_b_loss": b, "val_unweighted_loss": a + b}


def forget_objective(tmp_path):
    """Make the project one written without the objective (keras-tuner's own, or an older one)."""
    path = tmp_path / "p" / "tuneweights.json"
    state = json.loads(path.read_text())
    del state["objective"]
    path.write_text(json.dumps(state))


def test_the_saved_objective_is_shown_where_the_records_are_ambiguous(tmp_path):
    objective = resolve(["val_a_loss", "val_b_loss", "val_a_mae"], TERMS)
    oracle = oracle_in(tmp_path, objective)
    run_trial(oracle, [{**losses(2, 5), "val_a_mae": 1}, {**losses(1, 4), "val_a_mae": 0.5}])
    state = json.loads((tmp_path / "p" / "tuneweights.json").read_text())
    assert state["objective"] == [["val_a_loss", "min"], ["val_b_loss", "min"], ["val_a_mae", "min"]]
    result = report(tmp_path / "p", tmp_path / "out", plots=False)
    assert result.parts == {"val_a_loss": "min", "val_b_loss": "min", "val_a_mae": "min"}
    assert result.rows[0].objective == 5.5 and result.rows[0].best_epoch == 1
    # a saved objective that no trial recorded (a state file edited by hand) is not shown
    path = tmp_path / "p" / "tuneweights.json"
    path.write_text(json.dumps({**state, "objective": [["val_nope", "min"]]}))
    result = report(tmp_path / "p", tmp_path / "out", plots=False)
    assert result.objective == "multi_objective" and result.rows[0].objective == 5.5
    assert any("(val_nope) was recorded by no trial" in note for note in result.notes)
    # recognised from the records alone, the fewest names that add up to the same values
    forget_objective(tmp_path)
    assert report(tmp_path / "p", tmp_path / "out", plots=False).parts == {
        "val_unweighted_loss": "min",
        "val_a_mae": "min",
    }


def test_pareto_front_of_two_objectives(tmp_path):
    objective = resolve(["val_a_loss", "val_b_loss"], TERMS)
    oracle = oracle_in(tmp_path, objective)
    # (a, b) at each trial's best epoch: (1, 4), (2, 2), (3, 3), (4, 1); (3, 3) is dominated by (2, 2)
    ids = [
        run_trial(oracle, [losses(2, 5), losses(1, 4)]),
        run_trial(oracle, [losses(2, 2), losses(3, 2)]),
        run_trial(oracle, [losses(3, 3)]),
        run_trial(oracle, [losses(4, 1)]),
    ]
    result = report(tmp_path / "p", tmp_path / "out")
    assert result.parts == {"val_a_loss": "min", "val_b_loss": "min"}  # as saved
    forget_objective(tmp_path)
    result = report(tmp_path / "p", tmp_path / "out")
    # val_unweighted_loss alone equals the sum too: the parts are the two objectives
    assert result.objective == "multi_objective"
    assert result.parts == {"val_a_loss": "min", "val_b_loss": "min"}
    rows = {r.trial_id: r for r in result.rows}
    assert [rows[i].objectives for i in ids] == [
        {"val_a_loss": 1, "val_b_loss": 4},
        {"val_a_loss": 2, "val_b_loss": 2},
        {"val_a_loss": 3, "val_b_loss": 3},
        {"val_a_loss": 4, "val_b_loss": 1},
    ]
    assert [rows[i].pareto for i in ids] == [True, True, False, True]
    assert [rows[i].objective for i in ids] == [5, 4, 6, 5] and result.best.trial_id == ids[1]
    assert rows[ids[0]].best_epoch == 1 and rows[ids[1]].best_epoch == 0
    assert "pareto" in result.columns() and "pareto_front" in result.files
    assert "Objective: multi_objective (min) = val_a_loss + val_b_loss" in result.summary()


def test_a_running_search(tmp_path):
    oracle = oracle_in(tmp_path, kt.Objective("val_a_loss", "min"))
    done = run_trial(oracle, [losses(3, 1), losses(2, 1)])
    failed = run_trial(oracle, [losses(9, 1)], end=False)
    oracle.end_trial(
        kt.engine.trial.Trial(oracle.get_space(), failed, "FAILED", message="Traceback\nValueError: bad")
    )
    running = run_trial(oracle, [losses(4, 1), losses(1.5, 1)], end=False)
    os.makedirs(tmp_path / "p" / "trial_99")  # created, its file not written yet
    os.makedirs(tmp_path / "p" / "trial_98")
    (tmp_path / "p" / "trial_98" / "trial.json").write_text('{"trial_id": "98", "stat')  # not by us
    result = report(tmp_path / "p", tmp_path / "out")
    rows = {r.trial_id: r for r in result.rows}
    assert set(rows) == {done, failed, running}
    assert rows[running].status == "RUNNING" and rows[running].objective == 1.5
    assert rows[running].epochs == 2 and rows[running].best_epoch == 1
    assert rows[failed].status == "FAILED" and result.table()[1][-1] == "ValueError: bad"
    assert result.best.trial_id == done  # a running trial is not ranked yet
    assert set(result.files) == {"csv", "html", "objective_vs_weights", "learning_curves"}
    assert any(
        n.endswith(
            "trial_98/trial.json: it is truncated (its 24 characters end inside the JSON); "
            "the trial is left out (see `tuneweights check`)."
        )
        for n in result.notes
    )


PRUNED_MESSAGE = "Pruned after epoch 0 by median(percentile=50.0, warmup=1, min_trials=2)."
DIVERGED_MESSAGE = (
    "Diverged: the training loss was nan at epoch 1. The trial stopped there and is recorded as failed "
    "(never ranked best); lower the learning rate or narrow the weight ranges if many trials diverge."
)
NO_STATE_NOTE = (
    "No readable tuneweights.json (a plain keras-tuner project, or one written before it existed): "
    "hyperparameters are shown as recorded, and no trial as pruned or diverged."
)


def end_with(oracle, trial_id, status, message):
    oracle.end_trial(kt.engine.trial.Trial(oracle.get_space(), trial_id, status, message=message))


def edit_state(tmp_path, drop=(), **entries):
    """Set entries of tuneweights.json as the oracle saves them, and remove those named in `drop`."""
    path = tmp_path / "p" / "tuneweights.json"
    state = {k: val for k, val in json.loads(path.read_text()).items() if k not in drop}
    path.write_text(json.dumps({**state, **entries}))


def statuses_and_notes(result):
    return [
        (row.status, row.pruned_at, cells[-1]) for row, cells in zip(result.rows, result.table(), strict=True)
    ]


def test_pruned_trials_are_those_saved_in_the_state_file_not_those_a_message_names(tmp_path):
    oracle = oracle_in(tmp_path, kt.Objective("val_a_loss", "min"))
    saved = run_trial(oracle, [losses(3, 1)])
    worded = run_trial(oracle, [losses(4, 1), losses(5, 1)], end=False)
    end_with(oracle, worded, "COMPLETED", PRUNED_MESSAGE)
    edit_state(tmp_path, pruned={saved: 0})
    result = report(tmp_path / "p", tmp_path / "out", plots=False)
    assert [r.trial_id for r in result.rows] == [saved, worded]
    assert statuses_and_notes(result) == [("PRUNED", 0, "pruned after epoch 0"), ("COMPLETED", None, "")]
    assert result.rows[1].message == PRUNED_MESSAGE
    # a project without the state file has no pruned trials, whatever their messages say
    os.remove(tmp_path / "p" / "tuneweights.json")
    result = report(tmp_path / "p", tmp_path / "out", plots=False)
    assert statuses_and_notes(result) == [("COMPLETED", None, ""), ("COMPLETED", None, "")]
    assert result.notes == [NO_STATE_NOTE]


def test_diverged_trials_are_shown_and_never_ranked(tmp_path):
    oracle = oracle_in(tmp_path, kt.Objective("val_a_loss", "min"))
    done = run_trial(oracle, [losses(3, 1), losses(2, 1)])
    # the best objective of all, but its training loss was nan at epoch 1
    diverged = run_trial(oracle, [losses(1, 1), losses(0.5, 1)], end=False)
    end_with(oracle, diverged, "FAILED", DIVERGED_MESSAGE)
    failed = run_trial(oracle, [losses(9, 1)], end=False)
    end_with(oracle, failed, "FAILED", "Traceback\nValueError: bad")
    running = run_trial(oracle, [losses(4, 1), losses(0.25, 1)], end=False)
    # a project saved before divergence was recorded: a diverged trial is a failed one
    edit_state(tmp_path, drop=("diverged",))
    assert "diverged" not in json.loads((tmp_path / "p" / "tuneweights.json").read_text())
    result = report(tmp_path / "p", tmp_path / "out", plots=False)
    assert [r.trial_id for r in result.rows] == [done, diverged, failed, running]
    assert [(r.status, r.diverged_at) for r in result.rows] == [
        ("COMPLETED", None),
        ("FAILED", None),
        ("FAILED", None),
        ("RUNNING", None),
    ]
    assert result.table()[1][-1] == DIVERGED_MESSAGE[:77] + "..."
    # a running trial that has just diverged stays RUNNING until it ends
    edit_state(tmp_path, diverged={diverged: 1, running: 1})
    result = report(tmp_path / "p", tmp_path / "out")
    assert [(r.status, r.diverged_at) for r in result.rows] == [
        ("COMPLETED", None),
        ("DIVERGED", 1),
        ("FAILED", None),
        ("RUNNING", 1),
    ]
    assert [cells[-1] for cells in result.table()] == [
        "",
        "diverged at epoch 1",
        "ValueError: bad",
        "diverged at epoch 1",
    ]
    assert result.best.trial_id == done and result.rows[1].objective == 0.5
    assert "Trials: 4 (1 completed, 1 diverged, 1 failed, 1 running)" in result.to_text()
    with open(result.files["csv"], newline="") as f:
        assert [line[1] for line in csv.reader(f)] == ["status", "COMPLETED", "DIVERGED", "FAILED", "RUNNING"]
    with open(result.files["html"], encoding="utf-8") as f:
        page = f.read()
    assert re.findall(r'<tr class="([^"]+)">', page) == ["COMPLETED best", "DIVERGED", "FAILED", "RUNNING"]
    assert "tr.PRUNED,tr.FAILED,tr.DIVERGED{color:#888}" in page
    # figures: a diverged trial is drawn as a failed one, dashed and faded, and is no point of a weight
    trials = project.load_trials(result.project_dir, [])
    curves, _ = figures._draw_learning_curves(Figure, result, trials)
    lines = curves.axes[0].get_lines()
    assert [(line.get_linestyle(), line.get_alpha(), line.get_color()) for line in lines] == [
        ("-", 0.9, "tab:red"),
        ("--", 0.3, "tab:blue"),
        ("--", 0.3, "tab:blue"),
        ("-", 0.9, "tab:blue"),
    ]
    legend = curves.axes[0].get_legend().get_texts()
    assert [t.get_text() for t in legend] == ["best", "completed", "running", "pruned or failed"]
    points, _ = figures._draw_objective_vs_weights(Figure, result, trials)
    assert [c.get_offsets().tolist() for c in points.axes[0].collections] == [
        [[result.rows[0].values["ratio/b"], 2.0]]
    ]


def test_a_search_with_no_trial_completed_yet(tmp_path):
    oracle = oracle_in(tmp_path, kt.Objective("val_a_loss", "min"))
    run_trial(oracle, [losses(4, 1), losses(3, 1)], end=False)
    result = report(tmp_path / "p", tmp_path / "out")
    assert result.objective == "val_a_loss" and result.best is None  # the saved objective
    assert result.rows[0].objective == 3 and result.rows[0].best_epoch == 1
    forget_objective(tmp_path)
    result = report(tmp_path / "p", tmp_path / "out")
    assert result.objective is None and result.best is None
    assert [r.status for r in result.rows] == ["RUNNING"] and result.rows[0].weights["a"] == 1.0
    assert any("objective is not known yet" in n for n in result.notes)
    assert set(result.files) == {"csv", "html"}  # every plot needs the objective
    assert "Best trial: none finished yet" in result.to_text()


def test_a_given_objective(tmp_path):
    oracle = oracle_in(tmp_path, kt.Objective("val_a_loss", "min"))
    run_trial(oracle, [losses(3, 2), losses(2, 5)])
    result = report(tmp_path / "p", tmp_path / "out", plots=False, objective="val_b_loss")
    assert result.objective == "val_b_loss" and result.rows[0].objective == 2
    assert result.rows[0].best_epoch == 0
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `objective` must name recorded metrics, among \[.*'val_a_loss'.*\]\. "
        r"Received: objective='val_nope'",
    ):
        report(tmp_path / "p", tmp_path / "out", plots=False, objective="val_nope")


def test_a_keras_tuner_project_without_the_state_file(tmp_path):
    oracle = oracle_in(tmp_path, kt.Objective("val_a_loss", "max"))
    trial_id = run_trial(oracle, [losses(3, 2), losses(2, 5)])
    ratio = oracle.get_trial(trial_id).hyperparameters.values["ratio/b"]
    os.remove(tmp_path / "p" / "tuneweights.json")
    result = report(tmp_path / "p", tmp_path / "out", plots=False)
    row = result.rows[0]
    assert result.direction == "max" and row.objective == 3 and row.best_epoch == 0
    assert row.weights == {} and row.hyperparameters == {"ratio/b": ratio}
    assert "ratio/b" in result.columns()
    assert any("No readable tuneweights.json" in n for n in result.notes)


def test_a_searched_strategy_is_decoded(tmp_path):
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=20, seed=2)
    inner.verbose = 0
    space = WeightSpace(TERMS, strategy=tw.StrategySearch(["static", "uncertainty"]))
    oracle = WeightOracle(inner, space)
    oracle._set_project_dir(str(tmp_path), "p")
    for _ in range(4):
        run_trial(oracle, [losses(1, 1)])
    result = report(tmp_path / "p", tmp_path / "out", plots=False)
    assert "strategy" in result.columns()
    for row in result.rows:
        assert row.strategy.startswith(row.values["strategy"]) and row.hyperparameters == {}
    assert {row.values["strategy"] for row in result.rows} == {"static", "uncertainty"}


def test_losses_this_process_cannot_rebuild_get_named_stand_ins():
    space = WeightSpace(
        [
            tw.Term("a", "mse"),
            tw.Term("b", tw.SwitchAt("mse", "mae", at=tw.Range(0.1, 0.9, sampling="linear"))),
            tw.Term("c", "mse", weight=tw.Range(0.1, 10)),
        ]
    )
    config = json.loads(json.dumps(space.get_config()))
    custom = {"module": "my_project.losses", "class_name": "Focal", "config": {}, "registered_name": "Focal"}
    config["terms"][0]["loss"] = custom
    config["terms"][1]["loss"]["switch"]["after"] = custom
    rebuilt = rebuild_space(config)
    values = {"ratio/c": 2.0, "switch/b/at": 0.25}
    assert rebuilt.decode(values).weights == {"a": 1.0, "b": 1.0, "c": 2.0}
    assert rebuilt.decode(values).describe()["b"] == "1; loss mse -> Focal at 25% of training"


# -- errors -------------------------------------------------------------------------
def test_a_folder_that_is_not_a_project(tmp_path, searched):
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `project_dir` must be a search's project directory, holding keras-tuner's "
        r"`oracle.json` and trial_\*/trial.json .*\. Received: project_dir='.*'$",
    ):
        report(tmp_path)
    with pytest.raises(
        tw.ConfigurationError, match=r"must be an existing directory .* Received: project_dir="
    ):
        report(tmp_path / "missing")
    parent = os.path.dirname(searched[1].project_dir)
    with pytest.raises(tw.ConfigurationError, match=r"It holds the projects \['p'\]: pass one of them"):
        report(parent)
    with pytest.raises(tw.ConfigurationError, match=r"Argument `top` must be an int >= 1. Received: top=0"):
        report(searched[1].project_dir, tmp_path, top=0)


def test_missing_matplotlib(tmp_path, searched, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=re.escape(MISSING_MATPLOTLIB)):
        report(searched[1].project_dir, tmp_path)
    assert "pip install 'tuneweights[plots]'" in MISSING_MATPLOTLIB and "--no-plots" in MISSING_MATPLOTLIB
    assert not os.listdir(tmp_path)  # nothing written before the check
    assert set(report(searched[1].project_dir, tmp_path, plots=False).files) == {"csv", "html"}


# -- the command line -------------------------------------------------------------------
def test_cli_prints_the_table_and_the_files(tmp_path, searched, capsys):
    out = tmp_path / "cli"
    assert cli.main(["report", searched[1].project_dir, "--out", str(out), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "Objective: val_a_loss (min)" in printed and f"Best trial: {searched[1].best.trial_id}" in printed
    assert str(out / "report.html") in printed and sorted(os.listdir(out)) == ["report.html", "trials.csv"]


def test_cli_errors_are_one_line(tmp_path, searched, capsys, monkeypatch):
    assert cli.main(["report", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("tuneweights report: error: Argument `project_dir` must be a search's project")
    assert error.count("\n") == 1
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert cli.main(["report", searched[1].project_dir, "--out", str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err == f"tuneweights report: error: {MISSING_MATPLOTLIB}\n"
    assert cli.main([]) == 2


def test_cli_objective_option(tmp_path, searched, capsys):
    project = searched[1].project_dir
    assert (
        cli.main(["report", project, "--out", str(tmp_path), "--no-plots", "--objective", "val_b_loss:min"])
        == 0
    )
    assert "Objective: val_b_loss (min)" in capsys.readouterr().out
