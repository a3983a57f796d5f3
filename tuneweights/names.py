"""The names tuneweights logs every epoch, in one place.

Every module that writes a logged value, reads one (a strategy, a switch, the
objective check, the report) takes its name from here.

Example:
    >>> loss_metric_name("rec"), weight_metric_name("rec"), switch_metric_name("rec")
    ('rec_loss', 'rec_weight', 'rec_switch_epoch')
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = [
    "UNWEIGHTED_LOSS",
    "WEIGHTED_TOTALS",
    "loss_metric_name",
    "metric_name",
    "switch_metric_name",
    "term_metric_name",
    "weight_metric_name",
]

#: The plain sum of the terms' unweighted losses.
UNWEIGHTED_LOSS = "unweighted_loss"
#: Keras's weighted totals: not comparable across trials whose weights differ.
WEIGHTED_TOTALS = ("loss", "val_loss")


def loss_metric_name(term: str) -> str:
    """Logged name of a term's unweighted loss, e.g. ``"rec_loss"``."""
    return f"{term}_loss"


def weight_metric_name(term: str) -> str:
    """Logged name of a term's current weight, e.g. ``"rec_weight"``."""
    return f"{term}_weight"


def switch_metric_name(term: str) -> str:
    """Logged name of the epoch a term's loss switched, e.g. ``"rec_switch_epoch"``."""
    return f"{term}_switch_epoch"


def metric_name(metric: Any) -> str:
    """The name Keras gives a compiled metric (before the term prefix).

    Example:
        >>> metric_name("mae"), metric_name(keras.metrics.AUC(name="auc"))
        ('mae', 'auc')
    """
    if isinstance(metric, str):
        return metric
    if isinstance(metric, keras.metrics.Metric):
        return str(metric.name)
    return str(getattr(metric, "__name__", type(metric).__name__))


def term_metric_name(term: str, metric: Any) -> str:
    """Logged name of a metric declared on a term, e.g. ``"cls_accuracy"``, whatever the number of terms."""
    return f"{term}_{metric_name(metric)}"
