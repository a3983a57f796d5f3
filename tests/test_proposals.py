"""A search stopped anywhere and reloaded proposes what an uninterrupted one does, and never a repeat.

The oracle is driven as a tuner drives it (create, one report per epoch, end,
save), with a closed-form objective instead of training, and a crash is an
exception raised inside an atomic write, after the temporary file is written
and before the rename, at seeded random points (state files of the project,
trial files and ``tuneweights.json`` alike). After each crash a new oracle
reloads the project, as a restarted script does.
"""

import json
import math
import os
import random

import keras_tuner as kt
import pytest

import tuneweights as tw
from tuneweights import _io
from tuneweights.search.oracle import WeightOracle
from tuneweights.space import WeightSpace

TERMS = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.01, 100))]
OBJECTIVE = kt.Objective("val_a_loss", "min")


def units():
    hp = kt.HyperParameters()
    hp.Choice("units", [1, 2, 3])
    return hp


STRATEGIES = {
    "random": lambda: kt.oracles.RandomSearchOracle(OBJECTIVE, max_trials=8, seed=3),
    "bayesian": lambda: kt.oracles.BayesianOptimizationOracle(
        OBJECTIVE, max_trials=5, num_initial_points=2, seed=3
    ),
    "hyperband": lambda: kt.oracles.HyperbandOracle(OBJECTIVE, max_epochs=9, factor=3, seed=3),
    "grid": lambda: kt.oracles.GridSearchOracle(OBJECTIVE, max_trials=12, seed=3, hyperparameters=units()),
}


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no handler catches it."""


def open_project(strategy, directory):
    oracle = WeightOracle(STRATEGIES[strategy](), WeightSpace(TERMS), max_restarts=100)
    oracle._set_project_dir(directory, "p")
    oracle.verbose = 0
    if os.path.exists(os.path.join(directory, "p", "oracle.json")):
        oracle.reload()
    return oracle


def loss(values, epoch):
    ratio = values["ratio/b"]
    return (math.log(ratio) - 1.0) ** 2 + 1.0 / (epoch + 1) + 0.1 * values.get("units", 0)


def run(oracle, handed_out):
    """Run trials as a tuner does until the oracle says STOPPED."""
    while True:
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            return trial.status
        values = dict(trial.hyperparameters.values)
        handed_out.append((trial.trial_id, values))
        for epoch in range(values.get("tuner/initial_epoch", 0), values.get("tuner/epochs", 3)):
            oracle.update_trial(trial.trial_id, {"val_a_loss": loss(values, epoch)}, step=epoch)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        oracle.save()


def crash_in_writes(monkeypatch):
    """From now on, crash inside every n-th atomic write, n drawn from 1..8 each time."""
    rng = random.Random(0)
    write = _io.replace_atomically
    count = {"writes": 0, "next": rng.randint(1, 8), "crashes": 0}

    def crashing(path, writer, suffix=""):
        count["writes"] += 1
        if count["writes"] == count["next"]:

            def then_crash(tmp):
                writer(tmp)
                count.update(writes=0, next=rng.randint(1, 8), crashes=count["crashes"] + 1)
                raise Crash(path)

            return write(path, then_crash, suffix)
        return write(path, writer, suffix)

    monkeypatch.setattr(_io, "replace_atomically", crashing)
    return count


def trial_files(directory):
    project = os.path.join(directory, "p")
    records = {}
    for name in os.listdir(project):
        path = os.path.join(project, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            with open(path) as f:
                record = json.load(f)
            records[record["trial_id"]] = record
    return records


def proposals(directory):
    return {k: r["hyperparameters"]["values"] for k, r in sorted(trial_files(directory).items())}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_a_search_crashed_anywhere_proposes_what_an_uninterrupted_one_does(tmp_path, strategy, monkeypatch):
    reference, chaos = str(tmp_path / "reference"), str(tmp_path / "chaos")
    expected_log = []
    assert run(open_project(strategy, reference), expected_log) == "STOPPED"
    expected = proposals(reference)
    assert [trial_id for trial_id, _ in expected_log] == sorted(expected)  # each handed out once

    crashes = crash_in_writes(monkeypatch)
    handed_out = []
    while True:
        try:
            status = run(open_project(strategy, chaos), handed_out)
            break
        except Crash:
            continue
    assert status == "STOPPED"
    print(f"{crashes['crashes']} crashes")
    assert crashes["crashes"] >= 4
    assert proposals(chaos) == expected
    for trial_id, values in handed_out:  # also those handed out before a crash
        assert values == expected[trial_id]
    records = trial_files(chaos)
    assert {r["status"] for r in records.values()} == {"COMPLETED"}
    oracle = open_project(strategy, chaos)
    assert oracle.wrapped.start_order == sorted(expected)
    hashes = [oracle._compute_values_hash(values) for values in expected.values()]
    assert len(set(hashes)) == len(hashes)  # no configuration ran twice


def test_the_bayesian_proposal_does_not_depend_on_the_order_trials_were_loaded_in(tmp_path):
    """A reloaded oracle holds its trials in the order the file system lists them."""
    oracle = open_project("bayesian", str(tmp_path))
    for _ in range(3):
        trial = oracle.create_trial("tuner0")
        oracle.update_trial(trial.trial_id, {"val_a_loss": loss(trial.hyperparameters.values, 0)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    oracle.save()
    listed = open_project("bayesian", str(tmp_path))
    shuffled = list(listed.wrapped.trials.items())
    random.Random(1).shuffle(shuffled)
    listed.wrapped.trials.clear()
    listed.wrapped.trials.update(shuffled)
    in_order = open_project("bayesian", str(tmp_path))
    in_order.wrapped.trials = dict(sorted(in_order.wrapped.trials.items()))
    assert [t for t, _ in shuffled] != sorted(in_order.wrapped.trials)
    expected = in_order.create_trial("tuner0").hyperparameters.values
    assert listed.create_trial("tuner0").hyperparameters.values == expected


def test_a_reloaded_grid_search_walks_on_through_the_grid(tmp_path):
    oracle = open_project("grid", str(tmp_path))
    run_trials = []
    for _ in range(2):
        trial = oracle.create_trial("tuner0")
        run_trials.append(trial.hyperparameters.values)
        oracle.update_trial(trial.trial_id, {"val_a_loss": 1.0})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    oracle.save()
    reloaded = open_project("grid", str(tmp_path))
    handed_out = []
    assert run(reloaded, handed_out) == "STOPPED"
    walked = run_trials + [values for _, values in handed_out]
    uninterrupted = []
    run(open_project("grid", str(tmp_path / "uninterrupted")), uninterrupted)
    assert walked == [values for _, values in uninterrupted]
    assert len(walked) == 12  # the budget: keras-tuner's reloaded grid search proposed nothing more
    assert len({json.dumps(v, sort_keys=True) for v in walked}) == 12
