"""Per-epoch cost of tuneweights' training path against plain Keras.

Variants, all on the same two-output model (32 features -> Dense 64 relu ->
Dense 64 relu -> heads "a" and "b"), the same seeded data, batch size,
initial weights and optimizer (Adam):

* ``plain``: the base model compiled with ``loss={"a": "mse", "b": "mse"}``
  and ``loss_weights={"a": 1.0, "b": 0.3}``, trained with ``model.fit``.
* ``tuneweights-fixed``: the base model wrapped in `tuneweights.WeightedModel`
  with the same two terms and weights, trained with ``model.fit``.
* ``tuneweights-callback``: as above, plus a callback that assigns new weights
  with ``model.assign_term_weights`` at every epoch begin (a hand-made
  schedule).
* ``tuneweights-schedule-epoch``: the weight of "b" is a
  ``tuneweights.schedules.Cosine`` from 0.3 to 0.03 over the whole benchmark
  (``model.horizon``: warm-up plus timed epochs), recomputed at every epoch
  begin (``Term(update="epoch")``).
* ``tuneweights-schedule-step``: the same schedule with ``update="step"``:
  recomputed inside the compiled train step at every step.
* ``gradienttape-loop``: the hand-written recipe of a custom
  ``HyperModel.fit``: a Python loop over the batches calling a
  ``@tf.function`` step (``tf.GradientTape``, weighted loss, Adam), then
  pulling the loss and the metrics to Python (``float``/``.numpy()``) every
  batch.

Method: every model is built and compiled once. One warm-up epoch per
variant (tracing) is excluded. Then come R rounds of E epochs per variant,
interleaved epoch by epoch in an order rotated each round, so that load on a
shared machine hits all variants alike. One epoch is one call of
``model.fit(data, epochs=1, verbose=0, shuffle=False)`` (or one pass of the
loop) on a prebuilt ``tf.data.Dataset``, timed with `time.perf_counter` (wall)
and `time.process_time` (CPU of all the process's threads). The scheduled
variants number their epochs on (``initial_epoch=k, epochs=k + 1``) so that
their schedules move through the horizon; after the run, each is checked to
have ended at the schedule's value for its last epoch (or step).

Reported per variant: the median wall time of an epoch and of a step; ``vs
plain``, the median over rounds of (the variant's median epoch in the round /
plain's median epoch in the round), with the lowest and highest per-round
ratio as a measure of noise; the same two medians for CPU time (steadier than
wall time when other processes compete for the cores); and ``retraces``, how
often the train step was traced again after the warm-up (0: assigning
weights retraces nothing).

Run ``python benchmarks/overhead.py`` (``--quick`` for a smoke run). The
last line printed is the headline: the overhead of ``tuneweights-fixed``
against ``plain``; the goal is within 3% of plain ``model.fit``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tuneweights  # noqa: E402
from tuneweights import Term  # noqa: E402

WEIGHTS = {"a": 1.0, "b": 0.3}
GOAL = 0.03
BASELINE = "plain"
HEADLINE = "tuneweights-fixed"


@dataclasses.dataclass(frozen=True)
class Config:
    """What is measured, and how often."""

    samples: int = 8192
    batch_size: int = 64
    features: int = 32
    rounds: int = 7
    epochs: int = 3
    seed: int = 0


@dataclasses.dataclass
class Variant:
    """One way to train: `run_epoch` runs one epoch, `traces` counts tracings.

    `wall` and `cpu` hold, per round, the wall-clock and process CPU seconds
    of each timed epoch.
    """

    name: str
    run_epoch: Callable[[], None]
    traces: Callable[[], int]
    wall: list[list[float]] = dataclasses.field(default_factory=list)
    cpu: list[list[float]] = dataclasses.field(default_factory=list)
    warm_traces: int = 0
    check: Callable[[], None] | None = None

    def warm_up(self) -> None:
        """One untimed epoch: tracing, optimizer slots, dataset pipeline."""
        self.run_epoch()
        self.warm_traces = self.traces()

    def timed_epoch(self) -> None:
        """Run one epoch and record its times in the current round."""
        wall, cpu = time.perf_counter(), time.process_time()
        self.run_epoch()
        self.wall[-1].append(time.perf_counter() - wall)
        self.cpu[-1].append(time.process_time() - cpu)

    def retraces(self) -> int:
        return self.traces() - self.warm_traces


class TraceCounter:
    """Wraps a step function; the Python body runs only when it is traced."""

    def __init__(self, step: Callable[..., Any]) -> None:
        self.step = step
        self.count = 0

    def __call__(self, *args: Any) -> Any:
        self.count += 1
        return self.step(*args)


# -- data and model -------------------------------------------------------
def make_dataset(cfg: Config) -> tf.data.Dataset:
    """Seeded regression data ``(x, {"a": ya, "b": yb})``, batched."""
    rng = np.random.default_rng(cfg.seed)
    x = rng.normal(size=(cfg.samples, cfg.features)).astype("float32")
    w = rng.normal(size=(cfg.features, 2)).astype("float32")
    y = np.tanh(x @ w) + 0.1 * rng.normal(size=(cfg.samples, 2)).astype("float32")
    targets = {"a": y[:, :1], "b": y[:, 1:]}
    return tf.data.Dataset.from_tensor_slices((x, targets)).batch(cfg.batch_size).prefetch(tf.data.AUTOTUNE)


def build_base(cfg: Config) -> keras.Model:
    """The two-output model, with the same initial weights at every call."""
    keras.utils.set_random_seed(cfg.seed)
    inputs = keras.Input((cfg.features,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    hidden = keras.layers.Dense(64, activation="relu")(hidden)
    outputs = {name: keras.layers.Dense(1, name=name)(hidden) for name in ("a", "b")}
    return keras.Model(inputs, outputs)


# -- variants -------------------------------------------------------------
def fit_variant(name: str, model: keras.Model, data: tf.data.Dataset, callbacks: list[Any]) -> Variant:
    """A variant that runs `model.fit` for one epoch per call."""
    counter = TraceCounter(model.train_step)
    model.train_step = counter

    def run_epoch() -> None:
        model.fit(data, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)

    return Variant(name, run_epoch, lambda: counter.count)


def horizon(cfg: Config) -> int:
    """Epochs each variant trains: one warm-up, then `rounds` x `epochs`."""
    return 1 + cfg.rounds * cfg.epochs


def plain_variant(cfg: Config, data: tf.data.Dataset) -> Variant:
    model = build_base(cfg)
    model.compile(optimizer=keras.optimizers.Adam(), loss={"a": "mse", "b": "mse"}, loss_weights=WEIGHTS)
    return fit_variant("plain", model, data, [])


def weighted_model(cfg: Config) -> tuneweights.WeightedModel:
    terms = [Term(name, "mse", output=name, weight=weight) for name, weight in WEIGHTS.items()]
    model = tuneweights.WeightedModel(build_base(cfg), terms)
    model.compile(optimizer=keras.optimizers.Adam())
    return model


class AssignEachEpoch(keras.callbacks.Callback):
    """Assigns a different weight to term "b" at every epoch begin."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs_seen = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epochs_seen += 1
        self.model.assign_term_weights({"b": WEIGHTS["b"] * (1.0 + 0.1 * (self.epochs_seen % 5))})


def fixed_variant(cfg: Config, data: tf.data.Dataset) -> Variant:
    return fit_variant("tuneweights-fixed", weighted_model(cfg), data, [])


def callback_variant(cfg: Config, data: tf.data.Dataset) -> Variant:
    return fit_variant("tuneweights-callback", weighted_model(cfg), data, [AssignEachEpoch()])


SCHEDULE = tuneweights.schedules.Cosine(start=WEIGHTS["b"], end=0.1 * WEIGHTS["b"])


def schedule_variant(cfg: Config, data: tf.data.Dataset, update: str) -> Variant:
    """Term "b" follows `SCHEDULE` over `horizon(cfg)` epochs, updated per epoch or per step."""
    terms = [
        Term("a", "mse", output="a", weight=WEIGHTS["a"]),
        Term("b", "mse", output="b", weight=SCHEDULE, update=update),
    ]
    model = tuneweights.WeightedModel(build_base(cfg), terms)
    model.compile(optimizer=keras.optimizers.Adam())
    model.horizon = horizon(cfg)  # fixed: a horizon that changed between calls would retrace the step
    counter = TraceCounter(model.train_step)
    model.train_step = counter
    done = [0]

    def run_epoch() -> None:
        model.fit(data, initial_epoch=done[0], epochs=done[0] + 1, verbose=0, shuffle=False)
        done[0] += 1

    def check() -> None:
        # The weight holds the value of the last epoch begin, or of the last step.
        steps = -(-cfg.samples // cfg.batch_size)
        last = done[0] - 1 + ((steps - 1) / steps if update == "step" else 0.0)
        expected = SCHEDULE.value(last, horizon(cfg))
        weight = model.term_weights()["b"]
        if done[0] != horizon(cfg) or not np.isclose(weight, expected, rtol=1e-4):
            raise RuntimeError(
                f"{update} schedule: weight {weight} after {done[0]} epochs, expected {expected}"
            )

    return Variant(f"tuneweights-schedule-{update}", run_epoch, lambda: counter.count, check=check)


def schedule_epoch_variant(cfg: Config, data: tf.data.Dataset) -> Variant:
    return schedule_variant(cfg, data, "epoch")


def schedule_step_variant(cfg: Config, data: tf.data.Dataset) -> Variant:
    return schedule_variant(cfg, data, "step")


def tape_variant(cfg: Config, data: tf.data.Dataset) -> Variant:
    """The hand-written loop: compiled step, logs pulled to Python every batch."""
    model = build_base(cfg)
    optimizer = keras.optimizers.Adam()
    mse = keras.losses.MeanSquaredError()
    trackers = {name: keras.metrics.Mean(name=f"{name}_loss") for name in ("loss", "a", "b")}

    def step(x: tf.Tensor, y: dict[str, tf.Tensor]) -> tf.Tensor:
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            parts = {name: mse(y[name], pred[name]) for name in WEIGHTS}
            loss = tf.add_n([WEIGHTS[name] * parts[name] for name in WEIGHTS])
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        trackers["loss"].update_state(loss)
        for name, value in parts.items():
            trackers[name].update_state(value)
        return loss

    counter = TraceCounter(step)
    train_step = tf.function(counter)

    def run_epoch() -> None:
        for tracker in trackers.values():
            tracker.reset_state()
        for x, y in data:
            logs = {"loss": float(train_step(x, y))}
            logs.update({t.name: float(t.result().numpy()) for t in trackers.values()})

    return Variant("gradienttape-loop", run_epoch, lambda: counter.count)


BUILDERS: list[Callable[[Config, tf.data.Dataset], Variant]] = [
    plain_variant,
    fixed_variant,
    callback_variant,
    schedule_epoch_variant,
    schedule_step_variant,
    tape_variant,
]


# -- measurement ----------------------------------------------------------
def measure(variants: list[Variant], cfg: Config) -> None:
    """Warm up, then interleaved rounds: epoch by epoch, in a rotated order."""
    for variant in variants:
        variant.warm_up()
    for r in range(cfg.rounds):
        shift = r % len(variants)
        order = variants[shift:] + variants[:shift]
        for variant in variants:
            variant.wall.append([])
            variant.cpu.append([])
        for _ in range(cfg.epochs):
            for variant in order:
                variant.timed_epoch()


def round_ratios(times: list[list[float]], baseline: list[list[float]]) -> list[float]:
    """Per round: the median epoch time over the baseline's median epoch time."""
    return [statistics.median(t) / statistics.median(b) for t, b in zip(times, baseline, strict=True)]


def median_epoch(times: list[list[float]]) -> float:
    return statistics.median(t for epochs in times for t in epochs)


def report(variants: list[Variant], cfg: Config) -> None:
    baseline = next(v for v in variants if v.name == BASELINE)
    steps = -(-cfg.samples // cfg.batch_size)
    print(
        f"overhead: {cfg.samples} samples, batch {cfg.batch_size} ({steps} steps/epoch), "
        f"{cfg.rounds} rounds x {cfg.epochs} epochs, TF {tf.__version__}, Keras {keras.__version__}"
    )
    columns = ("variant", "ms/epoch", "us/step", "vs plain", "rounds lo-hi", "cpu ms", "cpu vs", "retraces")
    widths = (-26, 9, 8, 9, 13, 8, 7, 9)
    print(format_row(columns, widths))
    headline = 0.0
    for variant in variants:
        ratios = round_ratios(variant.wall, baseline.wall)
        wall = median_epoch(variant.wall)
        row = (
            variant.name,
            f"{wall * 1e3:.1f}",
            f"{wall * 1e6 / steps:.0f}",
            f"{statistics.median(ratios):.3f}",
            f"{min(ratios):.2f}-{max(ratios):.2f}",
            f"{median_epoch(variant.cpu) * 1e3:.1f}",
            f"{statistics.median(round_ratios(variant.cpu, baseline.cpu)):.3f}",
            str(variant.retraces()),
        )
        print(format_row(row, widths))
        if variant.name == HEADLINE:
            headline = statistics.median(ratios) - 1.0
    print(f"headline: overhead={headline * 100:+.1f}% (goal: within {GOAL * 100:.0f}% of plain model.fit)")


def format_row(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    """Cells padded to `widths` (negative: left-aligned)."""
    return " ".join(f"{c:<{-w}}" if w < 0 else f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))


QUICK = Config(samples=1024, rounds=3, epochs=2)


def parse_config(argv: list[str] | None = None) -> Config:
    """The configuration from the command line; explicit flags override `--quick`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {Config.rounds})")
    parser.add_argument(
        "--epochs", type=int, help=f"timed epochs per variant and round (default {Config.epochs})"
    )
    parser.add_argument("--samples", type=int, help=f"training samples (default {Config.samples})")
    parser.add_argument("--batch-size", type=int, help=f"batch size (default {Config.batch_size})")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK}")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else Config()
    overrides = {
        field: value
        for field, value in (
            ("rounds", args.rounds),
            ("epochs", args.epochs),
            ("samples", args.samples),
            ("batch_size", args.batch_size),
        )
        if value is not None
    }
    return dataclasses.replace(base, **overrides)


def main(argv: list[str] | None = None) -> None:
    cfg = parse_config(argv)
    data = make_dataset(cfg)
    variants = [build(cfg, data) for build in BUILDERS]
    measure(variants, cfg)
    for variant in variants:
        if variant.check is not None:
            variant.check()
    report(variants, cfg)


if __name__ == "__main__":
    main()
