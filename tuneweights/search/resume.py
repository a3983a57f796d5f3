"""Mid-trial resume: a trial interrupted by a crash continues from its last resume checkpoint.

At the end of an epoch (after every epoch when writing a checkpoint costs
little next to an epoch, else less often: see `ResumeCheckpoint` and the
`Tuner`'s ``checkpoint_every``) the tuner saves what the trial needs to go on: the
model's variables (its weights, and tuneweights' loss-weight, schedule-clock
and switch variables), the optimizer's variables (Adam's moments, its step
count) and the epoch. The files live in the trial's directory:

* ``resume-<epoch>.npz``: the arrays, written atomically (``w*`` the model's,
  ``o*`` and ``t<j>o*`` its optimizers', ``b*`` the weights of the trial's
  best epoch so far, which its best-epoch checkpoint file gets when training ends);
* ``resume.json``: ``{"epoch": k, "file": "resume-<k>.npz"}``, written
  atomically after the arrays. It is the commit point: it only ever names a
  complete file, and older array files are removed after it moved on.

When the trial is handed out again, the oracle keeps its per-epoch metrics up
to epoch ``k`` and drops later ones (they were reported by the interrupted run
after its last checkpoint), and the tuner restores the state and runs
``fit(..., initial_epoch=k + 1)``: every epoch is recorded exactly once.

A damaged checkpoint (``resume.json`` truncated or not as written, the array
file it names missing or unreadable) counts as none: the oracle drops all the
trial's per-epoch metrics and the trial restarts from epoch 0, which loses
nothing that the damaged file could have given back.

The resume files of a trial recorded as finished are deleted.
"""

from __future__ import annotations

import glob
import os
import time
import zipfile
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras_tuner.src.engine import metrics_tracking

from tuneweights._io import replace_atomically, write_json_atomic
from tuneweights._state_files import DamagedStateFile, read_state

POINTER = "resume.json"
#: The `checkpoint_every` that spaces checkpoints by what writing them costs.
AUTO = "auto"
#: Under ``"auto"``, the least time between two checkpoints, in units of the last one's writing time.
AUTO_SPACING = 50.0
_RESTART = "The trial restarts from epoch 0 (its per-epoch records are dropped)."


def _load(trial_dir: str) -> tuple[int, dict[str, np.ndarray]] | None:
    """The checkpoint's epoch and arrays, None without one.

    Raises:
        DamagedStateFile: ``resume.json`` or the array file it names is
            missing, truncated or not as written.
    """
    path = os.path.join(trial_dir, POINTER)
    if not os.path.exists(path):
        return None
    pointer = read_state(path, {"epoch": int, "file": str}, hint=_RESTART)
    arrays_path = os.path.join(trial_dir, os.path.basename(pointer["file"]))
    if os.path.exists(arrays_path) and not zipfile.is_zipfile(arrays_path):
        raise DamagedStateFile(
            arrays_path,
            "it is not an .npz array file (not a zip archive: truncated or overwritten)",
            _RESTART,
        )
    try:
        with np.load(arrays_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}  # reads (and checks) every array
    except FileNotFoundError:
        raise DamagedStateFile(arrays_path, f"it is missing, though {path} names it", _RESTART) from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise DamagedStateFile(arrays_path, f"it is not a readable array file ({error})", _RESTART) from None
    if "w0" not in arrays:
        raise DamagedStateFile(arrays_path, "it holds no model weights (`w0`, ...)", _RESTART)
    return pointer["epoch"], arrays


def damage(trial_dir: str, last_recorded: int | None = None) -> DamagedStateFile | None:
    """What is wrong with a trial's resume checkpoint, None when it is usable or rightly absent.

    Args:
        trial_dir: The trial's directory.
        last_recorded: The last epoch the trial reported. Without a
            checkpoint, a trial that reported a second epoch lost the
            checkpoint of its first one.
    """
    try:
        loaded = _load(trial_dir)
    except DamagedStateFile as error:
        return error
    if loaded is None and last_recorded is not None and last_recorded >= 1:
        return DamagedStateFile(
            os.path.join(trial_dir, POINTER),
            f"it is missing, though the trial recorded epochs up to {last_recorded}",
            _RESTART,
        )
    return None


def last_epoch(trial_dir: str) -> int | None:
    """The last epoch checkpointed in `trial_dir`, or None (also when the checkpoint is damaged)."""
    try:
        loaded = _load(trial_dir)
    except DamagedStateFile:
        return None
    return None if loaded is None else loaded[0]


def save(trial_dir: str, model: keras.Model, epoch: int, best: list[Any] | None = None) -> None:
    """Checkpoint `model` (and its optimizer) at the end of `epoch`, with the best epoch's weights `best`."""
    name = f"resume-{epoch}.npz"
    arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    arrays.update({f"b{i}": np.asarray(w) for i, w in enumerate(best or [])})
    for prefix, optimizer in _optimizers(model):
        if optimizer.built:
            arrays.update(
                {f"{prefix}{i}": keras.ops.convert_to_numpy(var) for i, var in enumerate(optimizer.variables)}
            )

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]

    replace_atomically(os.path.join(trial_dir, name), write, suffix=".npz")
    write_json_atomic(os.path.join(trial_dir, POINTER), {"epoch": int(epoch), "file": name})
    for old in glob.glob(os.path.join(trial_dir, "resume-*.npz")):
        if os.path.basename(old) != name:
            os.remove(old)


def restore(
    trial_dir: str, model: keras.Model, best: Callable[[list[np.ndarray]], None] | None = None
) -> int | None:
    """Load the last checkpoint into `model`; returns its epoch, or None if there is none.

    The best epoch's weights it holds, if any, are given to `best`.

    A damaged checkpoint counts as none, as in `last_epoch`, which the oracle
    read when it handed the trial out.

    Raises:
        DamagedStateFile: the checkpoint's arrays do not fit the model (a
            checkpoint of another model).
    """
    try:
        loaded = _load(trial_dir)
    except DamagedStateFile:
        return None
    if loaded is None:
        return None
    epoch, data = loaded
    files = list(data)
    weights = [data[f"w{i}"] for i in range(_count(files, "w"))]
    best_weights = [data[f"b{i}"] for i in range(_count(files, "b"))]
    saved = {
        prefix: [data[f"{prefix}{i}"] for i in range(_count(files, prefix))] for prefix in _prefixes(files)
    }
    try:
        model.set_weights(weights)
    except ValueError as error:
        raise DamagedStateFile(
            os.path.join(trial_dir, POINTER),
            f"its arrays do not fit the trial's model ({error})",
            "Remove the trial's resume files to restart it from epoch 0.",
        ) from None
    for prefix, optimizer in _optimizers(model):
        values = saved.get(prefix)
        if values:
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
            for var, value in zip(optimizer.variables, values, strict=True):
                var.assign(value)
    if best is not None and best_weights:
        best(best_weights)
    return epoch


def _optimizers(model: keras.Model) -> list[tuple[str, Any]]:
    """``(key prefix, optimizer)`` of the model's optimizer and its terms' own ones."""
    found = []
    if isinstance(getattr(model, "optimizer", None), keras.optimizers.Optimizer):
        found.append(("o", model.optimizer))
    per_term = getattr(model, "term_optimizers", None)
    for j, optimizer in enumerate((per_term() if per_term else {}).values()):
        found.append((f"t{j}o", optimizer))
    return found


def _count(files: list[str], prefix: str) -> int:
    return len([k for k in files if k.startswith(prefix) and k[len(prefix) :].isdigit()])


def _prefixes(files: list[str]) -> set[str]:
    return {k.rstrip("0123456789") for k in files} - {"w", "b"}


def clear(trial_dir: str) -> None:
    """Remove a trial's resume files (a retry that starts over)."""
    for path in glob.glob(os.path.join(trial_dir, "resume-*.npz")) + [os.path.join(trial_dir, POINTER)]:
        if os.path.exists(path):
            os.remove(path)


def truncate(metrics: metrics_tracking.MetricsTracker, last: int | None) -> metrics_tracking.MetricsTracker:
    """The per-epoch metrics up to epoch `last` (none at all when `last` is None).

    Example:
        >>> tracker = metrics_tracking.MetricsTracker()
        >>> for step in range(4):
        ...     _ = tracker.update("val_loss", float(step), step=step)
        >>> [o.step for o in truncate(tracker, 1).get_history("val_loss")]
        [0, 1]
    """
    kept = metrics_tracking.MetricsTracker()
    if last is None:
        return kept
    for name, history in metrics.metrics.items():
        kept.register(name, direction=history.direction)
        kept.set_history(name, [o for o in history.get_history() if o.step <= last])
    return kept


class ResumeCheckpoint(keras.callbacks.Callback):
    """Saves the resume state at the end of an epoch (after it was reported), as `every` says.

    With an int, at the end of every `every`-th epoch: epochs are counted
    from 0 as Keras numbers them, so with ``every=3`` the checkpoints are
    taken after epochs 2, 5, 8, ... With ``"auto"``, after the first epoch,
    then after the first epoch that ends at least `AUTO_SPACING` times the
    last checkpoint's writing time after it: checkpoints take at most about
    1/`AUTO_SPACING` of the trial's time, and an epoch longer than that
    spacing is checkpointed every time.

    Args:
        trial_dir: The trial's directory.
        every: Epochs between two checkpoints (int >= 1), or ``"auto"``.
        best: The trial's `SaveBestEpoch`, whose best epoch's weights, held
            in memory until training ends, the checkpoint holds too.
    """

    def __init__(self, trial_dir: str, every: int | str = 1, best: Any = None) -> None:
        super().__init__()
        self.trial_dir = trial_dir
        self.every = every
        self.best = best
        self._next = 0.0  # the earliest time of the next "auto" checkpoint

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.every == AUTO:
            if time.monotonic() < self._next:
                return
            start = time.monotonic()
            self._save(epoch)
            self._next = time.monotonic() + AUTO_SPACING * (time.monotonic() - start)
        elif (epoch + 1) % int(self.every) == 0:
            self._save(epoch)

    def _save(self, epoch: int) -> None:
        save(self.trial_dir, self.model, epoch, getattr(self.best, "best_weights", None))
