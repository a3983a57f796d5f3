"""Problem A's objective around the analytic weights: where is the optimum of the trained model?

The analytic optimum of problem A (ratios w_k/w_1 = s_1^2/s_k^2) is the best
pooling of the label sources for an estimator fitted to their weighted mean.
This script asks whether it is also the best for the model and training of
`examples/quickstart.py` (8-32-32-1 tanh network, Adam 3e-3, batches of 32,
early stopping on the validation MSE against source 1 with its best epoch
restored), on the quickstart's data (300 train, 300 validation, 4000 test rows).

It trains fixed weights on a grid of log-ratio offsets from the analytic ones
(``log(w_k/w_1) - log(s_1^2/s_k^2)``), one source at a time with the other at
its analytic ratio, each with several seeds (the same seeds at every point:
common random numbers), and prints per offset the validation objective and
the test MSE against the clean target, as means over seeds and as paired
differences from the analytic point with their standard errors.

Run ``python benchmarks/ratio_landscape.py`` (about 3 minutes on 2 cores on
JAX, ``KERAS_BACKEND=jax``), ``--quick`` for a smoke run. The last line,
``ratio_landscape=``, names for each source the offset whose mean test MSE is
lowest.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import quickstart  # noqa: E402

import tuneweights as tw  # noqa: E402


def train(data: dict, hypermodel: tw.WeightedHyperModel, offsets: dict[str, float], seed: int, epochs: int):
    """(validation objective, test MSE against the clean target) of one fixed weighting."""
    weights = {s: analytic_ratio(s) * math.exp(offsets.get(s, 0.0)) for s in quickstart.SOURCES}
    keras.utils.set_random_seed(seed)
    model = tw.WeightedModel(hypermodel.build(None), hypermodel.terms, weights=weights)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    stop = keras.callbacks.EarlyStopping("val_src1_loss", mode="min", patience=20, restore_best_weights=True)
    history = model.fit(
        data["train"]["x"],
        quickstart.targets(data["train"]),
        validation_data=(data["val"]["x"], quickstart.targets(data["val"])),
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[stop],
    )
    prediction = model.base.predict(data["test"]["x"], verbose=0)
    return min(history.history["val_src1_loss"]), float(np.mean((prediction - data["test"]["clean"]) ** 2))


def analytic_ratio(source: str) -> float:
    """``s_1^2 / s_k^2``: the analytic w_k / w_1 of `source`."""
    return quickstart.NOISE[0] ** 2 / quickstart.NOISE[quickstart.SOURCES.index(source)] ** 2


def _paired(values: list[float], reference: list[float]) -> tuple[float, float]:
    differences = [a - b for a, b in zip(values, reference, strict=True)]
    spread = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else math.nan
    return statistics.mean(differences), spread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--offsets", default="-2.3,-1,0,1", help="log-ratio offsets from the analytic ones")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 5 epochs, offsets -1,0")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.offsets = 1, 5, "-1,0"
    offsets = [float(o) for o in args.offsets.split(",")]
    if 0.0 not in offsets:
        offsets.append(0.0)
    data = quickstart.make_problem(seed=0)
    hypermodel = quickstart.NoisySources()
    seeds = list(range(2, 2 + args.seeds))
    cache: dict[tuple, list[tuple[float, float]]] = {}

    def results(key: tuple) -> list[tuple[float, float]]:
        if key not in cache:
            cache[key] = [train(data, hypermodel, dict(key), seed, args.epochs) for seed in seeds]
        return cache[key]

    print(
        f"ratio_landscape: problem A as in examples/quickstart.py, {len(seeds)} seed(s), "
        f"{args.epochs} epochs, keras {keras.__version__}, backend {keras.backend.backend()}"
    )
    best = {}
    analytic = results(())
    for source in quickstart.SOURCES[1:]:
        print(f"\n{source}: offset of log(w/w_1) from its analytic {math.log(analytic_ratio(source)):+.2f}")
        print(f"{'offset':>7} {'val objective':>14} {'vs analytic':>12} {'(SE)':>8}", end=" ")
        print(f"{'test MSE':>9} {'vs analytic':>12} {'(SE)':>8}")
        means = {}
        for offset in sorted(offsets):
            rows = analytic if offset == 0.0 else results(((source, offset),))
            val, test = [r[0] for r in rows], [r[1] for r in rows]
            dv, sv = _paired(val, [r[0] for r in analytic])
            dt, st = _paired(test, [r[1] for r in analytic])
            means[offset] = statistics.mean(test)
            print(
                f"{offset:>+7.2f} {statistics.mean(val):>14.5f} {dv:>+12.5f} {sv:>8.5f} "
                f"{statistics.mean(test):>9.5f} {dt:>+12.5f} {st:>8.5f}"
            )
        best[source] = min(means, key=lambda o: means[o])
    found = ", ".join(f"{s} {o:+.2f}" for s, o in best.items())
    print(
        f"\nheadline: ratio_landscape=lowest test MSE at offsets {found} "
        "(goal: none, a measurement; 0 is the analytic ratio)"
    )


if __name__ == "__main__":
    main()
