"""Search quality: do searched weights land near the analytic optimum of problem A and its variants?

Each variant is problem A (`examples/quickstart.py`: the same function, model,
training, 300/300/4000 rows) with its own label noise levels s_k. One
Bayesian search per variant (the quickstart's: ratios against source 1 in
[1e-3, 10], objective the validation MSE against source 1, early stopping,
every trial starting from the same initial weights) of ``--trials`` trials;
the best trial's ratios are compared with the analytic ones,
``log(w_k/w_1) - log(s_1^2/s_k^2)`` (the log gap), and the test MSE against the
clean target of its weights with the analytic weights' (one retraining each,
same seed).

Run ``KERAS_BACKEND=jax python benchmarks/search_quality.py`` (about 5 minutes
on 2 cores on JAX), ``--quick`` for a smoke run. The last line,
``search_quality=``, counts the searched ratios within 1.0 of the analytic ones
over all variants (goal: all of them in at most 30 trials).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))

import keras  # noqa: E402
import quickstart  # noqa: E402

import tuneweights as tw  # noqa: E402

#: Noise levels s_k: problem A as published, and variants with four and five sources.
VARIANTS = {
    "A": (0.3, 1.0, 3.0),
    "A4": (0.5, 0.7, 1.0, 1.4),
    "A5": (0.3, 0.45, 0.6, 0.9, 1.2),
}


def search(noise: tuple[float, ...], trials: int, epochs: int, directory: str) -> dict[str, float]:
    """The weights of the best trial of a Bayesian search of the variant with noise levels `noise`."""
    data = quickstart.make_problem(seed=0, noise=noise)
    hypermodel = quickstart.NoisySources(terms=quickstart.source_terms(len(noise)))
    tuner = tw.BayesianOptimization(
        hypermodel,
        objective="val_src1_loss",
        max_trials=trials,
        num_initial_points=4,
        seed=1,
        directory=directory,
        project_name="variant",
        overwrite=True,
    )
    stop = keras.callbacks.EarlyStopping("val_src1_loss", mode="min", patience=20)
    tuner.search(
        data["train"]["x"],
        quickstart.targets(data["train"]),
        validation_data=(data["val"]["x"], quickstart.targets(data["val"])),
        epochs=epochs,
        batch_size=32,
        callbacks=[stop],
        verbose=0,
    )
    statuses = [t.status for t in tuner.oracle.trials.values()]
    if statuses.count("COMPLETED") != len(statuses):
        raise SystemExit(f"Some trials did not complete: {statuses}")
    return tuner.get_best_weights()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"some of {list(VARIANTS)}")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 trials of 3 epochs, variant A")
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.epochs, args.variants = 3, 3, "A"
    print(
        f"search_quality: problem A and variants, {args.trials} Bayesian trials each, {args.epochs} epochs, "
        f"keras {keras.__version__}, backend {keras.backend.backend()}"
    )
    within = total = 0
    for name in args.variants.split(","):
        noise = VARIANTS[name]
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as directory:
            found = search(noise, args.trials, args.epochs, directory)
        seconds = time.perf_counter() - start
        sources = quickstart.source_names(len(noise))
        analytic = {s: noise[0] ** 2 / sigma**2 for s, sigma in zip(sources, noise, strict=True)}
        data = quickstart.make_problem(seed=0, noise=noise)
        hypermodel = quickstart.NoisySources(terms=quickstart.source_terms(len(noise)))
        tests = {
            label: quickstart.test_mse(hypermodel, w, data, args.epochs * 3, seed=2)
            for label, w in (("found", found), ("analytic", analytic))
        }
        print(f"\nvariant {name}: s = {noise}, search {seconds:.0f} s")
        print(f"{'term':<6} {'found w/w_1':>12} {'analytic':>10} {'log gap':>8}")
        for source in sources[1:]:
            gap = math.log(found[source] / found[sources[0]]) - math.log(analytic[source])
            within += abs(gap) <= 1.0
            total += 1
            ratio = found[source] / found[sources[0]]
            print(f"{source:<6} {ratio:>12.4f} {analytic[source]:>10.4f} {gap:>+8.2f}")
        print(
            f"test MSE against the clean target: found {tests['found']:.4f}, analytic {tests['analytic']:.4f}"
        )
    print(
        f"\nheadline: search_quality={within}/{total} searched ratios within 1.0 of the analytic ones "
        f"(goal: all, in at most 30 trials)"
    )


if __name__ == "__main__":
    main()
