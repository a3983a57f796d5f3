"""State files are replaced atomically: an interrupted write leaves the old file intact."""

import json
import os

import keras_tuner as kt
import pytest

import tuneweights as tw
from tuneweights import _io
from tuneweights.search.oracle import WeightOracle
from tuneweights.space import WeightSpace


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / "state.json")
    _io.write_json_atomic(path, {"n": 1})

    def crash(obj, f, **kwargs):
        f.write('{"n": ')  # half a file, then the process "dies"
        raise KeyboardInterrupt

    monkeypatch.setattr(_io.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        _io.write_json_atomic(path, {"n": 2})
    assert json.loads(open(path).read()) == {"n": 1}
    assert os.listdir(tmp_path) == ["state.json"]  # no temporary file left behind


def test_remote_paths_are_recognised():
    assert not _io.is_local("gs://bucket/project") and _io.is_local("/tmp/x") and _io.is_local("runs/x")


def test_wrapped_oracle_writes_its_files_atomically(tmp_path, monkeypatch):
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=3, seed=1)
    oracle = WeightOracle(
        inner, WeightSpace([tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10))])
    )
    oracle._set_project_dir(str(tmp_path), "p")
    written = []
    original = _io.replace_atomically

    def spy(path, write, suffix=""):
        written.append(os.path.basename(path))
        return original(path, write, suffix)

    monkeypatch.setattr(_io, "replace_atomically", spy)
    trial = oracle.create_trial("t0")  # keras-tuner's own create_trial saves the trial and the oracle
    oracle.update_trial(trial.trial_id, {"val_a_loss": 1.0}, step=0)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    assert {"trial.json", "oracle.json", "tuneweights.json"} <= set(written)
    state = json.loads((tmp_path / "p" / "oracle.json").read_text())
    assert state["end_order"] == [trial.trial_id]
    assert (
        json.loads((tmp_path / "p" / f"trial_{trial.trial_id}" / "trial.json").read_text())["status"]
        == "COMPLETED"
    )
