"""Trainings in separate processes that take turns epoch by epoch.

Timing two ways of training one after the other on a shared machine compares
them under different loads. Here each way runs in its own process and waits
at the start of every epoch until the parent gives it the turn, in an order
rotated every round, so that only one trains at a time and a change of load
hits all alike. A way's epoch lasts from its turn to the start of its next
epoch (the end of training for the last), so its callbacks, reporting and
checkpoints count, and the waiting does not.

A way is a picklable function ``target(way, *args) -> result`` that trains
with `turns()` among its callbacks (once per process: the first training that
ends ends the turns); `run` starts one process per way and returns each way's
epoch durations and result.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

_PIPE: Any = None  # this process's end of the pipe to the parent (callbacks are deep-copied by the tuners)
_DURATIONS: list[float] = []


def turns() -> Any:
    """A Keras callback that waits for the turn at each epoch's start and times the epochs."""
    import keras

    class Turns(keras.callbacks.Callback):
        started = 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch > 0:
                _DURATIONS.append(time.perf_counter() - Turns.started)
            _PIPE.send("ready")
            _PIPE.recv()
            Turns.started = time.perf_counter()

        def on_train_end(self, logs: Any = None) -> None:
            _DURATIONS.append(time.perf_counter() - Turns.started)
            _PIPE.send("ended")

    return Turns()


def _entry(target: Callable[..., Any], way: str, args: tuple[Any, ...], pipe: Any) -> None:
    global _PIPE
    _PIPE = pipe
    result = target(way, *args)
    pipe.send(json.dumps({"durations": _DURATIONS, "result": result}))


def run(target: Callable[..., Any], ways: Sequence[str], *args: Any) -> dict[str, dict[str, Any]]:
    """Run ``target(way, *args)`` for every way in turns; ``{way: {"durations", "result"}}``."""
    context = multiprocessing.get_context("spawn")
    pipes, processes = {}, {}
    for way in ways:
        parent, end = context.Pipe()
        process = context.Process(target=_entry, args=(target, way, args, end), daemon=True)
        process.start()
        end.close()  # the child holds its own copy: its death closes the pipe, and recv raises EOFError
        pipes[way], processes[way] = parent, process
    running, results, turn = list(ways), {}, 0
    try:
        while running:
            order = running[turn % len(running) :] + running[: turn % len(running)]
            turn += 1
            for way in order:
                try:
                    message = pipes[way].recv()  # "ready" at an epoch's start; "ended" after the last
                except EOFError:
                    processes[way].join()
                    raise SystemExit(f"{way} failed (exit code {processes[way].exitcode})") from None
                if message == "ready":
                    pipes[way].send("go")
                    continue
                if message != "ended":  # the way returned without training to its end
                    raise SystemExit(f"{way} returned without ending a training with `turns()`")
                running.remove(way)
                results[way] = json.loads(pipes[way].recv())
    finally:
        for process in processes.values():
            if running:
                process.kill()
            process.join()
    for way, process in processes.items():
        if process.exitcode != 0:
            raise SystemExit(f"{way} failed (exit code {process.exitcode})")
    return results


def windows(epochs: int) -> list[tuple[int, int]]:
    """The windows of epochs the tables give: 10-60, the middle 50 and the last 50 (shorter runs: thirds)."""
    if epochs >= 200:
        middle = epochs // 2
        return [(10, 60), (middle - 25, middle + 25), (epochs - 50, epochs)]
    third = max(epochs // 3, 1)
    return [(third, 2 * third), (epochs - third, epochs)]


def window_mean(durations: Sequence[float], low: int, high: int) -> float:
    """Mean epoch over epochs ``low`` to ``high`` (from 0, end excluded): checkpoint epochs included."""
    return statistics.fmean(durations[low:high])


def window_median(durations: Sequence[float], low: int, high: int) -> float:
    """Median epoch over epochs ``low`` to ``high``: the usual epoch, without the occasional checkpoint."""
    return statistics.median(durations[low:high])
