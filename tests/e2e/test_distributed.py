"""keras-tuner's distributed mode: a real chief and two workers on 127.0.0.1, on each Keras backend."""

import glob
import json
import os
import re
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


# -- a dead worker, a dead chief ------------------------------------------------------------------


def beats(directory, role, pid=None):
    """``[(epoch, pid)]`` of the epochs a worker began, in order (from the script's beat files)."""
    found = []
    for path in glob.glob(os.path.join(directory, f"beat-{role}-{pid or '*'}-*")):
        _, _, process, epoch, ns = os.path.basename(path).split("-")
        found.append((int(ns), int(epoch), int(process)))
    return [(epoch, process) for _, epoch, process in sorted(found)]


def runs_starting_at(directory, role):
    """The epochs at which a worker's runs of a trial began (0, or later for a continued trial)."""
    seen = beats(directory, role)
    return [epoch for i, (epoch, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != epoch - 1]


def serving(port, process, directory, timeout=180):
    """Wait until the chief accepts connections on `port`."""
    deadline = time.time() + timeout
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert time.time() < deadline and process.poll() is None, logs_of(directory)
        time.sleep(0.2)


def log_of(directory, role):
    return "".join(open(p).read() for p in sorted(glob.glob(os.path.join(directory, f"{role}-*.log"))))


@pytest.mark.slow
def test_a_killed_workers_trial_is_continued_by_the_other_worker_without_waiting_for_it(tmp_path):
    directory, port = str(tmp_path), free_port()
    flags = ("--slow", "--heartbeat", "4")
    chief = start("chief", directory, port, *flags)
    steady = start("tuner0", directory, port, *flags)
    doomed = start("tuner1", directory, port, *flags)
    deadline = time.time() + 180
    while not any(epoch in (1, 2) for epoch, _ in beats(directory, "tuner1", doomed.pid)):
        assert time.time() < deadline and doomed.poll() is None, logs_of(directory)
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)  # inside the pause that begins the epoch: nothing in flight
    doomed.wait()
    epoch = beats(directory, "tuner1", doomed.pid)[-1][0]
    project = os.path.join(directory, "dist")
    trial_id = json.load(open(os.path.join(project, "oracle.json")))["ongoing_trials"]["tuner1"]
    checkpoint = json.load(open(os.path.join(project, f"trial_{trial_id}", "resume.json")))["epoch"]
    assert checkpoint == epoch - 1  # the last epoch it completed

    assert wait(steady, 300, directory) == 0, logs_of(directory)  # tuner1 never comes back
    assert wait(chief, 120, directory) == 0, logs_of(directory)
    check_results(directory)  # every trial completed, every epoch recorded exactly once
    handed = re.findall(
        rf"Trial {trial_id}: no word from worker tuner1 for (\d+) s \(heartbeat_timeout=4\); handed to "
        rf"worker tuner0, which continues it after epoch {checkpoint}\.",
        log_of(directory, "chief"),
    )
    assert len(handed) == 1 and int(handed[0]) >= 4, log_of(directory, "chief")[-3000:]
    assert epoch in runs_starting_at(directory, "tuner0")  # tuner0 ran it on from the checkpoint


@pytest.mark.slow
def test_a_worker_whose_chief_was_killed_stops_with_a_message_within_chief_timeout(tmp_path):
    directory, port = str(tmp_path), free_port()
    flags = ("--slow", "--chief-timeout", "3")
    chief = start("chief", directory, port, *flags)
    serving(port, chief, directory)  # a worker waits only 3 s for the chief, its start included
    worker = start("tuner0", directory, port, *flags)
    deadline = time.time() + 180
    while not beats(directory, "tuner0"):
        assert time.time() < deadline and worker.poll() is None, logs_of(directory)
        time.sleep(0.05)
    chief.send_signal(signal.SIGKILL)
    chief.wait()
    killed = time.time()
    assert wait(worker, 60, directory) != 0
    # its next request comes after the epoch (0.5 s and the training), then waits 3 s
    assert time.time() - killed < 15
    log = log_of(directory, "tuner0")
    assert (
        f"ChiefUnreachableError: The chief of the search at 127.0.0.1:{port} did not answer within 3 s" in log
    ), log[-3000:]
    assert "Restart the chief with the same script and `overwrite=False`" in log
    assert "same KERASTUNER_TUNER_ID (tuner0)" in log


@pytest.mark.slow
def test_a_restarted_chief_resumes_the_search_and_its_workers_continue(tmp_path):
    directory, port = str(tmp_path), free_port()
    flags = ("--slow", "--chief-timeout", "120", "--heartbeat", "60")
    chief = start("chief", directory, port, *flags)
    serving(port, chief, directory)
    workers = {role: start(role, directory, port, *flags) for role in ("tuner0", "tuner1")}
    deadline = time.time() + 180
    while len(beats(directory, "tuner0")) + len(beats(directory, "tuner1")) < 6:
        assert time.time() < deadline and chief.poll() is None, logs_of(directory)
        time.sleep(0.05)
    counts = {role: len(beats(directory, role)) for role in workers}
    while counts == {role: len(beats(directory, role)) for role in workers}:
        time.sleep(0.02)
    busy = next(role for role in workers if len(beats(directory, role)) > counts[role])
    chief.send_signal(signal.SIGKILL)  # `busy` just began an epoch: it is not waiting on the chief
    chief.wait()
    chief = start("chief", directory, port, *flags)  # overwrite=False: it resumes the project
    for role, process in workers.items():
        code = wait(process, 300, directory)
        if role != busy and code != 0:  # a request in flight when the chief died: restart the worker
            assert "ChiefUnreachableError" in log_of(directory, role), logs_of(directory)
            code = wait(start(role, directory, port, *flags), 300, directory)
        assert code == 0, logs_of(directory)
    assert wait(chief, 120, directory) == 0, logs_of(directory)
    check_results(directory)
