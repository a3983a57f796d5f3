"""Damaged project directories: each state file damaged by hand, then `tuneweights check` and a resumed search.

One small project is made per module (about 10 s): RandomSearch over three trials of two
epochs, stopped at the end of the third trial's last epoch before it was
reported (trials 0 and 1 COMPLETED, trial 2 RUNNING with a resume checkpoint
after epoch 0). Each case copies it, damages one file, runs `check` and then
the same script with ``overwrite=False`` (a few seconds each: one kind of
damage per file in the default tier, the others under ``-m slow``).
"""

from __future__ import annotations

import json
import os
import shutil
import time

import keras
import pytest

import tuneweights as tw
from tests.conftest import TwoSources, fingerprint, make_data
from tuneweights import cli
from tuneweights._state_files import DamagedStateFile
from tuneweights.reporting import check

BUDGET = 3
EPOCHS = 2
PROJECT = "p"
BEGUN: list[tuple[int, int]] = []
STATE = {"trials": 0, "interrupt": False}


class Interrupt(keras.callbacks.Callback):
    """Stands in for a killed process: at the end of the third trial's last epoch, before it is reported."""

    def on_train_begin(self, logs=None):
        STATE["trials"] += 1

    def on_epoch_begin(self, epoch, logs=None):
        BEGUN.append((STATE["trials"], epoch))

    def on_epoch_end(self, epoch, logs=None):
        if STATE["interrupt"] and STATE["trials"] == 3 and epoch == EPOCHS - 1:
            raise KeyboardInterrupt


def script(directory, interrupt=False):
    """The user's script: the same arguments every time, overwrite=False."""
    STATE.update(trials=0, interrupt=interrupt)
    BEGUN.clear()
    tuner = tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=BUDGET,
        seed=3,
        directory=directory,
        project_name=PROJECT,
    )
    x, y = make_data()
    tuner.search(x, y, validation_data=(x, y), epochs=EPOCHS, verbose=0, callbacks=[Interrupt()])
    return tuner


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    directory = tmp_path_factory.mktemp("made")
    with pytest.raises(KeyboardInterrupt):
        script(str(directory), interrupt=True)
    project = directory / PROJECT
    statuses = [json.loads((project / f"trial_{i}" / "trial.json").read_text())["status"] for i in range(3)]
    assert statuses == ["COMPLETED", "COMPLETED", "RUNNING"]
    assert json.loads((project / "trial_2" / "resume.json").read_text())["epoch"] == 0
    return project


@pytest.fixture
def project(made, tmp_path):
    """A fresh copy of the made project: ``tmp_path/p``."""
    copy = tmp_path / PROJECT
    shutil.copytree(made, copy)
    return copy


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path):
    path.write_bytes(b"\x89not a state file\x00\xff")


def delete(path):
    path.unlink()


DAMAGE = {"truncated": truncate, "garbage": garbage, "deleted": delete}


def kinds(*names, fast):
    """Kinds of damage as pytest parameters; all but `fast` in the slow tier (each runs a search)."""
    return [pytest.param(n, marks=[] if n == fast else [pytest.mark.slow]) for n in names]


def run_check(project):
    result = check(str(project))
    assert cli.main(["check", str(project)]) == result.exit_code
    return result


def trial_state(project, trial_id):
    return json.loads((project / f"trial_{trial_id}" / "trial.json").read_text())


def assert_budget_done(tuner, statuses=("COMPLETED",) * BUDGET):
    trials = tuner.oracle.trials
    assert sorted(trials) == ["0", "1", "2"]
    assert [trials[i].status for i in sorted(trials)] == list(statuses)
    for trial_id, trial in trials.items():
        if trial.status == "COMPLETED":
            assert [o.step for o in trial.metrics.get_history("val_a_loss")] == [0, 1], trial_id


def assert_only_trial_2_ran(resumed_from):
    """No completed trial ran again; trial 2 ran from `resumed_from`."""
    assert [epoch for _, epoch in BEGUN] == list(range(resumed_from, EPOCHS))


# -- oracle.json ----------------------------------------------------------------------------
@pytest.mark.parametrize("damage", kinds(*DAMAGE, fast="truncated"))
def test_a_damaged_oracle_file_is_rebuilt_from_the_trial_files(project, damage):
    before = [trial_state(project, i) for i in range(2)]
    DAMAGE[damage](project / "oracle.json")
    result = run_check(project)
    assert result.exit_code == 1
    assert [os.path.basename(f.path) for f in result.findings] == ["oracle.json"]
    assert "rebuilt from the 3 trial files" in result.findings[0].action
    with pytest.warns(UserWarning, match="oracle.json: .*rebuilt from the 3 trial files"):
        tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert_only_trial_2_ran(1)  # from its resume checkpoint
    assert [trial_state(project, i) for i in range(2)] == before  # completed trials untouched
    assert tuner.oracle.start_order == ["0", "1", "2"]
    assert run_check(project).exit_code == 0
    assert json.loads((project / "oracle.json").read_text())["end_order"] == ["0", "1", "2"]


def test_a_damaged_hyperband_oracle_file_is_refused_and_the_directory_left_unchanged(project):
    """Hyperband keeps its brackets only in oracle.json; `check` recognises its trials by their values."""
    for trial_id in range(3):
        path = project / f"trial_{trial_id}" / "trial.json"
        state = json.loads(path.read_text())
        state["hyperparameters"]["values"]["tuner/bracket"] = 0
        path.write_text(json.dumps(state))
    truncate(project / "oracle.json")
    before = fingerprint(project)
    result = run_check(project)
    assert result.exit_code == 2
    assert "Hyperband" in result.findings[0].action
    with pytest.raises(DamagedStateFile, match=r"oracle\.json cannot be used: it is truncated .*Hyperband"):
        tw.Hyperband(
            TwoSources(),
            objective="val_a_loss",
            max_epochs=2,
            directory=str(project.parent),
            project_name=PROJECT,
        )
    assert fingerprint(project) == before


# -- tuneweights.json --------------------------------------------------------------------------
@pytest.mark.parametrize("damage", kinds("truncated", "garbage", fast="garbage"))
def test_a_damaged_tuneweights_file_is_rebuilt_from_the_tuner(project, damage):
    DAMAGE[damage](project / "tuneweights.json")
    result = run_check(project)
    assert result.exit_code == 1
    assert [os.path.basename(f.path) for f in result.findings] == ["tuneweights.json"]
    with pytest.warns(UserWarning, match="tuneweights.json: .*rebuilt from what the tuner declares"):
        tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert_only_trial_2_ran(1)
    saved = json.loads((project / "tuneweights.json").read_text())
    assert saved["space"] == TwoSources().space.get_config()
    assert saved["objective"] == [["val_a_loss", "min"]]


def test_a_damaged_tuneweights_file_without_an_oracle_file_is_refused(project):
    garbage(project / "tuneweights.json")
    delete(project / "oracle.json")
    before = fingerprint(project)
    result = run_check(project)
    assert result.exit_code == 2
    assert [f.blocking for f in result.findings] == [False, True]
    with pytest.raises(
        DamagedStateFile,
        match=r"tuneweights\.json cannot be used: it is not JSON .*only when oracle\.json is intact",
    ):
        script(str(project.parent))
    assert fingerprint(project) == before


# -- tuner0.json -------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", kinds(*DAMAGE, fast="deleted"))
def test_a_damaged_tuner_file_never_starts_the_search_over(project, damage):
    oracle_before = json.loads((project / "oracle.json").read_text())
    DAMAGE[damage](project / "tuner0.json")
    assert [os.path.basename(f.path) for f in run_check(project).findings] == ["tuner0.json"]
    with pytest.warns(UserWarning, match="tuner0.json: .*(rewritten)"):
        tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert_only_trial_2_ran(1)
    assert json.loads((project / "tuner0.json").read_text()) == {}
    assert json.loads((project / "oracle.json").read_text())["seed"] == oracle_before["seed"]


# -- trial.json ------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", kinds(*DAMAGE, fast="garbage"))
def test_an_unreadable_trial_file_is_quarantined_and_its_trial_recorded_failed(project, damage):
    files = sorted(os.listdir(project / "trial_1"))
    DAMAGE[damage](project / "trial_1" / "trial.json")
    result = run_check(project)
    assert result.exit_code == 1
    assert [os.path.relpath(f.path, project) for f in result.findings] == [
        os.path.join("trial_1", "trial.json")
    ]
    assert "recorded as FAILED" in result.findings[0].action
    with pytest.warns(UserWarning, match="trial_1/trial.json: .*moved to .*damaged/trial_1-1"):
        tuner = script(str(project.parent))
    assert_budget_done(tuner, ("COMPLETED", "FAILED", "COMPLETED"))
    assert_only_trial_2_ran(1)
    assert "damaged/trial_1-1" in tuner.oracle.trials["1"].message
    kept = sorted(os.listdir(project / "damaged" / "trial_1-1"))
    assert kept == [f for f in files if damage != "deleted" or f != "trial.json"]  # nothing deleted
    assert trial_state(project, "1")["status"] == "FAILED"
    assert run_check(project).exit_code == 0


def test_a_trial_file_missing_a_key_runs_its_trial_again_from_its_checkpoint(project):
    path = project / "trial_2" / "trial.json"
    state = json.loads(path.read_text())
    del state["status"]
    path.write_text(json.dumps(state))
    result = run_check(project)
    assert result.findings[0].problem == "its key `status` is missing"
    assert (
        "runs again with its hyperparameters and records, from its resume checkpoint"
        in result.findings[0].action
    )
    with pytest.warns(UserWarning, match="trial_2/trial.json: its key `status` is missing"):
        tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert_only_trial_2_ran(1)
    assert tuner.oracle.trials["2"].hyperparameters.values == state["hyperparameters"]["values"]
    assert os.path.exists(project / "damaged" / "trial_2-1" / "trial.json")


@pytest.mark.slow
def test_a_trial_file_with_unreadable_records_runs_its_trial_again_from_epoch_0(project):
    path = project / "trial_2" / "trial.json"
    state = json.loads(path.read_text())
    state["metrics"] = "garbage"
    path.write_text(json.dumps(state))
    result = run_check(project)
    assert result.findings[0].problem == "its key `metrics` holds a str where an object is expected"
    with pytest.warns(UserWarning, match="from epoch 0"):
        tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert_only_trial_2_ran(0)


# -- resume.json and the resume arrays ------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("resume.json", "truncated"),
        pytest.param("resume.json", "garbage", marks=pytest.mark.slow),
        pytest.param("resume.json", "deleted", marks=pytest.mark.slow),
        pytest.param("resume-0.npz", "truncated", marks=pytest.mark.slow),
        pytest.param("resume-0.npz", "garbage", marks=pytest.mark.slow),
        ("resume-0.npz", "deleted"),
    ],
)
def test_a_damaged_resume_checkpoint_restarts_its_trial_from_epoch_0(project, name, damage):
    DAMAGE[damage](project / "trial_2" / name)
    result = run_check(project)
    if (name, damage) == ("resume.json", "deleted"):
        assert result.exit_code == 0  # as after a crash within the first epoch: nothing to resume from
    else:
        assert result.exit_code == 1
        assert [os.path.relpath(f.path, project) for f in result.findings] == [os.path.join("trial_2", name)]
        assert "trial 2 restarts from epoch 0" in result.findings[0].action
    tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert_only_trial_2_ran(0)


# -- the best-epoch checkpoint ----------------------------------------------------------------
@pytest.mark.parametrize("damage", kinds("truncated", "deleted", fast="deleted"))
def test_a_damaged_best_epoch_checkpoint_lets_the_search_go_on_and_names_the_file(project, damage):
    DAMAGE[damage](project / "trial_0" / "checkpoint.weights.h5")
    result = run_check(project)
    if damage == "deleted":
        assert result.exit_code == 1
        assert "trial 0 is missing" in result.findings[0].problem
    tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert_only_trial_2_ran(1)
    trial = tuner.oracle.trials["0"]
    problem = "is missing" if damage == "deleted" else "cannot be loaded"
    with pytest.raises(
        DamagedStateFile,
        match=rf"trial_0/checkpoint\.weights\.h5 cannot be used: the best-epoch checkpoint of trial 0 {problem}",
    ):
        tuner.load_model(trial)
    hps = tuner.get_best_hyperparameters(BUDGET)
    assert len(hps) == BUDGET
    if tuner.oracle.get_best_trials(1)[0].trial_id == "0":
        with pytest.raises(DamagedStateFile, match="trial 0"):
            tuner.get_best_models(1)


# -- leftover temporary files ------------------------------------------------------------------
def test_leftover_temporary_files_are_listed_and_removed(project):
    leftovers = [project / ".tmp-abcd1234.json", project / "trial_2" / ".tmp-wxyz5678.npz"]
    old = time.time() - 3600
    for path in leftovers:
        path.write_bytes(b"{")
        os.utime(path, (old, old))
    result = run_check(project)
    assert result.exit_code == 1
    assert sorted(f.path for f in result.findings) == sorted(map(str, leftovers))
    tuner = script(str(project.parent))
    assert_budget_done(tuner)
    assert not any(path.exists() for path in leftovers)


def test_check_of_the_made_project_is_clean_and_changes_nothing(made):
    before = fingerprint(made)
    result = run_check(made)
    assert result.exit_code == 0
    assert result.findings == []
    assert "No problem found" in result.to_text()
    assert fingerprint(made) == before
