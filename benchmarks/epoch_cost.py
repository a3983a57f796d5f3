"""What an epoch costs as a trial grows long, and what a pruner's decision costs as a search grows.

Part 1, epochs. One trial of a minimal two-term model (4 inputs, 8 tanh
units, one prediction trained against two label sources; 64 rows in one
batch, validated on the same rows, Adam 1e-2) runs for E epochs in four
ways, each in its own process:

* ``plain``: the model with its prediction under two names, compiled with
  ``loss={"a": "mse", "b": "mse"}``, ``model.fit``;
* ``keras-tuner``: a one-trial ``keras_tuner.RandomSearch`` of that model
  (the loss weight of ``b`` searched): keras-tuner's best-epoch checkpoint,
  the trial reported once at its end;
* ``tuneweights``: a one-trial ``tuneweights.RandomSearch`` of the same two
  terms, with its default checkpoint policy (every epoch reported to the
  oracle, resume checkpoints spaced by ``checkpoint_every="auto"``, the best
  epoch's weights copied in memory and written once);
* ``tuneweights-every1``: the same with a resume checkpoint after every
  epoch (``checkpoint_every=1``).

The four processes take turns epoch by epoch (``turns.py``: a callback waits
at each epoch's start for its turn, in an order rotated every epoch), so that
load on a shared machine hits all alike; an epoch lasts from its turn to the
next epoch's start (the end of training for the last), callbacks included.
For each window of epochs (10-60, the middle 50 and the last 50 of 500) the
tables give the mean epoch (what an epoch costs, checkpoints included) and
the median epoch (the usual one), each with its ratio to ``plain``'s in the
same window, and for tuneweights the median time the oracle took to record
one epoch (``update_trial``: the metrics, the journal line, the pruner's
check).

Part 2, pruning. An oracle with a median-stopping pruner holds N trials of E
epochs of random objective values; one more trial reports E epochs; the
median cost of the oracle's decision per epoch is given, with the cost of
handing the pruner every history instead (what a pruner that implements
``prune`` alone gets) for comparison.

Run ``python benchmarks/epoch_cost.py`` (500 epochs, about 8 minutes on 2
shared cores) or ``--quick`` (a smoke run of 24 epochs). The last line is the
headline: tuneweights' epoch at the last window against the first, and
against plain ``model.fit``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import turns  # noqa: E402

WAYS = ("plain", "keras-tuner", "tuneweights", "tuneweights-every1")
FULL = {"epochs": 500, "searches": [(100, 20), (100, 100), (400, 100)]}
QUICK = {"epochs": 24, "searches": [(20, 10), (40, 10)]}


def data() -> tuple[Any, dict[str, Any]]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ rng.normal(size=(4, 1)).astype("float32")
    return x, {"ya": y, "yb": y + rng.normal(size=y.shape).astype("float32")}


def child(way: str, epochs: int, directory: str) -> dict[str, Any]:
    """Run one way's trial, taking turns with the others at each epoch's start (`turns.run`)."""
    import keras
    import keras_tuner as kt

    import tuneweights as tw

    reports: dict[int, float] = {}

    def base() -> keras.Model:
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="tanh")(inputs)
        return keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))

    def plain_model(weight: float = 1.0) -> keras.Model:
        model = base()
        out = model.outputs[0]
        named = keras.Model(
            model.inputs,
            {"a": keras.layers.Identity(name="a")(out), "b": keras.layers.Identity(name="b")(out)},
        )
        named.compile(
            optimizer=keras.optimizers.Adam(0.01),
            loss={"a": "mse", "b": "mse"},
            loss_weights={"a": 1.0, "b": weight},
        )
        return named

    class TwoSources(tw.WeightedHyperModel):
        terms = [
            tw.Term("a", "mse", output="pred", target="ya"),
            tw.Term("b", "mse", output="pred", target="yb", weight=tw.Range(0.01, 100.0)),
        ]

        def build(self, hp: Any) -> keras.Model:
            model = base()
            model.compile(optimizer=keras.optimizers.Adam(0.01))
            return model

    x, y = data()
    two = {"a": y["ya"], "b": y["yb"]}
    fit = {"epochs": epochs, "batch_size": 64, "verbose": 0, "shuffle": False, "callbacks": [turns.turns()]}
    if way == "plain":
        plain_model().fit(x, two, validation_data=(x, two), **fit)
    elif way == "keras-tuner":
        tuner = kt.RandomSearch(
            lambda hp: plain_model(hp.Float("ratio/b", 0.01, 100.0, sampling="log")),
            objective=kt.Objective("val_a_loss", "min"),
            max_trials=1,
            seed=1,
            directory=directory,
            project_name=way,
        )
        tuner.search(x, two, validation_data=(x, two), **fit)
        statuses = [t.status for t in tuner.oracle.trials.values()]
        if statuses != ["COMPLETED"]:
            raise SystemExit(f"{way}: the trial did not complete ({statuses})")
    else:
        tuner = tw.RandomSearch(
            TwoSources(),
            objective="val_a_loss",
            max_trials=1,
            seed=1,
            directory=directory,
            project_name=way,
            **({"checkpoint_every": 1} if way.endswith("every1") else {}),
        )
        update = tuner.oracle.update_trial

        def timed(trial_id: str, metrics: dict[str, Any], step: int = 0) -> Any:
            start = time.perf_counter()
            try:
                return update(trial_id, metrics, step=step)
            finally:
                reports[step] = time.perf_counter() - start

        object.__setattr__(tuner.oracle, "update_trial", timed)  # on the wrapper, not passed through
        tuner.search(x, y, validation_data=(x, y), **fit)
        trial = next(iter(tuner.oracle.trials.values()))
        if trial.status != "COMPLETED" or len(trial.metrics.get_history("val_a_loss")) != epochs:
            raise SystemExit(f"{way}: the trial did not record {epochs} epochs ({trial.status})")
    return {"reports": reports}


def run_epochs(epochs: int) -> dict[str, dict[str, Any]]:
    """Run the four ways in turns; returns each way's epoch durations and report costs."""
    directory = tempfile.mkdtemp(prefix="epoch-cost-")
    try:
        return turns.run(child, WAYS, epochs, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def pruning_costs(trials: int, epochs: int, repeats: int = 1) -> tuple[float, float]:
    """Median seconds of the oracle's pruning decision, and of handing the pruner every history."""
    import keras_tuner as kt
    import numpy as np

    import tuneweights as tw

    rng = np.random.default_rng(trials * 1000 + epochs)
    directory = tempfile.mkdtemp(prefix="epoch-cost-")
    try:
        inner = kt.oracles.RandomSearchOracle(kt.Objective("val_loss", "min"), max_trials=trials + 1, seed=1)
        oracle = tw.WeightOracle(inner, None, pruner=tw.MedianStopping(warmup=0, min_trials=3))
        oracle._set_project_dir(directory, "p")
        for i in range(trials):
            curve = np.minimum.accumulate(rng.uniform(0.5, 2.0, size=epochs))
            oracle.peers.set_history(f"done{i}", {e: float(v) for e, v in enumerate(curve)})
        decisions, full = [], []
        for e in range(epochs):
            oracle.peers.record("new", e, float(rng.uniform(0.5, 2.0)))
            start = time.perf_counter()
            oracle.pruner.decide("new", oracle.peers, e, "min")
            decisions.append(time.perf_counter() - start)
            start = time.perf_counter()
            histories = oracle.peers.histories(exclude="new")
            oracle.pruner.prune(dict(oracle.peers.history("new")), histories, e, "min")
            full.append(time.perf_counter() - start)
        return statistics.median(decisions), statistics.median(full)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def report(
    results: dict[str, dict[str, Any]], mode: dict[str, Any], searches: list[Any], seconds: float
) -> str:
    """Print the tables; return the headline."""
    import keras

    windows = turns.windows(mode["epochs"])
    print(
        f"epoch cost: one trial of {mode['epochs']} epochs per way, 64 rows in one batch, turns every epoch; "
        f"Keras {keras.__version__}, {os.cpu_count()} cores; {seconds:.0f} s"
    )
    means: dict[str, list[float]] = {}
    for name, statistic in (("mean", turns.window_mean), ("median", turns.window_median)):
        print(f"{name} epoch, ms, and its ratio to plain model.fit's")
        print("way                  " + "".join(f"  ep {lo:>3}-{hi:<3} ms   ratio" for lo, hi in windows))
        plain = [statistic(results["plain"]["durations"], lo, hi) for lo, hi in windows]
        for way in WAYS:
            values = [statistic(results[way]["durations"], lo, hi) for lo, hi in windows]
            if name == "mean":
                means[way] = values
            cells = "".join(f"  {1000 * m:>13.1f} {m / p:>7.3f}" for m, p in zip(values, plain, strict=True))
            print(f"{way:<21}{cells}")
    print("reporting one epoch (oracle.update_trial), median ms")
    for way in ("tuneweights", "tuneweights-every1"):
        reports = {int(k): v for k, v in results[way]["result"]["reports"].items()}
        cells = "".join(
            f"  {1000 * statistics.median(reports[e] for e in range(lo, hi)):>13.2f}        "
            for lo, hi in windows
        )
        print(f"{way:<21}{cells}")
    print("pruning decision (median stopping), median per reported epoch")
    print("trials x epochs   decision us   every history us   ratio")
    for (trials, epochs), (decision, full) in searches:
        cells = f"{1e6 * decision:>11.1f}   {1e6 * full:>16.1f}   {full / decision:>5.0f}"
        print(f"{trials:>6} x {epochs:<6}  {cells}")
    # Growth against plain model.fit's epoch in the same windows: a change of load cancels out.
    first = means["tuneweights"][0] / means["plain"][0]
    last = means["tuneweights"][-1] / means["plain"][-1]
    (lo, hi), (first_lo, first_hi) = windows[-1], windows[0]
    return (
        f"headline: epoch_cost={last / first:.2f}x from epochs {first_lo}-{first_hi} to {lo}-{hi} "
        f"against plain model.fit, {last:.2f}x plain model.fit at epochs {lo}-{hi} "
        "(goal: flat from epoch 10 to 500, within 1.1x of plain model.fit)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 24 epochs, small searches")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    start = time.perf_counter()
    searches = [((n, e), pruning_costs(n, e)) for n, e in mode["searches"]]
    results = run_epochs(mode["epochs"])
    print(report(results, mode, searches, time.perf_counter() - start))


if __name__ == "__main__":
    main()
