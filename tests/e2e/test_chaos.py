"""Kill a real search with SIGKILL at many points; restart it until it finishes.

At the end every trial of the budget completed exactly once, every state file
parses, each trial recorded one value per epoch, every trial handed out (also
before a kill) had the values an uninterrupted run gave the same trial id, no
configuration ran twice, and the best result is the one an uninterrupted run
produces. For each strategy: RandomSearch, BayesianOptimization, Hyperband.

The SIGKILL drills are in the slow tier; the quick tests stop each strategy's
search once at a known point (an exception inside a trial, in the process of
the test) and take it up again.
"""

import glob
import json
import os
import random
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from tests.conftest import make_data
from tests.e2e.crash_searches import (
    DRILL,
    QUICK,
    STOP_IN,
    assert_same_proposals,
    expected_steps,
    make_tuner,
    trial_records,
)

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chaos_script.py")
EPOCHS = 5
KILLS = 6  # a third of them inside a state write, a third inside a journal append
STRATEGIES = sorted(DRILL)


def launch(directory, strategy, *flags):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("KERASTUNER_TUNER_ID", None)
    return subprocess.Popen(
        [sys.executable, SCRIPT, directory, strategy, *flags],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_search_survives_sigkill_anywhere(tmp_path, strategy):
    reference_dir, chaos_dir = str(tmp_path / "reference"), str(tmp_path / "chaos")
    os.makedirs(chaos_dir)
    reference = launch(reference_dir, strategy)
    out, _ = reference.communicate(timeout=300)
    assert reference.returncode == 0, out[-3000:]

    rng = random.Random(0)
    kills, kinds = 0, []
    while True:
        process = launch(chaos_dir, strategy, "--slow")
        if kills < KILLS:
            kind = ("anytime", "write", "append")[kills % 3]
            started = time.time()
            if (
                kind != "anytime"
            ):  # wait for a state write or a journal append in progress, then kill inside it
                marker = "writing" if kind == "write" else "appending"
                while process.poll() is None and time.time() - started < 60:
                    fresh = glob.glob(os.path.join(chaos_dir, f"{marker}-{process.pid}-*"))
                    if len(fresh) >= 1 + rng.randrange(6):
                        break
                    time.sleep(0.01)
            else:
                time.sleep(rng.uniform(3.5, 8.0))  # imports take a few seconds; then training
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.communicate()
                kills += 1
                kinds.append(kind)
                continue
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0, out[-3000:]
        break

    print(f"survived {kills} kills: {kinds}")
    assert kills == KILLS

    project = os.path.join(chaos_dir, "chaos")
    for name in glob.glob(os.path.join(project, "**", "*.json"), recursive=True):
        json.load(open(name))  # every state file parses
    oracle = json.load(open(os.path.join(project, "oracle.json")))
    records = assert_same_proposals(strategy, chaos_dir, reference_dir)
    assert {t["status"] for t in records.values()} == {"COMPLETED"}
    assert oracle["run_times"] == {trial_id: 1 for trial_id in records}  # each completed exactly once
    for trial_id, record in records.items():
        left = os.listdir(os.path.join(project, f"trial_{trial_id}"))
        assert not [name for name in left if name.startswith("resume") or name == "epochs.jsonl"], left
        observations = record["metrics"]["metrics"]["val_a_loss"]["observations"]
        assert [o["step"] for o in observations] == expected_steps(
            record["hyperparameters"]["values"], EPOCHS
        )
        assert all(len(o["value"]) == 1 for o in observations)

    expected = trial_records(reference_dir)
    best = min(records.values(), key=lambda r: r["score"])
    best_expected = min(expected.values(), key=lambda r: r["score"])
    assert best["trial_id"] == best_expected["trial_id"]
    # resumed training restores weights, optimizer and loss-weight state exactly; only floating-point
    # reductions may differ in the last bits between runs
    np.testing.assert_allclose(best["score"], best_expected["score"], rtol=1e-4)


STARTED = {"trials": 0, "stop_in": 0}  # keras-tuner gives each trial a deep copy of the callbacks


class StopInTrial(keras.callbacks.Callback):
    """Stands in for a killed process: an exception at the end of a trial's first epoch.

    It runs before the tuner's own callbacks, so that epoch is neither reported nor checkpointed.
    """

    def on_train_begin(self, logs=None):
        STARTED["trials"] += 1

    def on_epoch_end(self, epoch, logs=None):
        if STARTED["trials"] == STARTED["stop_in"]:
            raise KeyboardInterrupt


def quick_search(strategy, directory, callbacks=()):
    tuner = make_tuner(strategy, directory, **QUICK[strategy])
    x, y = make_data()
    tuner.search(
        x,
        y,
        validation_data=(x, y),
        epochs=1,
        batch_size=16,
        shuffle=False,
        verbose=0,
        callbacks=list(callbacks),
    )
    return tuner


@pytest.mark.parametrize(
    "strategy",
    # the oracle-level crash tests of tests/test_proposals.py cover every strategy in the core suite
    [pytest.param(s, marks=[pytest.mark.slow] if s != "random" else []) for s in STRATEGIES],
)
def test_a_search_stopped_in_a_trial_proposes_what_an_uninterrupted_one_does(tmp_path, strategy):
    reference_dir, stopped_dir = str(tmp_path / "reference"), str(tmp_path / "stopped")
    reference = quick_search(strategy, reference_dir)
    STARTED.update(trials=0, stop_in=STOP_IN[strategy])
    with pytest.raises(KeyboardInterrupt):
        quick_search(strategy, stopped_dir, [StopInTrial()])
    assert len(trial_records(stopped_dir)) == STOP_IN[strategy]  # the next ones come from the reloaded oracle
    tuner = quick_search(strategy, stopped_dir)

    records = assert_same_proposals(strategy, stopped_dir, reference_dir)
    assert {t["status"] for t in records.values()} == {"COMPLETED"}
    assert dict(tuner.oracle.wrapped._run_times) == {trial_id: 1 for trial_id in records}
    for record in records.values():
        observations = record["metrics"]["metrics"]["val_a_loss"]["observations"]
        assert [o["step"] for o in observations] == expected_steps(record["hyperparameters"]["values"], 1)
    # the interrupted trial ran again from its start: the same scores as the uninterrupted run's
    assert {k: t.score for k, t in tuner.oracle.trials.items()} == {
        k: t.score for k, t in reference.oracle.trials.items()
    }
