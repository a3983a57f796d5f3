"""Weights driven by validation metrics, compared with searched static weights.

One network with a shared trunk learns three regression tasks of unequal
difficulty from the same 8 features: ``easy`` (linear), ``medium`` (a small
tanh net) and ``hard`` (a product of sines). Every target has unit variance, so
the plain sum of the three validation MSEs, ``val_unweighted_loss``, is a fair
score of the whole model.

What people write by hand: a callback that reads ``logs["val_hard_loss"]``
and the others at the end of each epoch and gives more weight to the tasks
that lag. Written as ``self.model.loss_weights = ...`` or as a change to the
dict given to ``compile``, it does nothing (Keras reads float loss weights once,
when it traces the train step; see ``examples/tune_loss_weights.py``).
Written as ``self.model.compile(...)`` with the new weights, it retraces the
train step every epoch, and loses the optimizer state unless the same
optimizer is passed again. Either way, whether it beats well-chosen fixed
weights is left untested.

The tuneweights way: ``tw.ValidationDriven(rule="proportional", power=...)``
sets ``w_k ~ (val_k_loss) ** power`` after each epoch, normalised to sum to
the number of terms, in the model's weight variables (no retracing), and the
tuner searches ``power``. A ``tw.StrategySearch`` makes the strategy itself a
hyperparameter: each trial either searches static ratios (the terms'
``Range``s) or runs the validation-driven rule, and both are ranked by the
same unweighted objective.

The script prints one row per trial: the strategy, the weights of the last
epoch, and the objective.

Run: ``python examples/validation_weights.py`` (about 2 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tuneweights as tw  # noqa: E402

TASKS = ("easy", "medium", "hard")


def make_problem(seed: int = 0, n_train: int = 300) -> dict[str, dict[str, np.ndarray]]:
    """Three targets of the same 8 features, each scaled to unit variance."""
    rng = np.random.default_rng(seed)
    linear, w_in, w_out = rng.normal(size=8), rng.normal(size=(8, 4)), rng.normal(size=4)

    def tasks(x: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "easy": x @ linear,
            "medium": np.tanh(x @ w_in) @ w_out,
            "hard": np.sin(2 * x[:, 0]) * np.sin(2 * x[:, 1]) + 0.5 * np.sin(3 * x[:, 2]),
        }

    scales = {task: np.std(values) for task, values in tasks(rng.normal(size=(100_000, 8))).items()}
    splits = {}
    for split, n in (("train", n_train), ("val", 1000)):
        x = rng.normal(size=(n, 8))
        columns = {"x": x}
        for task, values in tasks(x).items():
            columns[task] = values / scales[task] + 0.2 * rng.normal(size=n)
        splits[split] = {k: v.astype("float32").reshape(n, -1) for k, v in columns.items()}
    return splits


class ThreeTasks(tw.WeightedHyperModel):
    """``easy`` is the reference; the other two have searched ratios under ``static``."""

    terms = [tw.Term("easy", "mse")] + [tw.Term(t, "mse", weight=tw.Range(0.1, 10.0)) for t in TASKS[1:]]
    strategy = tw.StrategySearch(
        [
            "static",
            tw.ValidationDriven(rule="proportional", power=tw.Range(0.25, 4.0), momentum=0.5),
        ]
    )

    def build(self, hp):
        keras.utils.set_random_seed(0)  # the same initial weights in every trial
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(32, activation="tanh")(inputs)
        hidden = keras.layers.Dense(32, activation="tanh")(hidden)
        model = keras.Model(inputs, {t: keras.layers.Dense(1, name=t)(hidden) for t in TASKS})
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        return model


def targets(split: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {task: split[task] for task in TASKS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--directory", default=None, help="project directory (default: a temporary one)")
    args = parser.parse_args()
    data = make_problem(seed=0)

    directory = args.directory or tempfile.mkdtemp(prefix="tuneweights-validation-")
    tuner = tw.RandomSearch(
        ThreeTasks(),
        objective="val_unweighted_loss",  # the plain sum: the same yardstick for both strategies
        max_trials=args.trials,
        seed=3,
        directory=directory,
        project_name="three_tasks",
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
    print(
        f"{'trial':<6}{'strategy':<12}{'setting':<24}"
        + "".join(f"{t:>8}" for t in TASKS)
        + "  val_unweighted"
    )
    for trial in sorted(trials, key=lambda t: t.score):
        strategy = tuner.describe(trial.hyperparameters)["strategy"]
        if isinstance(strategy, tw.ValidationDriven):
            setting = f"power={strategy.power:.2f}"
        else:
            ratios = tuner.hypermodel.space.decode(trial.hyperparameters).weights
            setting = " ".join(f"{t}={ratios[t]:.3g}" for t in TASKS[1:])
        last = [trial.metrics.get_history(f"{t}_weight")[-1].mean() for t in TASKS]
        print(
            f"{trial.trial_id:<6}{strategy.name:<12}{setting:<24}"
            + "".join(f"{w:>8.3f}" for w in last)
            + f"{trial.score:>16.4f}"
        )
    print("\n(the weights are those of the last epoch; validation-driven ones sum to 3)")


if __name__ == "__main__":
    main()
