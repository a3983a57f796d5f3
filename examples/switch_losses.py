"""Switching loss functions by epoch, by a validation metric or by a running error.

A linear target (4 features) with label noise and one label in eight shifted
by +30. The mean squared error converges fast but the outliers bias it; the
Huber loss ignores them, but its gradient is bounded, and with SGD it crawls
towards a target far from the initial model. The usual remedy: train with
MSE until close, then switch to Huber. When to switch is the question.

What people write by hand:

* A loss that reads a Python flag (``if self.use_huber: ...``) and a callback
  that sets the flag. Keras traces the train step once, with the flag as it
  was: the switch never happens, and nothing says so. The script runs this
  pattern and prints ``loss - mse`` for the epochs after the flag was set
  (zero: still MSE).
* ``self.model.compile(loss=...)`` from the callback: it works, but retraces the
  train step, and resets the optimizer unless the same one is passed again.

The tuneweights way: the term's loss is a switch, which keeps both losses in
the compiled step and selects one from a state variable, so nothing is
retraced. Three triggers, each with its switch point searched:

* ``tw.SwitchAt("mse", "huber", at=Range)``: at a fraction of training;
* ``tw.SwitchOnMetric(..., monitor="val_by_metric_mse", threshold=Range)``:
  once the validation MSE falls below a threshold;
* ``tw.SwitchOnState(..., threshold=Range)``: once the running mean absolute
  error of the training batches falls below a threshold.

To compare them in one training, the model has five independent linear heads
on the same input, one term each: plain MSE, plain Huber, and the three
switches. With nothing shared, no head's training affects another's. The
validation labels are clean, and each head logs its MSE on them
(``metrics=["mse"]``): the search minimises the sum over the three switched
heads (a list objective), never a loss that changes its meaning at the switch.

The script prints the hand-written flag's effect, the two unswitched heads,
then one row per trial: the three searched values, the epoch each head
switched at (-1: never) and its validation MSE.

Run: ``python examples/switch_losses.py`` (1 to 2 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tuneweights as tw  # noqa: E402

SWITCHED = ("by_epoch", "by_metric", "by_state")
HEADS = ("plain_mse", "plain_huber", *SWITCHED)
LEARNING_RATE = 0.02


def make_problem(seed: int = 0, n_train: int = 512) -> dict[str, dict[str, np.ndarray]]:
    """y = x.w + b; training labels with noise and outliers, validation labels clean."""
    rng = np.random.default_rng(seed)
    w, b = np.array([3.0, -6.0, 1.5, 9.0]), 2.0
    splits = {}
    for split, n in (("train", n_train), ("val", 1000)):
        x = rng.normal(size=(n, 4))
        y = x @ w + b
        if split == "train":
            y = y + rng.normal(size=n)
            y[::8] += 30.0
        splits[split] = {"x": x.astype("float32"), "y": y.astype("float32")[:, None]}
    return splits


class FiveHeads(tw.WeightedHyperModel):
    terms = [
        tw.Term("plain_mse", "mse", metrics=["mse"]),
        tw.Term("plain_huber", "huber", metrics=["mse"]),
        tw.Term(
            "by_epoch",
            tw.SwitchAt("mse", "huber", at=tw.Range(0.05, 0.95, sampling="linear")),
            metrics=["mse"],
        ),
        tw.Term(
            "by_metric",
            tw.SwitchOnMetric("mse", "huber", monitor="val_by_metric_mse", threshold=tw.Range(5.0, 100.0)),
            metrics=["mse"],
        ),
        tw.Term(
            "by_state",
            tw.SwitchOnState("mse", "huber", threshold=tw.Range(1.0, 30.0), quantity="mae"),
            metrics=["mse"],
        ),
    ]

    def build(self, hp):
        keras.utils.set_random_seed(0)  # the same initial weights in every trial
        inputs = keras.Input((4,))
        model = keras.Model(inputs, {head: keras.layers.Dense(1, name=head)(inputs) for head in HEADS})
        model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE))
        return model


def targets(split: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {head: split["y"] for head in HEADS}  # every head reads the same labels


def flag_by_hand(data: dict, epochs: int) -> list[float]:
    """The hand-written pattern: a loss reads a Python flag that a callback sets.

    Returns ``loss - mse`` for every epoch from the one where the flag was set.
    """

    class UseHuber(keras.callbacks.Callback):
        on = False

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            UseHuber.on = epoch >= epochs // 2

    def switchable(y_true: Any, y_pred: Any) -> Any:
        if UseHuber.on:  # read once, when Keras traces the train step
            return keras.losses.huber(y_true, y_pred)
        return keras.losses.mean_squared_error(y_true, y_pred)

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss=switchable, metrics=["mse"])
    history = model.fit(
        data["train"]["x"],
        data["train"]["y"],
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[UseHuber()],
    ).history
    return [loss - mse for loss, mse in zip(history["loss"], history["mse"], strict=True)][epochs // 2 :]


def last(trial: Any, name: str) -> float:
    return trial.metrics.get_history(name)[-1].mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--directory", default=None, help="project directory (default: a temporary one)")
    args = parser.parse_args()
    data = make_problem(seed=0)

    gaps = flag_by_hand(data, args.epochs)
    print(f"By hand: a callback sets a Python flag read by the loss, from epoch {args.epochs // 2}")
    print("  loss - mse after that: " + " ".join(f"{gap:.4f}" for gap in gaps) + "  (still MSE)")

    directory = args.directory or tempfile.mkdtemp(prefix="tuneweights-switch-")
    tuner = tw.RandomSearch(
        FiveHeads(),
        objective=[f"val_{head}_mse" for head in SWITCHED],  # summed by keras-tuner
        max_trials=args.trials,
        seed=1,
        directory=directory,
        project_name="five_heads",
        overwrite=args.directory is None,
    )
    tuner.search(
        data["train"]["x"],
        targets(data["train"]),
        validation_data=(data["val"]["x"], targets(data["val"])),
        epochs=args.epochs,
        batch_size=32,
        verbose=0,
    )
    trials = list(tuner.oracle.trials.values())
    statuses = [t.status for t in trials]
    if statuses.count("COMPLETED") != len(statuses):
        raise SystemExit(f"Some trials did not complete: {statuses}")

    print(f"\n{len(trials)} trials completed in {directory}")
    first = trials[0]  # the unswitched heads train the same way in every trial
    print(
        f"never switched, last epoch: plain_mse val MSE {last(first, 'val_plain_mse_mse'):.3f}, "
        f"plain_huber val MSE {last(first, 'val_plain_huber_mse'):.3f}\n"
    )
    header = f"{'trial':<6}{'at':>6}{'metric<':>9}{'mae<':>7}"
    header += "".join(f"{'switch ' + h[3:]:>14}" for h in SWITCHED)
    header += "".join(f"{'MSE ' + h[3:]:>12}" for h in SWITCHED)
    print(header)
    for trial in sorted(trials, key=lambda t: t.score):
        switches = tuner.describe(trial.hyperparameters)["switches"]
        epochs = [int(last(trial, f"{h}_switch_epoch")) for h in SWITCHED]
        mses = [last(trial, f"val_{h}_mse") for h in SWITCHED]
        print(
            f"{trial.trial_id:<6}{switches['by_epoch'].at:>6.2f}{switches['by_metric'].threshold:>9.2f}"
            f"{switches['by_state'].threshold:>7.2f}"
            + "".join(f"{e:>14d}" for e in epochs)
            + "".join(f"{m:>12.3f}" for m in mses)
        )
    print(
        "\n(switch: the first epoch of Huber, -1 if never; MSE: last epoch, on the clean validation labels)"
    )


if __name__ == "__main__":
    main()
