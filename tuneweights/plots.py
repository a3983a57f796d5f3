"""Plots of loss weights and schedules over training (matplotlib, optional)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tuneweights import _validation as v
from tuneweights.schedules import Schedule


def pyplot() -> Any:
    """`matplotlib.pyplot`, or an error saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib, an optional dependency: pip install 'tuneweights[plots]'"
        ) from error
    return plt


def weight_curves(
    weights: Mapping[str, float | Schedule], horizon: int, points_per_epoch: int = 20
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each term's weight sampled over ``[0, horizon]`` epochs.

    Args:
        weights: ``{term: weight or Schedule}``, as returned by
            `Tuner.get_best_weights` or `WeightSpace.weights`.
        horizon: The planned number of epochs.
        points_per_epoch: Samples per epoch.

    Returns:
        ``(epochs, {term: values})``.

    Example:
        >>> from tuneweights.schedules import Step
        >>> weights = {"a": 1.0, "b": Step(2.0, 0.0, at=0.5)}
        >>> epochs, curves = weight_curves(weights, horizon=4, points_per_epoch=1)
        >>> epochs.tolist(), curves["b"].tolist()
        ([0.0, 1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 0.0, 0.0, 0.0])
    """
    v.check_int("horizon", horizon, 1)
    v.check_int("points_per_epoch", points_per_epoch, 1)
    epochs = np.linspace(0.0, float(horizon), horizon * points_per_epoch + 1)
    curves = {}
    for term, weight in weights.items():
        if isinstance(weight, Schedule):
            curves[term] = np.array([weight.value(float(e), horizon) for e in epochs])
        else:
            curves[term] = np.full_like(epochs, float(weight))
    return epochs, curves


def plot_weights(
    weights: Mapping[str, float | Schedule],
    horizon: int,
    ax: Any = None,
    title: str | None = None,
    log: bool = False,
) -> Any:
    """Plot each term's weight over training.

    Args:
        weights: ``{term: weight or Schedule}``.
        horizon: The planned number of epochs.
        ax: A matplotlib axes to draw on (a new figure when None).
        title: Axes title.
        log: Log scale for the weights (zeros are not drawn).

    Returns:
        The matplotlib axes.
    """
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    epochs, curves = weight_curves(weights, horizon)
    for term, values in curves.items():
        weight = weights[term]
        label = weight.describe() if isinstance(weight, Schedule) else f"{weight:g}"
        ax.plot(epochs, values, label=f"{term}: {label}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss weight")
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
