"""The per-epoch journal: a running trial's reports, one appended line per epoch.

Rewriting a trial's whole ``trial.json`` at every epoch costs time and bytes
proportional to the epochs already run, so a trial of E epochs would cost
O(E^2). While a trial runs, the oracle instead appends each reported epoch to
``epochs.jsonl`` in the trial's directory and syncs it (O(1) per epoch), and
writes ``trial.json`` only when the trial starts, is taken up again, or ends.
A finished trial's ``trial.json`` holds its complete metrics, as keras-tuner
writes it, and its journal is removed.

For a trial that has not finished (``trial.json`` says RUNNING or
INVALID), the journal, when there is one, is the record of its metrics:
reloading a project rebuilds them from it. Whenever ``trial.json`` of such a
trial is written, an existing journal is first rewritten (atomically) to
hold the same metrics, and when a trial without a journal reports an epoch,
the journal is first written whole from the metrics held so far; so the
journal never lacks an epoch that ``trial.json`` has.

A line is ``{"metrics": {name: value}, "step": epoch}`` (keys sorted, no
spaces), ending in a newline. A process killed inside an append leaves a torn
last line; it is skipped when read, and cut off by the next append.

Example:
    >>> import tempfile
    >>> trial_dir = tempfile.mkdtemp()
    >>> append(trial_dir, 0, {"val_loss": 0.5})
    >>> with open(os.path.join(trial_dir, FILE), "a") as f:
    ...     _ = f.write('{"metrics": {"val_lo')  # a write cut short
    >>> append(trial_dir, 1, {"val_loss": 0.25})
    >>> read(trial_dir)
    [(0, {'val_loss': 0.5}), (1, {'val_loss': 0.25})]
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from keras_tuner.src.engine import metrics_tracking

from tuneweights._io import replace_atomically

FILE = "epochs.jsonl"

Record = tuple[int, dict[str, float]]


def path(trial_dir: str) -> str:
    """The journal of the trial whose directory is `trial_dir`."""
    return os.path.join(trial_dir, FILE)


def line(step: int, metrics: Mapping[str, Any]) -> str:
    """One epoch's line, newline included.

    Example:
        >>> line(3, {"val_loss": 0.5, "loss": 1.0})
        '{"metrics":{"loss":1.0,"val_loss":0.5},"step":3}\\n'
    """
    record = {"metrics": {str(k): float(val) for k, val in metrics.items()}, "step": int(step)}
    return json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"


def exists(trial_dir: str) -> bool:
    return os.path.exists(path(trial_dir))


def append(trial_dir: str, step: int, metrics: Mapping[str, Any]) -> None:
    """Append one epoch to the journal (created if missing) and sync it to disk.

    A torn last line (a process killed inside an append, which `read`
    skips) is cut off first, so that what was read stays what is read.
    """
    append_bytes(trial_dir, line(step, metrics).encode(), sync=True)


def append_bytes(trial_dir: str, data: bytes, sync: bool = False) -> None:
    """Append `data` to the journal after cutting off a torn last line; sync it when asked."""
    fd = os.open(path(trial_dir), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            os.ftruncate(fd, _complete_part(fd, size))
        os.write(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _complete_part(fd: int, size: int) -> int:
    """The length of the file up to its last newline (what `read` reads of it)."""
    end = size
    while end > 0:
        start = max(0, end - 4096)
        found = os.pread(fd, end - start, start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def write(trial_dir: str, records: list[Record]) -> None:
    """Replace the journal atomically with `records`."""

    def write_lines(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.writelines(line(step, metrics) for step, metrics in records)

    replace_atomically(path(trial_dir), write_lines, suffix=".jsonl")


def read(trial_dir: str) -> list[Record] | None:
    """The journal's records in the order written, or None without a journal.

    A line cut short by a killed process (no newline, or not JSON) is skipped.
    """
    try:
        with open(path(trial_dir), "rb") as f:
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return None
    records = []
    for entry in text.split("\n")[:-1]:  # the part after the last newline is a torn line, or empty
        try:
            record = json.loads(entry)
            metrics = {str(k): float(val) for k, val in record["metrics"].items()}
            records.append((int(record["step"]), metrics))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return records


def remove(trial_dir: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path(trial_dir))


def records_of(tracker: metrics_tracking.MetricsTracker) -> list[Record]:
    """Records that rebuild `tracker` when applied in order (one per epoch and execution).

    Example:
        >>> tracker = metrics_tracking.MetricsTracker()
        >>> for step, value in [(0, 1.0), (1, 0.5), (0, 3.0)]:
        ...     _ = tracker.update("val_loss", value, step=step)
        >>> records_of(tracker)
        [(0, {'val_loss': 1.0}), (0, {'val_loss': 3.0}), (1, {'val_loss': 0.5})]
    """
    grouped: dict[tuple[int, int], dict[str, float]] = {}
    for name, history in tracker.metrics.items():
        for observation in history.get_history():
            for execution, value in enumerate(observation.value):
                grouped.setdefault((int(observation.step), execution), {})[name] = float(value)
    return [(step, metrics) for (step, _), metrics in sorted(grouped.items())]


def record(
    tracker: metrics_tracking.MetricsTracker,
    metrics: Mapping[str, Any],
    step: int,
    direction: Callable[[str], str | None],
) -> None:
    """Add one epoch's metrics to `tracker` in O(1) per metric.

    keras-tuner's `MetricsTracker.update` computes the best value twice per
    call, over the whole history; the values recorded here are the same.

    Args:
        tracker: A trial's metrics.
        metrics: ``{name: value}``.
        step: The epoch.
        direction: The direction to register a new metric with (keras-tuner
            infers it from the objective, or from the name when None).
    """
    for name, value in metrics.items():
        if not tracker.exists(name):
            tracker.register(name, direction=direction(name))
        tracker.metrics[name].update(float(value), step=step)


def tracker_of(
    records: list[Record], like: metrics_tracking.MetricsTracker, direction: Callable[[str], str | None]
) -> metrics_tracking.MetricsTracker:
    """The metrics `records` hold; a metric registered in `like` keeps its direction there."""
    tracker = metrics_tracking.MetricsTracker()

    def known(name: str) -> str | None:
        return like.get_direction(name) if like.exists(name) else direction(name)

    for step, metrics in records:
        record(tracker, metrics, step, known)
    return tracker
