"""Stop a search in the middle of a trial, run the same script again, and finish."""

import json
import os

import keras
import pytest

import tuneweights as tw
from tests.conftest import TwoSources

EPOCHS = 3
BUDGET = 4
STARTED = {"trials": 0}
BEGUN = []


class InterruptThirdTrial(keras.callbacks.Callback):
    """Stands in for Ctrl-C or a pre-empted machine, at the end of epoch 1 of the third trial.

    It runs before the tuner's own callbacks, so epoch 1 is neither reported nor checkpointed.
    """

    def on_train_begin(self, logs=None):
        STARTED["trials"] += 1

    def on_epoch_end(self, epoch, logs=None):
        if STARTED["trials"] == 3 and epoch == 1:
            raise KeyboardInterrupt


class RecordEpochs(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        BEGUN.append(epoch)


def run(directory, data, callbacks=()):
    """The user's script: same arguments every time, overwrite=False."""
    tuner = tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=BUDGET,
        seed=5,
        directory=directory,
        project_name="resume",
        checkpoint_every=1,  # these tests check each epoch's resume
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

    BEGUN.clear()
    tuner = run(directory, data, [RecordEpochs()])
    assert BEGUN[:2] == [1, 2]  # the interrupted trial went on from its last checkpoint (epoch 0)
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


CRASHING = {"on": True, "trial": None}


class Tracking(tw.RandomSearch):
    def on_trial_begin(self, trial):
        CRASHING["trial"] = trial.trial_id
        super().on_trial_begin(trial)


class AlwaysCrashOnSecondTrial(keras.callbacks.Callback):
    """Kills the process whenever trial "1" runs (a trial that crashes its process)."""

    def on_epoch_begin(self, epoch, logs=None):
        if CRASHING["trial"] == "1" and CRASHING["on"]:
            raise KeyboardInterrupt


def test_a_trial_that_keeps_crashing_the_process_is_failed_and_the_search_moves_on(tmp_path, data):
    x, y = data

    def script():
        tuner = Tracking(
            TwoSources(),
            objective="val_a_loss",
            max_trials=3,
            seed=5,
            max_restarts=2,
            directory=str(tmp_path),
            project_name="crash",
        )
        tuner.search(
            x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[AlwaysCrashOnSecondTrial()]
        )
        return tuner

    CRASHING["on"] = True
    for _ in range(3):  # the first run and two restarts die in the second trial
        with pytest.raises(KeyboardInterrupt):
            script()
    tuner = script()  # the third restart would exceed max_restarts=2: the trial is failed, not run
    trials = tuner.oracle.trials
    assert [trials[i].status for i in sorted(trials)] == ["COMPLETED", "FAILED", "COMPLETED"]
    failed = trials["1"]
    assert failed.message.startswith("The search process stopped 3 times while running this trial")


class Wider(TwoSources):
    def build(self, hp):
        hp.Int("units", 4, 16, step=4)
        return super().build(hp)


class Narrower(TwoSources):
    def build(self, hp):
        hp.Int("units", 4, 8, step=4)
        return super().build(hp)


def test_a_changed_hyperparameter_is_refused_on_resume(tmp_path, data):
    x, y = data
    first = tw.RandomSearch(
        Wider(), objective="val_a_loss", max_trials=1, directory=str(tmp_path), project_name="p"
    )
    first.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert [t.status for t in first.oracle.trials.values()] == ["COMPLETED"]
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (tmp_path / "p").rglob("*"))
    with pytest.raises(tw.ConfigurationError, match=r"The hyperparameter `units` is declared differently"):
        tw.RandomSearch(
            Narrower(), objective="val_a_loss", max_trials=2, directory=str(tmp_path), project_name="p"
        )
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (tmp_path / "p").rglob("*")) == before


class StopBeforeEpoch2(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        BEGUN.append(epoch)
        if epoch == 2 and CRASHING["first"]:
            raise KeyboardInterrupt


def test_a_search_killed_in_its_first_trial_resumes_it(tmp_path, data):
    x, y = data

    def script():
        tuner = tw.RandomSearch(
            TwoSources(),
            objective="val_a_loss",
            max_trials=2,
            seed=9,
            directory=str(tmp_path),
            project_name="first",
            checkpoint_every=1,
        )
        tuner.search(x, y, validation_data=(x, y), epochs=4, verbose=0, callbacks=[StopBeforeEpoch2()])
        return tuner

    CRASHING["first"] = True
    with pytest.raises(KeyboardInterrupt):
        script()
    CRASHING["first"] = False
    BEGUN.clear()
    tuner = script()
    assert BEGUN[:2] == [2, 3]  # the project was reloaded and trial 0 went on after epoch 1
    for trial in tuner.oracle.trials.values():
        assert trial.status == "COMPLETED"
        assert [o.step for o in trial.metrics.get_history("val_a_loss")] == [0, 1, 2, 3]
