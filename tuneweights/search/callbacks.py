"""Per-epoch reporting to the oracle, and the decoded weights in TensorBoard."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
from keras_tuner import errors as kt_errors
from keras_tuner.src.engine import trial as trial_module
from keras_tuner.src.engine import tuner_utils

from tuneweights import _validation as v
from tuneweights.loss_config import LossConfig
from tuneweights.search import heartbeat
from tuneweights.search.oracle import DIVERGED_METRIC


class DivergedError(kt_errors.FailedTrialError):
    """The training loss became nan or inf: the trial fails (never ranked best), the search goes on."""


def numeric_logs(logs: dict[str, Any] | None) -> dict[str, float]:
    """The scalar entries of Keras logs as Python floats."""
    out: dict[str, float] = {}
    for name, value in (logs or {}).items():
        try:
            array = np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            continue
        if array.shape == ():
            out[name] = float(array)
    return out


class TrialLostError(kt_errors.FailedTrialError):
    """The chief handed the running trial to another worker: this one stops it at once.

    Raised by the reporter before any later callback of the epoch runs, so
    that this worker writes no checkpoint into a trial another one continues.
    """


class EpochReporter(keras.callbacks.Callback):
    """Reports each epoch's logs to the oracle with ``step=epoch``.

    The epoch index is Keras's, absolute (Hyperband's promoted trials start
    at ``initial_epoch``). When the oracle answers with a STOPPED trial, the
    training ends cleanly after this epoch. When the training loss is nan or
    inf, the epoch is reported with the oracle's `DIVERGED_METRIC`, and the
    trial fails at once with a `DivergedError` (keras-tuner's
    `FailedTrialError`) that gives the reason. When the oracle refuses the
    report because the trial is another worker's now (the status
    `heartbeat.LOST`), training stops with a `TrialLostError`.

    Args:
        oracle: The tuner's oracle (or keras-tuner's client to it).
        trial_id: The running trial.
        objective: The resolved objective.
        required: Whether every epoch's logs must hold the objective (a
            `WeightedModel`'s logs are known in advance); when False, an
            epoch without it is not reported, and the trial is recorded from
            what `fit` returns, as keras-tuner does.
        tuner_id: The id of the worker sending the reports, named in each
            (see `tuneweights.search.heartbeat`); None names nobody.
    """

    def __init__(
        self, oracle: Any, trial_id: str, objective: Any, required: bool = True, tuner_id: str | None = None
    ) -> None:
        super().__init__()
        self.oracle = oracle
        self.trial_id = trial_id
        self.objective = objective
        self.required = required
        self.tuner_id = tuner_id
        self.reported = 0
        self.stop_requested = False

    def report(self, epoch: int, logs: dict[str, Any] | None) -> bool:
        """Report one epoch; returns whether the oracle asked to stop."""
        metrics = numeric_logs(logs)
        if not self.objective.has_value(metrics) and not self.required:
            return self.stop_requested
        if not self.objective.has_value(metrics):
            raise v.ConfigurationError(
                f"The objective `{self.objective.name}` is missing from the logs of "
                f"epoch {epoch}. Logged: {sorted(metrics)}. Choose a logged name, or "
                "pass validation data when the objective starts with 'val_'."
            )
        if self.objective.name not in metrics:  # multi-objective: its combined value
            metrics[self.objective.name] = float(self.objective.get_value(metrics))
        loss = metrics.get("loss")
        diverged = loss is not None and not math.isfinite(loss)
        if diverged:
            metrics[DIVERGED_METRIC] = 1.0
        sent = metrics if self.tuner_id is None else heartbeat.tag(metrics, self.tuner_id)
        trial = self.oracle.update_trial(self.trial_id, sent, step=int(epoch))
        status = trial if isinstance(trial, str) else getattr(trial, "status", None)
        if status == heartbeat.LOST:
            raise TrialLostError(
                f"Trial {self.trial_id} was handed to another worker; the report of epoch {epoch} was "
                "refused and this worker stops the trial."
            )
        self.reported += 1
        if diverged:
            raise DivergedError(
                f"Diverged: the training loss was {loss} at epoch {epoch}. The trial stopped there "
                "and is recorded as failed (never ranked best); lower the learning rate or narrow "
                "the weight ranges if many trials diverge."
            )
        # an oracle answers with the trial, or (keras-tuner's older oracles) with its status
        if status == trial_module.TrialStatus.STOPPED:
            self.stop_requested = True
        return self.stop_requested

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.report(epoch, logs) and getattr(self, "_model", None) is not None:
            self.model.stop_training = True


def report_epoch(
    callbacks: Iterable[keras.callbacks.Callback],
    model: keras.Model,
    epoch: int,
    logs: dict[str, Any],
) -> bool:
    """Hand one epoch's logs to the tuner's callbacks from a custom training loop.

    Call it once per epoch from an overridden `WeightedHyperModel.fit`, with
    the callbacks the tuner passed in. It runs every callback's
    ``on_epoch_end`` (the tuner's reporter and best-epoch checkpoint among
    them).

    Returns:
        True when the oracle asked the trial to stop: leave the loop.

    Example:
        ``if tuneweights.report_epoch(callbacks, model, epoch, logs): break``
    """
    stop = False
    for callback in callbacks:
        if getattr(callback, "_model", None) is None:
            callback.set_model(model)
        callback.on_epoch_end(epoch, logs)
        stop = stop or bool(getattr(callback, "stop_requested", False))
    return stop or bool(getattr(model, "stop_training", False))


def configure_tensorboard(
    callbacks: list[Any],
    trial: Any,
    config: LossConfig,
    log_dir: Callable[[str], str],
) -> None:
    """keras-tuner's set-up of a user's TensorBoard callback, plus the decoded weights.

    As keras-tuner does, each `TensorBoard` callback in `callbacks` writes to
    its own directory ``log_dir(callback.log_dir)`` for the trial and
    execution, and an HParams callback is added that writes the trial's
    hyperparameters there. Its hyperparameters are keras-tuner's raw values
    together with the decoded loss (`LossConfig.hparams`); a decoded value
    takes the place of a raw one of the same name (under a `StrategySearch`,
    ``strategy`` is then the chosen strategy's description, which starts with
    its name). Nothing is added when `callbacks` has no `TensorBoard` or the
    backend is not TensorFlow.

    Args:
        callbacks: The trial's callbacks; changed in place.
        trial: The running trial.
        config: The trial's decoded loss configuration.
        log_dir: Maps a callback's `log_dir` to the trial's directory.
    """
    if keras.backend.backend() != "tensorflow":
        return
    boards = [c for c in callbacks if c.__class__.__name__ == "TensorBoard"]
    if not boards:
        return
    from tensorboard.plugins.hparams import api as hparams_api

    decoded = config.hparams()
    for board in boards:
        board.log_dir = log_dir(board.log_dir)
        raw = tuner_utils.convert_hyperparams_to_hparams(trial.hyperparameters, hparams_api)
        hparams: dict[Any, Any] = {key: value for key, value in raw.items() if key.name not in decoded}
        hparams.update(decoded)
        callbacks.append(
            hparams_api.KerasCallback(writer=board.log_dir, hparams=hparams, trial_id=trial.trial_id)
        )
