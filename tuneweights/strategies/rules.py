"""The update rules of the weighting strategies, as pure functions.

Each works on numpy arrays (tested against hand computations) and, where a
strategy runs it inside the compiled train step, on `keras.ops` tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from keras import ops
from numpy.typing import ArrayLike

__all__ = ["dwa_weights", "gradnorm_gradient", "normalised_weights", "uncertainty_weights"]


def uncertainty_weights(log_variances: Any) -> Any:
    """Kendall et al.'s weights ``w_k = exp(-s_k) / 2`` from ``s_k = log sigma_k^2``.

    Example:
        >>> uncertainty_weights(np.log([1.0, 4.0]))
        array([0.5  , 0.125])
    """
    return (
        0.5 * np.exp(-np.asarray(log_variances))
        if _is_numpy(log_variances)
        else 0.5 * ops.exp(-log_variances)
    )


def dwa_weights(previous: ArrayLike, before: ArrayLike, temperature: float) -> np.ndarray:
    """Dynamic Weight Average: ``w_k = K softmax_k(r_k / T)``, ``r_k = L_k(t-1) / L_k(t-2)``.

    Args:
        previous: Each term's mean training loss over the previous epoch.
        before: The same over the epoch before it.
        temperature: T; larger makes the weights more even.

    Example:
        >>> dwa_weights([1.0, 1.0], [2.0, 1.0], temperature=2.0).round(4)
        array([0.8756, 1.1244])
    """
    ratios = np.asarray(previous, dtype=float) / np.asarray(before, dtype=float)
    scaled = ratios / temperature
    exp = np.exp(scaled - scaled.max())
    return len(ratios) * exp / exp.sum()


def normalised_weights(scores: Sequence[float], rule: str, power: float) -> np.ndarray:
    """Weights from per-term scores, normalised to sum to the number of terms.

    ``"inverse"``: ``w_k`` proportional to ``score_k ** -power`` (terms that
    already do well get less weight when the score is a loss). ``"proportional"``:
    ``score_k ** power``.

    Example:
        >>> normalised_weights([1.0, 3.0], "inverse", 1.0)
        array([1.5, 0.5])
    """
    values = np.maximum(np.asarray(scores, dtype=float), 1e-12)
    raw = values**-power if rule == "inverse" else values**power
    return len(values) * raw / raw.sum()


def gradnorm_gradient(weights: Any, norms: Any, losses: Any, initial_losses: Any, alpha: Any) -> Any:
    """Gradient of GradNorm's loss ``sum_k |G_k - G_mean * r_k ** alpha|`` in the weights.

    ``G_k = w_k * norms_k`` is the norm of the gradient of ``w_k L_k`` in the
    last shared layer; ``r_k`` is the term's inverse training rate
    ``(L_k / L_k(0)) / mean_j(L_j / L_j(0))``. The target ``G_mean * r_k ** alpha``
    is a constant, as in the paper, so the gradient is
    ``sign(G_k - target_k) * norms_k``. Works on numpy arrays and tensors.

    Example:
        >>> gradnorm_gradient(np.array([1.0, 1.0]), np.array([2.0, 1.0]),
        ...                   np.array([1.0, 1.0]), np.array([1.0, 1.0]), 1.5)
        array([ 2., -1.])
    """
    xp: Any = np if _is_numpy(weights) else ops
    grads = weights * norms
    rates = losses / initial_losses
    inverse_rates = rates / xp.mean(rates)
    target = xp.mean(grads) * inverse_rates**alpha
    return xp.sign(grads - target) * norms


def _is_numpy(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic, float, int, list, tuple))
