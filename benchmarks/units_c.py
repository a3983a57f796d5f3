"""Problem C's units check: the same problem with the reconstruction in raw 0-16 pixel units.

BENCHMARKS.md, problem C: "with task 2 targets in raw 0-16 units, searched
weights keep delta_m while equal weights degrade". The digits of problem C
are scaled to [0, 1] (pixels / 16); here the reconstruction targets are the
raw pixels, 0 to 16, and the reconstruction head's sigmoid is multiplied by
16 (a sigmoid cannot reach 16). The reconstruction MSE is then exactly 256
times the scaled one for the same network, so equal weights in raw units
are the scaled problem with w_rec/w_cls = 256, while a search finds its
ratio whatever the units.

For each unit (``/16`` and ``raw``), with the protocol and the code of
``benchmarks/strategies.py`` (problem C's network, objective ``val_delta_m``
against single-task baselines trained in the same units, early stopping on
it, 8 random-search trials per method, 5 final seeds paired across methods
and units):

* ``equal``: both weights 1, the learning rate searched;
* ``searched``: searched static weights, the ratio w_rec/w_cls log-uniform in
  [1e-5, 1e2] in both units (wide enough for both; it says nothing about
  which unit the data are in), and the learning rate.

delta_m is relative to the single-task baselines of the same units, so it
does not depend on them; the check is the change of each method's test
delta_m from ``/16`` to ``raw``, paired by seed. The headline is the change
of searched weights in standard errors, with that of equal weights. Goal:
searched weights within 2 standard errors, equal weights worse by more.
The standard errors are those of retraining (5 seeds); which configuration
an 8-trial search finds in each unit varies too (the two searches draw the
same ratios, 256 times apart in effect), and that is not in them.

Run ``python benchmarks/units_c.py`` (about 10 minutes on 2 CPU cores) or
``--fast`` for a smoke run (tiny, eager; its numbers mean nothing).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import strategies as S  # noqa: E402  (the protocol of problem C, and its code)
import tensorflow as tf  # noqa: E402
from stats import mean_se  # noqa: E402

SCALES = {"/16": 1.0, "raw": 16.0}
RATIOS = (1e-5, 1e2)
METHODS = {"equal": "equal", "searched": S.REFERENCE_METHOD}


@dataclasses.dataclass
class Units:
    """One unit's baselines and each method's search and final runs."""

    label: str
    baselines: S.Baselines
    results: dict[str, S.Result]


def run_units(label: str, scale: float, cfg: S.Config, workdir: str) -> Units:
    """Problem C in one unit: baselines, then each method's search and final runs."""
    task, baselines = S.task_c(cfg, scale=scale, ratios=RATIOS)
    results = {}
    for method, name in METHODS.items():
        found = S.search(task, name, cfg, f"{workdir}/{label.strip('/')}")
        results[method] = S.final_runs(task, found, cfg)
        print(
            f"{label} {method}: tuned {found.wall:.0f} s, final {results[method].wall:.0f} s", file=sys.stderr
        )
    return Units(label, baselines, results)


def ratio_of(result: S.Result) -> str:
    """The searched w_rec/w_cls of a method's best trial, or ``1`` for equal weights."""
    assert result.search is not None
    return f"{result.search.hyperparameters.values.get('ratio/rec', 1.0):.3g}"


def print_units(units: Units) -> None:
    b = units.baselines
    print(
        f"\n{units.label}: single-task baselines val accuracy {b.val_accuracy:.4f}, RMSE {b.val_rmse:.4f}; "
        f"test accuracy {b.test_accuracy:.4f}, RMSE {b.test_rmse:.4f}"
    )
    print(
        f"{'method':<9} {'test dm%':>8} {'SE':>6} {'accuracy':>8} {'RMSE':>8} {'val dm%':>8} "
        f"{'w_rec/w_cls':>11} {'lr':>8} {'tune s':>6}"
    )
    for method, result in units.results.items():
        mean, se = mean_se(result.test())
        accuracy = mean_se([r.test["accuracy"] for r in result.runs])[0]
        rmse = mean_se([r.test["rmse"] for r in result.runs])[0]
        found = result.search
        assert found is not None
        rate = float(found.hyperparameters.values["learning_rate"])
        print(
            f"{method:<9} {mean:>8.3f} {se:>6.3f} {accuracy:>8.4f} {rmse:>8.4f} {found.val:>8.3f} "
            f"{ratio_of(result):>11} {rate:>8.3g} {found.wall:>6.0f}"
        )


def changes(scaled: Units, raw: Units) -> dict[str, tuple[float, float]]:
    """Each method's paired change of test delta_m from /16 to raw: (mean, standard error)."""
    return {
        method: mean_se(
            [r - s for r, s in zip(raw.results[method].test(), scaled.results[method].test(), strict=True)]
        )
        for method in METHODS
    }


def se_ratio(mean: float, se: float) -> float:
    if math.isnan(se):
        return math.nan
    return 0.0 if mean == 0 else (math.copysign(math.inf, mean) if se == 0 else mean / se)


def headline(change: dict[str, tuple[float, float]]) -> str:
    """The last line: the change of searched weights (and of equal weights) in standard errors.

    Example:
        >>> print(headline({"searched": (0.2, 0.4), "equal": (-6.0, 1.5)}))  # doctest: +NORMALIZE_WHITESPACE
        headline: c_units_searched_change=+0.200 delta_m% (+0.5 SE, paired; equal weights -6.000, -4.0 SE)
        (goal: in raw 0-16 units searched weights keep delta_m within 2 standard errors while equal
        weights lose more)
    """
    searched, equal = change["searched"], change["equal"]
    return (
        f"headline: c_units_searched_change={searched[0]:+.3f} delta_m% "
        f"({se_ratio(*searched):+.1f} SE, paired; "
        f"equal weights {equal[0]:+.3f}, {se_ratio(*equal):+.1f} SE) (goal: in raw 0-16 units searched "
        "weights keep delta_m within 2 standard errors while equal weights lose more)"
    )


def parse_args(argv: list[str] | None = None) -> tuple[S.Config, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="smoke run (tiny, eager; numbers mean nothing)")
    parser.add_argument("--directory", help="tuner directory, kept (default: a temporary one, deleted)")
    args = parser.parse_args(argv)
    return (S.FAST if args.fast else S.Config()), args.directory


def main(argv: list[str] | None = None) -> None:
    cfg, directory = parse_args(argv)
    if cfg.eager:
        tf.config.run_functions_eagerly(True)
    gc.freeze()  # see strategies.main
    start = time.perf_counter()
    print(
        f"units_c: problem C, reconstruction targets /16 and raw (0-16); methods {', '.join(METHODS)}; "
        f"{cfg.trials} trial(s) per method, w_rec/w_cls searched in [{RATIOS[0]:g}, {RATIOS[1]:g}]; "
        f"{len(cfg.final_seeds)} final seeds; Keras {keras.__version__}"
        + ("; FAST smoke run (eager, tiny): the numbers mean nothing" if cfg.eager else "")
    )
    workdir = directory or tempfile.mkdtemp(prefix="units_c-")
    try:
        scaled, raw = (run_units(label, scale, cfg, workdir) for label, scale in SCALES.items())
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print_units(scaled)
    print_units(raw)
    change = changes(scaled, raw)
    print("\nchange of test delta_m from /16 to raw units (paired by seed)")
    for method, (mean, se) in change.items():
        print(f"{method:<9} {mean:+8.3f} (SE {se:.3f}, {se_ratio(mean, se):+.1f} SE)")
    searched, equal = (se_ratio(*change[m]) for m in ("searched", "equal"))
    print(f"goal met: {'yes' if abs(searched) <= 2 and equal < -2 else 'no'}")
    print(f"total wall time: {time.perf_counter() - start:.0f} s")
    print(headline(change))


if __name__ == "__main__":
    main()
