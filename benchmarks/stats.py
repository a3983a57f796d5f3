"""Statistics the benchmark scripts print: means with standard errors, differences in standard errors."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (nan for a single value).

    Example:
        >>> mean_se([1.0, 2.0, 3.0])
        (2.0, 0.5773502691896258)
        >>> mean_se([4.0])
        (4.0, nan)
    """
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return statistics.mean(values), se


def in_se(diff: float, se: float, width: int = 0) -> str:
    """`diff` in standard errors, signed with one decimal, right-aligned to `width`.

    Example:
        >>> in_se(0.3, 0.1), in_se(0.0, 0.0), in_se(1.0, 0.0), in_se(1.0, math.nan, width=6)
        ('+3.0', '0.0', 'inf', '   n/a')
    """
    if math.isnan(se):
        text = "n/a"
    elif se == 0:
        text = "0.0" if diff == 0 else "inf"
    else:
        text = f"{diff / se:+.1f}"
    return f"{text:>{width}}"
