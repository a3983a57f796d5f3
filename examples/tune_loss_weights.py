"""Adjusting loss weights during tuning: a searched ratio and a searched schedule.

One network predicts f(x) from three kinds of labels, one loss term each:
``expert`` labels (noise s = 0.5, the reference), ``crowd`` labels (s = 1.5)
and the predictions of a ``teacher`` model (no noise, but biased:
f + 0.5 g(x)). The two unbiased sources alone would be pooled best with the
ratio ``w_crowd / w_expert = 0.5^2 / 1.5^2 = 0.111``. The teacher steadies
training but pulls towards its bias: whether its weight should stay constant,
decay, or drop to zero at some point is a question for the search.

What people write by hand:

* Compile with ``loss_weights={"expert": 1.0, "teacher": w}`` and lower ``w``
  from a callback (``weights["teacher"] = ...`` on the dict given to
  ``compile``). Keras takes float weights once, when it builds the train
  step: the change is silently ignored. The script runs this pattern and
  prints the weight Keras really used, ``(loss - expert_loss) /
  teacher_loss``, under the weight the callback asked for.
* Or override ``HyperModel.fit`` with a ``GradientTape`` loop that sets the
  weights each batch: it works, but runs Python on every batch and has to
  re-implement validation, callbacks and the reporting to the tuner.
* Then tune ``w`` with ``hp.Float`` and ``objective="val_loss"``: the weighted
  total depends on ``w`` itself, so the search drifts to small weights.

The tuneweights way: declare the terms. ``crowd`` gets a ``Range`` (searched
as the ratio to ``expert``), ``teacher`` a ``ScheduleSearch`` (the tuner picks
a constant, a step, a linear or a cosine decay, and its parameters). The
weights live in variables that the compiled train step reads, every epoch logs
``<term>_weight``, and trials are ranked by ``val_expert_loss``, which does
not depend on the weights.

The script prints the hand-written callback's effect, one row per trial
(ratio, objective, teacher schedule) and the teacher weight that the best
trial logged at five epochs.

Run: ``python examples/tune_loss_weights.py`` (about 3 minutes on 2 CPU cores).
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

EXPERT_NOISE, CROWD_NOISE, TEACHER_BIAS = 0.5, 1.5, 0.5
TARGETS = ("y_expert", "y_crowd", "y_teacher")


def make_problem(seed: int = 0, n_train: int = 256) -> dict[str, dict[str, np.ndarray]]:
    """f and g: random tanh nets on 8 features, scaled to unit variance."""
    rng = np.random.default_rng(seed)
    nets = [(rng.normal(size=(8, 6)), rng.normal(size=6)) for _ in range(2)]

    def net(x: np.ndarray, k: int) -> np.ndarray:
        w_in, w_out = nets[k]
        return np.tanh(x @ w_in) @ w_out

    probe = rng.normal(size=(100_000, 8))
    scales = [np.std(net(probe, k)) for k in range(2)]
    splits = {}
    for split, n in (("train", n_train), ("val", 2000)):
        x = rng.normal(size=(n, 8))
        clean, other = net(x, 0) / scales[0], net(x, 1) / scales[1]
        columns = {
            "x": x,
            "clean": clean,
            "y_expert": clean + EXPERT_NOISE * rng.normal(size=n),
            "y_crowd": clean + CROWD_NOISE * rng.normal(size=n),
            "y_teacher": clean + TEACHER_BIAS * other,
        }
        splits[split] = {k: v.astype("float32").reshape(n, -1) for k, v in columns.items()}
    return splits


def make_base() -> keras.Model:
    keras.utils.set_random_seed(0)  # the same initial weights in every trial
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(32, activation="tanh")(inputs)
    hidden = keras.layers.Dense(32, activation="tanh")(hidden)
    return keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))


class Labels(tw.WeightedHyperModel):
    """One prediction, one MSE term per kind of label; ``expert`` is the reference."""

    terms = [
        tw.Term("expert", "mse", output="pred", target="y_expert"),
        tw.Term("crowd", "mse", output="pred", target="y_crowd", weight=tw.Range(1e-3, 10.0)),
        tw.Term(
            "teacher",
            "mse",
            output="pred",
            target="y_teacher",
            weight=tw.ScheduleSearch(families=("constant", "step", "linear", "cosine")),
        ),
    ]

    def build(self, hp):
        model = make_base()
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        return model


def targets(split: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: split[key] for key in TARGETS}


def callback_by_hand(data: dict, epochs: int) -> tuple[list[float], list[float]]:
    """The hand-written pattern: a callback lowers a float loss weight. Returns (asked, used)."""
    weights = {"expert": 1.0, "teacher": 1.0}
    asked: list[float] = []

    class Anneal(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            weights["teacher"] = 1.0 - epoch / max(1, epochs - 1)  # 1 -> 0 over training
            asked.append(weights["teacher"])

    base = make_base()
    pred = base.outputs[0]
    # Plain Keras takes one loss per output: the prediction is exposed twice.
    model = keras.Model(base.inputs, {"expert": pred, "teacher": keras.layers.Identity(name="teacher")(pred)})
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss={"expert": "mse", "teacher": "mse"},
        loss_weights=weights,
    )
    train = data["train"]
    history = model.fit(
        train["x"],
        {"expert": train["y_expert"], "teacher": train["y_teacher"]},
        epochs=epochs,
        batch_size=32,  # divides the 256 samples: the logged means are exact
        verbose=0,
        callbacks=[Anneal()],
    ).history
    logged = zip(history["loss"], history["expert_loss"], history["teacher_loss"], strict=True)
    used = [(total - expert) / teacher for total, expert, teacher in logged]
    return asked, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--directory", default=None, help="project directory (default: a temporary one)")
    args = parser.parse_args()
    data = make_problem(seed=0)

    asked, used = callback_by_hand(data, args.epochs)
    print("By hand: a callback lowers the teacher's float weight; Keras keeps the compiled one")
    print("  last epochs, asked for: " + " ".join(f"{w:.3f}" for w in asked[-3:]))
    print("  last epochs, used:      " + " ".join(f"{w:.3f}" for w in used[-3:]))

    directory = args.directory or tempfile.mkdtemp(prefix="tuneweights-loss-weights-")
    tuner = tw.BayesianOptimization(
        Labels(),
        objective="val_expert_loss",  # unweighted: comparable across weights
        max_trials=args.trials,
        num_initial_points=min(5, args.trials),
        seed=1,
        directory=directory,
        project_name="labels",
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

    space = tuner.hypermodel.space
    print(f"\n{len(trials)} trials completed in {directory}")
    pooled = EXPERT_NOISE**2 / CROWD_NOISE**2
    print(f"(without the teacher, the best crowd/expert would be {pooled:.3f})\n")
    print(f"{'trial':<6}{'crowd/expert':>13}{'val_expert_loss':>17}  teacher weight")
    for trial in sorted(trials, key=lambda t: t.score):
        ratio = space.decode(trial.hyperparameters).weights["crowd"]
        teacher = space.decode(trial.hyperparameters).describe()["teacher"]
        print(f"{trial.trial_id:<6}{ratio:>13.4f}{trial.score:>17.4f}  {teacher}")
    best = tuner.oracle.get_best_trials(1)[0]
    logged = {obs.step: obs.mean() for obs in best.metrics.get_history("teacher_weight")}
    shown = sorted({round(k * (args.epochs - 1) / 4) for k in range(5)})  # five epochs, first to last
    print(f"\nbest trial {best.trial_id}, teacher weight logged at epochs {shown}:")
    print("  " + " ".join(f"{logged[epoch]:.3g}" for epoch in shown))


if __name__ == "__main__":
    main()
