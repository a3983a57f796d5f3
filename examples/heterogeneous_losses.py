"""Combining heterogeneous losses: classification and reconstruction in different units.

One network reads an 8x8 digit (scikit-learn's digits) and has two heads: a
classifier (``cls``, cross-entropy in nats, about 2.3 at the start) and a
decoder that reconstructs the image in its own pixel units, 0 to 16 (``rec``,
a mean squared error of about 60 at the start). The two share a 16-unit code.

What people write by hand:

* ``loss = crossentropy + mse`` (or ``compile(loss=..., loss_weights=None)``):
  the sum is dominated by whichever loss has the larger unit, here the
  reconstruction, and the classifier gets what is left of the shared code.
* Rescale each loss by a guess (its first value, its typical value), which
  fixes the units but not the trade-off, and still leaves the weight a guess.
* Tune the weight with ``hp.Float`` and ``objective="val_loss"``: the weighted
  total is smallest for the smallest weight, whatever the model learned.

The tuneweights way: ``rec`` gets ``weight=tw.Range(1e-4, 10)``, the ratio
``w_rec / w_cls``, which a grid search scans over five orders of magnitude
(its first trial takes the default ratio, 1: the hand-written sum), and
trials are ranked by a metric the user reads in its own units,
``val_cls_accuracy``; the reconstruction's mean absolute error in pixels is
logged next to it (``val_rec_mae``). ``get_pareto_front`` lists the trials that
no other trial beats on both, each in its own unit: nothing is ever added
across units to rank the trials.

The script prints one row per trial, best first: ratio, validation accuracy,
reconstruction error in pixels, and the weighted ``val_loss`` that a search on
``val_loss`` would have ranked by.

Run: ``python examples/heterogeneous_losses.py`` (1 to 2 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import tuneweights as tw  # noqa: E402


def make_problem(seed: int = 0, n_train: int = 300, n_val: int = 600) -> dict[str, dict[str, np.ndarray]]:
    """Digits: inputs scaled to [0, 1]; targets the class and the raw pixels (0 to 16)."""
    digits = load_digits()
    pixels = digits.images.reshape(len(digits.images), 64).astype("float32")
    order = np.random.default_rng(seed).permutation(len(pixels))
    splits = {}
    for split, chosen in (("train", order[:n_train]), ("val", order[n_train : n_train + n_val])):
        splits[split] = {
            "x": pixels[chosen] / 16.0,
            "digit": digits.target[chosen].astype("int32")[:, None],
            "pixels": pixels[chosen],
        }
    return splits


class DigitsTwoHeads(tw.WeightedHyperModel):
    """``cls`` is the reference; ``rec`` has a searched ratio."""

    terms = [
        tw.Term("cls", "sparse_categorical_crossentropy", output="cls", target="digit", metrics=["accuracy"]),
        tw.Term("rec", "mse", output="rec", target="pixels", weight=tw.Range(1e-4, 10.0), metrics=["mae"]),
    ]

    def build(self, hp):
        keras.utils.set_random_seed(0)  # the same initial weights in every trial
        inputs = keras.Input((64,))
        hidden = keras.layers.Dense(32, activation="relu")(inputs)
        code = keras.layers.Dense(16, activation="relu")(hidden)
        decoded = keras.layers.Dense(32, activation="relu")(code)
        outputs = {
            "cls": keras.layers.Dense(10, activation="softmax", name="cls")(code),
            "rec": keras.layers.Dense(64, name="rec")(decoded),
        }
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        return model


def targets(split: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"digit": split["digit"], "pixels": split["pixels"]}


def at_best_step(trial: Any, names: list[str]) -> list[float]:
    """Logged values of `trial` at the epoch the objective ranks it by."""
    values = []
    for name in names:
        history = trial.metrics.get_history(name)
        values.append(next((o.mean() for o in history if o.step == trial.best_step), history[-1].mean()))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--trials", type=int, default=11, help="11: the default and the 10 grid values")
    parser.add_argument("--directory", default=None, help="project directory (default: a temporary one)")
    args = parser.parse_args()
    data = make_problem(seed=0)

    directory = args.directory or tempfile.mkdtemp(prefix="tuneweights-heterogeneous-")
    # One ratio: a grid scans it. Its first trial takes the Range default, 1: equal weights.
    tuner = tw.GridSearch(
        DigitsTwoHeads(),
        objective="val_cls_accuracy",  # a metric in its own unit, not the weighted total
        max_trials=args.trials,
        directory=directory,
        project_name="digits",
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

    front = {row["trial_id"] for row in tuner.get_pareto_front(["val_cls_accuracy", "val_rec_mae"])}
    names = ["val_cls_accuracy", "val_rec_mae", "val_loss"]
    print(f"\n{len(trials)} trials completed in {directory}\n")
    print(f"{'trial':<8}{'rec/cls':>10}{'val_cls_accuracy':>18}{'val_rec_mae':>13}{'val_loss':>10}")
    for trial in sorted(trials, key=lambda t: -t.score):
        ratio = tuner.hypermodel.space.decode(trial.hyperparameters).weights["rec"]
        accuracy, mae, weighted = at_best_step(trial, names)
        mark = "*" if trial.trial_id in front else ""
        note = "  equal weights (the hand-written sum)" if ratio == 1.0 else ""
        print(f"{trial.trial_id + mark:<8}{ratio:>10.4g}{accuracy:>18.3f}{mae:>13.2f}{weighted:>10.3f}{note}")
    print("\n(* on the Pareto front of accuracy and pixel MAE; val_loss is the weighted total)")


if __name__ == "__main__":
    main()
