"""Pruning benchmark: random search with and without pruning on problem A.

Problem A of BENCHMARKS.md, as in ``examples/quickstart.py`` (imported from
there: `make_problem`, `NoisySources`, `targets`): three noisy label sources
of one target, s = (0.3, 1, 3); the two loss-weight ratios against source 1
are searched log-uniform in [1e-3, 10]. One data set (``make_problem(0)``):
300 train, 300 val, 4000 test.

For each of 5 search seeds (1, 1001, 2001, 3001, 4001: keras-tuner seeds the
k-th value a search draws with seed + k, so nearby seeds would share most of
their trials), `tuneweights.RandomSearch` runs three times with the same seed,
20 trials of 20 epochs (a budget of 400 epochs per search), objective
``val_src1_loss`` (the unweighted val MSE against source 1), batch 32, Adam
3e-3, no early stopping:

* ``full``: no pruner, every trial trains all its epochs;
* ``median`` (the headline): ``pruner=MedianStopping(warmup=W, min_trials=3)``
  with W = 20% of the epochs (4 of 20): from epoch W on (0-based), a trial
  stops when its best ``val_src1_loss`` so far is worse than the median of the
  best values so far of the other trials at that epoch, once at least 3 other
  trials reached it;
* ``asha``: ``pruner=SuccessiveHalving(min_epochs=2, reduction_factor=3)``,
  rungs after 2, 6 and 18 epochs: a trial reaching a rung continues only if
  its value there is among the best third of the values reported there so
  far.

The sizes: 20 trials of 20 epochs spend the budget of 10 trials of 40 on
twice the trials. Median stopping cannot prune the first `min_trials` trials
of a sequential search (they have nothing to compare with): 15% of 20 trials,
30% of 10. The warmup: how fast a trial learns depends on its weights here,
and the trials near the optimal weights improve slowly but until the last
epoch, so median stopping waits 20% of the epochs. ASHA's rungs are spaced by
its reduction factor from 2 epochs up to the 20.

Random search draws its hyperparameters from its own seeded state, so the
three searches propose the same trials in the same order. Each trial also
seeds Keras (initial weights, batch order) from the search seed and its
hyperparameters, so a trial trains identically in all three searches until a
pruner stops it: the comparison measures what the pruning decisions cost, not
a different draw of initial weights.

Measured per search: every trial is asserted COMPLETED (pruned trials are
recorded as COMPLETED); the epochs actually run, counted from each trial's
recorded per-epoch history (the steps of ``val_src1_loss``); the number of
pruned trials (``tuner.oracle.pruned``: stopped before their last epoch; a
trial stopped at its last epoch is not marked, which is checked); the wall
time of ``search``; and the test MSE against the clean f of the best trial's
best checkpoint (``tuner.get_best_models()[0]``).

Aggregated over the seeds, for each pruned arm against ``full``: mean epochs
and the saving (1 - pruned/full), mean best test MSE and its standard error,
the paired difference (pruned - full) and its standard error; the best
results are "within noise" when the paired difference is within 2 standard
errors.

The last line is the headline, the epoch saving of median stopping; the goal
is at least 40% fewer epochs for a best result within noise of the unpruned
search.

Run ``python benchmarks/pruning.py`` (5 seeds x 3 searches x 20 trials x 20
epochs: about 15 minutes of wall time on 2 shared CPU cores) or ``--fast``
(2 seeds x 3 trials x 6 epochs with ``MedianStopping(warmup=1, min_trials=2)``
and ``SuccessiveHalving(min_epochs=1)``, so that the last trial can be
pruned: a smoke run of about a minute).
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
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from stats import mean_se  # noqa: E402

import tuneweights as tw  # noqa: E402
from examples.quickstart import NoisySources, make_problem, targets  # noqa: E402

GOAL = 0.40
OBJECTIVE = "val_src1_loss"
DATA_SEED = 0
BATCH_SIZE = 32
ARMS = ("full", "median", "asha")
HEADLINE_ARM = "median"


@dataclasses.dataclass(frozen=True)
class Config:
    """Sizes of the run and the pruners' settings; the defaults are the full benchmark."""

    # keras-tuner replaces a seed of 0 by a random one, and draws the k-th value of a search
    # seeded s with the seed s + k: seeds 2 and 4 would share all but one trial. Spaced seeds
    # give independent searches.
    seeds: tuple[int, ...] = (1, 1001, 2001, 3001, 4001)
    trials: int = 20
    epochs: int = 20
    # Trials near the optimal weights learn slowly at first (see docs/pruning.md): median
    # stopping looks from 20% of the epochs on, not 10%.
    warmup: int = 4
    min_trials: int = 3
    # Rungs after 2, 6, 18 epochs: the top rung is the last one within the 20 epochs.
    min_epochs: int = 2
    reduction_factor: int = 3

    def pruner(self, arm: str) -> tw.Pruner | None:
        """The pruner of an arm (None for ``full``)."""
        if arm == "median":
            return tw.MedianStopping(warmup=self.warmup, min_trials=self.min_trials)
        if arm == "asha":
            return tw.SuccessiveHalving(min_epochs=self.min_epochs, reduction_factor=self.reduction_factor)
        return None


# min_trials=2 and min_epochs=1, so that the last of only 3 trials can be pruned.
FAST = Config(seeds=(1, 1001), trials=3, epochs=6, warmup=1, min_trials=2, min_epochs=1)


class SeededSources(NoisySources):
    """The quickstart's hypermodel; each trial seeds Keras from its hyperparameters.

    The same trial then starts from the same initial weights and sees the
    same batches in every search of a seed.
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
        pruner=cfg.pruner(arm),
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
    if any(epoch >= cfg.epochs - 1 for epoch in pruned.values()):
        raise SystemExit(f"seed {seed}, {arm}: a trial stopped at its last epoch is marked pruned: {pruned}")
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
        pruned=len(pruned),
        trials=len(trials),
        wall=wall,
        best_trial=best.trial_id,
        best_val=float(best.score),
        test_mse=test_mse,
        proposals=[dict(t.hyperparameters.values) for t in trials],
        histories=histories,
    )


@dataclasses.dataclass
class Comparison:
    """A pruned arm against ``full`` over the seeds, paired by seed."""

    arm: str
    saving: float
    diff: float
    se: float
    worse: int
    better: int
    same_best: int

    @property
    def within_noise(self) -> bool:
        return abs(self.diff) <= 2 * self.se if not math.isnan(self.se) else False

    @property
    def in_se(self) -> str:
        return f"{self.diff / self.se:+.1f}" if self.se > 0 else "-"


def compare(runs: dict[str, list[Run]], arm: str) -> Comparison:
    """Epoch saving and paired difference of the best test MSE of `arm` against ``full``."""
    fulls, pruned = runs["full"], runs[arm]
    saving = 1 - statistics.mean(r.epochs for r in pruned) / statistics.mean(r.epochs for r in fulls)
    diffs = [p.test_mse - f.test_mse for f, p in zip(fulls, pruned, strict=True)]
    diff, se = mean_se(diffs)
    return Comparison(
        arm=arm,
        saving=saving,
        diff=diff,
        se=se,
        worse=sum(d > 0 for d in diffs),
        better=sum(d < 0 for d in diffs),
        same_best=sum(f.best_trial == p.best_trial for f, p in zip(fulls, pruned, strict=True)),
    )


def print_per_seed(runs: dict[str, list[Run]]) -> None:
    """Two per-seed tables: what each search cost, and what its best trial does on test."""
    pruned_arms = ARMS[1:]
    print("\nepochs spent per search (saving against full, trials pruned) and wall time of the searches")
    print(
        f"{'seed':>4} {'full':>6}"
        + "".join(f" {arm:>6} {'saving':>7} {'pruned':>7}" for arm in pruned_arms)
        + "".join(f" {'wall ' + arm + ' s':>13}" for arm in ARMS)
    )
    for i, full in enumerate(runs["full"]):
        row = f"{full.seed:>4} {full.epochs:>6d}"
        for arm in pruned_arms:
            run = runs[arm][i]
            saving = 1 - run.epochs / full.epochs
            row += f" {run.epochs:>6d} {100 * saving:>6.1f}% {run.pruned:>3d}/{run.trials:<3d}"
        print(row + "".join(f" {runs[arm][i].wall:>13.1f}" for arm in ARMS))
    print("\nbest test MSE per search (difference against full, same best trial as full)")
    print(f"{'seed':>4} {'full':>8}" + "".join(f" {arm:>8} {'diff':>8} {'same':>4}" for arm in pruned_arms))
    for i, full in enumerate(runs["full"]):
        row = f"{full.seed:>4} {full.test_mse:>8.4f}"
        for arm in pruned_arms:
            run = runs[arm][i]
            same = "yes" if run.best_trial == full.best_trial else "no"
            row += f" {run.test_mse:>8.4f} {run.test_mse - full.test_mse:>+8.4f} {same:>4}"
        print(row)


def print_summary(runs: dict[str, list[Run]], cfg: Config) -> dict[str, Comparison]:
    """The aggregate table over the seeds; returns each pruned arm's comparison with ``full``."""
    pruned_arms = ARMS[1:]
    comparisons = {arm: compare(runs, arm) for arm in pruned_arms}
    stats = {arm: mean_se([r.test_mse for r in runs[arm]]) for arm in ARMS}
    n = len(runs["full"])

    def per_arm(cell: Callable[[str], str]) -> list[str]:
        return [cell(arm) for arm in ARMS]

    def against_full(cell: Callable[[Comparison], str]) -> list[str]:
        return ["-"] + [cell(comparisons[arm]) for arm in pruned_arms]

    rows = [
        ("", list(ARMS)),
        (
            "epochs spent per search (mean)",
            per_arm(lambda a: f"{statistics.mean(r.epochs for r in runs[a]):.1f}"),
        ),
        ("epochs budget per search", per_arm(lambda a: str(cfg.trials * cfg.epochs))),
        ("epoch saving", against_full(lambda c: f"{100 * c.saving:.1f}%")),
        (
            "pruned trials (total)",
            per_arm(lambda a: f"{sum(r.pruned for r in runs[a])}/{sum(r.trials for r in runs[a])}"),
        ),
        ("best test MSE (mean)", per_arm(lambda a: f"{stats[a][0]:.4f}")),
        ("best test MSE (standard error)", per_arm(lambda a: f"{stats[a][1]:.4f}")),
        ("paired difference with full", against_full(lambda c: f"{c.diff:+.4f}")),
        ("its standard error", against_full(lambda c: f"{c.se:.4f}")),
        ("in standard errors", against_full(lambda c: c.in_se)),
        (
            "seeds worse/better/equal",
            against_full(lambda c: f"{c.worse}/{c.better}/{n - c.worse - c.better}"),
        ),
        ("within noise (|diff| <= 2 SE)", against_full(lambda c: "yes" if c.within_noise else "no")),
        ("same best trial as full", against_full(lambda c: f"{c.same_best} of {n}")),
        ("wall time of the searches (s)", per_arm(lambda a: f"{sum(r.wall for r in runs[a]):.1f}")),
    ]
    print()
    for label, cells in rows:
        print(f"{label:<32}" + "".join(f" {cell:>10}" for cell in cells))
    return comparisons


def print_headline_arm(runs: dict[str, list[Run]], comparison: Comparison) -> None:
    """The headline arm's result in words, and the check that the searches trained alike."""
    arm = comparison.arm
    epochs_full = statistics.mean(r.epochs for r in runs["full"])
    epochs_arm = statistics.mean(r.epochs for r in runs[arm])
    n = len(runs["full"])
    reduction = f"{100 * comparison.saving:.1f}% (1 - {epochs_arm:.1f} / {epochs_full:.1f})"
    print(f"\nepoch reduction ({arm}): {reduction}")
    in_se = f" = {comparison.in_se} SE" if comparison.se > 0 else ""
    print(
        f"paired difference of best test MSE ({arm} - full): {comparison.diff:+.4f} "
        f"(SE {comparison.se:.4f}){in_se}"
    )
    print(
        f"pruned search worse in {comparison.worse}, better in {comparison.better}, equal in "
        f"{n - comparison.worse - comparison.better} of {n} seeds"
    )
    print(f"best results within noise (|difference| <= 2 SE): {'yes' if comparison.within_noise else 'no'}")
    print(f"same best trial in both searches: {comparison.same_best} of {n} seeds")
    gap = max(
        abs(a - b)
        for other in ARMS[1:]
        for full, pruned in zip(runs["full"], runs[other], strict=True)
        for full_history, pruned_history in zip(full.histories, pruned.histories, strict=True)
        for a, b in zip(full_history, pruned_history, strict=False)  # up to the pruned epoch
    )
    print(f"largest difference of {OBJECTIVE} between the searches before pruning: {gap:.2g}")


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
    pruners = "; ".join(f"{arm}: {cfg.pruner(arm).describe()}" for arm in ARMS[1:])  # type: ignore[union-attr]
    print(
        f"pruning: problem A (data seed {DATA_SEED}); RandomSearch, {len(cfg.seeds)} seeds x "
        f"{cfg.trials} trials x {cfg.epochs} epochs, objective {OBJECTIVE}, batch {BATCH_SIZE}; "
        f"pruners {pruners}; Keras {keras.__version__}"
    )
    workdir = directory or tempfile.mkdtemp(prefix="tuneweights-pruning-")
    runs: dict[str, list[Run]] = {arm: [] for arm in ARMS}
    try:
        for seed in cfg.seeds:
            searches = [run_search(data, cfg, seed, arm, workdir) for arm in ARMS]
            print(
                f"seed {seed}: " + ", ".join(f"{r.arm} {r.epochs} epochs {r.wall:.0f} s" for r in searches),
                file=sys.stderr,
            )
            if any(r.proposals != searches[0].proposals for r in searches):
                raise SystemExit(f"seed {seed}: the searches proposed different trials")
            for run in searches:
                runs[run.arm].append(run)
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print_per_seed(runs)
    comparisons = print_summary(runs, cfg)
    print_headline_arm(runs, comparisons[HEADLINE_ARM])
    print(f"total wall time: {time.perf_counter() - start:.0f} s")
    print(
        f"headline: pruning_epoch_saving={100 * comparisons[HEADLINE_ARM].saving:.1f}% (goal: at least "
        f"{100 * GOAL:.0f}% fewer epochs for a best result within noise)"
    )


if __name__ == "__main__":
    main()
