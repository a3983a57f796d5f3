"""Data generators of the benchmark problems (see BENCHMARKS.md), seeded and generated in code.

Every generator returns a `Problem`: named splits, each a dict of float32
arrays (inputs, targets and, for test sets, the clean target). Problems A,
A2, B and C are here (`problem_a`, `problem_a2`, `problem_b`, `problem_c`);
problem D adds its own ``problem_*`` function on the same helpers (`tanh_net`,
`Problem`).
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


# -- problem A and its variant A2 -----------------------------------------------
NOISE_A = (0.3, 1.0, 3.0)


def source_names(count: int) -> list[str]:
    """Names of the label sources of problem A: ``src1``, ``src2``, ...

    Example:
        >>> source_names(3)
        ['src1', 'src2', 'src3']
    """
    return [f"src{k + 1}" for k in range(count)]


def problem_a(
    seed: int = 0,
    dim: int = 8,
    units: int = 4,
    noise: tuple[float, ...] = NOISE_A,
    sizes: tuple[int, int, int] = (300, 300, 4000),
) -> Problem:
    """Problem A: noisy label sources of one target (the optimal weights are known).

    x ~ N(0, I_dim); f is a random tanh net of unit variance (`tanh_net`);
    source k labels ``y_srck = f + noise[k] * eps``. Every split (``train``,
    ``val``, ``test``) holds ``x``, ``clean`` (= f) and one ``y_srck`` per
    source. With the defaults, the arrays are those of
    ``examples/quickstart.py``'s ``make_problem(seed)`` (the same draws in
    the same order).

    Args:
        seed: Seed of f, the inputs and the noise.
        dim, units: Input dimension and hidden units of f.
        noise: Standard deviation of each source's noise.
        sizes: Sizes of the train, val and test splits.

    Returns:
        The `Problem` ``"A"``, with function ``f``.

    Example:
        >>> data = problem_a(seed=0)
        >>> data.sizes()
        {'train': 300, 'val': 300, 'test': 4000}
        >>> sorted(data["val"])
        ['clean', 'x', 'y_src1', 'y_src2', 'y_src3']
    """
    rng = np.random.default_rng(seed)
    f = tanh_net(rng, dim, units)
    splits = {}
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        x = rng.normal(size=(n, dim))
        clean = f(x)
        arrays = {"x": x, "clean": clean}
        for name, sigma in zip(source_names(len(noise)), noise, strict=True):
            arrays[f"y_{name}"] = clean + sigma * rng.normal(size=clean.shape)
        splits[split] = _f32(arrays)
    return Problem("A", splits, {"f": f})


def problem_a2(
    seed: int = 0,
    bias: float = 0.5,
    biased_noise: float = 0.1,
    units: int = 4,
    sizes: tuple[int, int, int] = (300, 300, 4000),
) -> Problem:
    """Problem A2: problem A plus a precise but biased 4th source.

    The splits of ``problem_a(seed)``, unchanged, plus
    ``y_src4 = f + bias * g(x) + biased_noise * eps`` with g another random
    tanh net of unit variance. g and the 4th source's noise come from their
    own generator (seeded ``[seed, 2]``), so that the first three sources are
    exactly those of problem A.

    Args:
        seed: Seed of problem A's data and of g.
        bias: Weight of g in the 4th source.
        biased_noise: Standard deviation of the 4th source's noise.
        units: Hidden units of g.
        sizes: Sizes of the train, val and test splits.

    Returns:
        The `Problem` ``"A2"``, with functions ``f`` and ``g``.

    Example:
        >>> data = problem_a2(seed=0)
        >>> sorted(data["test"])
        ['clean', 'x', 'y_src1', 'y_src2', 'y_src3', 'y_src4']
        >>> bias = data["test"]["y_src4"] - data["test"]["clean"]
        >>> bool(0.4 < bias.std() < 0.6)
        True
    """
    base = problem_a(seed, sizes=sizes)
    rng = np.random.default_rng([seed, 2])
    dim = base["train"]["x"].shape[1]
    g = tanh_net(rng, dim, units)
    splits = {}
    for split, arrays in base.splits.items():
        x = arrays["x"].astype("float64")
        clean = arrays["clean"].astype("float64")
        biased = clean + bias * g(x) + biased_noise * rng.normal(size=clean.shape)
        splits[split] = {**arrays, **_f32({"y_src4": biased})}
    return Problem("A2", splits, {"f": base.functions["f"], "g": g})


# -- problem C ------------------------------------------------------------------
def digit_pairs(
    images: np.ndarray, labels: np.ndarray, count: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """`count` random pairs of 8x8 digits drawn on one 12x12 canvas.

    The left digit of a pair fills rows and columns 0-7, the right digit rows
    and columns 4-11; where they overlap the canvas takes the pixel-wise max.

    Args:
        images: (n, 64) pixels in [0, 1].
        labels: (n,) digit classes.
        count: Number of pairs.
        rng: Draws the two images of each pair (uniformly, with replacement).

    Returns:
        ``{"x": (count, 144) canvases, "label": (count,) class of the left
        digit, "right": (count, 64) pixels of the right digit}``.

    Example:
        >>> ones = np.ones((1, 64))
        >>> pair = digit_pairs(ones, np.array([3]), 1, np.random.default_rng(0))
        >>> int(pair["x"].sum()), int(pair["label"][0])
        (112, 3)
    """
    left = rng.integers(len(images), size=count)
    right = rng.integers(len(images), size=count)
    canvas = np.zeros((count, 12, 12))
    canvas[:, :8, :8] = images[left].reshape(count, 8, 8)
    canvas[:, 4:, 4:] = np.maximum(canvas[:, 4:, 4:], images[right].reshape(count, 8, 8))
    return {"x": canvas.reshape(count, 144), "label": labels[left], "right": images[right]}


def problem_c(
    seed: int = 0,
    pairs: tuple[int, int, int] = (4000, 1000, 2000),
    fractions: tuple[float, float] = (0.6, 0.2),
    scale: float = 1.0,
) -> Problem:
    """Problem C: digit pairs, classify the left digit and reconstruct the right one.

    scikit-learn's ``load_digits`` (1797 8x8 images, pixels / 16) is split
    60/20/20 into train, val and test images before pairing, so no image
    appears in two splits; each split's pairs are drawn from its own images
    (`digit_pairs`). Every split holds ``x`` (the 144 canvas pixels),
    ``label`` (class of the left digit, as float32) and ``right`` (the 64
    pixels of the right digit, times `scale`).

    Args:
        seed: Seed of the split and of the pairs.
        pairs: Number of pairs of the train, val and test splits.
        fractions: Fractions of the images for train and val (test: the rest).
        scale: Factor of the reconstruction targets (16 gives the raw 0-16
            units of the data set).

    Returns:
        The `Problem` ``"C"`` (no functions).

    Example:
        >>> data = problem_c(seed=0)
        >>> data.sizes()
        {'train': 4000, 'val': 1000, 'test': 2000}
        >>> data["train"]["x"].shape, data["train"]["right"].shape
        ((4000, 144), (4000, 64))
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.data / 16.0
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    cut_train = int(round(fractions[0] * len(images)))
    cut_val = cut_train + int(round(fractions[1] * len(images)))
    parts = (order[:cut_train], order[cut_train:cut_val], order[cut_val:])
    splits = {}
    for split, index, count in zip(("train", "val", "test"), parts, pairs, strict=True):
        arrays = digit_pairs(images[index], digits.target[index], count, rng)
        arrays["right"] = arrays["right"] * scale
        splits[split] = _f32(arrays)
    return Problem("C", splits, {})


# -- problem D ------------------------------------------------------------------
def problem_d(
    seed: int = 0,
    dim: int = 10,
    prior: float = 0.05,
    separation: float = 1.35,
    sizes: tuple[int, int, int] = (2000, 1000, 1000),
) -> Problem:
    """Problem D: two Gaussian classes with a shared covariance, few positives.

    A random covariance S (eigenvalues log-uniform in [0.5, 2], random
    eigenvectors) and class means m0, m1 = m0 + delta, with delta scaled so
    that the Mahalanobis distance between the classes is `separation`:
    ``delta' S^-1 delta = separation**2``. Every split holds exactly
    ``round(prior * n)`` positives, in a random order: ``x`` (n, dim) and
    ``y`` (n, 1), 1.0 for a positive.

    With a shared covariance the log-odds of the true posterior are linear in
    x; the function ``logit`` of the problem computes them,
    ``delta' S^-1 (x - (m0 + m1) / 2) + log(prior / (1 - prior))``.

    Args:
        seed: Seed of the covariance, the means and the samples.
        dim: Input dimension.
        prior: Fraction of positives in every split.
        separation: Mahalanobis distance between the class means.
        sizes: Sizes of the train, val and test splits.

    Returns:
        The `Problem` ``"D"``, with function ``logit``.

    Example:
        >>> data = problem_d(seed=0)
        >>> data.sizes()
        {'train': 2000, 'val': 1000, 'test': 1000}
        >>> [int(data[split]["y"].sum()) for split in ("train", "val", "test")]
        [100, 50, 50]
    """
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    variances = np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=dim))
    root = basis @ np.diag(np.sqrt(variances))
    precision = basis @ np.diag(1.0 / variances) @ basis.T
    mean0 = 0.5 * rng.normal(size=dim)
    delta = rng.normal(size=dim)
    delta *= separation / np.sqrt(delta @ precision @ delta)
    direction = precision @ delta
    centre = mean0 + delta / 2
    log_prior = float(np.log(prior / (1 - prior)))

    def logit(x: np.ndarray) -> np.ndarray:
        return ((x - centre) @ direction + log_prior)[:, None]

    splits = {}
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        y = np.zeros(n)
        y[: int(round(prior * n))] = 1.0
        y = rng.permutation(y)
        x = mean0 + y[:, None] * delta + rng.normal(size=(n, dim)) @ root.T
        splits[split] = _f32({"x": x, "y": y[:, None]})
    return Problem("D", splits, {"logit": logit})
