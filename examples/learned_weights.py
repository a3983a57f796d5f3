"""Learned loss weights: why softmax weights collapse, and what to use instead.

Problem A2: four label sources of one target f(x). Sources 1-3 are unbiased
with noise s = (0.3, 1, 3); source 4 is precise (s = 0.1) but biased:
y_4 = f + 0.5 g(x), g another random tanh net. The test metric is the MSE
against the clean f.

Three ways to weigh the four MSE terms:

* ``softmax``: the common hand-written recipe. Weights ``softmax(theta)``,
  with ``theta`` trained on the same total loss by the same kind of optimizer
  (Adam, same learning rate). The gradient in ``theta_k`` is
  ``p_k (L_k - sum_j p_j L_j)``: the term with the smallest loss always gains,
  and the weights collapse onto it. Written here as a custom strategy (a
  dozen lines), to show how one is registered.
* ``uncertainty``: `tuneweights.Uncertainty` (Kendall et al. 2018). Its
  ``log sigma^2`` regulariser stops the collapse (weights settle at
  ``1 / (2 L_k)``), but a source whose loss is small gets a large weight
  whether it is right or not: here, the biased one.
* ``searched``: static weights searched by the tuner on the validation MSE
  against source 1 (unbiased), which sees the bias.

The script prints each method's final weights (as shares of their sum) and
test MSE, and with ``--figure`` saves the weights over training.

Run: ``python examples/learned_weights.py`` (4 to 8 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from typing import Any, ClassVar

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

import tuneweights as tw  # noqa: E402
from tuneweights import strategies  # noqa: E402

NOISE = (0.3, 1.0, 3.0, 0.1)
SOURCES = [f"src{k + 1}" for k in range(len(NOISE))]
BIAS = 0.5
LEARNING_RATE = 3e-3


def make_problem(seed: int = 0, n_train: int = 300) -> dict[str, dict[str, np.ndarray]]:
    """Problem A2: problem A's three sources plus a precise, biased fourth."""
    rng = np.random.default_rng(seed)
    nets = [(rng.normal(size=(8, 4)), rng.normal(size=4)) for _ in range(2)]

    def net(x: np.ndarray, k: int) -> np.ndarray:
        w_in, w_out = nets[k]
        return np.tanh(x @ w_in) @ w_out

    probe = rng.normal(size=(100_000, 8))
    scales = [np.std(net(probe, k)) for k in range(2)]
    splits = {}
    for split, n in (("train", n_train), ("val", 300), ("test", 4000)):
        x = rng.normal(size=(n, 8))
        clean = (net(x, 0) / scales[0])[:, None]
        other = (net(x, 1) / scales[1])[:, None]
        y = {
            f"y_{s}": clean + sigma * rng.normal(size=clean.shape)
            for s, sigma in zip(SOURCES, NOISE, strict=True)
        }
        y["y_src4"] = y["y_src4"] + BIAS * other
        splits[split] = {"x": x.astype("float32"), "clean": clean.astype("float32")}
        splits[split].update({k: val.astype("float32") for k, val in y.items()})
    return splits


@strategies.register
@dataclasses.dataclass(frozen=True)
class NaiveSoftmax(strategies.Strategy):
    """Weights ``K softmax(theta)``, ``theta`` trained by Adam on the weighted total (collapses)."""

    name: ClassVar[str] = "naive-softmax"
    learning_rate: float = LEARNING_RATE

    def build_state(self, state: strategies.StrategyState) -> None:
        state.slot("theta")
        strategies.own_slots(state, "theta/")

    def step(self, state: Any, losses: Any, weights: Any, training: bool) -> tuple[Any, Any]:
        theta = state.slot("theta")
        p = ops.softmax(ops.cast(theta, "float32"))
        if training:
            losses = ops.stop_gradient(losses)
            grad = p * (losses - ops.sum(p * losses))  # d/dtheta of sum_k p_k L_k
            strategies.own_update(state, "theta/", theta, grad, "adam", self.learning_rate)
        return len(state.terms) * p, None


class Sources(tw.WeightedHyperModel):
    """One shared prediction, one MSE term per source; source 1 is the reference."""

    terms = [tw.Term(SOURCES[0], "mse", output="pred", target=f"y_{SOURCES[0]}")] + [
        tw.Term(s, "mse", output="pred", target=f"y_{s}", weight=tw.Range(1e-3, 10.0)) for s in SOURCES[1:]
    ]

    def build(self, hp):
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(32, activation="tanh")(inputs)
        hidden = keras.layers.Dense(32, activation="tanh")(hidden)
        model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
        return model


def targets(split: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"y_{s}": split[f"y_{s}"] for s in SOURCES}


def train(data: dict, epochs: int, seed: int, weights: Any = None, strategy: Any = None) -> dict[str, Any]:
    """Train one model; returns its weight shares per epoch and its test MSE."""
    keras.utils.set_random_seed(seed)
    equal = {s: 1.0 for s in SOURCES}  # the searched terms' starting point (a strategy then sets them)
    model = tw.WeightedModel(
        Sources().build(None), Sources.terms, weights=weights or equal, strategy=strategy
    )
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    history = model.fit(
        data["train"]["x"],
        targets(data["train"]),
        validation_data=(data["val"]["x"], targets(data["val"])),
        epochs=epochs,
        batch_size=32,
        verbose=0,
    ).history
    curves = np.array([history[f"{s}_weight"] for s in SOURCES])
    pred = model.base.predict(data["test"]["x"], verbose=0)
    return {
        "shares": curves / curves.sum(axis=0),
        "test_mse": float(np.mean((pred - data["test"]["clean"]) ** 2)),
    }


def search_static(data: dict, epochs: int, trials: int, directory: str) -> dict[str, float]:
    """Static weights searched on the validation MSE against source 1."""
    tuner = tw.BayesianOptimization(
        Sources(),
        objective="val_src1_loss",
        max_trials=trials,
        num_initial_points=min(4, trials),
        seed=1,
        directory=directory,
        project_name="a2",
        overwrite=True,
    )
    tuner.search(
        data["train"]["x"],
        targets(data["train"]),
        validation_data=(data["val"]["x"], targets(data["val"])),
        epochs=epochs,
        batch_size=32,
        verbose=0,
    )
    statuses = [t.status for t in tuner.oracle.trials.values()]
    if statuses.count("COMPLETED") != len(statuses):
        raise SystemExit(f"Some trials did not complete: {statuses}")
    return tuner.get_best_weights()[0]  # type: ignore[return-value]


def plot(results: dict[str, dict[str, Any]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [m for m in ("softmax", "uncertainty") if m in results]
    figure, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown), 3.4), sharey=True)
    for ax, method in zip(np.atleast_1d(axes), shown, strict=True):
        shares = results[method]["shares"]
        for k, source in enumerate(SOURCES):
            label = f"{source} (s={NOISE[k]}{', biased' if source == 'src4' else ''})"
            ax.plot(np.arange(1, shares.shape[1] + 1), shares[k], label=label)
        ax.set_title(f"{method}: share of the total weight")
        ax.set_xlabel("epoch")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--trials", type=int, default=10, help="trials of the static-weight search")
    parser.add_argument("--figure", default=None, help="save the weights over training to this PNG")
    args = parser.parse_args()

    data = make_problem(seed=0)
    results = {
        "softmax": train(data, args.epochs, seed=1, strategy=NaiveSoftmax()),
        "uncertainty": train(data, args.epochs, seed=1, strategy=tw.Uncertainty(learning_rate=LEARNING_RATE)),
        "equal": train(data, args.epochs, seed=1),
    }
    found = search_static(data, args.epochs, args.trials, tempfile.mkdtemp(prefix="tuneweights-a2-"))
    results["searched"] = train(data, args.epochs, seed=1, weights=found)

    print(f"\n{'method':<12}" + "".join(f"{s:>8}" for s in SOURCES) + f"{'test MSE':>10}")
    for method, result in results.items():
        shares = result["shares"][:, -1]
        print(f"{method:<12}" + "".join(f"{x:>8.3f}" for x in shares) + f"{result['test_mse']:>10.4f}")
    print("\n(shares of the total weight at the last epoch; src4 is precise but biased)")
    if args.figure:
        plot(results, args.figure)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
