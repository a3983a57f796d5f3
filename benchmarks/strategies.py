"""Adaptive weighting strategies against searched static weights, on problems A, A2 and C of BENCHMARKS.md.

Methods, each a `tuneweights.WeightedHyperModel` of the problem's network:

* ``equal``: every weight 1 (``strategy="static"``);
* ``uncertainty``: `tuneweights.Uncertainty` (Kendall et al. 2018);
* ``dwa``: `tuneweights.DWA`, Dynamic Weight Average (Liu et al. 2019);
* ``random``: `tuneweights.RandomWeights`, Random Loss Weighting (Lin et al. 2022);
* ``validation``: `tuneweights.ValidationDriven`, weights ~ (val loss of the term) ** -power,
  set after every epoch;
* ``gradnorm``: `tuneweights.GradNorm` (Chen et al. 2018);
* ``static``: searched static weights, K-1 log-ratios against the first term.

Problems (data in `problems`): A, three label sources of one target with
noise s = (0.3, 1, 3), one MSE term per source (`problems.problem_a`, the data
of ``examples/quickstart.py``); A2, the same plus a 4th source with s = 0.1 but
biased by 0.5 g(x) (`problems.problem_a2`); C, digit pairs on a 12x12 canvas,
classify the left digit and reconstruct the right one (`problems.problem_c`).

Protocol (BENCHMARKS.md):

* Tuning: `tuneweights.RandomSearch`, the same number of trials for every
  method (8), each method searching the Adam learning rate and its own knobs:
  the temperature of DWA, the learning rate of the log-variances of
  uncertainty weighting, alpha of GradNorm, the power of validation-driven
  weights, the log-ratios of searched static weights. The objective is a user
  metric on val, never the weighted loss: ``val_src1_loss`` (MSE against
  source 1) for A and A2, ``val_delta_m`` for C (computed every epoch from
  ``val_cls_accuracy`` and ``val_rec_rmse`` against single-task baselines).
  Early stopping watches the same objective. Every trial must be COMPLETED.
* Final numbers: each method's best configuration retrained with 5 fresh
  seeds (a seed fixes the initial weights and the batch order, so runs are
  paired by seed), the model of the best epoch on val kept; test mean and
  standard error, and the paired difference against searched static weights;
  the loss weights (logged ``<term>_weight``) at the best and the last epoch.
* References: for A, the analytic weights w_k ~ 1/s_k^2 (with the learning
  rate found for searched static), whose gap to searched static is its
  regret; for A2, the same weights with source 4 off; for C, a grid of
  w_rec/w_cls (9 points over 1e-2..1e2, 2 seeds, Adam 1e-3: a reduced version
  of the 17 x 3 grid of BENCHMARKS.md).
* Cost: wall time and epochs of tuning and of the final runs per method; and
  the per-step cost of each strategy against static weights on the problem's
  model and training data: one epoch per strategy per round (the training
  set repeated to at least 100 steps), rounds interleaved in a rotated order,
  medians of the per-round ratios of wall and CPU time.

The last line printed is the headline: on A2, the paired test MSE gap between
uncertainty weighting and searched static weights, with the weight each puts
on the biased source (without A2: A's regret, or C's delta_m of searched
static weights against the best adaptive strategy).

Run ``python benchmarks/strategies.py`` (25 to 45 minutes on 2 shared CPU
cores, depending on the load), ``--problems A2`` for one problem, ``--fast``
for a smoke run under a minute (1 trial, 2 seeds, 1 epoch, tiny data, eager
execution: its numbers mean nothing).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from problems import NOISE_A, Problem, problem_a, problem_a2, problem_c, source_names  # noqa: E402
from stats import in_se, mean_se  # noqa: E402

import tuneweights as tw  # noqa: E402

METHODS = ("equal", "uncertainty", "dwa", "random", "validation", "gradnorm", "static")
REFERENCE_METHOD = "static"
PROBLEMS = ("A", "A2", "C")
TIMED = ("static", "uncertainty", "dwa", "random", "validation", "gradnorm")
MIN_TIMED_STEPS = 100


@dataclasses.dataclass(frozen=True)
class Config:
    """Sizes of the run; the defaults are the full benchmark."""

    trials: int = 8
    # The seed of every random search: methods with the same search space get the same trials.
    search_seed: int = 1
    final_seeds: tuple[int, ...] = (1000, 1001, 1002, 1003, 1004)
    epochs_a: int = 40
    epochs_c: int = 40
    patience: int = 10
    grid: tuple[float, ...] = tuple(float(r) for r in np.logspace(-2, 2, 9))
    grid_seeds: tuple[int, ...] = (100, 101)
    baseline_seeds: tuple[int, ...] = (100, 101, 102)
    timing_rounds: int = 7
    timing_epochs: int = 2
    # Split sizes (train, val, test) of problems A and A2, pairs of problem C, and whether to run
    # eagerly (no tracing: for smoke runs on tiny data).
    sizes_a: tuple[int, int, int] = (300, 300, 4000)
    pairs_c: tuple[int, int, int] = (4000, 1000, 2000)
    eager: bool = False


FAST = Config(
    trials=1,
    final_seeds=(1000, 1001),
    epochs_a=1,
    epochs_c=1,
    patience=1,
    grid=(0.1, 10.0),
    grid_seeds=(100,),
    baseline_seeds=(100,),
    timing_rounds=1,
    timing_epochs=1,
    sizes_a=(64, 64, 256),
    pairs_c=(128, 64, 128),
    eager=True,
)


# -- problems ---------------------------------------------------------------------
@dataclasses.dataclass
class Task:
    """One benchmark problem: data, network, terms, objective and test score.

    Attributes:
        name: ``"A"``, ``"A2"`` or ``"C"``.
        data: The problem's splits.
        terms: The loss terms with weight 1 (equal weights and the adaptive strategies).
        searched: The same terms with the ratios of searched static weights.
        objective: What the tuner optimises on val.
        epochs, batch_size: Of every training run.
        learning_rates: Range of the searched Adam learning rate.
        build_base: The network (seeded by the caller).
        targets: The target names of the terms.
        score: Test metrics of a trained network; the first entry is the reported one.
        higher_is_better: Direction of the reported test metric.
        callbacks: Callbacks that must run before the tuner's (they add logged values).
        references: Fixed weights trained with the final seeds for comparison, by label.
    """

    name: str
    data: Problem
    terms: list[tw.Term]
    searched: list[tw.Term]
    objective: kt.Objective
    epochs: int
    batch_size: int
    learning_rates: tuple[float, float]
    build_base: Callable[[], keras.Model]
    targets: list[str]
    score: Callable[[keras.Model], dict[str, float]]
    higher_is_better: bool
    callbacks: Callable[[], list[keras.callbacks.Callback]] = list
    references: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)

    def dataset(self, split: str, seed: int | None = None, repeat: int = 1) -> tf.data.Dataset:
        """A split as ``(x, {target: array})`` batches; shuffled by `seed` when given."""
        arrays = self.data[split]
        data = tf.data.Dataset.from_tensor_slices((arrays["x"], {t: arrays[t] for t in self.targets}))
        if seed is not None:
            data = data.shuffle(len(arrays["x"]), seed=seed, reshuffle_each_iteration=True)
        return data.repeat(repeat).batch(self.batch_size if split == "train" else len(arrays["x"]))

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.data["train"]["x"]) // self.batch_size)


def mlp(inputs: keras.KerasTensor, units: Sequence[int], activation: str) -> keras.KerasTensor:
    hidden = inputs
    for width in units:
        hidden = keras.layers.Dense(width, activation=activation)(hidden)
    return hidden


def task_a(name: str, cfg: Config) -> Task:
    """Problem A (three sources) or A2 (a fourth, biased one): 8-32-32(tanh)-1, one MSE term per source."""
    data = problem_a(seed=0, sizes=cfg.sizes_a) if name == "A" else problem_a2(seed=0, sizes=cfg.sizes_a)
    sources = source_names(len(NOISE_A) + (name == "A2"))

    def terms(weight: Any) -> list[tw.Term]:
        return [tw.Term(sources[0], "mse", output="pred", target=f"y_{sources[0]}")] + [
            tw.Term(s, "mse", output="pred", target=f"y_{s}", weight=weight) for s in sources[1:]
        ]

    def build_base() -> keras.Model:
        inputs = keras.Input((8,))
        return keras.Model(inputs, keras.layers.Dense(1, name="pred")(mlp(inputs, (32, 32), "tanh")))

    def score(base: keras.Model) -> dict[str, float]:
        pred = keras.ops.convert_to_numpy(base(data["test"]["x"], training=False))
        return {"mse": float(np.mean((pred - data["test"]["clean"]) ** 2))}

    analytic = {s: NOISE_A[0] ** 2 / sigma**2 for s, sigma in zip(sources, NOISE_A, strict=False)}
    references = (
        {"analytic": analytic} if name == "A" else {"1/s^2, src4 off": {**analytic, sources[-1]: 0.0}}
    )
    return Task(
        name=name,
        data=data,
        terms=terms(1.0),
        searched=terms(tw.Range(1e-3, 10.0)),
        objective=kt.Objective(f"val_{sources[0]}_loss", "min"),
        epochs=cfg.epochs_a,
        batch_size=32,
        learning_rates=(1e-3, 3e-2),
        build_base=build_base,
        targets=[f"y_{s}" for s in sources],
        score=score,
        higher_is_better=False,
        references=references,
    )


def digits_base(heads: Sequence[str] = ("cls", "rec"), scale: float = 1.0) -> keras.Model:
    """Problem C's network: 144-64-32(relu), then Dense(10) logits and Dense(64, sigmoid).

    With `scale` other than 1 the reconstruction is the sigmoid times `scale`
    (for targets in other units: a sigmoid cannot reach 16). Both heads' layers
    are created, in this order, whichever `heads` are used: each draws its
    initial weights' seed when it is created.
    """
    inputs = keras.Input((144,))
    hidden = mlp(inputs, (64, 32), "relu")
    layers = {
        "cls": keras.layers.Dense(10, name="cls"),
        "rec": keras.layers.Dense(64, "sigmoid", name="rec" if scale == 1.0 else "rec_unit"),
    }
    outputs = {head: layers[head](hidden) for head in heads}
    if "rec" in outputs and scale != 1.0:
        outputs["rec"] = keras.layers.Rescaling(scale, name="rec")(outputs["rec"])
    return keras.Model(inputs, outputs)


def accuracy_rmse(base: keras.Model, arrays: dict[str, np.ndarray]) -> tuple[float, float]:
    """Accuracy of the left digit's class and RMSE of the right digit's pixels."""
    out = base(arrays["x"], training=False)
    labels = arrays["label"].astype("int64")
    accuracy = float(np.mean(np.argmax(keras.ops.convert_to_numpy(out["cls"]), axis=1) == labels))
    rmse = float(np.sqrt(np.mean((keras.ops.convert_to_numpy(out["rec"]) - arrays["right"]) ** 2)))
    return accuracy, rmse


@dataclasses.dataclass(frozen=True)
class Baselines:
    """Single-task accuracy and RMSE on val and test (means over seeds)."""

    val_accuracy: float
    val_rmse: float
    test_accuracy: float
    test_rmse: float
    epochs: int
    wall: float


def delta_m(accuracy: float, rmse: float, accuracy_single: float, rmse_single: float) -> float:
    """Multi-task utility in percent: the mean relative gain over the single-task baselines.

    Example:
        >>> round(delta_m(0.99, 0.18, 0.90, 0.20), 6)
        10.0
    """
    return 50.0 * ((accuracy - accuracy_single) / accuracy_single - (rmse - rmse_single) / rmse_single)


class DeltaM(keras.callbacks.Callback):
    """Adds ``val_delta_m`` to the epoch logs (before the tuner reads them)."""

    def __init__(self, baselines: Baselines) -> None:
        super().__init__()
        self.baselines = baselines

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None and "val_cls_accuracy" in logs:
            logs["val_delta_m"] = delta_m(
                float(logs["val_cls_accuracy"]),
                float(logs["val_rec_rmse"]),
                self.baselines.val_accuracy,
                self.baselines.val_rmse,
            )


def c_terms(weight: Any) -> list[tw.Term]:
    return [
        tw.Term(
            "cls",
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            output="cls",
            target="label",
            metrics=(keras.metrics.SparseCategoricalAccuracy(name="accuracy"),),
        ),
        tw.Term(
            "rec",
            "mse",
            output="rec",
            target="right",
            weight=weight,
            metrics=(keras.metrics.RootMeanSquaredError(name="rmse"),),
        ),
    ]


def task_c(
    cfg: Config, scale: float = 1.0, ratios: tuple[float, float] = (1e-2, 1e2)
) -> tuple[Task, Baselines]:
    """Problem C, with its single-task baselines trained first (the objective needs them).

    Args:
        cfg: The run's sizes.
        scale: Factor of the reconstruction targets and outputs (16: the raw 0-16 pixel units).
        ratios: Range of the searched ``rec/cls`` weight ratio.
    """
    data = problem_c(seed=0, pairs=cfg.pairs_c, scale=scale)
    baselines = single_task_baselines(data, cfg, scale)

    def score(base: keras.Model) -> dict[str, float]:
        accuracy, rmse = accuracy_rmse(base, data["test"])
        utility = delta_m(accuracy, rmse, baselines.test_accuracy, baselines.test_rmse)
        return {"delta_m": utility, "accuracy": accuracy, "rmse": rmse}

    task = Task(
        name="C",
        data=data,
        terms=c_terms(1.0),
        searched=c_terms(tw.Range(*ratios)),
        objective=kt.Objective("val_delta_m", "max"),
        epochs=cfg.epochs_c,
        batch_size=128,
        learning_rates=(3e-4, 1e-2),
        build_base=functools.partial(digits_base, scale=scale),
        targets=["label", "right"],
        score=score,
        higher_is_better=True,
        callbacks=lambda: [DeltaM(baselines)],
    )
    return task, baselines


def single_task_baselines(data: Problem, cfg: Config, scale: float = 1.0) -> Baselines:
    """Each task alone (same network, one head), Adam 1e-3, best epoch on its val metric, mean over seeds.

    `scale` is that of `digits_base`.
    """
    began = time.perf_counter()
    results: dict[str, list[tuple[float, float]]] = {"cls": [], "rec": []}
    epochs = 0
    for head, loss, metric, target in (
        ("cls", keras.losses.SparseCategoricalCrossentropy(from_logits=True), "accuracy", "label"),
        ("rec", "mse", keras.metrics.RootMeanSquaredError(name="rmse"), "right"),
    ):
        monitor = f"val_{metric if isinstance(metric, str) else metric.name}"
        for seed in cfg.baseline_seeds:
            keras.utils.set_random_seed(seed)
            model = digits_base((head,), scale)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss={head: loss}, metrics={head: [metric]})
            train = tf.data.Dataset.from_tensor_slices((data["train"]["x"], {head: data["train"][target]}))
            val = (data["val"]["x"], {head: data["val"][target]})
            best = KeepBest(monitor, "max" if head == "cls" else "min")
            stop = keras.callbacks.EarlyStopping(monitor, mode=best.mode, patience=cfg.patience)
            model.fit(
                train.shuffle(len(data["train"]["x"]), seed=seed).batch(128),
                validation_data=tf.data.Dataset.from_tensors(val),
                epochs=cfg.epochs_c,
                verbose=0,
                callbacks=[best, stop],
            )
            epochs += best.epochs
            model.set_weights(best.weights)
            values = []
            for split in ("val", "test"):
                out = keras.ops.convert_to_numpy(model(data[split]["x"], training=False)[head])
                if head == "cls":
                    values.append(float(np.mean(np.argmax(out, axis=1) == data[split]["label"])))
                else:
                    values.append(float(np.sqrt(np.mean((out - data[split]["right"]) ** 2))))
            results[head].append((values[0], values[1]))
    mean = {head: np.mean(values, axis=0) for head, values in results.items()}
    return Baselines(
        val_accuracy=float(mean["cls"][0]),
        val_rmse=float(mean["rec"][0]),
        test_accuracy=float(mean["cls"][1]),
        test_rmse=float(mean["rec"][1]),
        epochs=epochs,
        wall=time.perf_counter() - began,
    )


# -- methods ------------------------------------------------------------------------
def strategy_of(method: str) -> Any:
    """The strategy of a method, with its searched knobs."""
    return {
        "equal": "static",
        "static": "static",
        "uncertainty": tw.Uncertainty(learning_rate=tw.Range(1e-3, 1e-1)),
        "dwa": tw.DWA(temperature=tw.Range(0.5, 10.0)),
        "random": tw.RandomWeights(),
        "validation": tw.ValidationDriven(power=tw.Range(0.25, 4.0)),
        "gradnorm": tw.GradNorm(alpha=tw.Range(0.1, 3.0, sampling="linear")),
    }[method]


class MethodModel(tw.WeightedHyperModel):
    """A problem's network under one method; the Adam learning rate is searched.

    A trial seeds Keras from the search seed and its hyperparameters (the
    same trial always starts from the same initial weights); a final run
    sets `seed`.
    """

    def __init__(self, task: Task, method: str, search_seed: int) -> None:
        super().__init__(
            task.searched if method == REFERENCE_METHOD else task.terms, strategy=strategy_of(method)
        )
        self.task = task
        self.method = method
        self.search_seed = search_seed
        self.seed: int | None = None
        self.logged_metrics = ("val_delta_m",) if task.name == "C" else ()  # type: ignore[misc]

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        rate = hp.Float("learning_rate", *self.task.learning_rates, sampling="log")
        values = json.dumps(hp.values, sort_keys=True)
        seed = self.seed if self.seed is not None else zlib.crc32(f"{self.search_seed}:{values}".encode())
        keras.utils.set_random_seed(seed % 2**31)
        model = self.task.build_base()
        model.compile(optimizer=keras.optimizers.Adam(rate))
        return model


class KeepBest(keras.callbacks.Callback):
    """Remembers the weights and logs of the best epoch on `monitor`, and the last epoch's logs."""

    def __init__(self, monitor: str, mode: str) -> None:
        super().__init__()
        self.monitor, self.mode = monitor, mode
        self.best = -math.inf if mode == "max" else math.inf
        self.best_epoch = -1
        self.weights: list[Any] = []
        self.logs: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.epochs = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epochs += 1
        self.last = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        value = self.last[self.monitor]
        if (value > self.best) if self.mode == "max" else (value < self.best):
            self.best, self.best_epoch, self.logs = value, epoch, self.last
            model: keras.Model = getattr(self.model, "base", self.model)
            self.weights = model.get_weights()


def stopper(task: Task, cfg: Config) -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping(
        task.objective.name, mode=task.objective.direction, patience=cfg.patience
    )


@dataclasses.dataclass
class Search:
    """A method's tuning: its best configuration and what the search cost."""

    method: str
    hyperparameters: kt.HyperParameters
    val: float
    epochs: int
    wall: float
    described: str


@dataclasses.dataclass
class Run:
    """One final training run at one seed."""

    seed: int
    val: float
    test: dict[str, float]
    weights: dict[str, float]
    last_weights: dict[str, float]
    best_epoch: int
    epochs: int


@dataclasses.dataclass
class Result:
    """A method's (or a reference's) final runs and their cost."""

    label: str
    runs: list[Run]
    wall: float
    search: Search | None = None

    def test(self) -> list[float]:
        return [next(iter(r.test.values())) for r in self.runs]


def describe(hp: kt.HyperParameters, task: Task) -> str:
    """A short form of a trial's hyperparameters: learning rate, own knobs, ratios."""
    parts = []
    reference = task.terms[0].name
    for name, value in sorted(hp.values.items(), key=lambda item: item[0] != "learning_rate"):
        if name == "learning_rate":
            parts.append(f"lr {value:.3g}")
        elif name.startswith("ratio/"):
            parts.append(f"{name[6:]}/{reference} {value:.3g}")
        elif name.startswith("strategy/"):
            field = name.rsplit("/", 1)[-1]
            parts.append(f"{'own lr' if field == 'learning_rate' else field} {value:.3g}")
    return ", ".join(parts)


def search(task: Task, method: str, cfg: Config, workdir: str) -> Search:
    """Tune one method with random search; every trial must complete."""
    tuner = tw.RandomSearch(
        MethodModel(task, method, cfg.search_seed),
        objective=task.objective,
        max_trials=cfg.trials,
        seed=cfg.search_seed,
        directory=workdir,
        project_name=f"{task.name}-{method}",
        overwrite=True,
    )
    began = time.perf_counter()
    tuner.search(
        task.dataset("train", seed=cfg.search_seed),
        validation_data=task.dataset("val"),
        epochs=task.epochs,
        verbose=0,
        callbacks=[*task.callbacks(), stopper(task, cfg)],
    )
    wall = time.perf_counter() - began
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    statuses = [t.status for t in trials]
    if len(trials) != cfg.trials or statuses.count("COMPLETED") != len(trials):
        raise SystemExit(f"{task.name}, {method}: expected {cfg.trials} COMPLETED trials, got {statuses}")
    epochs = 0
    for trial in trials:
        steps = [o.step for o in trial.metrics.get_history(task.objective.name)]
        if not steps or steps != list(range(len(steps))):
            raise SystemExit(f"{task.name}, {method}, trial {trial.trial_id}: recorded epochs {steps}")
        epochs += len(steps)
    best = tuner.oracle.get_best_trials(1)[0]
    hp = best.hyperparameters.copy()
    return Search(method, hp, float(best.score), epochs, wall, describe(hp, task))


def train(task: Task, model: tw.WeightedModel, seed: int, cfg: Config) -> Run:
    """Train a compiled model on the training set shuffled by `seed`; keep its best epoch on val."""
    best = KeepBest(task.objective.name, task.objective.direction)
    model.fit(
        task.dataset("train", seed=seed),
        validation_data=task.dataset("val"),
        epochs=task.epochs,
        verbose=0,
        callbacks=[*task.callbacks(), best, stopper(task, cfg)],
    )
    model.base.set_weights(best.weights)
    weights, last = (
        {t.name: logs.get(f"{t.name}_weight", math.nan) for t in task.terms}
        for logs in (best.logs, best.last)
    )
    return Run(seed, best.best, task.score(model.base), weights, last, best.best_epoch, best.epochs)


def final_runs(task: Task, found: Search, cfg: Config) -> Result:
    """The method's best configuration retrained with every final seed."""
    hypermodel = MethodModel(task, found.method, cfg.search_seed)
    began = time.perf_counter()
    runs = []
    for seed in cfg.final_seeds:
        hypermodel.seed = seed
        runs.append(train(task, hypermodel.build_weighted(found.hyperparameters.copy()), seed, cfg))
    return Result(found.method, runs, time.perf_counter() - began, found)


def fixed_runs(
    task: Task, label: str, weights: dict[str, float], rate: float, seeds: Sequence[int], cfg: Config
) -> Result:
    """Fixed weights and learning rate trained with `seeds`."""
    began = time.perf_counter()
    runs = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = tw.WeightedModel(task.build_base(), task.terms, weights=weights)
        model.compile(optimizer=keras.optimizers.Adam(rate))
        runs.append(train(task, model, seed, cfg))
    return Result(label, runs, time.perf_counter() - began)


# -- per-step cost ------------------------------------------------------------------
def timed_strategy(name: str) -> Any:
    """The strategies with their default knobs; validation-driven reads the training losses.

    Reading ``{term}_loss`` instead of ``val_{term}_loss`` lets every variant
    train without validation: the host-side work of the strategy is the same.
    """
    if name == "validation":
        return tw.ValidationDriven(metric="{term}_loss")
    if name == "random":
        return tw.RandomWeights(seed=0)
    return name


@dataclasses.dataclass
class Timing:
    """Wall and CPU seconds of each timed epoch, per round."""

    name: str
    model: tw.WeightedModel
    wall: list[list[float]] = dataclasses.field(default_factory=list)
    cpu: list[list[float]] = dataclasses.field(default_factory=list)


def per_step_cost(task: Task, cfg: Config) -> tuple[list[tuple[str, float, float, float, float, float]], int]:
    """Interleaved timing of one epoch per strategy, on the problem's network and training data.

    Returns:
        Rows ``(strategy, ms per step, wall ratio to static (median over
        rounds), lowest, highest, CPU ratio)`` and the steps of a timed epoch.
    """
    repeat = -(-MIN_TIMED_STEPS // task.steps_per_epoch) if not cfg.eager else 1
    data = task.dataset("train", seed=0, repeat=repeat)
    steps = task.steps_per_epoch * repeat
    timings = []
    for name in TIMED:
        keras.utils.set_random_seed(0)
        model = tw.WeightedModel(task.build_base(), task.terms, strategy=timed_strategy(name))
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        if not cfg.eager:
            model.fit(data, epochs=1, verbose=0)  # tracing, not timed
        timings.append(Timing(name, model))
    for r in range(cfg.timing_rounds):
        order = timings[r % len(timings) :] + timings[: r % len(timings)]
        for timing in timings:
            timing.wall.append([])
            timing.cpu.append([])
        for _ in range(cfg.timing_epochs):
            for timing in order:
                wall, cpu = time.perf_counter(), time.process_time()
                timing.model.fit(data, epochs=1, verbose=0)
                timing.wall[-1].append(time.perf_counter() - wall)
                timing.cpu[-1].append(time.process_time() - cpu)
    static = timings[0]

    def ratios(times: list[list[float]], baseline: list[list[float]]) -> list[float]:
        return [statistics.median(t) / statistics.median(b) for t, b in zip(times, baseline, strict=True)]

    rows = []
    for timing in timings:
        walls = ratios(timing.wall, static.wall)
        per_step = statistics.median(t for epoch in timing.wall for t in epoch) / steps
        cpu = statistics.median(ratios(timing.cpu, static.cpu))
        rows.append((timing.name, 1e3 * per_step, statistics.median(walls), min(walls), max(walls), cpu))
    return rows, steps


# -- statistics and printing --------------------------------------------------------
@dataclasses.dataclass
class Outcome:
    """What a problem's run printed, for the headline."""

    task: Task
    results: dict[str, Result]
    grid_best: float | None = None


def print_results(task: Task, results: dict[str, Result], cfg: Config) -> None:
    metric = "test MSE" if task.name != "C" else "test dm%"
    print(
        f"\nfinal: {len(cfg.final_seeds)} seeds {list(cfg.final_seeds)}, paired; {metric} of the model at "
        f"its best epoch on {task.objective.name}; 'vs static': paired mean difference, its SE and "
        "the difference in SEs"
    )
    header = (
        f"{'method':<16} {metric:>9} {'SE':>7} {'vs static':>9} {'SE':>7} {'in SE':>6} {'val':>8} "
        f"{'tune s':>7} {'tune ep':>7} {'final s':>7} {'final ep':>8}  configuration"
    )
    print(header)
    static = results[REFERENCE_METHOD].test()
    for label, result in results.items():
        values = result.test()
        mean, se = mean_se(values)
        diff, diff_se = mean_se([a - b for a, b in zip(values, static, strict=True)])
        found = result.search
        val = statistics.mean(r.val for r in result.runs)
        tune = f"{found.wall:>7.1f} {found.epochs:>7d}" if found else f"{'-':>7} {'-':>7}"
        config = found.described if found else "fixed weights (reference)"
        comparison = (
            f"{'-':>9} {'-':>7} {'-':>6}"
            if label == REFERENCE_METHOD
            else (f"{diff:>+9.4f} {diff_se:>7.4f} {in_se(diff, diff_se, width=6)}")
        )
        print(
            f"{label:<16} {mean:>9.4f} {se:>7.4f} {comparison} {val:>8.4f} {tune} "
            f"{result.wall:>7.1f} {sum(r.epochs for r in result.runs):>8d}  {config}"
        )


def weight_ratio(runs: Sequence[Run], term: str, reference: str, last: bool = False) -> float:
    """Median over runs of ``w_term / w_reference`` at the best (or the last) epoch."""
    chosen = [r.last_weights if last else r.weights for r in runs]
    values = [w[term] / w[reference] for w in chosen if w[reference] > 0]
    return statistics.median(values) if values else math.nan


def print_weights(task: Task, results: dict[str, Result]) -> None:
    """Each term's weight relative to the first term's at the best and the last epoch, median over seeds."""
    names = [t.name for t in task.terms]
    print(
        f"\nloss weights w_k/w_{names[0]}, median over seeds, at the best and at the last epoch (adaptive "
        "ones move every step or epoch); best ep: mean best epoch, counted from 1"
    )
    columns = [f"{n} best" for n in names[1:]] + [f"{n} last" for n in names[1:]]
    print(f"{'method':<16} " + " ".join(f"{c:>10}" for c in columns) + f" {'best ep':>7}")
    for label, result in results.items():
        ratios = [weight_ratio(result.runs, n, names[0], last) for last in (False, True) for n in names[1:]]
        epoch = statistics.mean(r.best_epoch + 1 for r in result.runs)
        print(f"{label:<16} " + " ".join(f"{x:>10.3g}" for x in ratios) + f" {epoch:>7.1f}")


def print_cost(rows: list[tuple[str, float, float, float, float, float]], steps: int, cfg: Config) -> None:
    print(
        f"\nper-step cost: one epoch of {steps} steps per strategy and round, {cfg.timing_rounds} "
        f"interleaved rounds x {cfg.timing_epochs} epoch(s); ratios to static: median over rounds "
        "(lowest-highest)"
    )
    print(f"{'strategy':<12} {'ms/step':>8} {'vs static':>9} {'rounds lo-hi':>13} {'cpu vs':>7}")
    for name, per_step, ratio, low, high, cpu in rows:
        print(f"{name:<12} {per_step:>8.3f} {ratio:>9.3f} {f'{low:.2f}-{high:.2f}':>13} {cpu:>7.3f}")


def print_analytic(task: Task, results: dict[str, Result]) -> None:
    """Problem A: searched log-ratios against the analytic ones, and the regret of searched static."""
    found = results[REFERENCE_METHOD].search
    assert found is not None
    analytic = task.references["analytic"]
    names = [t.name for t in task.terms]
    gaps = []
    parts = []
    for name in names[1:]:
        ratio = float(found.hyperparameters.values[f"ratio/{name}"])
        gap = math.log(ratio) - math.log(analytic[name])
        gaps.append(abs(gap))
        parts.append(f"{name} {math.log(ratio):+.2f} vs {math.log(analytic[name]):+.2f} ({gap:+.2f})")
    print(f"\nsearched log-ratios vs analytic log(s_1^2/s_k^2): {'; '.join(parts)}")
    print(f"  all within 1.0: {'yes' if max(gaps) <= 1.0 else 'no'}")
    static, reference = results[REFERENCE_METHOD].test(), results["analytic"].test()
    regret, se = mean_se([a - b for a, b in zip(static, reference, strict=True)])
    within = not math.isnan(se) and regret < 2 * se
    print(
        f"regret of searched static against the analytic weights: {regret:+.4f} (SE {se:.4f}); "
        f"under 2 SE: {'yes' if within else 'no'}"
    )


def c_grid(task: Task, cfg: Config) -> tuple[float, dict[float, tuple[float, float]], float, int]:
    """Problem C's ground truth: fixed ratios w_rec/w_cls at Adam 1e-3, mean val and test delta_m."""
    began = time.perf_counter()
    grid = {}
    epochs = 0
    for ratio in cfg.grid:
        result = fixed_runs(task, f"{ratio:g}", {"cls": 1.0, "rec": ratio}, 1e-3, cfg.grid_seeds, cfg)
        grid[ratio] = (statistics.mean(r.val for r in result.runs), statistics.mean(result.test()))
        epochs += sum(r.epochs for r in result.runs)
    chosen = max(grid, key=lambda r: grid[r][0])
    return chosen, grid, time.perf_counter() - began, epochs


def print_grid(
    grid: dict[float, tuple[float, float]], chosen: float, cfg: Config, wall: float, epochs: int
) -> None:
    print(
        f"\nground truth: fixed w_rec/w_cls, Adam 1e-3, {len(cfg.grid_seeds)} seed(s) each "
        f"({wall:.0f} s, {epochs} epochs)"
    )
    print(f"{'w_rec/w_cls':>11} {'val dm%':>8} {'test dm%':>8}")
    for ratio, (val, test) in grid.items():
        mark = "  <- chosen on val" if ratio == chosen else ""
        print(f"{ratio:>11.3g} {val:>8.3f} {test:>8.3f}{mark}")
    best = max(grid, key=lambda r: grid[r][1])
    print(f"grid optimum on test: w_rec/w_cls={best:.3g}, test dm% {grid[best][1]:.3f}")


# -- problems end to end --------------------------------------------------------------
def run_problem(name: str, cfg: Config, workdir: str) -> Outcome:
    began = time.perf_counter()
    baselines = None
    if name == "C":
        task, baselines = task_c(cfg)
    else:
        task = task_a(name, cfg)
    sizes = task.data.sizes()
    print(
        f"\n=== problem {name}: {sizes['train']} train, {sizes['val']} val, {sizes['test']} test; "
        f"{len(task.terms)} terms; {task.epochs} epochs max (early stopping, patience {cfg.patience}), "
        f"batch {task.batch_size}; objective {task.objective.name} ({task.objective.direction})"
    )
    if baselines is not None:
        print(
            f"single-task baselines (Adam 1e-3, {len(cfg.baseline_seeds)} seed(s), {baselines.wall:.0f} s, "
            f"{baselines.epochs} epochs): val accuracy {baselines.val_accuracy:.4f}, RMSE "
            f"{baselines.val_rmse:.4f}; test accuracy {baselines.test_accuracy:.4f}, "
            f"RMSE {baselines.test_rmse:.4f}"
        )
    results: dict[str, Result] = {}
    for method in METHODS:
        found = search(task, method, cfg, workdir)
        results[method] = final_runs(task, found, cfg)
        print(
            f"{name} {method}: tuned {found.wall:.0f} s, final {results[method].wall:.0f} s", file=sys.stderr
        )
    print(
        f"tuning: RandomSearch, {cfg.trials} trial(s) per method, all COMPLETED; learning rate "
        f"log-uniform in [{task.learning_rates[0]:g}, {task.learning_rates[1]:g}]"
    )
    rate = float(results[REFERENCE_METHOD].search.hyperparameters.values["learning_rate"])  # type: ignore[union-attr]
    for label, weights in task.references.items():
        results[label] = fixed_runs(task, label, weights, rate, cfg.final_seeds, cfg)
    print_results(task, results, cfg)
    print_weights(task, results)
    if name == "A":
        print_analytic(task, results)
    outcome = Outcome(task, results)
    if name == "C":
        chosen, grid, wall, epochs = c_grid(task, cfg)
        print_grid(grid, chosen, cfg, wall, epochs)
        outcome.grid_best = max(test for _, test in grid.values())
        mean, _ = mean_se(results[REFERENCE_METHOD].test())
        print(
            f"regret of searched static against the grid optimum (unpaired): {outcome.grid_best - mean:+.3f}"
        )
        print_c_details(results)
    rows, steps = per_step_cost(task, cfg)
    print_cost(rows, steps, cfg)
    print(f"problem {name}: {time.perf_counter() - began:.0f} s")
    return outcome


def print_c_details(results: dict[str, Result]) -> None:
    print(f"\ntest accuracy and RMSE (means over seeds)\n{'method':<16} {'accuracy':>8} {'RMSE':>8}")
    for label, result in results.items():
        accuracy = statistics.mean(r.test["accuracy"] for r in result.runs)
        rmse = statistics.mean(r.test["rmse"] for r in result.runs)
        print(f"{label:<16} {accuracy:>8.4f} {rmse:>8.4f}")


def headline(outcomes: dict[str, Outcome]) -> str:
    """A2's uncertainty-vs-static gap; else A's regret; else C's static-vs-best-adaptive gap."""
    if "A2" in outcomes:
        results = outcomes["A2"].results
        static, uncertainty = results[REFERENCE_METHOD], results["uncertainty"]
        diff, se = mean_se([u - s for u, s in zip(uncertainty.test(), static.test(), strict=True)])

        def w4(result: Result, last: bool = False) -> float:
            return weight_ratio(result.runs, "src4", "src1", last)

        return (
            f"headline: a2_uncertainty_minus_static={diff:+.4f} test MSE "
            f"({in_se(diff, se)} SE, paired; w_src4/w_src1 at the best epoch: uncertainty "
            f"{w4(uncertainty):.3g} (last epoch {w4(uncertainty, last=True):.3g}), searched static "
            f"{w4(static):.3g}) (goal: "
            "uncertainty weighting trusts the precise but biased source 4, searched static weights do "
            "not and beat it on test by more than 2 standard errors)"
        )
    if "A" in outcomes:
        results = outcomes["A"].results
        regret, se = mean_se(
            [a - b for a, b in zip(results[REFERENCE_METHOD].test(), results["analytic"].test(), strict=True)]
        )
        return (
            f"headline: a_static_regret={regret:+.4f} test MSE ({in_se(regret, se)} SE, paired) "
            "(goal: searched static weights within 2 standard errors of the analytic optimum)"
        )
    results = outcomes["C"].results
    searched, _ = mean_se(results[REFERENCE_METHOD].test())
    adaptive = {m: mean_se(results[m].test())[0] for m in METHODS if m not in ("equal", REFERENCE_METHOD)}
    best = max(adaptive, key=lambda m: adaptive[m])
    return (
        f"headline: c_static_minus_best_adaptive={searched - adaptive[best]:+.3f} delta_m% (best adaptive: "
        f"{best}) (goal: searched static weights at least as good as every adaptive strategy)"
    )


def parse_args(argv: list[str] | None = None) -> tuple[Config, list[str], str | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="smoke run (tiny, eager; numbers mean nothing)")
    parser.add_argument("--problems", default=",".join(PROBLEMS), help="comma-separated, among A, A2, C")
    parser.add_argument("--trials", type=int, help=f"trials per method (default {Config.trials})")
    parser.add_argument("--directory", help="tuner directory, kept (default: a temporary one, deleted)")
    args = parser.parse_args(argv)
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    unknown = [p for p in problems if p not in PROBLEMS]
    if unknown or not problems:
        parser.error(f"--problems must list some of {list(PROBLEMS)}; got {args.problems!r}")
    cfg = FAST if args.fast else Config()
    if args.trials is not None:
        cfg = dataclasses.replace(cfg, trials=args.trials)
    return cfg, problems, args.directory


def main(argv: list[str] | None = None) -> None:
    cfg, problems, directory = parse_args(argv)
    if cfg.eager:
        tf.config.run_functions_eagerly(True)
    # keras-tuner collects garbage before every trial; leaving the objects of the imports out of
    # the collections makes each one take milliseconds instead of a quarter of a second.
    gc.freeze()
    start = time.perf_counter()
    print(
        f"strategies: problems {', '.join(problems)}; methods {', '.join(METHODS)}; {cfg.trials} trial(s) "
        f"per method; TF {tf.__version__}, Keras {keras.__version__}, keras-tuner {kt.__version__}"
        + ("; FAST smoke run (eager, tiny): the numbers mean nothing" if cfg.eager else "")
    )
    # keras-tuner writes and syncs its files every epoch: on a memory file system that costs nothing.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    workdir = directory or tempfile.mkdtemp(prefix="tuneweights-strategies-", dir=shm)
    outcomes = {}
    try:
        for name in problems:
            outcomes[name] = run_problem(name, cfg, workdir)
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\ntotal wall time: {time.perf_counter() - start:.0f} s")
    print(headline(outcomes))


if __name__ == "__main__":
    main()
