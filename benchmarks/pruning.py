"""Pruning benchmark: random search with and without median stopping on problem A.

Problem A of BENCHMARKS.md, as in ``examples/quickstart.py`` (imported from
there: `make_problem`, `NoisySources`, `targets`): three noisy label sources
of one target, s = (0.3, 1, 3); the two loss-weight ratios against source 1
are searched log-uniform in [1e-3, 10]. One data set (``make_problem(0)``):
300 train, 300 val, 4000 test.

For each of 5 search seeds (1, 1001, 2001, 3001, 4001: keras-tuner seeds the
k-th value a search draws with seed + k, so nearby seeds would share most of
their trials), `tuneweights.RandomSearch` runs twice with the same seed, 10
trials of 40 epochs, objective ``val_src1_loss`` (the unweighted val MSE
against source 1), batch 32, Adam 3e-3, no early stopping:

* ``full``: no pruner, every trial trains all its epochs;
* ``median``: ``pruner=MedianStopping(warmup=W, min_trials=3)`` with W = 10% of
  the epochs (at least 1): from epoch W on, a trial stops when its best
  ``val_src1_loss`` so far is worse than the median of the best values so far
  of the other trials at that epoch, once at least 3 other trials reached it.

Random search draws its hyperparameters from its own seeded state, so both
searches propose the same trials in the same order. Each trial also seeds
Keras (initial weights, batch order) from the search seed and its
hyperparameters, so a trial trains identically in both searches until the
pruner stops it: the comparison measures what the pruning decisions cost,
not a different draw of initial weights.

Measured per search: every trial is asserted COMPLETED (pruned trials are
recorded as COMPLETED); the epochs actually run, counted from each trial's
recorded per-epoch history (the steps of ``val_src1_loss``); the number of
pruned trials (stopped before their last epoch); the wall time of
``search``; and the test MSE against the clean f of the best trial's best
checkpoint (``tuner.get_best_models()[0]``).

Aggregated over the seeds: mean epochs and the reduction (1 - pruned/full),
mean best test MSE and its standard error for both, the paired difference
(median - full) and its standard error; the best results are "within noise"
when the paired difference is within 2 standard errors.

The last line is the headline, the epoch saving; the goal is at least 40%
fewer epochs for a best result within noise of the unpruned search.

Run ``python benchmarks/pruning.py`` (5 seeds x 10 trials x 40 epochs: about
9 minutes of CPU time, 13 to 19 minutes of wall time on 2 shared CPU cores)
or ``--fast`` (2 seeds x 3 trials x 6 epochs with ``min_trials=2``, so that
the last trial can be pruned: a smoke run of under a minute).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tuneweights as tw  # noqa: E402
from examples.quickstart import NoisySources, make_problem, targets  # noqa: E402

GOAL = 0.40
OBJECTIVE = "val_src1_loss"
DATA_SEED = 0
BATCH_SIZE = 32
ARMS = ("full", "median")


@dataclasses.dataclass(frozen=True)
class Config:
    """Sizes of the run; the defaults are the full benchmark."""

    # keras-tuner replaces a seed of 0 by a random one, and draws the k-th value of a search
    # seeded s with the seed s + k: seeds 2 and 4 would share all but one trial. Spaced seeds
    # give independent searches.
    seeds: tuple[int, ...] = (1, 1001, 2001, 3001, 4001)
    trials: int = 10
    epochs: int = 40
    min_trials: int = 3

    @property
    def warmup(self) -> int:
        return max(1, self.epochs // 10)

    def pruner(self) -> tw.MedianStopping:
        return tw.MedianStopping(warmup=self.warmup, min_trials=self.min_trials)


# min_trials=2, so that the last of only 3 trials can be pruned.
FAST = Config(seeds=(1, 1001), trials=3, epochs=6, min_trials=2)


class SeededSources(NoisySources):
    """The quickstart's hypermodel; each trial seeds Keras from its hyperparameters.

    The same trial then starts from the same initial weights and sees the
    same batches in both searches of a seed.
    """

    def __init__(self, search_seed: int) -> None:
        super().__init__()
        self.search_seed = search_seed

    def build(self, hp: Any) -> keras.Model:
        values = json.dumps(hp.values if hp is not None else {}, sort_keys=True)
        keras.utils.set_random_seed(zlib.crc32(f"{self.search_seed}:{values}".encode()) % 2**31)
        return super().build(hp)


@dataclasses.dataclass
class Run:
    """One search: what it cost and what its best trial achieves on test."""

    arm: str
    seed: int
    epochs: int
    pruned: int
    trials: int
    wall: float
    best_trial: str
    best_val: float
    test_mse: float
    proposals: list[dict[str, Any]]
    histories: list[list[float]]


def run_search(data: dict, cfg: Config, seed: int, arm: str, workdir: str) -> Run:
    """Run one random search; check its trials; evaluate its best model on test."""
    tuner = tw.RandomSearch(
        SeededSources(seed),
        objective=OBJECTIVE,
        max_trials=cfg.trials,
        seed=seed,
        pruner=cfg.pruner() if arm == "median" else None,
        directory=workdir,
        project_name=f"seed{seed}-{arm}",
        overwrite=True,
    )
    began = time.perf_counter()
    tuner.search(
        data["train"]["x"],
        targets(data["train"]),
        validation_data=(data["val"]["x"], targets(data["val"])),
        epochs=cfg.epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    wall = time.perf_counter() - began
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    statuses = [t.status for t in trials]
    if len(trials) != cfg.trials or statuses.count("COMPLETED") != len(trials):
        raise SystemExit(f"seed {seed}, {arm}: expected {cfg.trials} COMPLETED trials, got {statuses}")
    pruned = dict(tuner.oracle.pruned)
    epochs, histories = 0, []
    for trial in trials:
        steps = [o.step for o in trial.metrics.get_history(OBJECTIVE)]
        expected = pruned.get(trial.trial_id, cfg.epochs - 1) + 1
        if steps != list(range(expected)):
            raise SystemExit(f"seed {seed}, {arm}, trial {trial.trial_id}: recorded steps {steps}")
        epochs += len(steps)
        histories.append([float(o.mean()) for o in trial.metrics.get_history(OBJECTIVE)])
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    prediction = keras.ops.convert_to_numpy(model(data["test"]["x"], training=False))
    test_mse = float(np.mean((prediction - data["test"]["clean"]) ** 2))
    keras.backend.clear_session()
    return Run(
        arm=arm,
        seed=seed,
        epochs=epochs,
        # A trial stopped at its last epoch is marked pruned but saved nothing: not counted.
        pruned=sum(epoch < cfg.epochs - 1 for epoch in pruned.values()),
        trials=len(trials),
        wall=wall,
        best_trial=best.trial_id,
        best_val=float(best.score),
        test_mse=test_mse,
        proposals=[dict(t.hyperparameters.values) for t in trials],
        histories=histories,
    )


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (nan with a single value)."""
    mean = statistics.mean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return mean, se


def print_table(pairs: list[tuple[Run, Run]], cfg: Config) -> float:
    """The per-seed rows and the aggregate; returns the epoch saving (a fraction)."""
    print(
        f"\n{'seed':>4} {'epochs full':>11} {'epochs median':>13} {'saving':>7} {'pruned':>7} "
        f"{'best test MSE full':>18} {'best test MSE median':>20} {'diff':>8} {'same best':>9} "
        f"{'wall full s':>11} {'wall median s':>13}"
    )
    for full, median in pairs:
        saving = 1 - median.epochs / full.epochs
        same = "yes" if full.best_trial == median.best_trial else "no"
        print(
            f"{full.seed:>4} {full.epochs:>11d} {median.epochs:>13d} {100 * saving:>6.1f}% "
            f"{median.pruned:>3d}/{median.trials:<3d} {full.test_mse:>18.4f} {median.test_mse:>20.4f} "
            f"{median.test_mse - full.test_mse:>+8.4f} {same:>9} {full.wall:>11.1f} {median.wall:>13.1f}"
        )
    fulls, medians = [p[0] for p in pairs], [p[1] for p in pairs]
    epochs_full = statistics.mean(r.epochs for r in fulls)
    epochs_median = statistics.mean(r.epochs for r in medians)
    saving = 1 - epochs_median / epochs_full
    print(f"\n{'':<34} {'full':>10} {'median':>10}")
    print(f"{'epochs spent per search (mean)':<34} {epochs_full:>10.1f} {epochs_median:>10.1f}")
    print(f"{'epochs budget per search':<34} {cfg.trials * cfg.epochs:>10d} {cfg.trials * cfg.epochs:>10d}")
    print(
        f"{'pruned trials (total)':<34} {0:>10d} "
        f"{f'{sum(r.pruned for r in medians)}/{sum(r.trials for r in medians)}':>10}"
    )
    mse_full, se_full = mean_se([r.test_mse for r in fulls])
    mse_median, se_median = mean_se([r.test_mse for r in medians])
    print(f"{'best test MSE (mean)':<34} {mse_full:>10.4f} {mse_median:>10.4f}")
    print(f"{'best test MSE (standard error)':<34} {se_full:>10.4f} {se_median:>10.4f}")
    print(
        f"{'wall time of the searches (s)':<34} {sum(r.wall for r in fulls):>10.1f} "
        f"{sum(r.wall for r in medians):>10.1f}"
    )
    diffs = [m.test_mse - f.test_mse for f, m in pairs]
    diff, se = mean_se(diffs)
    within = abs(diff) <= 2 * se if not math.isnan(se) else False
    print(f"\nepoch reduction: {100 * saving:.1f}% (1 - {epochs_median:.1f} / {epochs_full:.1f})")
    in_se = f" = {diff / se:+.1f} SE" if se > 0 else ""
    print(f"paired difference of best test MSE (median - full): {diff:+.4f} (SE {se:.4f}){in_se}")
    worse, better = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    print(
        f"pruned search worse in {worse}, better in {better}, equal in {len(diffs) - worse - better} "
        f"of {len(diffs)} seeds"
    )
    print(f"best results within noise (|difference| <= 2 SE): {'yes' if within else 'no'}")
    same = sum(f.best_trial == m.best_trial for f, m in pairs)
    print(f"same best trial in both searches: {same} of {len(pairs)} seeds")
    gap = max(
        abs(a - b)
        for f, m in pairs
        for full_history, median_history in zip(f.histories, m.histories, strict=True)
        for a, b in zip(full_history, median_history, strict=False)  # up to the pruned epoch
    )
    print(f"largest difference of {OBJECTIVE} between the searches before pruning: {gap:.2g}")
    return saving


def parse_config(argv: list[str] | None = None) -> tuple[Config, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="smoke run (2 seeds x 3 trials x 6 epochs)")
    parser.add_argument("--directory", help="tuner directory, kept (default: a temporary one, deleted)")
    args = parser.parse_args(argv)
    return (FAST if args.fast else Config()), args.directory


def main(argv: list[str] | None = None) -> None:
    cfg, directory = parse_config(argv)
    start = time.perf_counter()
    data = make_problem(seed=DATA_SEED)
    print(
        f"pruning: problem A (data seed {DATA_SEED}); RandomSearch, {len(cfg.seeds)} seeds x "
        f"{cfg.trials} trials x {cfg.epochs} epochs, objective {OBJECTIVE}, batch {BATCH_SIZE}; "
        f"pruner {cfg.pruner().describe()}; Keras {keras.__version__}"
    )
    workdir = directory or tempfile.mkdtemp(prefix="tuneweights-pruning-")
    pairs = []
    try:
        for seed in cfg.seeds:
            full, median = (run_search(data, cfg, seed, arm, workdir) for arm in ARMS)
            print(
                f"seed {seed}: {full.epochs} and {median.epochs} epochs, {full.wall + median.wall:.0f} s",
                file=sys.stderr,
            )
            if full.proposals != median.proposals:
                raise SystemExit(f"seed {seed}: the two searches proposed different trials")
            pairs.append((full, median))
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    saving = print_table(pairs, cfg)
    print(f"total wall time: {time.perf_counter() - start:.0f} s")
    print(
        f"headline: pruning_epoch_saving={100 * saving:.1f}% (goal: at least {100 * GOAL:.0f}% fewer epochs "
        "for a best result within noise)"
    )


if __name__ == "__main__":
    main()
