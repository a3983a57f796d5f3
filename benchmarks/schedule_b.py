"""Problem B of BENCHMARKS.md: an auxiliary loss that helps only early (a schedule beats every constant).

32 labelled points (y = f + 0.1 eps) and 2048 unlabelled points with a biased
proxy target (z = f + 0.25 g), x in R^10, f and g random tanh nets of unit
variance (`problems.problem_b`). One network 10-64-64(tanh)-1 is applied to both
the labelled and the unlabelled points (a functional model with two inputs
sharing its layers, outputs ``main`` and ``proxy``). Each step trains on

    MSE(y, main(x_labelled)) + lambda(t) * MSE(z, proxy(x_unlabelled batch))

with Adam (learning rate 1e-3, the same for every method), 20 epochs x 100
steps. The proxy term is ``Term("proxy", "mse", output="proxy", target="z",
weight=..., update="step")``: a scheduled weight is recomputed at every step.

Protocol (BENCHMARKS.md):

* Constant lambda: exhaustive grid (0 and 9 log-spaced values in [1e-2, 1e2]),
  each value trained with 3 seeds; chosen by the mean over seeds of its val
  score.
* Searched schedules: `tuneweights.BayesianOptimization` over
  ``ScheduleSearch(families=("constant", "step", "linear", "cosine"),
  start=Range(1e-2, 1e2), at=Range(0.02, 0.8))`` (final weight 0 or
  log-uniform in [1e-3, 10], the tuner chooses), as many trials as the grid
  has runs, one seed (the grid's first: same initial weights and data order in
  every trial).
* Score of a run, for both: its best epoch's ``val_main_loss`` (the unweighted
  MSE of the main output on 500 labelled val points), keras-tuner's rule for a
  trial's score. The model kept is the one of that epoch.
* Final numbers: the best constant and the best schedule retrained with 5
  fresh seeds (a seed fixes the initial weights and the order of the
  unlabelled batches, so runs are paired by seed); test MSE against the clean
  f on 4000 points, mean and standard error, and the paired difference.

The last line printed is the headline: the paired difference (best constant
minus best schedule) in units of its standard error; the goal is > 3.

Run ``python benchmarks/schedule_b.py`` (6-7 minutes on 2 shared CPU cores) or
``--fast`` (a smoke run of a few seconds of training, for CI).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from problems import Problem, problem_b  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import tuneweights as tw  # noqa: E402
from tuneweights import schedules  # noqa: E402

GOAL = 3.0
LEARNING_RATE = 1e-3
UNLABELLED_BATCH = 64
DATA_SEED = 0
OBJECTIVE = "val_main_loss"
SEARCH_SPACE = tw.ScheduleSearch(
    families=("constant", "step", "linear", "cosine"),
    start=tw.Range(1e-2, 1e2),
    at=tw.Range(0.02, 0.8, sampling="linear"),
)


@dataclasses.dataclass(frozen=True)
class Config:
    """Sizes of the run; the defaults are the full benchmark."""

    epochs: int = 20
    steps_per_epoch: int = 100
    grid: tuple[float, ...] = (0.0, *np.logspace(-2, 2, 9).tolist())
    grid_seeds: tuple[int, ...] = (100, 101, 102)
    trials: int = 30
    initial_points: int = 10
    final_seeds: tuple[int, ...] = (1000, 1001, 1002, 1003, 1004)
    search_seed: int = 1

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch


FAST = Config(
    epochs=4,
    steps_per_epoch=25,
    grid=(0.0, 0.1, 10.0),
    grid_seeds=(100,),
    trials=3,
    initial_points=2,
    final_seeds=(1000, 1001),
)


# -- model and data ---------------------------------------------------------
def build_base(seed: int) -> keras.Model:
    """The 10-64-64(tanh)-1 network, applied to the labelled and the unlabelled inputs."""
    keras.utils.set_random_seed(seed)
    layers = [
        keras.layers.Dense(64, activation="tanh"),
        keras.layers.Dense(64, activation="tanh"),
        keras.layers.Dense(1),
    ]

    def net(tensor: Any) -> Any:
        for layer in layers:
            tensor = layer(tensor)
        return tensor

    inputs = {"x": keras.Input((10,), name="x"), "xu": keras.Input((10,), name="xu")}
    model = keras.Model(inputs, {"main": net(inputs["x"]), "proxy": net(inputs["xu"])})
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    return model


def terms(proxy_weight: Any) -> list[tw.Term]:
    """The main term (reference, weight 1) and the proxy term, recomputed at every step."""
    return [
        tw.Term("main", "mse", output="main", target="y"),
        tw.Term("proxy", "mse", output="proxy", target="z", weight=proxy_weight, update="step"),
    ]


class ProblemB(tw.WeightedHyperModel):
    """The searched schedules: one seed for every trial."""

    def __init__(self, seed: int) -> None:
        super().__init__(terms(SEARCH_SPACE))
        self.seed = seed

    def build(self, hp: Any) -> keras.Model:
        return build_base(self.seed)


def train_data(data: Problem, seed: int, steps: int) -> tf.data.Dataset:
    """`steps` batches: all labelled points, and 64 unlabelled points in an order fixed by `seed`."""
    unlabelled = data["unlabelled"]
    n = len(unlabelled["x"])
    rng = np.random.default_rng(seed)
    passes = -(-steps * UNLABELLED_BATCH // n)
    order = np.concatenate([rng.permutation(n) for _ in range(passes)])
    order = order[: steps * UNLABELLED_BATCH].reshape(steps, UNLABELLED_BATCH)
    labelled = tf.data.Dataset.from_tensors((data["labelled"]["x"], data["labelled"]["y"])).repeat()
    batches = tf.data.Dataset.from_tensor_slices((unlabelled["x"][order], unlabelled["z"][order]))
    return (
        tf.data.Dataset.zip(labelled, batches)
        .map(lambda lab, unl: ({"x": lab[0], "xu": unl[0]}, {"y": lab[1], "z": unl[1]}))
        .prefetch(tf.data.AUTOTUNE)
    )


def val_data(data: Problem) -> tf.data.Dataset:
    """The 500 val points as one batch; only ``val_main_loss`` is read."""
    val = data["val"]
    return tf.data.Dataset.from_tensors(({"x": val["x"], "xu": val["x"]}, {"y": val["y"], "z": val["z"]}))


def test_mse(model: keras.Model, data: Problem) -> float:
    """MSE of the main output against the clean f on the test set."""
    test = data["test"]
    pred = model({"x": test["x"], "xu": test["x"]}, training=False)["main"]
    return float(np.mean((keras.ops.convert_to_numpy(pred) - test["clean"]) ** 2))


class KeepBest(keras.callbacks.Callback):
    """Remembers the weights of the epoch with the lowest ``val_main_loss``."""

    def __init__(self) -> None:
        super().__init__()
        self.best = math.inf
        self.best_epoch = -1
        self.weights: list[Any] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = float((logs or {})[OBJECTIVE])
        if value < self.best:
            self.best, self.best_epoch, self.weights = value, epoch, self.model.get_weights()


@dataclasses.dataclass(frozen=True)
class Run:
    """One training run: val score and test MSE at its best epoch, and at its last step."""

    val: float
    best_epoch: int
    test: float
    test_last: float
    epochs: int


def train(data: Problem, proxy_weight: Any, seed: int, cfg: Config) -> Run:
    """Train one model with a fixed weight or schedule; keep its best epoch on val."""
    keras.backend.clear_session()
    model = tw.WeightedModel(build_base(seed), terms(proxy_weight))
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    best = KeepBest()
    history = model.fit(
        train_data(data, seed, cfg.steps),
        validation_data=val_data(data),
        epochs=cfg.epochs,
        steps_per_epoch=cfg.steps_per_epoch,
        shuffle=False,
        verbose=0,
        callbacks=[best],
    )
    last = test_mse(model.base, data)
    model.set_weights(best.weights)
    return Run(best.best, best.best_epoch, test_mse(model.base, data), last, len(history.epoch))


# -- the two methods ------------------------------------------------------
@dataclasses.dataclass
class Tuned:
    """A method's chosen configuration and what choosing it cost."""

    weight: Any
    runs: int
    epochs: int
    wall: float


def constant_grid(data: Problem, cfg: Config) -> tuple[Tuned, dict[float, list[Run]]]:
    start = time.perf_counter()
    grid = {lam: [train(data, lam, seed, cfg) for seed in cfg.grid_seeds] for lam in cfg.grid}
    wall = time.perf_counter() - start
    chosen = min(cfg.grid, key=lambda lam: statistics.mean(r.val for r in grid[lam]))
    epochs = sum(r.epochs for runs in grid.values() for r in runs)
    return Tuned(chosen, len(cfg.grid) * len(cfg.grid_seeds), epochs, wall), grid


def schedule_search(data: Problem, cfg: Config, directory: str) -> tuple[Tuned, tw.Tuner]:
    tuner = tw.BayesianOptimization(
        ProblemB(seed=cfg.grid_seeds[0]),
        objective=OBJECTIVE,
        max_trials=cfg.trials,
        num_initial_points=cfg.initial_points,
        seed=cfg.search_seed,
        directory=directory,
        project_name="schedule_b",
        overwrite=True,
    )
    start = time.perf_counter()
    tuner.search(
        train_data(data, cfg.grid_seeds[0], cfg.steps),
        validation_data=val_data(data),
        epochs=cfg.epochs,
        steps_per_epoch=cfg.steps_per_epoch,
        shuffle=False,
        verbose=0,
    )
    wall = time.perf_counter() - start
    trials = list(tuner.oracle.trials.values())
    statuses = [t.status for t in trials]
    if len(trials) != cfg.trials or set(statuses) != {"COMPLETED"}:
        raise SystemExit(f"expected {cfg.trials} COMPLETED trials, got {statuses}")
    best = tuner.get_best_hyperparameters()[0]
    epochs = sum(len(t.metrics.get_history(OBJECTIVE)) for t in trials)
    return Tuned(tuner.describe(best)["weights"]["proxy"], len(trials), epochs, wall), tuner


# -- report -----------------------------------------------------------------
def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (0 for a single value)."""
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return statistics.mean(values), se


def gap_in_se(diff: float, se: float) -> float:
    if se > 0:
        return diff / se
    return 0.0 if diff == 0 else math.copysign(math.inf, diff)


def describe(weight: Any) -> str:
    return weight.describe() if isinstance(weight, schedules.Schedule) else f"constant {weight:g}"


def print_grid(grid: dict[float, list[Run]], chosen: float, cfg: Config) -> None:
    print(f"\nconstant lambda: exhaustive grid, {len(cfg.grid_seeds)} seed(s) each")
    print(f"{'lambda':>8} {'val':>8} {'best epoch':>10} {'test':>8} {'test@last':>9}")
    for lam, runs in grid.items():
        mark = "  <- chosen on val" if lam == chosen else ""
        print(
            f"{lam:>8.3g} {statistics.mean(r.val for r in runs):>8.4f} "
            f"{statistics.mean(r.best_epoch for r in runs):>10.1f} "
            f"{statistics.mean(r.test for r in runs):>8.4f} "
            f"{statistics.mean(r.test_last for r in runs):>9.4f}{mark}"
        )
    optimum = min(grid, key=lambda lam: statistics.mean(r.test for r in grid[lam]))
    regret, se = mean_se([c.test - o.test for c, o in zip(grid[chosen], grid[optimum], strict=True)])
    print(
        f"grid optimum on test: lambda={optimum:.3g}; regret of the val choice lambda={chosen:g}: "
        f"{regret:+.4f} (SE {se:.4f}, paired over the grid seeds)"
    )


def print_search(tuner: tw.Tuner, cfg: Config, shown: int = 5) -> None:
    trials = tuner.oracle.get_best_trials(cfg.trials)
    families = [t.hyperparameters.values["schedule/proxy/family"] for t in trials]
    counts = ", ".join(f"{f} {families.count(f)}" for f in SEARCH_SPACE.families)
    print(f"\nsearched schedules: BayesianOptimization, {len(trials)} trials, all COMPLETED ({counts})")
    print(f"{'val':>8} {'best epoch':>10}  schedule")
    for trial in trials[:shown]:
        observations = trial.metrics.get_history(OBJECTIVE)
        best_epoch = min(observations, key=lambda o: o.value[0]).step
        schedule = tuner.describe(trial.hyperparameters)["weights"]["proxy"]
        print(f"{trial.score:>8.4f} {best_epoch:>10d}  {describe(schedule)}")


def print_final(methods: dict[str, tuple[Tuned, list[Run], float]], cfg: Config) -> float:
    print(
        f"\nfinal: {len(cfg.final_seeds)} fresh seeds {list(cfg.final_seeds)}, paired; test MSE vs clean f "
        "of the model at its best epoch on val (test@last: at the last step); epochs: tuning + final"
    )
    header = (
        f"{'method':<9} {'test':>8} {'SE':>7} {'test@last':>9} {'tune runs':>9} {'epochs':>7} "
        f"{'tune s':>7} {'final s':>7}  configuration"
    )
    print(header)
    for name, (tuned, runs, wall) in methods.items():
        test, se = mean_se([r.test for r in runs])
        last = statistics.mean(r.test_last for r in runs)
        epochs = tuned.epochs + sum(r.epochs for r in runs)
        print(
            f"{name:<9} {test:>8.4f} {se:>7.4f} {last:>9.4f} {tuned.runs:>9d} {epochs:>7d} "
            f"{tuned.wall:>7.1f} {wall:>7.1f}  {describe(tuned.weight)}"
        )
    constant, schedule = (methods[name][1] for name in ("constant", "schedule"))
    diffs = [c.test - s.test for c, s in zip(constant, schedule, strict=True)]
    diff, se = mean_se(diffs)
    gap = gap_in_se(diff, se)
    print(f"per seed (constant - schedule): {' '.join(f'{d:+.4f}' for d in diffs)}")
    print(f"paired difference (constant - schedule): {diff:+.4f} (SE {se:.4f}) = {gap:.1f} SE")
    return gap


def parse_config(argv: list[str] | None = None) -> tuple[Config, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="smoke run for CI (a few seconds of training)")
    parser.add_argument("--trials", type=int, help=f"searched schedules (default {Config.trials})")
    parser.add_argument("--directory", help="tuner directory, kept (default: a temporary one, deleted)")
    args = parser.parse_args(argv)
    cfg = FAST if args.fast else Config()
    if args.trials is not None:
        cfg = dataclasses.replace(cfg, trials=args.trials)
    return cfg, args.directory


def main(argv: list[str] | None = None) -> None:
    cfg, directory = parse_config(argv)
    # The Gaussian process of BayesianOptimization may stop its optimiser early; that is harmless here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    start = time.perf_counter()
    data = problem_b(seed=DATA_SEED)
    sizes = data.sizes()
    print(
        f"schedule_b: {sizes['labelled']} labelled, {sizes['unlabelled']} unlabelled (batch "
        f"{UNLABELLED_BATCH}), {sizes['val']} val, {sizes['test']} test; {cfg.epochs} epochs x "
        f"{cfg.steps_per_epoch} steps, Adam {LEARNING_RATE:g}; TF {tf.__version__}, Keras {keras.__version__}"
    )
    constant, grid = constant_grid(data, cfg)
    print_grid(grid, constant.weight, cfg)
    workdir = directory or tempfile.mkdtemp(prefix="tuneweights-schedule-b-")
    try:
        searched, tuner = schedule_search(data, cfg, workdir)
        print_search(tuner, cfg)
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    methods = {}
    for name, tuned in (("constant", constant), ("schedule", searched)):
        began = time.perf_counter()
        runs = [train(data, tuned.weight, seed, cfg) for seed in cfg.final_seeds]
        methods[name] = (tuned, runs, time.perf_counter() - began)
    gap = print_final(methods, cfg)
    print(f"total wall time: {time.perf_counter() - start:.0f} s")
    print(
        f"headline: schedule_gap={gap:.1f} SE (goal: best searched schedule beats the best constant "
        f"by > {GOAL:g} standard errors)"
    )


if __name__ == "__main__":
    main()
