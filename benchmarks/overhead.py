"""Per-epoch cost of tuneweights' training path against plain Keras.

Variants, all on the same two-output model (32 features -> Dense 64 relu ->
Dense 64 relu -> heads "a" and "b"), the same seeded data, batch size,
initial weights and optimizer (Adam):

* ``plain``: the base model compiled with ``loss={"a": "mse", "b": "mse"}``
  and ``loss_weights={"a": 1.0, "b": 0.3}``, trained with ``model.fit``.
* ``tuneweights-fixed``: the base model wrapped in `tuneweights.WeightedModel`
  with the same two terms and weights, trained with ``model.fit``.
* ``tuneweights-callback``: as above, plus a callback that assigns new weights
  with ``model.assign_term_weights`` at every epoch begin (stands in for
  weight schedules).
* ``gradienttape-loop``: the hand-written recipe of a custom
  ``HyperModel.fit``: a Python loop over the batches calling a
  ``@tf.function`` step (``tf.GradientTape``, weighted loss, Adam), then
  pulling the loss and the metrics to Python (``float``/``.numpy()``) every
  batch.

Method: every model is built and compiled once. One warm-up epoch per
variant (tracing) is excluded. Then, for each of R rounds, every variant runs
E epochs, in an order rotated each round (interleaved, so that load on a
shared machine hits all variants alike). One epoch is one call of
``model.fit(data, epochs=1, verbose=0, shuffle=False)`` (or one pass of the
loop) on a prebuilt ``tf.data.Dataset``, timed with `time.perf_counter`.
Reported per variant: the median epoch time, and the ratio to ``plain`` as
the median over rounds of (variant's median epoch in the round / plain's
median epoch in the round). ``traces`` counts how often the step function was
traced; it stays at 1 when nothing retraces after the warm-up.

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
from typing import Any, Callable  # noqa: E402

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
    """One way to train: `run_epoch` runs one epoch, `traces` counts tracings."""

    name: str
    run_epoch: Callable[[], None]
    traces: Callable[[], int]
    times: list[float] = dataclasses.field(default_factory=list)


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
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
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
    tape_variant,
]


# -- measurement ----------------------------------------------------------
def timed(variant: Variant) -> float:
    start = time.perf_counter()
    variant.run_epoch()
    return time.perf_counter() - start


def measure(variants: list[Variant], cfg: Config) -> list[dict[str, float]]:
    """Interleaved rounds; returns each round's median epoch time per variant."""
    for variant in variants:
        variant.run_epoch()  # warm-up: tracing, optimizer slots, dataset
    rounds = []
    for r in range(cfg.rounds):
        shift = r % len(variants)
        per_round: dict[str, float] = {}
        for variant in variants[shift:] + variants[:shift]:
            epoch_times = [timed(variant) for _ in range(cfg.epochs)]
            variant.times.extend(epoch_times)
            per_round[variant.name] = statistics.median(epoch_times)
        rounds.append(per_round)
    return rounds


def ratio_to_baseline(rounds: list[dict[str, float]], name: str) -> float:
    return statistics.median(r[name] / r[BASELINE] for r in rounds)


def report(variants: list[Variant], rounds: list[dict[str, float]], cfg: Config) -> None:
    steps = -(-cfg.samples // cfg.batch_size)
    print(
        f"overhead: {cfg.samples} samples, batch {cfg.batch_size} ({steps} steps/epoch), "
        f"{cfg.rounds} rounds x {cfg.epochs} epochs, TF {tf.__version__}, Keras {keras.__version__}"
    )
    print(f"{'variant':<22} {'median ms/epoch':>15} {'us/step':>8} {'vs plain':>9} {'traces':>6}")
    for variant in variants:
        median = statistics.median(variant.times)
        ratio = ratio_to_baseline(rounds, variant.name)
        print(
            f"{variant.name:<22} {median * 1e3:>15.1f} {median * 1e6 / steps:>8.0f} "
            f"{ratio:>9.3f} {variant.traces():>6}"
        )
    overhead = ratio_to_baseline(rounds, HEADLINE) - 1.0
    print(f"headline: overhead={overhead * 100:+.1f}% (goal: within {GOAL * 100:.0f}% of plain model.fit)")


def parse_config(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=Config.rounds)
    parser.add_argument("--epochs", type=int, default=Config.epochs, help="timed epochs per variant per round")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=Config.batch_size)
    parser.add_argument("--quick", action="store_true", help="small data, few rounds (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        return Config(samples=args.samples or 1024, batch_size=args.batch_size, rounds=3, epochs=2)
    return Config(
        samples=args.samples or Config.samples,
        batch_size=args.batch_size,
        rounds=args.rounds,
        epochs=args.epochs,
    )


def main(argv: list[str] | None = None) -> None:
    cfg = parse_config(argv)
    data = make_dataset(cfg)
    variants = [build(cfg, data) for build in BUILDERS]
    rounds = measure(variants, cfg)
    report(variants, rounds, cfg)


if __name__ == "__main__":
    main()
