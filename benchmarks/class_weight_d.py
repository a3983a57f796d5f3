"""Problem D of BENCHMARKS.md: imbalanced binary classification, the weight of the positive class.

Data (`problems.problem_d`): two Gaussian classes with a shared random
covariance in d = 10 dimensions, 5% positives, Mahalanobis distance 1.35
between the class means; 4000 points split 2000 train / 1000 val / 1000 test
(100 / 50 / 50 positives). The model is a logistic regression (one Dense unit
giving a logit): with a shared covariance the true log-odds are linear, so
the model can represent the Bayes classifier.

The weighted binary cross-entropy ``w_pos * BCE(positives) + BCE(negatives)``
is written as two terms on the one logit output, both reading the labels
``y``: ``neg``, ``-(1 - y) log(1 - p)``, the reference with weight 1, and
``pos``, ``-y log p``, whose weight ``w_pos`` (its ratio to ``neg``) is
searched log-uniform in [1, 100]. Their weighted sum, averaged over a batch,
is the class-weighted cross-entropy.

Theory: trained with weight w, the model's probability p_w satisfies
``p_w / (1 - p_w) = w p / (1 - p)``, so its threshold 0.5 is the threshold
1 / (1 + w) on the true posterior p. Balanced accuracy is best at the
threshold pi (the prior): ``w = (1 - pi) / pi = 19``. F1 is best at a
threshold of half the best F1 value; for these classes (computed in closed
form, `theory_weight`) that is w = 5.1.

Protocol (BENCHMARKS.md), for each of 5 seeds (a seed draws the data set and
the initial weights):

* Searched: `tuneweights.BayesianOptimization` over w_pos, 10 trials
  (3 random), 20 epochs each, objective a user metric on val at probability
  0.5: ``val_balanced_accuracy`` in one search, ``val_f1`` in another
  (computed every epoch by a callback, declared in
  ``WeightedHyperModel.logged_metrics``), never the weighted loss. Every
  trial must be COMPLETED with one recorded value per epoch. The learning
  rate is fixed (Adam 3e-2, batch 64, converged within about 15 epochs) for every method.
* Baseline: the unweighted model (w_pos = 1) with its decision threshold
  tuned on val for each metric (the honest way to trade recall for
  precision without weights); also shown at threshold 0.5.
* References: the theoretical weight of each metric (19, 5.1) and a grid of
  9 weights over [1, 100], evaluated at threshold 0.5; the grid's best weight
  on test is the optimum the regret of the searched weight is measured
  against.
* Final numbers: every method retrained with a fresh seed per data seed
  (1000 + seed: initial weights and batch order), the model of the epoch with
  the best val metric kept (with the baseline, the epoch and its threshold);
  test balanced accuracy and F1; mean and standard error over the 5 seeds,
  paired differences against the baseline. The searched weight is reported
  as the geometric mean over seeds and compared with theory on a log scale.

The last lines are the checks of the goal and the headline: the searched
w_pos of each metric against theory (within a factor of 2: 19 for balanced
accuracy, 5.1 for F1), and its test metric no worse than the baseline's by
more than 2 standard errors of the paired difference.

Run ``python benchmarks/class_weight_d.py`` (about 20 minutes on 2 shared CPU
cores) or ``--fast`` (1 seed, 2 trials of 3 epochs per search, a grid of 2 weights: a
smoke run of about 20 seconds whose numbers mean nothing).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from problems import Problem, problem_d  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from stats import in_se, mean_se  # noqa: E402

import tuneweights as tw  # noqa: E402

PRIOR = 0.05
SEPARATION = 1.35
W_RANGE = (1.0, 100.0)
LEARNING_RATE = 3e-2
BATCH_SIZE = 64
METRICS = ("balanced_accuracy", "f1")
LABELS = {"balanced_accuracy": "balanced accuracy", "f1": "F1"}
GOAL_FACTOR = 2.0
GOAL_SE = 2.0


@dataclasses.dataclass(frozen=True)
class Config:
    """Sizes of the run; the defaults are the full benchmark."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    trials: int = 10
    initial_points: int = 3
    epochs: int = 20
    grid: tuple[float, ...] = tuple(float(w) for w in np.logspace(0, 2, 9))


FAST = Config(seeds=(0,), trials=2, initial_points=1, epochs=3, grid=(1.0, 19.0))


# -- theory -------------------------------------------------------------------
def population_rates(
    weight: float, separation: float = SEPARATION, prior: float = PRIOR
) -> tuple[float, float]:
    """True and false positive rates of the Bayes classifier trained with positive weight `weight`.

    Along the discriminant direction the classes are N(+-separation/2, 1) and
    the log-odds are ``separation * u + log(prior / (1 - prior))``; the
    weighted classifier predicts positive when the log-odds exceed
    ``-log(weight)``.

    Example:
        >>> tpr, fpr = population_rates(19.0, separation=2.0)
        >>> round(tpr, 4), round(fpr, 4)
        (0.8413, 0.1587)
    """
    cut = -(math.log(weight) + math.log(prior / (1 - prior))) / separation

    def above(z: float) -> float:
        return 0.5 * math.erfc(z / math.sqrt(2))

    return above(cut - separation / 2), above(cut + separation / 2)


def rate_metric(metric: str, tpr: float, fpr: float, prior: float = PRIOR) -> float:
    """Balanced accuracy or F1 from the true and false positive rates and the prior.

    Example:
        >>> rate_metric("balanced_accuracy", 0.8, 0.2), round(rate_metric("f1", 0.5, 0.0, prior=0.5), 4)
        (0.8, 0.6667)
    """
    if metric == "balanced_accuracy":
        return (tpr + 1 - fpr) / 2
    return 2 * prior * tpr / (prior * tpr + prior + (1 - prior) * fpr)


def population_metric(metric: str, weight: float) -> float:
    """The metric of the Bayes classifier trained with weight `weight`, on the population."""
    return rate_metric(metric, *population_rates(weight))


def theory_weight(metric: str, separation: float = SEPARATION, prior: float = PRIOR) -> float:
    """The positive weight that maximises the metric on the population.

    Example:
        >>> round(theory_weight("balanced_accuracy"), 9)
        19.0
        >>> round(theory_weight("f1"), 2)
        5.08
    """
    if metric == "balanced_accuracy":
        return (1 - prior) / prior
    found = minimize_scalar(
        lambda log_w: -rate_metric("f1", *population_rates(math.exp(log_w), separation, prior), prior),
        bounds=(-5.0, 10.0),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return math.exp(found.x)


# -- metrics of a sample ------------------------------------------------------------
def count_metric(metric: str, tp: np.ndarray, fp: np.ndarray, positives: int, negatives: int) -> np.ndarray:
    """Balanced accuracy or F1 from counts of true and false positives (arrays)."""
    if metric == "balanced_accuracy":
        return (tp / positives + 1 - fp / negatives) / 2
    return 2 * tp / np.maximum(tp + fp + positives, 1)


def score(metric: str, y: np.ndarray, logits: np.ndarray, threshold: float = 0.0) -> float:
    """The metric of the predictions ``logits > threshold`` against labels `y` (1 for a positive).

    Example:
        >>> y = np.array([1, 0, 0, 1])
        >>> score("f1", y, np.array([2.0, -1.0, 0.5, -3.0]))
        0.5
    """
    y, predicted = np.ravel(y) > 0.5, np.ravel(logits) > threshold
    tp, fp = np.sum(predicted & y), np.sum(predicted & ~y)
    return float(count_metric(metric, tp, fp, int(y.sum()), int((~y).sum())))


def best_threshold(metric: str, y: np.ndarray, logits: np.ndarray) -> tuple[float, float]:
    """The threshold on the logits that maximises the metric on this sample, and the metric there.

    Every cut between two consecutive sorted logits is tried (and none or all
    predicted positive); the threshold returned is the midpoint.

    Example:
        >>> best_threshold("balanced_accuracy", np.array([0, 1, 0, 1]), np.array([-2.0, 1.0, 0.0, 3.0]))
        (0.5, 1.0)
    """
    y, logits = np.ravel(y) > 0.5, np.ravel(logits)
    order = np.argsort(-logits, kind="stable")
    ranked, labels = logits[order], y[order]
    tp = np.concatenate([[0], np.cumsum(labels)])
    fp = np.concatenate([[0], np.cumsum(~labels)])
    values = count_metric(metric, tp, fp, int(y.sum()), int((~y).sum()))
    k = int(np.argmax(values))  # top k predicted positive
    if k == 0:
        threshold = float(ranked[0]) + 1.0
    elif k == len(ranked):
        threshold = float(ranked[-1]) - 1.0
    else:
        threshold = float(ranked[k - 1] + ranked[k]) / 2
    return threshold, float(values[k])


# -- model ------------------------------------------------------------------------
def positive_bce(y_true: Any, logits: Any) -> Any:
    """The positives' part of the binary cross-entropy: ``-y log sigmoid(logits)``."""
    return keras.ops.mean(y_true * keras.ops.softplus(-logits), axis=-1)


def negative_bce(y_true: Any, logits: Any) -> Any:
    """The negatives' part of the binary cross-entropy: ``-(1 - y) log(1 - sigmoid(logits))``."""
    return keras.ops.mean((1.0 - y_true) * keras.ops.softplus(logits), axis=-1)


def terms(weight: Any) -> list[tw.Term]:
    """The negatives' term (reference, weight 1) and the positives' term with weight `weight`."""
    return [
        tw.Term("neg", negative_bce, output="logit", target="y"),
        tw.Term("pos", positive_bce, output="logit", target="y", weight=weight),
    ]


def build_base(seed: int, dim: int = 10) -> keras.Model:
    """Logistic regression: one Dense unit giving the logit; Adam 3e-2."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((dim,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(1, name="logit")(inputs))
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    return model


def logits_of(model: keras.Model, x: np.ndarray) -> np.ndarray:
    base = getattr(model, "base", model)
    return keras.ops.convert_to_numpy(base(x, training=False))[:, 0]


class ValMetrics(keras.callbacks.Callback):
    """Adds ``val_balanced_accuracy`` and ``val_f1`` (at probability 0.5) to the epoch logs."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.x, self.y = x, y

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logits = logits_of(self.model, self.x)
            logs.update({f"val_{metric}": score(metric, self.y, logits) for metric in METRICS})


class ClassWeightD(tw.WeightedHyperModel):
    """The searched w_pos; every trial starts from the same initial weights and batch order."""

    logged_metrics = tuple(f"val_{metric}" for metric in METRICS)

    def __init__(self, seed: int) -> None:
        super().__init__(terms(tw.Range(*W_RANGE)))
        self.seed = seed

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return build_base(self.seed)


# -- training and search -------------------------------------------------------------
class Recorder(keras.callbacks.Callback):
    """Keeps the val and test logits of every epoch (test logits are read only at an epoch chosen on val)."""

    def __init__(self, data: Problem) -> None:
        super().__init__()
        self.data = data
        self.val: list[np.ndarray] = []
        self.test: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.val.append(logits_of(self.model, self.data["val"]["x"]))
        self.test.append(logits_of(self.model, self.data["test"]["x"]))


@dataclasses.dataclass(frozen=True)
class Result:
    """One metric of one trained model at the epoch (and threshold) chosen on val."""

    val: float
    test: float
    epoch: int
    threshold: float


@dataclasses.dataclass
class Training:
    """The logits of every epoch of one training run."""

    weight: float
    val: list[np.ndarray]
    test: list[np.ndarray]
    wall: float

    def result(self, metric: str, y_val: np.ndarray, y_test: np.ndarray, tune: bool = False) -> Result:
        """The epoch with the best val metric (threshold 0.5, or tuned on val per epoch with `tune`)."""
        chosen = [
            best_threshold(metric, y_val, v) if tune else (0.0, score(metric, y_val, v)) for v in self.val
        ]
        epoch = max(range(len(chosen)), key=lambda e: (chosen[e][1], -e))
        threshold, val = chosen[epoch]
        return Result(val, score(metric, y_test, self.test[epoch], threshold), epoch, threshold)


def train(data: Problem, weight: float, seed: int, cfg: Config) -> Training:
    """Train the logistic regression with w_pos = `weight` for all epochs; record its logits."""
    keras.backend.clear_session()
    began = time.perf_counter()
    model = tw.WeightedModel(build_base(seed), terms(weight))
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    recorder = Recorder(data)
    model.fit(
        data["train"]["x"],
        {"y": data["train"]["y"]},
        epochs=cfg.epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[recorder],
    )
    return Training(weight, recorder.val, recorder.test, time.perf_counter() - began)


@dataclasses.dataclass(frozen=True)
class Search:
    """One search's best w_pos, its val score and what the search cost."""

    weight: float
    val: float
    epochs: int
    wall: float


def search(data: Problem, metric: str, seed: int, cfg: Config, workdir: str) -> Search:
    """Search w_pos for `metric` on val; every trial must complete with one value per epoch."""
    objective = f"val_{metric}"
    tuner = tw.BayesianOptimization(
        ClassWeightD(seed),
        objective=kt.Objective(objective, "max"),
        max_trials=cfg.trials,
        num_initial_points=cfg.initial_points,
        seed=1 + 1000 * seed,
        directory=workdir,
        project_name=f"seed{seed}-{metric}",
        overwrite=True,
    )
    began = time.perf_counter()
    tuner.search(
        data["train"]["x"],
        {"y": data["train"]["y"]},
        validation_data=(data["val"]["x"], {"y": data["val"]["y"]}),
        epochs=cfg.epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[ValMetrics(data["val"]["x"], data["val"]["y"])],
    )
    wall = time.perf_counter() - began
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    statuses = [t.status for t in trials]
    if len(trials) != cfg.trials or statuses.count("COMPLETED") != len(trials):
        raise SystemExit(f"seed {seed}, {metric}: expected {cfg.trials} COMPLETED trials, got {statuses}")
    for trial in trials:
        steps = [o.step for o in trial.metrics.get_history(objective)]
        if steps != list(range(cfg.epochs)):
            raise SystemExit(f"seed {seed}, {metric}, trial {trial.trial_id}: recorded epochs {steps}")
    best = tuner.oracle.get_best_trials(1)[0]
    weight = float(tuner.get_best_weights()[0]["pos"])
    keras.backend.clear_session()
    return Search(weight, float(best.score), len(trials) * cfg.epochs, wall)


# -- one seed --------------------------------------------------------------------
@dataclasses.dataclass
class SeedOutcome:
    """Everything measured with one data seed."""

    seed: int
    searches: dict[str, Search]
    # results[metric][method label]; grid[metric][w]
    results: dict[str, dict[str, Result]]
    grid: dict[str, dict[float, Result]]
    baseline_wall: float


def run_seed(seed: int, cfg: Config, workdir: str) -> SeedOutcome:
    data = problem_d(seed=seed)
    y_val, y_test = data["val"]["y"], data["test"]["y"]
    searches = {metric: search(data, metric, seed, cfg, workdir) for metric in METRICS}
    final_seed = 1000 + seed
    runs: dict[float, Training] = {}

    def run(weight: float) -> Training:
        if weight not in runs:
            runs[weight] = train(data, weight, final_seed, cfg)
        return runs[weight]

    results: dict[str, dict[str, Result]] = {}
    for metric in METRICS:
        unweighted = run(1.0)
        results[metric] = {
            "threshold 0.5": unweighted.result(metric, y_val, y_test),
            "baseline": unweighted.result(metric, y_val, y_test, tune=True),
            "searched": run(searches[metric].weight).result(metric, y_val, y_test),
            "theory": run(theory_weight(metric)).result(metric, y_val, y_test),
        }
    grid = {metric: {w: run(w).result(metric, y_val, y_test) for w in cfg.grid} for metric in METRICS}
    print(
        f"seed {seed}: "
        + ", ".join(f"{m} w_pos {s.weight:.3g} ({s.wall:.0f} s)" for m, s in searches.items())
        + f", {len(runs)} final runs {sum(r.wall for r in runs.values()):.0f} s",
        file=sys.stderr,
    )
    return SeedOutcome(seed, searches, results, grid, runs[1.0].wall)


# -- report ---------------------------------------------------------------------------
def print_grid(outcomes: list[SeedOutcome], cfg: Config) -> dict[str, float]:
    """Mean val and test metrics of the fixed weights; returns each metric's best weight on test."""
    print(
        f"\nfixed w_pos at threshold 0.5, one run per seed, model at its best epoch on val; means over "
        f"{len(outcomes)} seed(s); 'population': the Bayes classifier with this weight, in closed form"
    )
    header = f"{'w_pos':>7}"
    for metric in METRICS:
        short = "BA" if metric == "balanced_accuracy" else "F1"
        header += f" {'val ' + short:>7} {'test ' + short:>7} {'SE':>6} {'population':>10}"
    print(header)
    means = {m: {w: statistics.mean(o.grid[m][w].test for o in outcomes) for w in cfg.grid} for m in METRICS}
    for w in cfg.grid:
        row = f"{w:>7.3g}"
        for metric in METRICS:
            val = statistics.mean(o.grid[metric][w].val for o in outcomes)
            _, se = mean_se([o.grid[metric][w].test for o in outcomes])
            row += f" {val:>7.3f} {means[metric][w]:>7.3f} {se:>6.3f} {population_metric(metric, w):>10.3f}"
        print(row)
    best = {metric: max(cfg.grid, key=lambda w: means[metric][w]) for metric in METRICS}
    print("grid optimum on test: " + ", ".join(f"{LABELS[m]} w_pos={best[m]:.3g}" for m in METRICS))
    return best


@dataclasses.dataclass(frozen=True)
class WeightSummary:
    """The searched weights of one metric over the seeds, on a log scale."""

    weights: list[float]
    theory: float

    @property
    def log_gap(self) -> tuple[float, float]:
        """Mean and standard error of log(searched / theory)."""
        return mean_se([math.log(w / self.theory) for w in self.weights])

    @property
    def geometric_mean(self) -> float:
        return self.theory * math.exp(self.log_gap[0])

    @property
    def within_goal(self) -> bool:
        return abs(self.log_gap[0]) <= math.log(GOAL_FACTOR)


def print_weights(outcomes: list[SeedOutcome]) -> dict[str, WeightSummary]:
    print("\nsearched w_pos: geometric mean over seeds, against theory (log gap: log(searched/theory))")
    print(f"{'metric':<18} {'searched':>8} {'theory':>7} {'log gap':>8} {'SE':>6} {'x2':>4}  per seed")
    summaries = {}
    for metric in METRICS:
        summary = WeightSummary([o.searches[metric].weight for o in outcomes], theory_weight(metric))
        gap, se = summary.log_gap
        per_seed = " ".join(f"{w:.3g}" for w in summary.weights)
        print(
            f"{LABELS[metric]:<18} {summary.geometric_mean:>8.3g} {summary.theory:>7.3g} {gap:>+8.2f} "
            f"{se:>6.2f} {'yes' if summary.within_goal else 'no':>4}  {per_seed}"
        )
        summaries[metric] = summary
    return summaries


METHODS = {
    "threshold 0.5": "unweighted, threshold 0.5",
    "baseline": "unweighted, threshold on val",
    "searched": "searched w_pos (tuneweights)",
    "theory": "theory w_pos",
}


def print_results(outcomes: list[SeedOutcome], cfg: Config, grid_best: dict[str, float]) -> dict[str, bool]:
    """The test table; returns, per metric, whether searched is no worse than the baseline by > 2 SE."""
    print(
        f"\ntest metrics: {len(outcomes)} seed(s), paired by seed; 'vs baseline': mean paired difference "
        "against the unweighted model with its threshold tuned on val, its SE and the difference in SEs; "
        "tune: epochs and wall time of choosing the weight or threshold (all seeds)"
    )
    print(
        f"{'metric':<18} {'method':<30} {'w_pos':>6} {'test':>6} {'SE':>6} {'vs baseline':>11} {'SE':>6} "
        f"{'in SE':>6} {'tune ep':>7} {'tune s':>7}"
    )
    no_worse = {}
    for metric in METRICS:
        baseline = [o.results[metric]["baseline"].test for o in outcomes]
        searched = WeightSummary([o.searches[metric].weight for o in outcomes], 1.0).geometric_mean
        weights = {"searched": searched, "theory": theory_weight(metric), "grid": grid_best[metric]}
        rows = {key: [o.results[metric][key].test for o in outcomes] for key in METHODS}
        rows["grid"] = [o.grid[metric][grid_best[metric]].test for o in outcomes]
        labels = {**METHODS, "grid": "grid optimum on test"}
        for key, values in rows.items():
            label, weight = labels[key], f"{weights.get(key, 1.0):.3g}"
            mean, se = mean_se(values)
            diff, diff_se = mean_se([a - b for a, b in zip(values, baseline, strict=True)])
            if key == "searched":
                no_worse[metric] = not math.isnan(diff_se) and diff >= -GOAL_SE * diff_se
                tune = (
                    f"{sum(o.searches[metric].epochs for o in outcomes):>7d} "
                    f"{sum(o.searches[metric].wall for o in outcomes):>7.1f}"
                )
            elif key == "baseline":
                tune = f"{cfg.epochs * len(outcomes):>7d} {sum(o.baseline_wall for o in outcomes):>7.1f}"
            else:
                tune = f"{'-':>7} {'-':>7}"
            comparison = (
                f"{'-':>11} {'-':>6} {'-':>6}"
                if key == "baseline"
                else f"{diff:>+11.3f} {diff_se:>6.3f} {in_se(diff, diff_se):>6}"
            )
            print(f"{LABELS[metric]:<18} {label:<30} {weight:>6} {mean:>6.3f} {se:>6.3f} {comparison} {tune}")
    for metric in METRICS:
        best = grid_best[metric]
        regret, se = mean_se(
            [o.grid[metric][best].test - o.results[metric]["searched"].test for o in outcomes]
        )
        print(
            f"regret of searched w_pos against the grid optimum on test, {LABELS[metric]}: "
            f"{regret:+.3f} (SE {se:.3f}, paired)"
        )
    return no_worse


def print_per_seed(outcomes: list[SeedOutcome]) -> None:
    print("\nper seed: searched w_pos (val score of its best trial); test metrics of baseline and searched")
    header = f"{'seed':>4}"
    for metric in METRICS:
        short = "BA" if metric == "balanced_accuracy" else "F1"
        header += f" {'w ' + short:>6} {'val':>6} {'base':>6} {'srch':>6}"
    print(header)
    for o in outcomes:
        row = f"{o.seed:>4}"
        for metric in METRICS:
            found, results = o.searches[metric], o.results[metric]
            row += (
                f" {found.weight:>6.3g} {found.val:>6.3f} {results['baseline'].test:>6.3f} "
                f"{results['searched'].test:>6.3f}"
            )
        print(row)


def parse_config(argv: list[str] | None = None) -> tuple[Config, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fast", action="store_true", help="smoke run (1 seed, 2 trials x 3 epochs per search)"
    )
    parser.add_argument("--seeds", type=int, help=f"number of data seeds (default {len(Config.seeds)})")
    parser.add_argument("--trials", type=int, help=f"trials per search (default {Config.trials})")
    parser.add_argument("--directory", help="tuner directory, kept (default: a temporary one, deleted)")
    args = parser.parse_args(argv)
    cfg = FAST if args.fast else Config()
    if args.seeds is not None:
        cfg = dataclasses.replace(cfg, seeds=tuple(range(args.seeds)))
    if args.trials is not None:
        points = min(cfg.initial_points, args.trials)
        cfg = dataclasses.replace(cfg, trials=args.trials, initial_points=points)
    return cfg, args.directory


def main(argv: list[str] | None = None) -> None:
    cfg, directory = parse_config(argv)
    # The Gaussian process of BayesianOptimization may stop its optimiser early; that is harmless here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    start = time.perf_counter()
    sizes = problem_d(seed=0).sizes()
    print(
        f"class_weight_d: {sizes['train']} train, {sizes['val']} val, {sizes['test']} test, "
        f"{100 * PRIOR:g}% positives, d=10, Mahalanobis separation {SEPARATION:g}; logistic regression, "
        f"Adam {LEARNING_RATE:g}, batch {BATCH_SIZE}, {cfg.epochs} epochs; {len(cfg.seeds)} seed(s); "
        f"BayesianOptimization, {cfg.trials} trials per search, w_pos log-uniform in "
        f"[{W_RANGE[0]:g}, {W_RANGE[1]:g}]; TF {tf.__version__}, Keras {keras.__version__}, "
        f"keras-tuner {kt.__version__}"
    )
    best = {m: (theory_weight(m), population_metric(m, theory_weight(m))) for m in METRICS}
    print(
        "theory (population): "
        + "; ".join(f"{LABELS[m]} is best at w_pos={w:.3g} ({value:.3f})" for m, (w, value) in best.items())
    )
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    workdir = directory or tempfile.mkdtemp(prefix="tuneweights-class-weight-d-", dir=shm)
    try:
        outcomes = [run_seed(seed, cfg, workdir) for seed in cfg.seeds]
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\nsearches: {2 * len(cfg.seeds)} x {cfg.trials} trials x {cfg.epochs} epochs, all COMPLETED "
        "with one value per epoch"
    )
    print_per_seed(outcomes)
    grid_best = print_grid(outcomes, cfg)
    summaries = print_weights(outcomes)
    no_worse = print_results(outcomes, cfg, grid_best)
    checks = {}
    print()
    for metric in METRICS:
        summary = summaries[metric]
        checks[f"w_pos {metric} within x{GOAL_FACTOR:g} of {summary.theory:.3g}"] = summary.within_goal
        checks[f"test {metric} no worse than the baseline by > {GOAL_SE:g} SE"] = no_worse[metric]
    for label, ok in checks.items():
        print(f"check: {label}: {'yes' if ok else 'no'}")
    print(f"goal met: {'yes' if all(checks.values()) else 'no'}")
    print(f"total wall time: {time.perf_counter() - start:.0f} s")
    ba, f1 = summaries["balanced_accuracy"], summaries["f1"]
    print(
        f"headline: d_searched_w_pos={ba.geometric_mean:.3g} for balanced accuracy, {f1.geometric_mean:.3g} "
        f"for F1 (goal: within a factor of {GOAL_FACTOR:g} of theory, {ba.theory:.3g} and {f1.theory:.3g}, "
        f"and on test no worse than the unweighted model with its threshold tuned on val by more than "
        f"{GOAL_SE:g} standard errors)"
    )


if __name__ == "__main__":
    main()
