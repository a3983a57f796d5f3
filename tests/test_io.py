"""State files are replaced atomically: an interrupted write leaves the old file intact.

A replaced file gets the mode a plain `open` would give it.
"""

import json
import os
import stat

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


@pytest.fixture
def umask():
    """Set the process's umask for a test; the previous one is put back after it."""
    previous = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077], ids=oct)
def test_a_new_file_gets_the_mode_a_plain_open_gives_under_the_umask(tmp_path, umask, mask):
    umask(mask)
    _io.write_json_atomic(str(tmp_path / "state.json"), {"n": 1})
    with open(tmp_path / "plain.json", "w"):
        pass
    assert mode(tmp_path / "state.json") == 0o666 & ~mask == mode(tmp_path / "plain.json")


@pytest.mark.parametrize("existing", [0o640, 0o604, 0o444], ids=oct)
def test_an_overwritten_file_keeps_its_mode_whatever_the_umask(tmp_path, umask, existing):
    umask(0o077)
    path = str(tmp_path / "state.json")
    _io.write_json_atomic(path, {"n": 1})
    os.chmod(path, existing)
    _io.write_json_atomic(path, {"n": 2})
    assert mode(path) == existing
    assert json.loads(open(path).read()) == {"n": 2}


def test_a_writer_that_recreates_its_file_still_gives_it_the_mode(tmp_path, umask):
    umask(0o002)
    path = str(tmp_path / "model.weights.h5")

    def write(tmp):
        os.unlink(tmp)  # as a library that deletes, then creates, the file it is given
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)

    _io.replace_atomically(path, write, suffix=".weights.h5")
    assert mode(path) == 0o664


@pytest.mark.parametrize(
    "status", ["/proc/self/status", "/nonexistent/status"]
)  # read there, or set and put back
def test_the_umask_is_read_without_being_changed(umask, monkeypatch, status):
    monkeypatch.setattr(_io, "_STATUS", status)
    umask(0o027)
    assert _io.current_umask() == 0o027
    assert os.umask(0o027) == 0o027
