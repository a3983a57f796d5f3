"""Values a `tuneweights.WeightedModel` logs once per epoch rather than returning them at every step.

Each value a train step returns costs time at every step. The terms'
unweighted losses, their weights and the switch epochs are only needed in an
epoch's logs, so they live in metrics whose `result()` is empty; the model
adds their `values()` to the logs of each epoch (and of `evaluate`).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from tuneweights.names import UNWEIGHTED_LOSS, loss_metric_name, switch_metric_name, weight_metric_name
from tuneweights.switches import SwitchState

__all__ = ["EPOCH_LOGS_HOOK", "CurrentWeights", "EpochMetric", "SwitchEpochs", "TermLosses"]


# Where Keras builds the logs of an epoch (fit) and of `evaluate` from the metrics.
EPOCH_LOGS_HOOK = hasattr(keras.Model, "_get_metrics_result_or_logs")


class EpochMetric(keras.metrics.Metric):
    """A metric read once per epoch (by `WeightedModel`), not returned by every step.

    Each value a train step returns costs time at every step (about as much as
    a small layer here); these values are only needed in the epoch's logs.
    `result()` is empty, so the step returns nothing of them; `epoch_values()`
    gives them, and `tuneweights.WeightedModel`'s `_get_metrics_result_or_logs` adds them to
    the logs of the epoch (and of `evaluate`).
    """

    def result(self) -> dict[str, Any]:
        # A Keras without the hook that reads them per epoch gets them from every step instead.
        return {} if EPOCH_LOGS_HOOK else self.values()

    def values(self) -> dict[str, Any]:
        """The values as tensors (also inside a traced step)."""
        raise NotImplementedError

    def epoch_values(self) -> dict[str, float]:
        """The values as numbers, read once at an epoch's end (outside any traced step)."""
        return {name: _number(value) for name, value in self.values().items()}


class TermLosses(EpochMetric):
    """Epoch means of every term's unweighted loss, and of their sum.

    One vector of running sums, the batch count last, updated by a single op
    per step (cheaper than a `Mean` per term) and read by a single transfer
    per epoch. Each batch counts by its size, so the result is the mean over
    samples, as for Keras's own `loss`.
    """

    def __init__(self, terms: list[str]) -> None:
        super().__init__(name="term_losses")
        self._names = [loss_metric_name(t) for t in terms]
        self._sums = self.add_variable(shape=(len(terms) + 1,), initializer="zeros", name="sums")

    def update_state(self, values: Any, count: Any) -> None:
        count = ops.cast(count, "float32")
        self._sums.assign_add(ops.concatenate([ops.stack(values) * count, ops.reshape(count, (1,))]))

    def reset_state(self) -> None:
        self._sums.assign(ops.zeros(self._sums.shape))

    def values(self) -> dict[str, Any]:
        means = ops.divide_no_nan(self._sums[:-1], self._sums[-1])
        out = {name: means[i] for i, name in enumerate(self._names)}
        out[UNWEIGHTED_LOSS] = ops.sum(means)
        return out

    def epoch_values(self) -> dict[str, float]:
        sums = np.asarray(ops.convert_to_numpy(self._sums))
        means = sums[:-1] / sums[-1] if sums[-1] else np.zeros_like(sums[:-1])
        out = {name: float(means[i]) for i, name in enumerate(self._names)}
        out[UNWEIGHTED_LOSS] = float(means.sum())
        return out


class CurrentWeights(EpochMetric):
    """Reports the weight variables' current values (logged each epoch)."""

    def __init__(self, terms: list[str], variables: list[keras.Variable]) -> None:
        super().__init__(name="term_weights")
        self._names = [weight_metric_name(t) for t in terms]
        self._values = variables

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        pass

    def reset_state(self) -> None:
        pass

    def values(self) -> dict[str, Any]:
        # Copies: on JAX a variable's buffer is given to the next step (donated) and freed.
        return {name: ops.copy(var) for name, var in zip(self._names, self._values, strict=True)}

    def epoch_values(self) -> dict[str, float]:
        pairs = zip(self._names, self._values, strict=True)
        return {name: _number(var) for name, var in pairs}


class SwitchEpochs(EpochMetric):
    """Reports each switched term's switch epoch (-1 before the switch)."""

    def __init__(self, states: list[SwitchState]) -> None:
        super().__init__(name="switch_epochs")
        self._states = states

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        pass

    def reset_state(self) -> None:
        pass

    def values(self) -> dict[str, Any]:
        return {switch_metric_name(s.term): ops.copy(s.switch_epoch) for s in self._states}

    def epoch_values(self) -> dict[str, float]:
        return {switch_metric_name(s.term): _number(s.switch_epoch) for s in self._states}


def _number(value: Any) -> Any:
    """A scalar tensor or variable as a Python number of its kind (an int stays an int)."""
    return np.asarray(ops.convert_to_numpy(value)).item()
