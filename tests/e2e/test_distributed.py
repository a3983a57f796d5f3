"""keras-tuner's distributed mode: a real chief and two workers on 127.0.0.1, on each Keras backend."""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.e2e.scripts import backends

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_script.py")
TRIALS, EPOCHS = 6, 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(role, directory, port, *flags, backend="tensorflow"):
    env = dict(
        os.environ,
        KERAS_BACKEND=backend,
        KERASTUNER_TUNER_ID=role,
        KERASTUNER_ORACLE_IP="127.0.0.1",
        KERASTUNER_ORACLE_PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    log = open(os.path.join(directory, f"{role}-{time.time_ns()}.log"), "w")
    return subprocess.Popen(
        [sys.executable, SCRIPT, directory, *flags], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait(process, timeout, directory):
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        logs = "".join(open(p).read()[-2000:] for p in glob.glob(os.path.join(directory, "*.log")))
        pytest.fail(f"a process did not finish in {timeout}s\n{logs}")


def check_results(directory):
    project = os.path.join(directory, "dist")
    trials = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(project, "trial_*", "trial.json")))]
    assert len(trials) == TRIALS
    assert all(t["status"] == "COMPLETED" for t in trials), [t["status"] for t in trials]
    oracle = json.load(open(os.path.join(project, "oracle.json")))
    assert oracle["run_times"] == {t["trial_id"]: 1 for t in trials}  # each trial ran to its end once
    assert sorted(oracle["end_order"]) == sorted(t["trial_id"] for t in trials)
    state = json.load(open(os.path.join(project, "tuneweights.json")))
    for trial in trials:
        steps = [o["step"] for o in trial["metrics"]["metrics"]["val_a_loss"]["observations"]]
        values = [o["value"] for o in trial["metrics"]["metrics"]["val_a_loss"]["observations"]]
        expected = state["pruned"].get(trial["trial_id"], EPOCHS - 1) + 1
        assert steps == list(range(expected)) and all(len(v) == 1 for v in values)
        assert "schedule/b/family" in trial["hyperparameters"]["values"]  # flat scalars crossed gRPC
    return state


def logs_of(directory):
    return "".join(open(p).read()[-3000:] for p in glob.glob(os.path.join(directory, "*.log")))


@pytest.mark.parametrize("backend", backends("tensorflow", "jax", "torch", slow=("jax", "torch")))
def test_chief_and_two_workers_run_every_trial_once(tmp_path, backend):
    directory, port = str(tmp_path), free_port()
    chief = start("chief", directory, port, backend=backend)
    workers = [start(f"tuner{i}", directory, port, backend=backend) for i in range(2)]
    for worker in workers:
        assert wait(worker, 240, directory) == 0, logs_of(directory)
    assert wait(chief, 120, directory) == 0, logs_of(directory)
    state = check_results(directory)
    assert state["pruned"], "pruning decisions should reach the workers"
    beats = {os.path.basename(p).split("-")[1] for p in glob.glob(os.path.join(directory, "beat-*"))}
    assert beats == {"tuner0", "tuner1"}  # both workers trained


@pytest.mark.slow
def test_search_finishes_when_a_killed_worker_is_restarted(tmp_path):
    directory, port = str(tmp_path), free_port()
    chief = start("chief", directory, port)
    steady = start("tuner0", directory, port, "--slow")
    doomed = start("tuner1", directory, port, "--slow")
    deadline = time.time() + 120
    while not glob.glob(os.path.join(directory, f"beat-tuner1-{doomed.pid}-*")):
        assert time.time() < deadline and doomed.poll() is None, logs_of(directory)
        time.sleep(0.2)
    time.sleep(0.7)  # well inside a trial
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    restarted = start("tuner1", directory, port, "--slow")  # same id: it takes its trial up again
    for process in (steady, restarted):
        assert wait(process, 300, directory) == 0, logs_of(directory)
    assert wait(chief, 120, directory) == 0, logs_of(directory)
    check_results(directory)
