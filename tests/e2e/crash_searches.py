"""The searches that the crash tests stop and take up again, one per strategy.

Each tuner appends every trial it is handed to ``handed-out.jsonl`` in its
project (trial id and values, before training), so that a test compares every
proposal, also those handed out before a crash, with an uninterrupted run's.
"""

import glob
import json
import os

import keras_tuner as kt

import tuneweights as tw
from tests.conftest import TwoSources

PROJECT = "chaos"
LOG = "handed-out.jsonl"
TUNERS = {"random": tw.RandomSearch, "bayesian": tw.BayesianOptimization, "hyperband": tw.Hyperband}
ORACLES = {
    "random": kt.oracles.RandomSearchOracle,
    "bayesian": kt.oracles.BayesianOptimizationOracle,
    "hyperband": kt.oracles.HyperbandOracle,
}
#: The budgets of the SIGKILL drills (each trial of 5 epochs, but Hyperband's rounds)...
DRILL = {
    "random": {"max_trials": 4},
    "bayesian": {"max_trials": 5, "num_initial_points": 2},
    "hyperband": {"max_epochs": 3, "factor": 3},
}
#: ... and of the quick restart tests (one epoch a trial, but Hyperband's rounds), with the trial
#: (counted from 1) that each stops in: the reloaded oracle then makes a RandomSearch proposal, a
#: Bayesian one after another Bayesian one, and a Hyperband promotion.
QUICK = {
    "random": {"max_trials": 2},
    "bayesian": {"max_trials": 3, "num_initial_points": 1},
    "hyperband": {"max_epochs": 2, "factor": 2},
}
STOP_IN = {"random": 1, "bayesian": 2, "hyperband": 2}


def make_tuner(strategy, directory, **budget):
    """The strategy's tuner on `TwoSources`, logging what it hands out; `budget` as its arguments."""

    class Logged(TUNERS[strategy]):
        def on_trial_begin(self, trial):
            with open(os.path.join(self.project_dir, LOG), "a") as f:
                f.write(json.dumps([trial.trial_id, trial.hyperparameters.values]) + "\n")
            super().on_trial_begin(trial)

    return Logged(
        TwoSources(),
        objective="val_a_loss",
        seed=9,
        directory=directory,
        project_name=PROJECT,
        checkpoint_every=1,  # the drills check that each epoch is resumed exactly
        **budget,
    )


def handed_out(directory):
    """``[(trial_id, values), ...]`` in the order the trials were handed out, across restarts."""
    with open(os.path.join(directory, PROJECT, LOG)) as f:
        lines = f.read().splitlines()
    entries = []
    for line in lines:
        try:
            entries.append(tuple(json.loads(line)))
        except json.JSONDecodeError:  # a process killed while writing its line
            continue
    return entries


def trial_records(directory):
    """Each trial's ``trial.json``, by trial id."""
    records = {}
    for path in glob.glob(os.path.join(directory, PROJECT, "trial_*", "trial.json")):
        with open(path) as f:
            record = json.load(f)
        records[record["trial_id"]] = record
    return records


def assert_same_proposals(strategy, directory, reference):
    """The search in `directory` proposed what the uninterrupted one in `reference` did, none twice."""
    expected = {k: r["hyperparameters"]["values"] for k, r in trial_records(reference).items()}
    records = trial_records(directory)
    assert {k: r["hyperparameters"]["values"] for k, r in records.items()} == expected
    log = handed_out(directory)
    for trial_id, values in log:
        assert values == expected[trial_id], trial_id
    first_hand_outs = list(dict.fromkeys(trial_id for trial_id, _ in log))
    assert first_hand_outs == [trial_id for trial_id, _ in handed_out(reference)] == sorted(expected)
    oracle = ORACLES[strategy](kt.Objective("val_a_loss", "min"))  # its hash of a trial's values
    hashes = {oracle._compute_values_hash(values) for values in expected.values()}
    assert len(hashes) == len(expected)  # no configuration ran twice
    return records


def expected_steps(values, epochs):
    """The epochs a trial reports: all of them, or its Hyperband round's."""
    return list(range(values.get("tuner/initial_epoch", 0), values.get("tuner/epochs", epochs)))
