"""One line that says where a search is: trials done, best so far, time left.

`Progress` is fed by the tuner when a trial begins and ends, and after every
epoch. On a terminal it rewrites one line in place (``\\r``) and leaves one
line per finished trial; elsewhere (a log file, a pipe, a notebook) it prints
a line only when a trial ends, at most once every `interval` seconds, so that
a long search does not flood its log.

The estimate of the time left is the time per trial measured in this process
times the trials left. Under Hyperband, whose trials run different numbers of
epochs, it is the time per epoch times the epochs the remaining brackets
plan.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import keras
import keras_tuner as kt
from keras_tuner.src.distribute import utils as dist_utils

from tuneweights import _validation as v

ENDED = ("COMPLETED", "FAILED")


@dataclasses.dataclass(frozen=True)
class SearchState:
    """What the oracle knows of the search at one moment.

    Attributes:
        done: Trials that ended (completed, pruned or failed).
        budget: The most trials the search runs; None when unknown.
        best: Best objective value of a completed trial; None before the first.
        best_trial: The id of that trial.
        pruned: Trials stopped early by the pruner; None when the search
            has no pruner.
        work_done: Units of work of the ended trials, when trials differ in
            length (epochs under Hyperband); None to count trials.
        work_total: Units of work of the whole search, with `work_done`.
    """

    done: int = 0
    budget: int | None = None
    best: float | None = None
    best_trial: str | None = None
    pruned: int | None = None
    work_done: float | None = None
    work_total: float | None = None

    def work(self) -> tuple[float, float | None]:
        """``(done, total)`` in the units the time estimate counts."""
        if self.work_done is not None:
            return self.work_done, self.work_total
        return float(self.done), None if self.budget is None else float(self.budget)


def format_duration(seconds: float) -> str:
    """A short duration: tenths below 10 s, then seconds, minutes, hours.

    Example:
        >>> [format_duration(s) for s in (4.25, 42.4, 190, 3725, 90000)]
        ['4.2s', '42s', '3m10s', '1h02m', '25h00m']
    """
    if seconds < 9.95:
        return f"{max(seconds, 0.0):.1f}s"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _value(value: float) -> str:
    return f"{value:.4g}"


class Progress:
    """The progress line of a search.

    Args:
        objective: Name of the objective, shown with the best value.
        stream: Where to write; defaults to `sys.stdout` at construction.
        interval: Off a terminal, the fewest seconds between two printed
            lines; a trial that ends sooner is not printed, and the last one
            not printed is printed by `finish`.
        tty: Whether the stream is a terminal; asked to the stream when None.
        width: Terminal width for the rewritten line; asked to the terminal
            at each draw when None.
        refresh: On a terminal, the fewest seconds between two redraws after
            an epoch.
        clock: Seconds from an arbitrary origin (`time.monotonic`).

    Raises:
        ConfigurationError: `interval` or `refresh` is not a finite number
            >= 0, or `width` is not an int >= 20.

    Example:
        >>> now = [0.0]
        >>> out = io.StringIO()
        >>> progress = Progress("loss", stream=out, clock=lambda: now[0])
        >>> progress.start(SearchState(budget=4))
        >>> progress.trial_begin("0", SearchState(budget=4))
        >>> now[0] = 20.0
        >>> progress.trial_end("0", "completed", 0.25, SearchState(1, 4, best=0.25, best_trial="0"))
        >>> print(out.getvalue(), end="")
        Trial 0 completed in 20s, loss 0.25 | trials 1/4 | 20s elapsed, ~1m00s left | best loss 0.25 (trial 0)
    """

    def __init__(
        self,
        objective: str,
        stream: TextIO | None = None,
        interval: float = 30.0,
        tty: bool | None = None,
        width: int | None = None,
        refresh: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(objective, str):
            raise v.wrong_type("objective", "a str", objective)
        self.objective = objective
        self.stream: TextIO = sys.stdout if stream is None else stream
        self.interval = v.check_non_negative("interval", interval)
        self.refresh = v.check_non_negative("refresh", refresh)
        if width is not None:
            v.check_int("width", width, 20)
        self.width = width
        self.tty = _is_tty(self.stream) if tty is None else bool(tty)
        self.clock = clock
        self._state = SearchState()
        self._start: float | None = None
        self._trial: str | None = None
        self._trial_start = 0.0
        self._trial_work = 0.0
        self._epoch: int | None = None
        self._epochs: int | None = None
        self._seconds = 0.0  # trial time measured in this process
        self._work = 0.0  # units of work those trials did
        self._shown = 0  # length of the line being rewritten (0: none)
        self._last_draw = -math.inf
        self._last_print = -math.inf
        self._pending: str | None = None  # the last trial line not printed

    # -- events -------------------------------------------------------------
    def start(self, state: SearchState) -> None:
        """The search begins (or continues) in this process."""
        self._start = self.clock()
        self._state = state

    def trial_begin(self, trial_id: str, state: SearchState) -> None:
        """A trial begins."""
        self._state = state
        self._trial = trial_id
        self._trial_start = self.clock()
        self._trial_work = state.work()[0]
        self._epoch = self._epochs = None
        if self.tty:
            self._draw(self._live_line())

    def epoch_end(self, epoch: int, epochs: int | None = None) -> None:
        """The running trial finished its `epoch`-th epoch (counted from 1) of `epochs`."""
        self._epoch, self._epochs = epoch, epochs
        if self.tty and self.clock() - self._last_draw >= self.refresh:
            self._draw(self._live_line())

    def trial_end(self, trial_id: str, outcome: str, score: float | None, state: SearchState) -> None:
        """A trial ended; `outcome` is a word or two (``"completed"``, ``"failed"``)."""
        now = self.clock()
        seconds = now - self._trial_start if self._trial == trial_id else 0.0
        self._seconds += seconds
        self._work += max(state.work()[0] - self._trial_work, 0.0)
        self._state = state
        self._trial = None
        head = f"Trial {trial_id} {outcome} in {format_duration(seconds)}"
        if score is not None:
            head += f", {self.objective} {_value(score)}"
        line = " | ".join([head, self._trials(), self._timing(now), *self._best(True)])
        if self.tty:
            self._draw(line, keep=True)
        elif now - self._last_print >= self.interval:
            self._print(line)
        else:
            self._pending = line

    def finish(self) -> None:
        """The search stopped: end the rewritten line, print a withheld one."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = 0
        if self._pending is not None:
            self._print(self._pending)

    def callback(self) -> keras.callbacks.Callback:
        """A Keras callback that calls `epoch_end` after every epoch."""
        return _EpochFeed(self)

    # -- lines --------------------------------------------------------------
    def _trials(self) -> str:
        state = self._state
        text = f"trials {state.done}/{state.budget}" if state.budget is not None else f"trials {state.done}"
        details = [] if state.budget is not None else ["unknown budget"]
        if state.pruned is not None:
            details.append(f"{state.pruned} pruned")
        return text + (f" ({', '.join(details)})" if details else "")

    def _timing(self, now: float) -> str:
        elapsed = 0.0 if self._start is None else now - self._start
        left = self._time_left(now)
        text = f"{format_duration(elapsed)} elapsed"
        return text if left is None else f"{text}, ~{format_duration(left)} left"

    def _best(self, named: bool) -> list[str]:
        state = self._state
        if state.best is None:
            return []
        name = f"{self.objective} " if named else ""
        return [f"best {name}{_value(state.best)} (trial {state.best_trial})"]

    def _time_left(self, now: float) -> float | None:
        done, total = self._state.work()
        if total is None or self._work <= 0 or total <= done:
            return None
        left = self._seconds / self._work * (total - done)
        if self._trial is not None:  # the running trial is part of what is left
            left -= now - self._trial_start
        return max(left, 0.0)

    def _live_line(self) -> str:
        now = self.clock()
        running = f"trial {self._trial}"
        if self._epoch is not None:
            running += f", epoch {self._epoch}" + ("" if self._epochs is None else f"/{self._epochs}")
        parts = [self._trials().capitalize(), running, self._timing(now), *self._best(False)]
        # A wrapped line cannot be rewritten: keep the parts that fit, most important first.
        width = max((self.width or shutil.get_terminal_size((80, 24)).columns) - 1, 1)
        line = parts[0][:width]
        for part in parts[1:]:
            if len(line) + 3 + len(part) > width:
                break
            line += " | " + part
        return line

    # -- writing ------------------------------------------------------------
    def _draw(self, line: str, keep: bool = False) -> None:
        pad = " " * max(self._shown - len(line), 0)
        self.stream.write("\r" + line + pad + ("\n" if keep else ""))
        self.stream.flush()
        self._shown = 0 if keep else len(line)
        self._last_draw = self.clock()

    def _print(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._last_print = self.clock()
        self._pending = None


class _EpochFeed(keras.callbacks.Callback):
    """Tells a `Progress` that an epoch ended (Keras's ``epoch`` counts from 0)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        epochs = (self.params or {}).get("epochs")
        self.progress.epoch_end(int(epoch) + 1, None if epochs is None else int(epochs))


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


# -- reading the oracle --------------------------------------------------------
def search_state(oracle: Any) -> SearchState:
    """The `SearchState` of a (wrapped) keras-tuner oracle."""
    inner = getattr(oracle, "wrapped", oracle)
    trials = list(oracle.trials.values())
    ended = [t for t in trials if t.status in ENDED]
    best = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED" and t.score is not None]
    pruned = None if getattr(oracle, "pruner", None) is None else len(oracle.pruned)
    state = SearchState(
        done=len(ended),
        budget=inner.max_trials,
        best=float(best[0].score) if best else None,
        best_trial=best[0].trial_id if best else None,
        pruned=pruned,
    )
    if isinstance(inner, kt.oracles.HyperbandOracle):
        plan = hyperband_plan(inner)
        if plan is None:
            return state
        trials_total, epochs_total = plan
        epochs_done = sum(_hyperband_epochs(t.hyperparameters.values) for t in ended)
        return dataclasses.replace(state, budget=trials_total, work_done=epochs_done, work_total=epochs_total)
    return state


def hyperband_plan(oracle: Any) -> tuple[int, float] | None:
    """``(trials, epochs)`` that a Hyperband oracle plans over all its iterations.

    Each round of a bracket is run by new trials (a promoted trial continues
    from its parent's epochs), so a trial of round ``r`` trains the epochs of
    round ``r`` less those of round ``r - 1``. Trials that fail are not
    promoted, so the search may end with fewer. None when the iterations are
    unbounded (``hyperband_iterations`` 0 or None).
    """
    iterations = oracle.hyperband_iterations
    if not math.isfinite(iterations):
        return None
    trials = 0
    epochs = 0.0
    for bracket in range(oracle._get_num_brackets()):
        for round_num in range(bracket + 1):
            size = oracle._get_size(bracket, round_num)
            before = oracle._get_epochs(bracket, round_num - 1) if round_num else 0
            trials += size
            epochs += size * (oracle._get_epochs(bracket, round_num) - before)
    return int(trials * iterations), float(epochs * iterations)


def _hyperband_epochs(values: dict[str, Any]) -> float:
    return float(values.get("tuner/epochs", 0)) - float(values.get("tuner/initial_epoch", 0))


def trial_outcome(oracle: Any, trial_id: str) -> tuple[str, float | None]:
    """``(outcome, score)`` of an ended trial, as `Progress.trial_end` shows them."""
    trial = oracle.get_trial(trial_id)
    pruned = getattr(oracle, "pruned", {})
    diverged = getattr(oracle, "diverged", {})
    if trial.status == "COMPLETED" and trial_id in pruned:
        outcome = f"pruned after epoch {pruned[trial_id]}"
    elif trial.status == "FAILED" and trial_id in diverged:
        outcome = f"diverged at epoch {diverged[trial_id]}"
    elif trial.status == "INVALID":
        outcome = "invalid (to be retried)"
    else:
        outcome = str(trial.status).lower()
    score = trial.score if trial.status == "COMPLETED" else None
    return outcome, None if score is None else float(score)


# -- the tuner's side -------------------------------------------------------------
def wanted(fit_kwargs: dict[str, Any]) -> bool:
    """Whether `search`'s ``verbose`` asks for the progress line (1, the default, or "auto").

    Example:
        >>> [wanted({}), wanted({"verbose": 1}), wanted({"verbose": 0}), wanted({"verbose": 2})]
        [True, True, False, False]
    """
    verbose = fit_kwargs.get("verbose", 1)
    return verbose == "auto" or verbose == 1


@contextlib.contextmanager
def attached(oracle: Any, fit_kwargs: dict[str, Any], interval: float = 30.0) -> Iterator[Progress | None]:
    """The progress line of one call to `search`, or None when not wanted.

    It is off with ``verbose`` 0 or 2 and in a distributed search (the
    chief's keras-tuner display is left as it is). While it is on,
    keras-tuner's own per-trial display prints nothing, so that nothing is
    said twice, but still records when each trial starts (`tuneweights.report`
    reads those times).
    """
    if not wanted(fit_kwargs) or dist_utils.has_chief_oracle():
        yield None
        return
    progress = Progress(oracle.objective.name, interval=interval)
    progress.start(search_state(oracle))
    with _quiet_display(oracle):
        try:
            yield progress
        finally:
            progress.finish()


@contextlib.contextmanager
def _quiet_display(oracle: Any) -> Iterator[None]:
    display = getattr(oracle, "_display", None)
    if display is None:
        yield
        return
    names = ("on_trial_begin", "on_trial_end")
    saved = {name: vars(display)[name] for name in names if name in vars(display)}
    begin = display.on_trial_begin

    def record_only(trial: Any) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            begin(trial)

    display.on_trial_begin = record_only
    display.on_trial_end = lambda trial: None
    try:
        yield
    finally:
        for name in names:
            vars(display).pop(name, None)
        vars(display).update(saved)
