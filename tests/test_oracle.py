import json
import math

import keras_tuner as kt
import numpy as np
import pytest

import tuneweights as tw
from tuneweights.search.oracle import DIVERGED_METRIC, WeightOracle
from tuneweights.space import WeightSpace

TERMS = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.01, 100))]


def wrapped(tmp_path, inner=None, terms=TERMS):
    inner = inner or kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=10, seed=1)
    oracle = WeightOracle(inner, WeightSpace(terms))
    oracle._set_project_dir(str(tmp_path), "p")
    return oracle


def finish(oracle, losses, tuner_id="t0"):
    trial = oracle.create_trial(tuner_id)
    for epoch, value in enumerate(losses):
        oracle.update_trial(trial.trial_id, {"val_a_loss": value}, step=epoch)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    return oracle.get_trial(trial.trial_id)


def test_is_an_oracle_and_registers_weights_before_the_first_trial(tmp_path):
    oracle = wrapped(tmp_path)
    assert isinstance(oracle, kt.Oracle)
    assert [hp.name for hp in oracle.get_space().space] == ["ratio/b"]
    trial = oracle.create_trial("t0")
    assert 0.01 <= trial.hyperparameters.values["ratio/b"] <= 100


def test_passes_attributes_through(tmp_path):
    oracle = wrapped(tmp_path)
    assert oracle.max_trials == 10 and oracle.objective.name == "val_a_loss"
    oracle.verbose = 0
    assert oracle.wrapped.verbose == 0
    assert oracle.remaining_trials() == 10


def test_per_epoch_values_are_recorded_at_every_step(tmp_path):
    trial = finish(wrapped(tmp_path), [3.0, 2.0, 2.5])
    history = trial.metrics.get_history("val_a_loss")
    assert [(o.step, o.value) for o in history] == [(0, [3.0]), (1, [2.0]), (2, [2.5])]
    assert trial.score == 2.0 and trial.best_step == 1


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_objective_is_the_worst_score(tmp_path, bad):
    oracle = wrapped(tmp_path)
    good = finish(oracle, [1.0])
    diverged = finish(oracle, [bad, bad])
    assert diverged.status == "COMPLETED" and diverged.score == math.inf
    assert [t.trial_id for t in oracle.get_best_trials(2)] == [good.trial_id, diverged.trial_id]


def test_non_finite_objective_when_maximising(tmp_path):
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_acc", "max"), max_trials=5, seed=1)
    oracle = wrapped(tmp_path, inner)
    trial = oracle.create_trial("t0")
    oracle.update_trial(trial.trial_id, {"val_a_acc": math.nan}, step=0)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    assert oracle.get_trial(trial.trial_id).score == -math.inf


def test_strategy_sees_the_worst_finite_score_instead_of_inf(tmp_path):
    oracle = wrapped(tmp_path)
    finish(oracle, [1.0])
    finish(oracle, [3.0])
    diverged = finish(oracle, [math.inf])
    with oracle._finite_scores():
        assert diverged.score == 3.0
    assert diverged.score == math.inf


def test_all_diverged_trials_are_equal_for_the_strategy(tmp_path):
    oracle = wrapped(tmp_path)
    first = finish(oracle, [math.inf])
    second = finish(oracle, [math.nan])
    with oracle._finite_scores():
        assert first.score == second.score == 0.0
    assert first.score == second.score == math.inf


def test_bayesian_oracle_never_models_a_diverged_trial_as_zero(tmp_path):
    inner = kt.oracles.BayesianOptimizationOracle(
        kt.Objective("val_a_loss", "min"), max_trials=10, num_initial_points=2, seed=3
    )
    oracle = wrapped(tmp_path, inner)
    finish(oracle, [1.0])
    finish(oracle, [2.0])
    finish(oracle, [math.inf])
    seen = {}
    original = inner._vectorize_trials

    def spy():
        x, y = original()
        seen["y"] = list(y)
        return x, y

    inner._vectorize_trials = spy
    trial = oracle.create_trial("t1")
    assert trial.status == "RUNNING"
    assert sorted(seen["y"]) == [1.0, 2.0, 2.0]  # the diverged trial counts as the worst, not as 0


def test_retried_trial_starts_without_stale_metrics(tmp_path):
    inner = kt.oracles.RandomSearchOracle(
        kt.Objective("val_a_loss", "min"), max_trials=5, seed=1, max_retries_per_trial=1
    )
    oracle = wrapped(tmp_path, inner)
    trial = oracle.create_trial("t0")
    oracle.update_trial(trial.trial_id, {"val_a_loss": 5.0}, step=0)
    oracle.update_trial(trial.trial_id, {"val_a_loss": 4.0}, step=1)
    trial.status = "INVALID"
    oracle.end_trial(trial)
    again = oracle.create_trial("t0")
    assert again.trial_id == trial.trial_id
    assert not again.metrics.metrics and again.score is None
    oracle.update_trial(again.trial_id, {"val_a_loss": 3.0}, step=0)
    again.status = "COMPLETED"
    oracle.end_trial(again)
    history = oracle.get_trial(trial.trial_id).metrics.get_history("val_a_loss")
    assert [(o.step, o.value) for o in history] == [(0, [3.0])]


def test_completed_trial_without_objective_fails_with_a_message(tmp_path):
    oracle = wrapped(tmp_path)
    trial = oracle.create_trial("t0")
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    recorded = oracle.get_trial(trial.trial_id)
    assert recorded.status == "FAILED" and "without reporting the objective `val_a_loss`" in recorded.message


def test_state_round_trips_through_json(tmp_path):
    oracle = wrapped(tmp_path)
    state = json.loads(json.dumps(oracle.get_state()))
    other = wrapped(tmp_path)
    other.set_state(state)
    assert other.get_state() == state


def test_reload_refuses_changed_terms(tmp_path):
    oracle = wrapped(tmp_path)
    finish(oracle, [1.0])
    oracle.save()
    changed = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    other = wrapped(tmp_path, terms=changed)
    with pytest.raises(tw.ConfigurationError, match=r"created with other loss terms or weight ranges"):
        other.reload()
    same = wrapped(tmp_path)
    same.reload()
    assert len(same.trials) == 1


def test_reload_lists_what_changed(tmp_path):
    oracle = wrapped(tmp_path)
    finish(oracle, [1.0])
    oracle.save()
    narrower = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.01, 10))]
    match = (
        r"The project directory was created with other loss terms or weight ranges:\n"
        r"  terms\[1\].weight.range.high: saved 100.0, declared 10.0\n"
        r"Restore the original declaration to resume"
    )
    with pytest.raises(tw.ConfigurationError, match=match):
        wrapped(tmp_path, terms=narrower).reload()


def fail(oracle, diverged):
    trial = oracle.create_trial("t0")
    metrics = {"val_a_loss": math.nan, DIVERGED_METRIC: 1.0} if diverged else {"val_a_loss": 1.0}
    oracle.update_trial(trial.trial_id, metrics, step=0)
    trial.status = "FAILED"
    trial.message = "whatever the message says"
    oracle.end_trial(trial)
    return trial.trial_id


def test_a_diverged_epoch_is_a_fact_of_the_oracle_not_a_metric_or_a_message(tmp_path):
    oracle = wrapped(tmp_path)
    ids = [fail(oracle, diverged=True) for _ in range(4)]  # more than the limit of 3 failures in a row
    assert oracle.diverged == {i: 0 for i in ids}
    assert not any(oracle.get_trial(i).metrics.exists(DIVERGED_METRIC) for i in ids)
    assert json.loads((tmp_path / "p" / "tuneweights.json").read_text())["diverged"] == {i: 0 for i in ids}
    again = wrapped(tmp_path)
    again.reload()
    assert again.diverged == oracle.diverged
    fail(oracle, diverged=False)
    fail(oracle, diverged=False)
    with pytest.raises(RuntimeError, match=r"Number of consecutive failures exceeded the limit of 3"):
        fail(oracle, diverged=False)


def test_save_writes_valid_json_files(tmp_path):
    oracle = wrapped(tmp_path)
    finish(oracle, [1.0])
    oracle.save()
    for name in ("oracle.json", "tuneweights.json"):
        json.loads((tmp_path / "p" / name).read_text())
    assert not list((tmp_path / "p").glob(".tmp-*"))


def test_wrapping_twice_keeps_one_layer(tmp_path):
    oracle = wrapped(tmp_path)
    again = WeightOracle(oracle, oracle.space)
    assert again.wrapped is oracle.wrapped


def test_wraps_only_oracles():
    with pytest.raises(tw.ConfigurationTypeError, match=r"Argument `oracle` must be a `keras_tuner.Oracle`"):
        WeightOracle("random", WeightSpace(TERMS))


# -- pruning --------------------------------------------------------------------

from tuneweights import pruners as P  # noqa: E402


def pruning(tmp_path, pruner=None, inner=None):
    inner = inner or kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=10, seed=1)
    oracle = WeightOracle(
        inner, WeightSpace(TERMS), pruner=pruner or P.MedianStopping(warmup=1, min_trials=2)
    )
    oracle._set_project_dir(str(tmp_path), "p")
    return oracle


def test_pruned_trial_is_answered_stopped_then_recorded_completed_and_marked(tmp_path):
    oracle = pruning(tmp_path)
    finish(oracle, [1.0, 0.5, 0.4])
    finish(oracle, [1.0, 0.6, 0.5])
    trial = oracle.create_trial("t0")
    assert oracle.update_trial(trial.trial_id, {"val_a_loss": 2.0}, step=0).status == "RUNNING"  # warm-up
    answer = oracle.update_trial(trial.trial_id, {"val_a_loss": 1.5}, step=1)
    assert answer.status == "STOPPED"
    assert oracle.get_trial(trial.trial_id).status == "RUNNING"  # the record is unchanged until the end
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    recorded = oracle.get_trial(trial.trial_id)
    assert recorded.status == "COMPLETED" and recorded.score == 1.5
    assert recorded.message == "Pruned after epoch 1 by median(percentile=50.0, warmup=1, min_trials=2)."
    assert oracle.pruned == {trial.trial_id: 1}
    assert json.loads(json.dumps(oracle.get_state()))["pruned"] == {trial.trial_id: 1}


def test_pruned_record_survives_a_reload(tmp_path):
    oracle = pruning(tmp_path)
    finish(oracle, [1.0, 0.5, 0.4])
    finish(oracle, [1.0, 0.6, 0.5])
    finish(oracle, [3.0, 2.0])
    oracle.save()
    again = pruning(tmp_path)
    again.reload()
    assert again.pruned == oracle.pruned and len(again.pruned) == 1


def test_bayesian_oracle_models_pruned_trials_by_what_they_reached(tmp_path):
    inner = kt.oracles.BayesianOptimizationOracle(
        kt.Objective("val_a_loss", "min"), max_trials=10, num_initial_points=3, seed=3
    )
    oracle = pruning(tmp_path, inner=inner)
    finish(oracle, [1.0, 0.5, 0.4])
    finish(oracle, [1.0, 0.6, 0.5])
    finish(oracle, [3.0, 2.0])  # pruned at epoch 1
    assert len(oracle.pruned) == 1
    trial = oracle.create_trial("t1")  # the Gaussian process is fitted on all three
    assert trial.status == "RUNNING" and 0.01 <= trial.hyperparameters.values["ratio/b"] <= 100


def test_a_trial_stopped_at_its_last_epoch_is_not_marked_pruned(tmp_path):
    oracle = pruning(tmp_path)
    finish(oracle, [1.0, 0.5])
    finish(oracle, [1.0, 0.6])  # both ran every epoch: the last one is epoch 1
    trial = oracle.create_trial("t0")
    oracle.update_trial(trial.trial_id, {"val_a_loss": 3.0}, step=0)
    assert oracle.update_trial(trial.trial_id, {"val_a_loss": 2.0}, step=1).status == "STOPPED"
    assert oracle.pruned == {trial.trial_id: 1}  # nothing after epoch 1 is recorded, as for any pruned trial
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    recorded = oracle.get_trial(trial.trial_id)
    assert recorded.status == "COMPLETED" and recorded.score == 2.0 and not recorded.message
    assert oracle.pruned == {}
    with open(tmp_path / "p" / "tuneweights.json") as f:
        assert json.load(f)["pruned"] == {}


def test_a_trial_stopped_before_another_trials_last_epoch_stays_pruned(tmp_path):
    oracle = pruning(tmp_path)
    finish(oracle, [1.0, 0.5])
    finish(oracle, [1.0, 0.6])
    running = oracle.create_trial("t1")  # still running, beyond epoch 1: epoch 1 was not the last
    for epoch, value in enumerate([1.0, 0.4, 0.3]):
        oracle.update_trial(running.trial_id, {"val_a_loss": value}, step=epoch)
    stopped = finish(oracle, [3.0, 2.0], tuner_id="t0")
    assert stopped.message.startswith("Pruned after epoch 1") and oracle.pruned == {stopped.trial_id: 1}


def test_without_a_finished_trial_at_that_epoch_a_stopped_trial_stays_pruned(tmp_path):
    oracle = pruning(tmp_path)
    others = [oracle.create_trial(f"t{i}") for i in (1, 2)]  # running, at epoch 1 (a distributed search)
    for other in others:
        for epoch, value in enumerate([1.0, 0.5]):
            oracle.update_trial(other.trial_id, {"val_a_loss": value}, step=epoch)
    stopped = finish(oracle, [3.0, 2.0], tuner_id="t0")
    assert stopped.message.startswith("Pruned after epoch 1") and oracle.pruned == {stopped.trial_id: 1}


def test_hyperband_refuses_a_pruner(tmp_path):
    inner = kt.oracles.HyperbandOracle(kt.Objective("val_a_loss", "min"), max_epochs=9)
    with pytest.raises(tw.ConfigurationError, match=r"Argument `pruner` must be left out with Hyperband"):
        WeightOracle(inner, WeightSpace(TERMS), pruner="median")


def test_reload_reconciles_a_crash_between_trial_and_oracle_writes(tmp_path):
    oracle = wrapped(tmp_path)
    first = finish(oracle, [1.0])
    ended = oracle.create_trial("t0")  # ran to its end; killed after its trial.json, before oracle.json
    oracle.update_trial(ended.trial_id, {"val_a_loss": 0.5}, step=0)
    oracle.save()
    ended.status = "COMPLETED"
    oracle.wrapped.score_trial(ended)
    oracle.wrapped._save_trial(ended)

    def killed():
        raise KeyboardInterrupt

    oracle.wrapped.save = killed  # a new trial: its trial.json written, oracle.json not
    with pytest.raises(KeyboardInterrupt):
        oracle.create_trial("t1")
    (orphan,) = (
        t for t in oracle.wrapped.trials.values() if t.trial_id not in (first.trial_id, ended.trial_id)
    )
    orphan_file = tmp_path / "p" / f"trial_{orphan.trial_id}" / "trial.json"
    assert orphan_file.exists()

    again = wrapped(tmp_path)
    again.reload()
    inner = again.wrapped
    assert ended.trial_id not in inner._retry_queue and ended.trial_id in inner.end_order
    assert inner._run_times[ended.trial_id] == 1
    assert inner._retry_queue == [] and orphan.trial_id not in inner.trials  # nothing ends twice
    assert not orphan_file.exists()  # it never ran: the oracle proposes it again, from the saved state
    proposed = again.create_trial("t0")
    assert proposed.trial_id == orphan.trial_id
    assert proposed.hyperparameters.values == orphan.hyperparameters.values


def test_nothing_is_recorded_after_the_pruning_epoch(tmp_path):
    oracle = pruning(tmp_path)
    finish(oracle, [1.0, 0.5])
    finish(oracle, [1.0, 0.6])
    trial = oracle.create_trial("t0")
    oracle.update_trial(trial.trial_id, {"val_a_loss": 3.0}, step=0)
    assert oracle.update_trial(trial.trial_id, {"val_a_loss": 2.0}, step=1).status == "STOPPED"
    # a run taken up again after a crash reports the next epoch: it is not recorded
    assert oracle.update_trial(trial.trial_id, {"val_a_loss": 0.1}, step=2).status == "STOPPED"
    assert [o.step for o in oracle.get_trial(trial.trial_id).metrics.get_history("val_a_loss")] == [0, 1]


# -- heartbeats: a silent worker's trial goes to the next worker that asks ----------------------
import os  # noqa: E402

from tuneweights._io import write_json_atomic  # noqa: E402
from tuneweights.search import heartbeat, resume  # noqa: E402


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def listening(tmp_path, timeout=10.0, max_trials=10, max_restarts=3):
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=max_trials, seed=1)
    oracle = WeightOracle(inner, WeightSpace(TERMS), heartbeat_timeout=timeout, max_restarts=max_restarts)
    oracle._set_project_dir(str(tmp_path), "p")
    clock = FakeClock()
    oracle.heartbeats.clock = clock
    return oracle, clock


def report(oracle, trial_id, tuner_id, epoch, value=1.0):
    return oracle.update_trial(trial_id, heartbeat.tag({"val_a_loss": value}, tuner_id), step=epoch)


def checkpoint(oracle, trial_id, epoch):
    """What a worker's `ResumeCheckpoint` leaves: the arrays, then the pointer the oracle reads."""
    trial_dir = oracle.wrapped._get_trial_dir(trial_id)
    os.makedirs(trial_dir, exist_ok=True)
    np.savez(os.path.join(trial_dir, f"resume-{epoch}.npz"), w0=np.zeros(2, "float32"))
    write_json_atomic(
        os.path.join(trial_dir, resume.POINTER), {"epoch": epoch, "file": f"resume-{epoch}.npz"}
    )


def steps(oracle, trial_id):
    metrics = oracle.get_trial(trial_id).metrics
    if not metrics.exists("val_a_loss"):
        return []
    history = metrics.get_history("val_a_loss")
    return [(o.step, len(o.value)) for o in history]


def test_a_silent_workers_trial_is_continued_by_the_next_worker_and_its_late_reports_are_refused(tmp_path):
    oracle, clock = listening(tmp_path, timeout=10.0)
    first = oracle.create_trial("t0")
    for epoch in range(3):
        report(oracle, first.trial_id, "t0", epoch, value=3.0 - epoch)
    checkpoint(oracle, first.trial_id, 1)  # t0 dies during epoch 3, epoch 2 reported but not checkpointed
    clock.now = 9.0
    second = oracle.create_trial("t1")  # t0 silent for 9 s: not yet presumed dead
    assert second.trial_id != first.trial_id
    report(oracle, second.trial_id, "t1", 0)
    second.status = "COMPLETED"
    oracle.end_trial(second)

    clock.now = 10.5
    taken = oracle.create_trial("t1")
    assert taken.trial_id == first.trial_id and taken.status == "RUNNING"
    assert steps(oracle, first.trial_id) == [(0, 1), (1, 1)]  # epoch 2 dropped: after the checkpoint
    assert oracle.starts[first.trial_id] == 2  # counted as a restart
    assert {k: t.trial_id for k, t in oracle.wrapped.ongoing_trials.items()} == {"t1": first.trial_id}
    assert "t0" not in oracle.wrapped.tuner_ids

    late = report(oracle, first.trial_id, "t0", 2, value=0.1)  # t0 was only frozen: refused
    assert late.status == heartbeat.LOST
    assert oracle.update_trial(first.trial_id, heartbeat.tag({}, "t0")).status == heartbeat.LOST
    assert oracle.update_trial(first.trial_id, heartbeat.tag({}, "t1")).status == "RUNNING"
    assert steps(oracle, first.trial_id) == [(0, 1), (1, 1)]

    for epoch in (2, 3):
        assert report(oracle, first.trial_id, "t1", epoch).status == "RUNNING"
    taken.status = "COMPLETED"
    oracle.end_trial(taken)
    assert steps(oracle, first.trial_id) == [(0, 1), (1, 1), (2, 1), (3, 1)]  # each epoch once
    assert oracle.get_trial(first.trial_id).status == "COMPLETED"
    assert report(oracle, first.trial_id, "t0", 3).status == heartbeat.LOST  # nor after its end


def test_reports_keep_a_worker_alive(tmp_path):
    oracle, clock = listening(tmp_path, timeout=10.0)
    first = oracle.create_trial("t0")
    for epoch in range(4):
        clock.now += 6.0
        report(oracle, first.trial_id, "t0", epoch)
    assert oracle.create_trial("t1").trial_id != first.trial_id


def test_a_worker_waits_while_another_runs_and_takes_over_when_it_falls_silent(tmp_path):
    oracle, clock = listening(tmp_path, timeout=10.0, max_trials=2)
    first = oracle.create_trial("t0")
    second = oracle.create_trial("t1")
    report(oracle, second.trial_id, "t1", 0)
    second.status = "COMPLETED"
    oracle.end_trial(second)
    held = oracle.create_trial("t1")  # the budget is spent, but t0 may still need a successor
    assert held.status == "IDLE" and "t1" in oracle.wrapped.tuner_ids
    clock.now = 11.0
    taken = oracle.create_trial("t1")
    assert taken.trial_id == first.trial_id and steps(oracle, first.trial_id) == []  # no checkpoint
    taken.status = "COMPLETED"
    report(oracle, first.trial_id, "t1", 0)
    oracle.end_trial(taken)
    assert oracle.create_trial("t1").status == "STOPPED"
    assert oracle.tuner_ids == set() and oracle.ongoing_trials == {}  # the chief may exit


def test_without_heartbeats_a_worker_is_told_to_stop_and_the_trial_waits_for_its_worker(tmp_path):
    oracle, clock = listening(tmp_path, timeout=None, max_trials=2)
    first = oracle.create_trial("t0")
    second = oracle.create_trial("t1")
    report(oracle, second.trial_id, "t1", 0)
    second.status = "COMPLETED"
    oracle.end_trial(second)
    clock.now = 1e9
    assert oracle.create_trial("t1").status == "STOPPED"
    assert oracle.create_trial("t0").trial_id == first.trial_id  # keras-tuner's: the same id resumes it


def test_a_take_over_beyond_max_restarts_fails_the_trial(tmp_path):
    oracle, clock = listening(tmp_path, timeout=10.0, max_restarts=0)
    first = oracle.create_trial("t0")
    clock.now = 11.0
    other = oracle.create_trial("t1")
    assert other.trial_id != first.trial_id
    assert oracle.get_trial(first.trial_id).status == "FAILED"
    assert "at most 0 restarts" in oracle.get_trial(first.trial_id).message


def test_the_chief_stops_waiting_for_a_worker_silent_between_trials(tmp_path):
    oracle, clock = listening(tmp_path, timeout=10.0)
    trial = oracle.create_trial("t0")
    report(oracle, trial.trial_id, "t0", 0)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)  # t0 is killed before it asks for its next trial
    assert oracle.tuner_ids == {"t0"}
    clock.now = 10.5
    assert oracle.tuner_ids == set() and oracle.wrapped.tuner_ids == {"t0"}


def test_a_restarted_chief_leaves_running_trials_to_their_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    oracle, _ = listening(tmp_path, timeout=10.0)
    first = oracle.create_trial("t0")
    report(oracle, first.trial_id, "t0", 0)
    oracle.save()
    restarted, clock = listening(tmp_path, timeout=10.0)
    restarted.reload()
    assert restarted.create_trial("t1").trial_id != first.trial_id  # t0 gets heartbeat_timeout to be heard
    assert report(restarted, first.trial_id, "t0", 1).status == "RUNNING"
    assert steps(restarted, first.trial_id) == [(0, 1), (1, 1)]


def test_without_heartbeats_a_restarted_chief_gives_a_queued_trial_to_the_worker_still_running_it(tmp_path):
    oracle, _ = listening(tmp_path, timeout=None)
    first = oracle.create_trial("t0")
    report(oracle, first.trial_id, "t0", 0)
    oracle.save()
    restarted, _ = listening(tmp_path, timeout=None)
    restarted.reload()  # keras-tuner queues the running trial for a retry
    assert report(restarted, first.trial_id, "t0", 1).status == "RUNNING"
    assert restarted.wrapped._retry_queue == [] and restarted._owner(first.trial_id) == "t0"
    assert restarted.create_trial("t1").trial_id != first.trial_id


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan])
def test_heartbeat_timeout_is_a_positive_number_or_none(tmp_path, bad):
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=2)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `heartbeat_timeout` must be a finite number > 0"
    ):
        WeightOracle(inner, WeightSpace(TERMS), heartbeat_timeout=bad)
    with pytest.raises(
        tw.ConfigurationTypeError,
        match=r"`heartbeat_timeout` must be a number. Received: heartbeat_timeout='5'",
    ):
        WeightOracle(inner, WeightSpace(TERMS), heartbeat_timeout="5")


def test_a_workers_reporter_stops_its_trial_once_another_worker_owns_it(tmp_path):
    from tuneweights.search.callbacks import EpochReporter, TrialLostError

    oracle, clock = listening(tmp_path, timeout=10.0)
    first = oracle.create_trial("t0")
    reporter = EpochReporter(oracle, first.trial_id, oracle.objective, tuner_id="t0")
    assert reporter.report(0, {"val_a_loss": 2.0}) is False
    clock.now = 11.0
    assert oracle.create_trial("t1").trial_id == first.trial_id  # no checkpoint: from epoch 0
    with pytest.raises(TrialLostError, match=rf"Trial {first.trial_id} was handed to another worker"):
        reporter.report(1, {"val_a_loss": 1.0})
    assert reporter.reported == 1 and steps(oracle, first.trial_id) == []


class Stubborn(kt.Oracle):
    """A strategy that proposes the same values every time (as a Gaussian process can)."""

    def __init__(self, values, **kwargs):
        super().__init__(objective=kt.Objective("val_a_loss", "min"), **kwargs)
        self.values = values

    def populate_space(self, trial_id):
        return {"status": "RUNNING", "values": dict(self.values)}


def test_a_repeated_proposal_is_replaced_by_values_not_yet_tried(tmp_path):
    oracle = wrapped(tmp_path, Stubborn({"ratio/b": 2.0}, max_trials=6, seed=4))
    trials = [finish(oracle, [1.0]) for _ in range(6)]
    values = [t.hyperparameters.values["ratio/b"] for t in trials]
    assert values[0] == 2.0  # a new proposal is kept as it is
    assert len(set(values)) == 6 and all(0.01 <= v <= 100 for v in values[1:])
    hashes = {oracle._compute_values_hash(t.hyperparameters.values) for t in trials}
    assert len(hashes) == 6

    again = wrapped(tmp_path / "again", Stubborn({"ratio/b": 2.0}, max_trials=6, seed=4))
    assert [finish(again, [1.0]).hyperparameters.values["ratio/b"] for _ in range(6)] == values


class Recording(kt.oracles.RandomSearchOracle):
    """RandomSearch, keeping what it proposed."""

    def populate_space(self, trial_id):
        response = super().populate_space(trial_id)
        self.proposed = [*getattr(self, "proposed", []), dict(response["values"])]
        return response


def test_new_proposals_are_kept_as_they_are(tmp_path):
    oracle = wrapped(tmp_path, Recording(kt.Objective("val_a_loss", "min"), max_trials=4, seed=1))
    trials = [finish(oracle, [float(i)]) for i in range(4)]
    assert [t.hyperparameters.values for t in trials] == oracle.wrapped.proposed


def small_space():
    hp = kt.HyperParameters()
    hp.Choice("units", [1, 2])
    return hp


def test_an_exhausted_space_ends_the_search_with_a_stopped_trial(tmp_path):
    inner = Stubborn({"units": 1}, hyperparameters=small_space(), max_trials=10, seed=1)
    oracle = WeightOracle(inner, None)
    oracle._set_project_dir(str(tmp_path), "p")
    first, second = finish(oracle, [1.0]), finish(oracle, [1.0])
    assert [first.hyperparameters.values, second.hyperparameters.values] == [{"units": 1}, {"units": 2}]
    stopped = oracle.create_trial("t0")
    assert stopped.status == "STOPPED"
    assert len(oracle.trials) == 2 and "t0" not in oracle.tuner_ids  # as keras-tuner ends a search


def test_an_exhausted_space_waits_while_trials_run(tmp_path):
    inner = Stubborn({"units": 1}, hyperparameters=small_space(), max_trials=10, seed=1)
    oracle = WeightOracle(inner, None)
    oracle._set_project_dir(str(tmp_path), "p")
    running = [oracle.create_trial("t0"), oracle.create_trial("t1")]
    assert sorted(t.hyperparameters.values["units"] for t in running) == [1, 2]
    assert oracle.create_trial("t2").status == "IDLE"  # a running trial may still change the space
    for trial in running:
        oracle.update_trial(trial.trial_id, {"val_a_loss": 1.0})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert oracle.create_trial("t2").status == "STOPPED"


def test_bayesian_optimization_runs_each_configuration_of_a_small_space_once(tmp_path):
    hp = kt.HyperParameters()
    hp.Choice("units", [1, 2, 3, 4])
    inner = kt.oracles.BayesianOptimizationOracle(
        kt.Objective("val_a_loss", "min"), max_trials=10, num_initial_points=2, hyperparameters=hp, seed=2
    )
    oracle = WeightOracle(inner, None)
    oracle._set_project_dir(str(tmp_path), "p")
    units = []
    while (trial := oracle.create_trial("t0")).status == "RUNNING":
        units.append(trial.hyperparameters.values["units"])
        oracle.update_trial(trial.trial_id, {"val_a_loss": abs(units[-1] - 3.0)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert trial.status == "STOPPED"
    assert sorted(units) == [1, 2, 3, 4]


def test_a_hyperband_promotion_is_not_a_repeat_of_the_trial_it_continues(tmp_path):
    inner = kt.oracles.HyperbandOracle(kt.Objective("val_a_loss", "min"), max_epochs=3, factor=3, seed=1)
    oracle = wrapped(tmp_path, inner)
    trials = []
    while (trial := oracle.create_trial("t0")).status == "RUNNING":
        values = trial.hyperparameters.values
        for epoch in range(values["tuner/initial_epoch"], values["tuner/epochs"]):
            oracle.update_trial(
                trial.trial_id, {"val_a_loss": abs(values["ratio/b"] - 1.0) + 1 / (1 + epoch)}, step=epoch
            )
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        trials.append(oracle.get_trial(trial.trial_id))
    promoted = [t for t in trials if "tuner/trial_id" in t.hyperparameters.values]
    assert promoted
    for trial in promoted:
        parent = oracle.get_trial(trial.hyperparameters.values["tuner/trial_id"])
        assert trial.hyperparameters.values["ratio/b"] == parent.hyperparameters.values["ratio/b"]
    round_zero = [t.hyperparameters.values["ratio/b"] for t in trials if t not in promoted]
    assert len(set(round_zero)) == len(round_zero)
