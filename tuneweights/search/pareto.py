"""Pareto fronts of trials over several objectives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def dominates(a: Mapping[str, float], b: Mapping[str, float], directions: Mapping[str, str]) -> bool:
    """Whether `a` is at least as good as `b` everywhere and better somewhere.

    Example:
        >>> directions = {"acc": "max", "err": "min"}
        >>> dominates({"acc": 0.9, "err": 0.1}, {"acc": 0.8, "err": 0.1}, directions)
        True
        >>> dominates({"acc": 0.9, "err": 0.2}, {"acc": 0.8, "err": 0.1}, directions)
        False
    """
    better = False
    for name, direction in directions.items():
        x, y = (a[name], b[name]) if direction == "min" else (-a[name], -b[name])
        if x > y:
            return False
        better = better or x < y
    return better


def front(points: Sequence[Mapping[str, float]], directions: Mapping[str, str]) -> list[int]:
    """Indices of the points no other point dominates, in input order.

    Example:
        >>> pts = [{"a": 1, "b": 3}, {"a": 2, "b": 2}, {"a": 3, "b": 3}, {"a": 2, "b": 1}]
        >>> front(pts, {"a": "min", "b": "min"})
        [0, 3]
    """
    return [
        i
        for i, point in enumerate(points)
        if not any(dominates(other, point, directions) for j, other in enumerate(points) if j != i)
    ]
