"""The progress line: formatting, rate limiting, terminals and the oracle's counts."""

from __future__ import annotations

import io
import json
import os
import types

import keras_tuner as kt
import pytest

import tuneweights as tw
from tuneweights.search import progress as P
from tuneweights.search.oracle import DIVERGED_METRIC
from tuneweights.search.progress import Progress, SearchState, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def make(tty: bool, interval: float = 30.0, width: int = 200, refresh: float = 0.2):
    clock, stream = Clock(), Stream(tty)
    progress = Progress(
        "val_loss", stream=stream, interval=interval, width=width, refresh=refresh, clock=clock
    )
    return progress, clock, stream


def run_trial(progress, clock, trial_id, seconds, state_before, state_after, score=0.5, epochs=0):
    progress.trial_begin(trial_id, state_before)
    for epoch in range(1, epochs + 1):
        clock.now += seconds / (epochs + 1)
        progress.epoch_end(epoch, epochs)
    clock.now += seconds / (epochs + 1) if epochs else seconds
    progress.trial_end(trial_id, "completed", score, state_after)


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.0, "0.0s"),
        (4.25, "4.2s"),
        (9.96, "10s"),
        (59.4, "59s"),
        (60, "1m00s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_search_state_counts_trials_unless_work_is_given():
    assert SearchState(done=2, budget=5).work() == (2.0, 5.0)
    assert SearchState(done=2).work() == (2.0, None)
    assert SearchState(done=2, budget=5, work_done=7.0, work_total=40.0).work() == (7.0, 40.0)


# -- off a terminal ---------------------------------------------------------------
def test_not_a_tty_prints_one_full_line_per_trial_end_at_most_every_interval():
    progress, clock, stream = make(tty=False, interval=30.0)
    progress.start(SearchState(budget=4))
    progress.trial_begin("0", SearchState(budget=4))
    progress.epoch_end(1, 3)
    assert stream.getvalue() == ""  # nothing before a trial ends
    clock.now = 10.0
    progress.trial_end("0", "completed", 0.5, SearchState(1, 4, best=0.5, best_trial="0"))
    first = "Trial 0 completed in 10s, val_loss 0.5 | trials 1/4 | 10s elapsed, ~30s left | best val_loss 0.5 (trial 0)\n"
    assert stream.getvalue() == first
    # 20 s after the line above: withheld
    run_trial(
        progress, clock, "1", 20.0, SearchState(1, 4), SearchState(2, 4, best=0.25, best_trial="1"), 0.25
    )
    assert stream.getvalue() == first
    # exactly 30 s after it: printed, and the withheld line is dropped
    run_trial(
        progress, clock, "2", 10.0, SearchState(2, 4), SearchState(3, 4, best=0.25, best_trial="1"), 0.75
    )
    third = "Trial 2 completed in 10s, val_loss 0.75 | trials 3/4 | 40s elapsed, ~13s left | best val_loss 0.25 (trial 1)\n"
    assert stream.getvalue() == first + third
    run_trial(progress, clock, "3", 5.0, SearchState(3, 4), SearchState(4, 4, best=0.25, best_trial="1"), 0.3)
    assert stream.getvalue() == first + third
    progress.finish()  # the last trial's line, withheld until now
    fourth = (
        "Trial 3 completed in 5.0s, val_loss 0.3 | trials 4/4 | 45s elapsed | best val_loss 0.25 (trial 1)\n"
    )
    assert stream.getvalue() == first + third + fourth
    progress.finish()
    assert stream.getvalue() == first + third + fourth


def test_interval_zero_prints_every_trial_and_finish_adds_nothing():
    progress, clock, stream = make(tty=False, interval=0.0)
    progress.start(SearchState(budget=2))
    for i in range(2):
        run_trial(
            progress, clock, str(i), 1.0, SearchState(i, 2), SearchState(i + 1, 2, best=1.0, best_trial="0")
        )
    progress.finish()
    assert [line.split(" | ")[0] for line in stream.getvalue().splitlines()] == [
        "Trial 0 completed in 1.0s, val_loss 0.5",
        "Trial 1 completed in 1.0s, val_loss 0.5",
    ]


# -- on a terminal ------------------------------------------------------------------
def test_tty_rewrites_one_line_and_keeps_a_line_per_finished_trial():
    progress, clock, stream = make(tty=True)
    progress.start(SearchState(budget=3, pruned=0))
    progress.trial_begin("0", SearchState(budget=3, pruned=0))
    assert stream.getvalue() == "\rTrials 0/3 (0 pruned) | trial 0 | 0.0s elapsed"
    clock.now = 4.0
    progress.epoch_end(1, 2)
    assert stream.getvalue().endswith("\rTrials 0/3 (0 pruned) | trial 0, epoch 1/2 | 4.0s elapsed")
    assert "\n" not in stream.getvalue()
    clock.now = 8.0
    progress.trial_end(
        "0", "pruned after epoch 1", 0.5, SearchState(1, 3, best=0.5, best_trial="0", pruned=1)
    )
    assert stream.getvalue().endswith(
        "\rTrial 0 pruned after epoch 1 in 8.0s, val_loss 0.5 | trials 1/3 (1 pruned) | 8.0s elapsed, ~16s left"
        " | best val_loss 0.5 (trial 0)\n"
    )
    progress.trial_begin("1", SearchState(1, 3, best=0.5, best_trial="0", pruned=1))
    clock.now = 10.0
    progress.epoch_end(1, 2)
    # the running trial's time is taken off the estimate; the live line names no objective
    live = "\rTrials 1/3 (1 pruned) | trial 1, epoch 1/2 | 10s elapsed, ~14s left | best 0.5 (trial 0)"
    assert stream.getvalue().endswith(live)
    progress.finish()  # interrupted during a trial: the line is ended, not erased
    assert stream.getvalue().endswith(live + "\n")
    assert stream.getvalue().count("\n") == 2


def test_tty_redraws_at_most_every_refresh_seconds():
    progress, clock, stream = make(tty=True, refresh=1.0)
    progress.start(SearchState(budget=1))
    progress.trial_begin("0", SearchState(budget=1))
    clock.now = 0.5
    progress.epoch_end(1, 3)
    assert "epoch" not in stream.getvalue()
    clock.now = 1.0
    progress.epoch_end(2, 3)
    assert stream.getvalue().endswith("trial 0, epoch 2/3 | 1.0s elapsed")


def test_tty_pads_over_a_longer_line():
    progress, clock, stream = make(tty=True)
    progress.start(SearchState(budget=1))
    progress.trial_begin("0", SearchState(budget=1))
    clock.now = 1.0
    progress.epoch_end(12, 100)
    longer = "Trials 0/1 | trial 0, epoch 12/100 | 1.0s elapsed"
    assert stream.getvalue().endswith("\r" + longer)
    progress.trial_begin("1", SearchState(budget=1))  # shorter than the line it replaces
    shorter = "Trials 0/1 | trial 1 | 1.0s elapsed"
    assert stream.getvalue().endswith("\r" + shorter + " " * (len(longer) - len(shorter)))


def test_tty_line_keeps_whole_parts_that_fit_the_width():
    progress, clock, stream = make(tty=True, width=40)
    progress.start(SearchState(budget=10))
    progress.trial_begin("3", SearchState(2, 10, best=0.123456, best_trial="1"))
    shown = stream.getvalue().split("\r")[-1]
    assert shown == "Trials 2/10 | trial 3 | 0.0s elapsed"  # the best value is left out, not cut
    assert len(shown) <= 39


def test_callback_feeds_the_epoch_and_the_planned_epochs():
    progress, clock, stream = make(tty=True, refresh=0.0)
    progress.start(SearchState(budget=1))
    progress.trial_begin("0", SearchState(budget=1))
    callback = progress.callback()
    callback.set_params({"epochs": 5, "verbose": 0})
    callback.on_epoch_end(2, {"loss": 1.0})
    assert stream.getvalue().endswith("trial 0, epoch 3/5 | 0.0s elapsed")


# -- the time left --------------------------------------------------------------------
def test_time_left_is_the_mean_trial_time_times_the_trials_left():
    progress, clock, stream = make(tty=False, interval=0.0)
    progress.start(SearchState(budget=6))
    run_trial(progress, clock, "0", 10.0, SearchState(0, 6), SearchState(1, 6))
    run_trial(progress, clock, "1", 30.0, SearchState(1, 6), SearchState(2, 6))
    assert "40s elapsed, ~1m20s left" in stream.getvalue().splitlines()[-1]  # 20 s x 4


def test_time_left_counts_work_units_when_trials_differ():
    progress, clock, stream = make(tty=False, interval=0.0)
    progress.start(SearchState(budget=4, work_done=0.0, work_total=20.0))
    before = SearchState(0, 4, work_done=0.0, work_total=20.0)
    run_trial(progress, clock, "0", 10.0, before, SearchState(1, 4, work_done=2.0, work_total=20.0))
    assert "~1m30s left" in stream.getvalue()  # 5 s per epoch x 18 epochs


def test_unknown_budget_has_no_estimate():
    progress, clock, stream = make(tty=False, interval=0.0)
    progress.start(SearchState())
    run_trial(progress, clock, "0", 10.0, SearchState(), SearchState(1))
    assert (
        stream.getvalue()
        == "Trial 0 completed in 10s, val_loss 0.5 | trials 1 (unknown budget) | 10s elapsed\n"
    )


def test_a_failed_trial_shows_no_value():
    progress, clock, stream = make(tty=False, interval=0.0)
    progress.start(SearchState(budget=2))
    progress.trial_begin("0", SearchState(budget=2))
    clock.now = 2.0
    progress.trial_end("0", "failed", None, SearchState(1, 2))
    assert stream.getvalue() == "Trial 0 failed in 2.0s | trials 1/2 | 2.0s elapsed, ~2.0s left\n"


# -- arguments ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"interval": -1}, "Argument `interval` must be a finite number >= 0. Received: interval=-1"),
        (
            {"interval": float("nan")},
            "Argument `interval` must be a finite number >= 0. Received: interval=nan",
        ),
        ({"refresh": -0.5}, "Argument `refresh` must be a finite number >= 0. Received: refresh=-0.5"),
        ({"width": 10}, "Argument `width` must be an int >= 20. Received: width=10"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(
        tw.ConfigurationError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"
    ):
        Progress("loss", **kwargs)


def test_wrong_types():
    with pytest.raises(
        tw.ConfigurationTypeError,
        match=r"^Argument `objective` must be a str\. Received: objective=3 \(of type int\)$",
    ):
        Progress(3)
    with pytest.raises(
        tw.ConfigurationTypeError,
        match=r"^Argument `interval` must be a number\. Received: interval='30' \(of type str\)$",
    ):
        Progress("loss", interval="30")


@pytest.mark.parametrize(
    "verbose, wanted", [(None, True), (1, True), ("auto", True), (True, True), (0, False), (2, False)]
)
def test_wanted_with_verbose(verbose, wanted):
    assert P.wanted({} if verbose is None else {"verbose": verbose}) is wanted


def test_tty_is_asked_to_the_stream():
    assert Progress("loss", stream=Stream(True)).tty
    assert not Progress("loss", stream=Stream(False)).tty
    assert not Progress("loss", stream=types.SimpleNamespace(write=print, flush=lambda: None)).tty


# -- reading the oracle -----------------------------------------------------------------
def declared() -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    return hp


def end(oracle, trial, score=None, status="COMPLETED", step=0):
    if score is not None:
        oracle.update_trial(trial.trial_id, {"score": score}, step=step)
    trial.status = status
    oracle.end_trial(trial)


def test_search_state_of_a_random_search(tmp_path):
    oracle = kt.oracles.RandomSearchOracle(
        kt.Objective("score", "min"), max_trials=5, hyperparameters=declared(), seed=1
    )
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    assert P.search_state(oracle) == SearchState(0, 5)
    first, second, third = (oracle.create_trial(f"t{i}") for i in range(3))
    end(oracle, first, 0.7)
    end(oracle, second, 0.2)
    end(oracle, third, status="FAILED")
    assert P.search_state(oracle) == SearchState(3, 5, best=0.2, best_trial=second.trial_id)
    assert P.trial_outcome(oracle, second.trial_id) == ("completed", 0.2)
    assert P.trial_outcome(oracle, third.trial_id) == ("failed", None)


def test_search_state_counts_pruned_trials(tmp_path):
    space = tw.WeightSpace([tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10.0))])
    inner = kt.oracles.RandomSearchOracle(kt.Objective("score", "min"), max_trials=4, seed=1)
    oracle = tw.WeightOracle(inner, space, pruner=tw.MedianStopping(warmup=0, min_trials=1))
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    assert P.search_state(oracle).pruned == 0
    good = oracle.create_trial("t0")
    for step in range(3):
        oracle.update_trial(good.trial_id, {"score": 0.1}, step=step)
    end(oracle, good)
    bad = oracle.create_trial("t1")
    for step in range(2):
        oracle.update_trial(bad.trial_id, {"score": 5.0}, step=step)
    end(oracle, bad)
    assert bad.trial_id in oracle.pruned
    state = P.search_state(oracle)
    assert (state.done, state.budget, state.pruned, state.best_trial) == (2, 4, 1, good.trial_id)
    assert P.trial_outcome(oracle, bad.trial_id) == (f"pruned after epoch {oracle.pruned[bad.trial_id]}", 5.0)


def test_a_diverged_trial_is_shown_as_such(tmp_path):
    space = tw.WeightSpace([tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10.0))])
    inner = kt.oracles.RandomSearchOracle(kt.Objective("score", "min"), max_trials=4, seed=1)
    oracle = tw.WeightOracle(inner, space)
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    trial = oracle.create_trial("t0")
    oracle.update_trial(trial.trial_id, {"score": 0.5}, step=0)
    oracle.update_trial(trial.trial_id, {"score": float("nan"), DIVERGED_METRIC: 1.0}, step=1)
    trial.status = "FAILED"
    oracle.end_trial(trial)
    assert P.trial_outcome(oracle, trial.trial_id) == ("diverged at epoch 1", None)


def test_hyperband_plan_in_closed_form():
    oracle = kt.oracles.HyperbandOracle(
        kt.Objective("score", "min"), max_epochs=9, factor=3, hyperband_iterations=2
    )
    # brackets of 9, 5 and 3 trials: rounds 9+3+1 (1, 2 and 6 new epochs), 5+2 (3, 6), 3 (9)
    assert P.hyperband_plan(oracle) == (2 * 23, 2 * (9 * 1 + 3 * 2 + 1 * 6 + 5 * 3 + 2 * 6 + 3 * 9))


def test_hyperband_plan_is_what_the_oracle_runs(tmp_path):
    oracle = kt.oracles.HyperbandOracle(
        kt.Objective("score", "min"), max_epochs=8, factor=2, hyperparameters=declared(), seed=3
    )
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    trials, epochs = P.hyperband_plan(oracle)
    ran, run_epochs = 0, 0
    while True:
        trial = oracle.create_trial("t")
        if trial.status == "STOPPED":
            break
        values = trial.hyperparameters.values
        ran += 1
        run_epochs += values["tuner/epochs"] - values["tuner/initial_epoch"]
        end(oracle, trial, score=values["x"], step=values["tuner/epochs"] - 1)
        state = P.search_state(oracle)
        assert (state.done, state.budget, state.work_done, state.work_total) == (
            ran,
            trials,
            run_epochs,
            epochs,
        )
    assert (ran, run_epochs) == (trials, epochs)


def test_trial_outcome_of_a_trial_to_be_retried():
    trial = types.SimpleNamespace(status="INVALID", score=None)
    oracle = types.SimpleNamespace(get_trial=lambda trial_id: trial, pruned={})
    assert P.trial_outcome(oracle, "0") == ("invalid (to be retried)", None)


# -- keras-tuner's display ------------------------------------------------------------
def test_attached_silences_keras_tuner_display_but_keeps_its_start_times(tmp_path, capsys):
    oracle = kt.oracles.RandomSearchOracle(
        kt.Objective("score", "min"), max_trials=3, hyperparameters=declared(), seed=1
    )
    oracle._set_project_dir(str(tmp_path), "p")
    with P.attached(oracle, {}) as progress:
        assert isinstance(progress, Progress)
        trial = oracle.create_trial("t0")
        end(oracle, trial, 0.5)
    assert capsys.readouterr().out == ""
    with open(os.path.join(str(tmp_path), "p", "oracle.json")) as f:
        assert trial.trial_id in json.load(f)["display"]["trial_start"]  # what `tuneweights report` reads
    oracle.create_trial("t1")  # restored: keras-tuner prints again
    assert "Search: Running Trial #2" in capsys.readouterr().out


def test_attached_is_off_with_verbose_0_or_2(tmp_path, capsys):
    oracle = kt.oracles.RandomSearchOracle(
        kt.Objective("score", "min"), max_trials=3, hyperparameters=declared()
    )
    oracle._set_project_dir(str(tmp_path), "p")
    for verbose in (0, 2):
        with P.attached(oracle, {"verbose": verbose}) as progress:
            assert progress is None
    with P.attached(oracle, {"verbose": 2}):
        oracle.create_trial("t0")
    assert "Search: Running Trial #1" in capsys.readouterr().out
