"""State files are replaced atomically: an interrupted write leaves the old file intact.

A replaced file gets the mode a plain `open` would give it, and the temporary files of
interrupted writes are removed when the project is opened again.
"""

import json
import os
import shutil
import stat
import time

import keras_tuner as kt
import pytest

import tuneweights as tw
from tests.conftest import TwoSources, make_data
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


def plant(path, age):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{")
    modified = time.time() - age
    os.utime(path, (modified, modified))
    return path


@pytest.mark.parametrize("suffix", [".json", ".npz", ".weights.h5"])
def test_the_temporary_files_of_writes_are_named_as_the_cleaner_expects(tmp_path, suffix):
    names = []
    _io.replace_atomically(
        str(tmp_path / f"f{suffix}"), lambda tmp: names.append(os.path.basename(tmp)), suffix
    )
    assert _io._TEMPORARY_NAME.fullmatch(names[0])


def test_leftovers_older_than_the_safe_age_are_removed_and_nothing_else(tmp_path):
    old = _io.LEFTOVER_AGE + 60
    removed = [
        plant(tmp_path / ".tmp-ab_12cde.json", old),
        plant(tmp_path / "trial_0" / ".tmp-x9y8z7w6.weights.h5", old),
        plant(tmp_path / "trial_12" / ".tmp-a1b2c3d4.npz", old),
    ]
    kept = [
        plant(tmp_path / ".tmp-fresh123.json", _io.LEFTOVER_AGE - 60),  # may be another process's write
        plant(tmp_path / "trial_0" / ".tmp-fresh456.npz", 1),
        plant(tmp_path / ".tmp-notes.txt", old),  # not a name mkstemp gives
        plant(tmp_path / ".tmp-ABCDEFGH.json", old),
        plant(tmp_path / "tmp-abcdefgh.json", old),
        plant(tmp_path / "x.tmp-abcdefgh.json", old),
        plant(tmp_path / "oracle.json", old),
        plant(tmp_path / "trial_0" / "trial.json", old),
        plant(tmp_path / "other" / ".tmp-abcdefgh.json", old),  # not a trial directory
        plant(tmp_path / "trial_0" / "nested" / ".tmp-abcdefgh.json", old),
    ]
    (tmp_path / "trial_1" / ".tmp-abcdefgh").mkdir(parents=True)  # a directory of that name
    os.symlink(tmp_path / "oracle.json", tmp_path / ".tmp-linked12.json")
    assert sorted(_io.remove_leftovers(str(tmp_path))) == sorted(map(str, removed))
    assert not any(p.exists() for p in removed)
    assert all(p.exists() for p in kept)
    assert (tmp_path / "trial_1" / ".tmp-abcdefgh").is_dir() and (
        tmp_path / ".tmp-linked12.json"
    ).is_symlink()


def test_a_missing_project_directory_has_no_leftovers(tmp_path):
    assert _io.remove_leftovers(str(tmp_path / "none")) == []


@pytest.fixture(scope="module")
def finished_project(tmp_path_factory):
    directory = tmp_path_factory.mktemp("runs")
    x, y = make_data()
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=1, directory=str(directory), project_name="p"
    )
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    (trial_dir,) = (directory / "p").glob("trial_*")
    return directory, trial_dir.name


def files_of(directory):
    return {
        str(path.relative_to(directory)): (path.read_bytes(), path.stat().st_mode, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def reopen(directory):
    return tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=1, directory=str(directory), project_name="p"
    )


def test_reopening_a_project_removes_the_leftovers_of_interrupted_writes(finished_project, tmp_path):
    source, trial = finished_project
    shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    project = tmp_path / "p"
    before = files_of(tmp_path)
    old = _io.LEFTOVER_AGE + 60
    leftovers = [
        plant(project / ".tmp-k1ll3d0a.json", old),
        plant(project / trial / ".tmp-k1ll3d0b.npz", old),
    ]
    fresh = plant(project / trial / ".tmp-wr1t1ng0.weights.h5", 0)
    reopen(tmp_path)
    assert not any(p.exists() for p in leftovers)
    assert fresh.exists()
    fresh.unlink()
    assert files_of(tmp_path) == before  # every other file untouched: bytes, mode and time


def test_a_distributed_worker_leaves_the_cleaning_to_the_chief(finished_project, tmp_path, monkeypatch):
    source, trial = finished_project
    shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    leftover = plant(tmp_path / "p" / trial / ".tmp-k1ll3d0c.json", _io.LEFTOVER_AGE + 60)
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")  # never contacted: opening asks the chief nothing
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    reopen(tmp_path)
    assert leftover.exists()
    shutil.copy(
        tmp_path / "p" / "tuner0.json", tmp_path / "p" / "chief.json"
    )  # a chief restarted: it reloads
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    reopen(tmp_path)
    assert not leftover.exists()
