"""The one loader of state files: every damage named, with the file, in one error class."""

from __future__ import annotations

import json

import keras_tuner as kt
import pytest

import tuneweights as tw
from tuneweights import ConfigurationError, cli
from tuneweights._state_files import DamagedStateFile, read_state
from tuneweights.search import recovery, resume


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", r"it is empty \(truncated to 0 bytes\)"),
        (b'{"epoch": 3, "fi', r"it is truncated \(its 16 characters end inside the JSON\)"),
        (b'{"epoch": 3,', r"it is truncated \(its 12 characters end inside the JSON\)"),
        (b"garbage", r"it is not JSON \(Expecting value at line 1, column 1\)"),
        (b"\xff\xfe\x00", r"it is not JSON \(not UTF-8 text: invalid start byte\)"),
        (b"[1, 2]", r"it holds a list where a JSON object is expected"),
        (b'{"file": "resume-3.npz"}', r"its key `epoch` is missing"),
        (b'{"epoch": "3", "file": "x"}', r"its key `epoch` holds a str where an integer is expected"),
        (b'{"epoch": true, "file": "x"}', r"its key `epoch` holds a bool where an integer is expected"),
    ],
)
def test_a_damaged_file_is_named_with_what_is_wrong_and_what_to_do(tmp_path, content, problem):
    path = tmp_path / "resume.json"
    path.write_bytes(content)
    with pytest.raises(
        DamagedStateFile,
        match=rf"^The state file {path} cannot be used: {problem}\. Run `tuneweights check DIR/PROJECT`",
    ) as caught:
        read_state(str(path), {"epoch": int, "file": str})
    assert caught.value.path == str(path)
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, kt.errors.FatalError)  # raised inside a trial, it stops the search


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DamagedStateFile, match=r"oracle\.json cannot be used: it is missing\. Run"):
        read_state(str(tmp_path / "oracle.json"))


def test_a_number_may_be_an_int_and_null_is_accepted_where_declared(tmp_path):
    path = tmp_path / "trial.json"
    path.write_text(json.dumps({"score": 1, "best_step": None}))
    assert read_state(str(path), {"score": (float, type(None)), "best_step": (int, type(None))}) == {
        "score": 1,
        "best_step": None,
    }


def test_a_trial_file_of_another_trial_or_status_is_damaged(tmp_path):
    trial = kt.engine.trial.Trial(kt.HyperParameters(), trial_id="01", status="COMPLETED")
    path = tmp_path / "trial.json"
    path.write_text(json.dumps(trial.get_state()))
    assert recovery.read_trial(str(path), "01").status == "COMPLETED"
    with pytest.raises(DamagedStateFile, match=r"it holds trial '01', not '02' of its directory"):
        recovery.read_trial(str(path), "02")
    path.write_text(json.dumps({**trial.get_state(), "status": "DONE"}))
    with pytest.raises(DamagedStateFile, match=r"its status 'DONE' is not one of \['COMPLETED', "):
        recovery.read_trial(str(path), "01")


def test_a_resume_checkpoint_naming_a_missing_array_file_counts_as_none(tmp_path):
    (tmp_path / "resume.json").write_text(json.dumps({"epoch": 2, "file": "resume-2.npz"}))
    assert resume.last_epoch(str(tmp_path)) is None
    damage = resume.damage(str(tmp_path))
    assert damage is not None
    assert str(damage) == (
        f"The state file {tmp_path / 'resume-2.npz'} cannot be used: it is missing, though "
        f"{tmp_path / 'resume.json'} names it. The trial restarts from epoch 0 (its per-epoch records are dropped)."
    )


def test_a_missing_resume_checkpoint_is_damage_only_after_a_second_recorded_epoch(tmp_path):
    assert resume.damage(str(tmp_path), last_recorded=0) is None  # killed within epoch 1: nothing lost
    damage = resume.damage(str(tmp_path), last_recorded=3)
    assert damage is not None
    assert damage.problem == "it is missing, though the trial recorded epochs up to 3"


def test_numbered_trials_that_are_gone_are_found_so_that_no_id_is_given_twice(tmp_path):
    for trial_id in ("00", "02"):
        trial = kt.engine.trial.Trial(kt.HyperParameters(), trial_id=trial_id, status="COMPLETED")
        (tmp_path / f"trial_{trial_id}").mkdir()
        (tmp_path / f"trial_{trial_id}" / "trial.json").write_text(json.dumps(trial.get_state()))
    (tmp_path / "trial_03").mkdir()  # made by a process killed before it wrote the trial: never started
    found = recovery.survey(str(tmp_path))
    assert list(found.trials) == ["00", "02"]
    assert list(found.damaged) == ["01"]
    assert found.damaged["01"].error.problem == "it is missing, with its directory"
    action = recovery.findings(found)[-1].action
    assert action.startswith(
        "it has no directory; its hyperparameters cannot be read, so trial 01 is recorded as FAILED"
    )


def test_check_refuses_a_folder_that_is_no_project_with_exit_code_2(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path)]) == 2
    assert (
        "Argument `project_dir` must be a search's project directory, holding oracle.json"
        in capsys.readouterr().err
    )
    assert tw.DamagedStateFile is DamagedStateFile
