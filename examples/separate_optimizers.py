"""Separate optimizers per loss, with each term's optimizer and learning rate searched.

One network with a shared trunk has two heads: a classifier (``cls``, binary
cross-entropy) and a regression (``reg``, mean squared error) of another
function of the same 8 features. Each loss gets its own optimizer: its
gradient updates the shared trunk and its own head with its own optimizer
state (its own Adam moments) and its own learning rate.

What people write by hand: override ``HyperModel.fit`` with a loop over the
batches, a ``tf.GradientTape``, ``tape.gradient(loss_k, variables)`` for each
loss, and ``optimizer_k.apply_gradients(...)`` for each. It runs Python on
every batch unless it is wrapped in ``tf.function`` by hand; the variables
that a loss does not reach have no gradient, which each ``apply_gradients``
must be spared; validation, metrics, callbacks and the reporting of every
epoch to the tuner have to be written again; and the optimizers' state is
not in the trial's checkpoint. A one-optimizer ``model.fit`` with a
learning-rate ``hp.Float`` cannot give the two losses different optimizers.

The tuneweights way: ``strategy = tw.SeparateOptimizers(optimizer=("adam",
"sgd", "rmsprop"), learning_rate=tw.Range(1e-4, 1e-1))`` on the hypermodel.
Training stays one ``model.fit``, with one gradient per term from the same
forward pass, every term's update inside the compiled train step, and the
optimizers' variables saved with the model. The tuner chooses each term's
optimizer and learning rate: the hyperparameters
``strategy/separate/<term>/optimizer`` and ``.../learning_rate``.

The script prints one row per trial, best first: each term's optimizer and
learning rate, the objective (``val_cls_loss``) and the regression's
validation loss.

Run: ``python examples/separate_optimizers.py`` (about 2 minutes on 2 CPU cores).
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

TERMS = ("cls", "reg")


def make_problem(seed: int = 0, n_train: int = 512) -> dict[str, dict[str, np.ndarray]]:
    """A label and a value from two random tanh nets of the same 8 features."""
    rng = np.random.default_rng(seed)
    nets = [(rng.normal(size=(8, 6)), rng.normal(size=6)) for _ in range(2)]

    def net(x: np.ndarray, k: int) -> np.ndarray:
        w_in, w_out = nets[k]
        return np.tanh(x @ w_in) @ w_out

    scale = np.std(net(rng.normal(size=(100_000, 8)), 1))
    splits = {}
    for split, n in (("train", n_train), ("val", 1000)):
        x = rng.normal(size=(n, 8))
        columns = {
            "x": x,
            "label": (net(x, 0) + 0.3 * rng.normal(size=n) > 0).astype(float),
            "value": net(x, 1) / scale + 0.3 * rng.normal(size=n),
        }
        splits[split] = {k: v.astype("float32").reshape(n, -1) for k, v in columns.items()}
    return splits


class TwoHeads(tw.WeightedHyperModel):
    terms = [
        tw.Term("cls", "binary_crossentropy", target="label", metrics=["accuracy"]),
        tw.Term("reg", "mse", target="value"),
    ]
    strategy = tw.SeparateOptimizers(optimizer=("adam", "sgd", "rmsprop"), learning_rate=tw.Range(1e-4, 1e-1))

    def build(self, hp):
        keras.utils.set_random_seed(0)  # the same initial weights in every trial
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(32, activation="tanh")(inputs)
        hidden = keras.layers.Dense(32, activation="tanh")(hidden)
        outputs = {
            "cls": keras.layers.Dense(1, activation="sigmoid", name="cls")(hidden),
            "reg": keras.layers.Dense(1, name="reg")(hidden),
        }
        return keras.Model(inputs, outputs)


def targets(split: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"label": split["label"], "value": split["value"]}


def at_best_step(trial: Any, name: str) -> float:
    """A logged value of `trial` at the epoch the objective ranks it by."""
    history = trial.metrics.get_history(name)
    return next((obs.mean() for obs in history if obs.step == trial.best_step), history[-1].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--directory", default=None, help="project directory (default: a temporary one)")
    args = parser.parse_args()
    data = make_problem(seed=0)

    directory = args.directory or tempfile.mkdtemp(prefix="tuneweights-separate-")
    tuner = tw.RandomSearch(
        TwoHeads(),
        objective="val_cls_loss",
        max_trials=args.trials,
        seed=2,
        directory=directory,
        project_name="two_heads",
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

    print(f"\n{len(trials)} trials completed in {directory}\n")
    header = "".join(f"{t + ' optimizer':>15}{t + ' rate':>10}" for t in TERMS)
    print(f"{'trial':<6}{header}{'val_cls_loss':>14}{'val_cls_acc':>13}{'val_reg_loss':>14}")
    for trial in sorted(trials, key=lambda t: t.score):
        settings = tuner.describe(trial.hyperparameters)["strategy"].settings(TERMS)
        columns = "".join(f"{settings[t][0]:>15}{settings[t][1]:>10.2g}" for t in TERMS)
        accuracy, reg = at_best_step(trial, "val_cls_accuracy"), at_best_step(trial, "val_reg_loss")
        print(f"{trial.trial_id:<6}{columns}{trial.score:>14.4f}{accuracy:>13.3f}{reg:>14.4f}")


if __name__ == "__main__":
    main()
