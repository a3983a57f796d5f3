"""The per-epoch journal: appends, torn lines, and how a reload merges it into a trial's metrics."""

import json
import os

import keras_tuner as kt
import numpy as np
import pytest
from keras_tuner.src.engine import metrics_tracking

import tuneweights as tw
from tuneweights.search import journal, resume
from tuneweights.search.oracle import WeightOracle
from tuneweights.space import WeightSpace

TERMS = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.01, 100))]


def oracle_in(tmp_path, pruner=None):
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=10, seed=1)
    oracle = WeightOracle(inner, WeightSpace(TERMS), pruner=pruner)
    oracle._set_project_dir(str(tmp_path), "p")
    return oracle


def reloaded(tmp_path, pruner=None):
    oracle = oracle_in(tmp_path, pruner)
    oracle.reload()
    return oracle


def trial_file(tmp_path, trial_id):
    with open(tmp_path / "p" / f"trial_{trial_id}" / "trial.json") as f:
        return json.load(f)


def steps(trial, name="val_a_loss"):
    return [(o.step, o.value) for o in trial.metrics.get_history(name)]


def test_appended_lines_read_back_in_order(tmp_path):
    journal.append(str(tmp_path), 0, {"val_loss": 1.0, "loss": 2.0})
    journal.append(str(tmp_path), 1, {"val_loss": float("inf")})
    assert journal.read(str(tmp_path)) == [
        (0, {"loss": 2.0, "val_loss": 1.0}),
        (1, {"val_loss": float("inf")}),
    ]
    assert journal.read(str(tmp_path / "elsewhere")) is None


@pytest.mark.parametrize(
    "torn",
    ['{"metrics":{"val_loss":0.', '{"metrics":{"val_loss":0.5},"step":2}', "\x00\x00\x00"],
    ids=["cut-in-a-value", "cut-before-the-newline", "zeros"],
)
def test_a_torn_last_line_is_skipped_and_cut_off_by_the_next_append(tmp_path, torn):
    journal.append(str(tmp_path), 0, {"val_loss": 1.0})
    with open(journal.path(str(tmp_path)), "a") as f:
        f.write(torn)  # what a process killed inside an append leaves
    assert journal.read(str(tmp_path)) == [(0, {"val_loss": 1.0})]
    journal.append(str(tmp_path), 1, {"val_loss": 0.5})
    assert journal.read(str(tmp_path)) == [(0, {"val_loss": 1.0}), (1, {"val_loss": 0.5})]


def test_records_of_a_tracker_rebuild_it(tmp_path):
    tracker = metrics_tracking.MetricsTracker()
    tracker.register("acc", direction="max")
    for step, value in [(0, 0.1), (1, 0.2), (0, 0.3)]:  # a second execution at epoch 0
        tracker.update("acc", value, step=step)
        tracker.update("val_loss", value * 2, step=step)
    rebuilt = journal.tracker_of(journal.records_of(tracker), tracker, lambda name: None)
    assert rebuilt.get_config() == tracker.get_config()


def test_epochs_go_to_the_journal_and_trial_json_is_written_at_start_and_end(tmp_path):
    oracle = oracle_in(tmp_path)
    trial = oracle.create_trial("t0")
    for epoch, value in enumerate([3.0, 2.0, 2.5]):
        oracle.update_trial(trial.trial_id, {"val_a_loss": value, "loss": 1.0}, step=epoch)
    assert trial_file(tmp_path, trial.trial_id)["metrics"] == {"metrics": {}}  # as written at the start
    trial_dir = str(tmp_path / "p" / f"trial_{trial.trial_id}")
    assert [step for step, _ in journal.read(trial_dir)] == [0, 1, 2]
    assert steps(oracle.get_trial(trial.trial_id)) == [(0, [3.0]), (1, [2.0]), (2, [2.5])]

    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    saved = trial_file(tmp_path, trial.trial_id)
    assert saved["status"] == "COMPLETED" and saved["score"] == 2.0 and saved["best_step"] == 1
    observations = saved["metrics"]["metrics"]["val_a_loss"]["observations"]
    assert [(o["step"], o["value"]) for o in observations] == [(0, [3.0]), (1, [2.0]), (2, [2.5])]
    assert not journal.exists(trial_dir)  # a finished trial's trial.json holds everything
    # keras-tuner reads the finished trial by itself
    assert kt.engine.trial.Trial.load(os.path.join(trial_dir, "trial.json")).score == 2.0


def test_reload_merges_the_journal_of_a_running_trial_once(tmp_path):
    oracle = oracle_in(tmp_path)
    trial = oracle.create_trial("t0")
    for epoch, value in enumerate([3.0, 2.0, 2.5]):
        oracle.update_trial(trial.trial_id, {"val_a_loss": value}, step=epoch)
    oracle.save()
    trial_dir = str(tmp_path / "p" / f"trial_{trial.trial_id}")
    with open(journal.path(trial_dir), "a") as f:
        f.write('{"metrics":{"val_a_loss":9')  # killed inside the fourth append

    again = reloaded(tmp_path)
    assert steps(again.get_trial(trial.trial_id)) == [(0, [3.0]), (1, [2.0]), (2, [2.5])]
    assert again.get_trial(trial.trial_id).metrics.get_direction("val_a_loss") == "min"
    third = reloaded(tmp_path)  # reading it twice adds nothing twice
    assert steps(third.get_trial(trial.trial_id)) == [(0, [3.0]), (1, [2.0]), (2, [2.5])]


def test_taking_a_trial_up_again_drops_the_journal_after_the_last_checkpoint(tmp_path):
    oracle = oracle_in(tmp_path)
    trial = oracle.create_trial("t0")
    trial_dir = str(tmp_path / "p" / f"trial_{trial.trial_id}")
    for epoch, value in enumerate([3.0, 2.0, 2.5, 1.0]):
        oracle.update_trial(trial.trial_id, {"val_a_loss": value}, step=epoch)
    np.savez(os.path.join(trial_dir, "resume-1.npz"), w0=np.zeros(2, "float32"))
    with open(os.path.join(trial_dir, resume.POINTER), "w") as f:
        json.dump({"epoch": 1, "file": "resume-1.npz"}, f)  # the last checkpoint: epoch 1
    oracle.save()

    again = reloaded(tmp_path)
    taken = again.create_trial("t0")
    assert taken.trial_id == trial.trial_id
    assert steps(again.get_trial(trial.trial_id)) == [(0, [3.0]), (1, [2.0])]
    assert [step for step, _ in journal.read(trial_dir)] == [0, 1]
    again.update_trial(trial.trial_id, {"val_a_loss": 1.5}, step=2)  # the run goes on from epoch 2
    third = reloaded(tmp_path)
    assert steps(third.get_trial(trial.trial_id)) == [(0, [3.0]), (1, [2.0]), (2, [1.5])]


def test_a_journal_left_beside_a_finished_trial_is_not_merged(tmp_path):
    oracle = oracle_in(tmp_path)
    trial = oracle.create_trial("t0")
    oracle.update_trial(trial.trial_id, {"val_a_loss": 1.0}, step=0)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    trial_dir = str(tmp_path / "p" / f"trial_{trial.trial_id}")
    journal.append(trial_dir, 0, {"val_a_loss": 1.0})  # as if killed before the journal was removed
    again = reloaded(tmp_path)
    assert steps(again.get_trial(trial.trial_id)) == [(0, [1.0])]
    assert not journal.exists(trial_dir)


def test_a_trial_recorded_before_journals_keeps_its_metrics_and_starts_a_journal_with_them(tmp_path):
    oracle = oracle_in(tmp_path)
    trial = oracle.create_trial("t0")
    trial_dir = str(tmp_path / "p" / f"trial_{trial.trial_id}")
    recorded = oracle.get_trial(trial.trial_id)
    recorded.metrics.update("val_a_loss", 4.0, step=0)
    oracle.wrapped._save_trial(recorded)  # a running trial as an earlier version wrote it: no journal
    oracle.save()
    again = reloaded(tmp_path)
    assert steps(again.get_trial(trial.trial_id)) == [(0, [4.0])]
    again.update_trial(trial.trial_id, {"val_a_loss": 3.0}, step=1)
    assert [step for step, _ in journal.read(trial_dir)] == [0, 1]


def test_pruning_statistics_are_rebuilt_on_reload(tmp_path):
    oracle = oracle_in(tmp_path, pruner=tw.MedianStopping(warmup=0, min_trials=2))
    for losses in ([1.0, 0.5], [1.1, 0.6]):
        trial = oracle.create_trial("t0")
        for epoch, value in enumerate(losses):
            oracle.update_trial(trial.trial_id, {"val_a_loss": value}, step=epoch)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    running = oracle.create_trial("t0")
    oracle.update_trial(running.trial_id, {"val_a_loss": 1.05}, step=0)
    oracle.save()
    again = reloaded(tmp_path, pruner=tw.MedianStopping(warmup=0, min_trials=2))
    assert again.peers.best_at(0) == oracle.peers.best_at(0) == [1.0, 1.05, 1.1]
    assert again.peers.best_at(1) == [0.5, 0.6]
    taken = again.create_trial("t0")  # no checkpoint: its epochs are dropped, and from the statistics
    assert taken.trial_id == running.trial_id and again.peers.best_at(0) == [1.0, 1.1]
    assert again.update_trial(taken.trial_id, {"val_a_loss": 2.0}, step=0).status == "STOPPED"
