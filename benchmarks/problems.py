"""Data generators of the benchmark problems (see BENCHMARKS.md), seeded and generated in code.

Every generator returns a `Problem`: named splits, each a dict of float32
arrays (inputs, targets and, for test sets, the clean target). Only problem B
is here so far; problems A, C and D add their own ``problem_*`` function on the
same helpers (`tanh_net`, `Problem`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

# Samples used to estimate the standard deviation of a random net (scale to unit variance).
_SCALE_SAMPLES = 100_000


@dataclasses.dataclass(frozen=True)
class Problem:
    """A benchmark problem's data.

    Attributes:
        name: Short name, e.g. ``"B"``.
        splits: ``{split: {array name: float32 array}}``; the first axis of
            every array of a split indexes samples.
        functions: The random functions the data were drawn from (``f``,
            ``g``, ...), for checks and plots.
    """

    name: str
    splits: dict[str, dict[str, np.ndarray]]
    functions: dict[str, Callable[[np.ndarray], np.ndarray]]

    def __getitem__(self, split: str) -> dict[str, np.ndarray]:
        return self.splits[split]

    def sizes(self) -> dict[str, int]:
        """Number of samples of each split."""
        return {split: len(next(iter(arrays.values()))) for split, arrays in self.splits.items()}


def tanh_net(rng: np.random.Generator, dim: int, units: int) -> Callable[[np.ndarray], np.ndarray]:
    """A random one-hidden-layer tanh net ``x -> tanh(x W) v``, scaled to unit variance under N(0, I).

    W (dim x units) and v (units) have i.i.d. standard normal entries, as in
    problem A ("a sum of random tanh units"); the output is divided by its
    standard deviation over N(0, I) inputs, estimated on 100,000 samples.

    Args:
        rng: The generator the weights (and the scale estimate) are drawn from.
        dim: Input dimension.
        units: Number of hidden tanh units.

    Returns:
        A function mapping an (n, dim) array to an (n, 1) float64 array.

    Example:
        >>> net = tanh_net(np.random.default_rng(0), dim=3, units=4)
        >>> x = np.random.default_rng(1).normal(size=(50_000, 3))
        >>> bool(abs(net(x).std() - 1.0) < 0.02), net(x).shape
        (True, (50000, 1))
    """
    w_in = rng.normal(size=(dim, units))
    w_out = rng.normal(size=(units, 1))
    scale = float(np.std(np.tanh(rng.normal(size=(_SCALE_SAMPLES, dim)) @ w_in) @ w_out))

    def net(x: np.ndarray) -> np.ndarray:
        return np.tanh(x @ w_in) @ w_out / scale

    return net


def _f32(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.asarray(a, dtype="float32") for name, a in arrays.items()}


def problem_b(
    seed: int = 0,
    dim: int = 10,
    units: int = 4,
    labelled: int = 32,
    unlabelled: int = 2048,
    val: int = 500,
    test: int = 4000,
    label_noise: float = 0.1,
    proxy_bias: float = 0.25,
) -> Problem:
    """Problem B: few labels, many points with a biased proxy target.

    x ~ N(0, I_dim); f and g are independent random tanh nets (`tanh_net`) of
    unit variance. Splits (arrays ``x`` and the targets):

    * ``labelled``: ``y = f + label_noise * eps``
    * ``unlabelled``: the proxy target ``z = f + proxy_bias * g`` (no label)
    * ``val``: ``y = f + label_noise * eps``, and ``z`` for completeness
    * ``test``: ``clean = f`` (the test metric is the MSE against it), ``y``, ``z``

    Args:
        seed: Seed of everything: f, g, inputs and noise.
        dim, units: Input dimension and hidden units of f and g.
        labelled, unlabelled, val, test: Split sizes.
        label_noise: Standard deviation of the label noise.
        proxy_bias: Weight of g in the proxy target.

    Returns:
        The `Problem` ``"B"``, with functions ``f`` and ``g``.

    Example:
        >>> data = problem_b(seed=0)
        >>> data.sizes()
        {'labelled': 32, 'unlabelled': 2048, 'val': 500, 'test': 4000}
        >>> sorted(data["val"])
        ['x', 'y', 'z']
    """
    rng = np.random.default_rng(seed)
    f = tanh_net(rng, dim, units)
    g = tanh_net(rng, dim, units)

    def split(n: int, *names: str) -> dict[str, np.ndarray]:
        x = rng.normal(size=(n, dim))
        clean = f(x)
        arrays = {
            "x": x,
            "y": clean + label_noise * rng.normal(size=clean.shape),
            "z": clean + proxy_bias * g(x),
            "clean": clean,
        }
        return _f32({name: arrays[name] for name in names})

    splits = {
        "labelled": split(labelled, "x", "y"),
        "unlabelled": split(unlabelled, "x", "z"),
        "val": split(val, "x", "y", "z"),
        "test": split(test, "x", "y", "z", "clean"),
    }
    return Problem("B", splits, {"f": f, "g": g})
