"""Stop a search in the middle of a trial, run the same script again, and finish."""

import json
import os

import keras
import pytest

import tuneweights as tw
from tests.conftest import TwoSources

pytestmark = pytest.mark.slow

EPOCHS = 3
BUDGET = 4
STARTED = {"trials": 0}


class InterruptThirdTrial(keras.callbacks.Callback):
    """Stands in for Ctrl-C or a pre-empted machine, during epoch 1 of the third trial."""

    def on_train_begin(self, logs=None):
        STARTED["trials"] += 1

    def on_epoch_end(self, epoch, logs=None):
        if STARTED["trials"] == 3 and epoch == 1:
            raise KeyboardInterrupt


def run(directory, data, callbacks=()):
    """The user's script: same arguments every time, overwrite=False."""
    tuner = tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=BUDGET,
        seed=5,
        directory=directory,
        project_name="resume",
    )
    x, y = data
    tuner.search(x, y, validation_data=(x, y), epochs=EPOCHS, verbose=0, callbacks=list(callbacks))
    return tuner


def test_stop_and_resume_runs_the_budget_exactly_once(tmp_path, data):
    directory = str(tmp_path)
    STARTED["trials"] = 0
    with pytest.raises(KeyboardInterrupt):
        run(directory, data, [InterruptThirdTrial()])
    trial_files = sorted(p for p in os.listdir(tmp_path / "resume") if p.startswith("trial_"))
    assert len(trial_files) == 3
    first = {t: json.loads((tmp_path / "resume" / t / "trial.json").read_text()) for t in trial_files}
    assert [first[t]["status"] for t in trial_files] == ["COMPLETED", "COMPLETED", "RUNNING"]

    tuner = run(directory, data)
    trials = tuner.oracle.trials
    assert len(trials) == BUDGET
    assert {t.status for t in trials.values()} == {"COMPLETED"}
    assert dict(tuner.oracle.wrapped._run_times) == {
        tid: 1 for tid in trials
    }  # each trial ran to its end once
    for trial in trials.values():
        history = trial.metrics.get_history("val_a_loss")
        assert [o.step for o in history] == list(range(EPOCHS))
        assert all(len(o.value) == 1 for o in history)  # the interrupted run left nothing behind
    for state in first.values():  # completed trials were not touched
        trial = trials[state["trial_id"]]
        if state["status"] == "COMPLETED":
            assert trial.score == state["score"]
            assert trial.hyperparameters.values == state["hyperparameters"]["values"]

    best = tuner.oracle.get_best_trials(1)[0]
    again = run(directory, data)  # budget spent: nothing runs, nothing changes
    assert len(again.oracle.trials) == BUDGET
    assert dict(again.oracle.wrapped._run_times) == {tid: 1 for tid in trials}
    assert again.oracle.get_best_trials(1)[0].trial_id == best.trial_id
    assert again.oracle.get_best_trials(1)[0].score == best.score
    assert again.get_best_weights() == tuner.get_best_weights()


def test_resume_with_an_added_metric_keeps_going(tmp_path, data):
    class WithMetric(TwoSources):
        terms = [
            tw.Term(t.name, t.loss, output=t.output, target=t.target, weight=t.weight, metrics=["mse"])
            for t in TwoSources.terms
        ]

    x, y = data
    for hypermodel, budget in ((TwoSources(), 1), (WithMetric(), 2)):
        tuner = tw.RandomSearch(
            hypermodel, objective="val_a_loss", max_trials=budget, directory=str(tmp_path), project_name="p"
        )
        tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED", "COMPLETED"]
