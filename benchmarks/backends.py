"""The same small search on every installed Keras backend, against plain Keras on that backend.

Keras reads its backend once, at import: each backend runs in its own
subprocess (``KERAS_BACKEND=tensorflow|jax|torch``), which measures three
ways of running a trial of problem A (BENCHMARKS.md) at its own size: 300
training and 300 validation samples, 8 inputs, the 8-32-32(tanh)-1 model of
``examples/quickstart.py``, three label sources with noise (0.3, 1, 3), each
an MSE term, weights (1, 0.09, 0.01), Adam 3e-3, batch 32 (10 steps an
epoch), validation every epoch:

* ``plain``: the model with its prediction under three output names,
  compiled with ``loss={source: "mse"}`` and the weights as
  ``loss_weights``, trained with ``model.fit`` (plain Keras);
* ``tuneweights``: the model wrapped in `tuneweights.WeightedModel` with the
  three terms and the same weights, ``model.fit``;
* ``search``: a trial of `tuneweights.RandomSearch` of the quickstart's
  hypermodel (the two ratios searched), from the tuner's start of the trial
  to its end (building the model, training, reporting every epoch to the
  oracle, checkpoints, the trial's end); two trials per search.

A trial builds and compiles a fresh model and trains it for E epochs. An
epoch lasts from one epoch's start to the next's (to the end of training for
the last), callbacks and validation included. Per trial: ``epoch``, the
median of its epochs but the first (which traces or compiles the step);
``fixed``, the trial's wall time less E epochs: what a trial costs besides
its epochs (building, compiling, the first epoch's tracing, the tuner's work
between trials).

R rounds; each round runs one trial of ``plain`` and of ``tuneweights`` and
one search, in an order rotated every round, so that load on a shared
machine hits all alike. Reported per backend and way: the median over
rounds of the per-round ``epoch`` and ``fixed``, and the median over rounds
of their ratio to ``plain`` in the same round (for the epoch with the
lowest and highest per-round ratio; for the fixed cost also the difference
in seconds: a ratio of two costs near zero, as on PyTorch, says little). The
same for the process's CPU time of an epoch (all its threads): steadier than
wall time when other processes compete for the cores.

Run ``python benchmarks/backends.py`` (``--quick`` for a smoke run,
``--backends jax,torch`` for some). The last line is the headline: the
per-epoch ratio of ``tuneweights`` to ``plain`` on each backend.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("tensorflow", "jax", "torch")
WAYS = ("plain", "tuneweights", "search")
NOISE = (0.3, 1.0, 3.0)
SOURCES = [f"src{k + 1}" for k in range(len(NOISE))]
WEIGHTS = {s: NOISE[0] ** 2 / sigma**2 for s, sigma in zip(SOURCES, NOISE, strict=True)}
TRIALS_PER_SEARCH = 2


@dataclasses.dataclass(frozen=True)
class Config:
    rounds: int = 5
    epochs: int = 10
    batch_size: int = 32
    seed: int = 0


# -- one backend (the child process) ---------------------------------------------------------
# (wall, CPU) times at the start of every epoch and at the end of every training, in order
BEGUN: list[tuple[float, float]] = []


def child(cfg: Config) -> dict[str, Any]:
    """Measure the three ways on the backend of this process."""
    import keras

    import tuneweights as tw

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from problems import problem_a

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            BEGUN.append((time.perf_counter(), time.process_time()))

        def on_train_end(self, logs: Any = None) -> None:
            BEGUN.append((time.perf_counter(), time.process_time()))

    data = problem_a(seed=cfg.seed)
    x, xv = data["train"]["x"], data["val"]["x"]
    y = {f"y_{s}": data["train"][f"y_{s}"] for s in SOURCES}
    yv = {f"y_{s}": data["val"][f"y_{s}"] for s in SOURCES}

    def fit() -> dict[str, Any]:  # a fresh clock: a used one holds its model, which a search cannot copy
        return {"batch_size": cfg.batch_size, "epochs": cfg.epochs, "verbose": 0, "callbacks": [Clock()]}

    def base() -> keras.Model:
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(32, activation="tanh")(inputs)
        hidden = keras.layers.Dense(32, activation="tanh")(hidden)
        return keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))

    fixed_terms = [tw.Term(s, "mse", output="pred", target=f"y_{s}") for s in SOURCES]

    class Sources(tw.WeightedHyperModel):
        terms = [fixed_terms[0]] + [
            tw.Term(s, "mse", output="pred", target=f"y_{s}", weight=tw.Range(1e-3, 10.0))
            for s in SOURCES[1:]
        ]

        def build(self, hp: Any) -> keras.Model:
            model = base()
            model.compile(optimizer=keras.optimizers.Adam(3e-3))
            return model

    def plain() -> None:
        model = base()
        named = keras.Model(model.inputs, {s: model.outputs[0] for s in SOURCES})
        named.compile(keras.optimizers.Adam(3e-3), loss={s: "mse" for s in SOURCES}, loss_weights=WEIGHTS)
        by_output = {s: y[f"y_{s}"] for s in SOURCES}
        named.fit(x, by_output, validation_data=(xv, {s: yv[f"y_{s}"] for s in SOURCES}), **fit())

    def weighted() -> None:
        model = tw.WeightedModel(base(), fixed_terms, weights=WEIGHTS)
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        model.fit(x, y, validation_data=(xv, yv), **fit())

    def search() -> list[float]:
        walls: list[float] = []

        class Timed(tw.RandomSearch):
            def on_trial_begin(self, trial: Any) -> None:
                walls.append(time.perf_counter())
                super().on_trial_begin(trial)

            def on_trial_end(self, trial: Any) -> None:
                super().on_trial_end(trial)
                walls[-1] = time.perf_counter() - walls[-1]

        with tempfile.TemporaryDirectory() as directory:
            tuner = Timed(
                Sources(),
                objective="val_src1_loss",
                max_trials=TRIALS_PER_SEARCH,
                seed=cfg.seed,
                directory=directory,
                project_name="backends",
            )
            tuner.search(x, y, validation_data=(xv, yv), **fit())
            statuses = {t.status for t in tuner.oracle.trials.values()}
            if statuses != {"COMPLETED"} or len(walls) != TRIALS_PER_SEARCH:
                raise RuntimeError(f"the search did not complete its trials: {statuses}")
        return walls

    ways: dict[str, Callable[[], list[float] | None]] = {
        "plain": plain,
        "tuneweights": weighted,
        "search": search,
    }
    measured: dict[str, dict[str, list[float]]] = {w: {"epoch": [], "cpu": [], "fixed": []} for w in WAYS}
    for r in range(cfg.rounds):
        order = list(WAYS[r % len(WAYS) :] + WAYS[: r % len(WAYS)])
        for way in order:
            BEGUN.clear()
            start = time.perf_counter()
            walls = ways[way]()  # a search times its trials; the others are one trial
            if walls is None:
                walls = [time.perf_counter() - start]
            # Each training left E epoch starts and its end in BEGUN.
            per_trial = [BEGUN[i : i + cfg.epochs + 1] for i in range(0, len(BEGUN), cfg.epochs + 1)]
            epochs, cpus, fixed = [], [], []
            for wall, marks in zip(walls, per_trial, strict=True):
                timed = list(zip(marks[1:-1], marks[2:], strict=True))  # every epoch but the first
                epoch = statistics.median(b[0] - a[0] for a, b in timed)
                epochs.append(epoch)
                cpus.append(statistics.median(b[1] - a[1] for a, b in timed))
                fixed.append(wall - cfg.epochs * epoch)
            measured[way]["epoch"].append(statistics.median(epochs))
            measured[way]["cpu"].append(statistics.median(cpus))
            measured[way]["fixed"].append(statistics.median(fixed))
    return {
        "backend": keras.backend.backend(),
        "version": _version(keras.backend.backend()),
        "keras": keras.__version__,
        "measured": measured,
    }


def _version(backend: str) -> str:
    from importlib.metadata import version

    return version(backend)


# -- every backend (the parent process) ---------------------------------------------------------
def run_backend(backend: str, cfg: Config) -> dict[str, Any]:
    """Run this script for one backend in a subprocess; its last line is a JSON record."""
    command = [sys.executable, os.path.abspath(__file__), "--child", *cfg_args(cfg)]
    env = dict(os.environ, KERAS_BACKEND=backend)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"{backend} failed:\n{result.stderr[-3000:]}")
    record: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return record


def cfg_args(cfg: Config) -> list[str]:
    return ["--rounds", str(cfg.rounds), "--epochs", str(cfg.epochs), "--batch-size", str(cfg.batch_size)]


def ratios(values: list[float], baseline: list[float]) -> list[float]:
    return [v / b for v, b in zip(values, baseline, strict=True)]


def summary(record: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per way: medians over rounds of the epoch, the fixed cost and their comparisons with plain.

    The epoch as a ratio to plain's (median, lowest, highest over rounds); the
    fixed cost as a ratio and as a difference in seconds (a ratio of two costs
    near zero, as on PyTorch, which compiles nothing, says little).
    """
    measured = record["measured"]
    plain = measured["plain"]
    out = {}
    for way in WAYS:
        epochs, fixed = measured[way]["epoch"], measured[way]["fixed"]
        per_round = ratios(epochs, plain["epoch"])
        out[way] = {
            "epoch": statistics.median(epochs),
            "epoch_ratio": statistics.median(per_round),
            "epoch_lo": min(per_round),
            "epoch_hi": max(per_round),
            "cpu": statistics.median(measured[way]["cpu"]),
            "cpu_ratio": statistics.median(ratios(measured[way]["cpu"], plain["cpu"])),
            "fixed": statistics.median(fixed),
            "fixed_ratio": statistics.median(ratios(fixed, plain["fixed"])),
            "fixed_diff": statistics.median(f - p for f, p in zip(fixed, plain["fixed"], strict=True)),
        }
    return out


def report(records: list[dict[str, Any]], cfg: Config, seconds: float) -> str:
    """Print the table; return the headline."""
    steps = -(-300 // cfg.batch_size)
    print(
        f"backends: problem A (300 train, 300 val, batch {cfg.batch_size}: {steps} steps/epoch), "
        f"{cfg.rounds} rounds x {cfg.epochs} epochs, {TRIALS_PER_SEARCH} trials per search; "
        f"Keras {records[0]['keras']}, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'backend':<18} {'way':<12} {'ms/epoch':>9} {'vs plain':>9} {'rounds lo-hi':>13} "
        f"{'cpu ms':>7} {'cpu vs':>7} {'fixed s':>8} {'vs plain':>9} {'+s':>6}"
    )
    headline = []
    for record in records:
        rows = summary(record)
        label = f"{record['backend']} {record['version']}"
        for way, row in rows.items():
            print(
                f"{label:<18} {way:<12} {1000 * row['epoch']:>9.1f} {row['epoch_ratio']:>9.3f} "
                f"{row['epoch_lo']:>6.2f}-{row['epoch_hi']:<6.2f} {1000 * row['cpu']:>7.1f} "
                f"{row['cpu_ratio']:>7.3f} {row['fixed']:>8.2f} "
                f"{row['fixed_ratio']:>9.2f} {row['fixed_diff']:>+6.2f}"
            )
        headline.append(f"{record['backend']} {100 * (rows['tuneweights']['epoch_ratio'] - 1):+.1f}%")
    print(f"total wall time: {seconds:.0f} s")
    return (
        f"headline: backends={', '.join(headline)} per epoch against plain model.fit "
        "(goal: every feature on every backend; within 3% of plain model.fit on TensorFlow)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds x 4 epochs")
    parser.add_argument("--rounds", type=int, default=Config.rounds)
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--batch-size", type=int, default=Config.batch_size)
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated; default: all installed"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rounds, epochs = (2, 4) if args.quick else (args.rounds, args.epochs)
    if epochs < 3:
        parser.error("argument --epochs must be >= 3 (the first epoch of a trial is not timed)")
    cfg = Config(rounds=rounds, epochs=epochs, batch_size=args.batch_size)
    if args.child:
        print(json.dumps(child(cfg)))
        return
    start = time.perf_counter()
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(wanted) - set(BACKENDS))
    if unknown:
        parser.error(f"argument --backends must name backends among {list(BACKENDS)}; received {unknown}")
    installed = [b for b in wanted if importlib.util.find_spec(b) is not None]
    if not installed:
        parser.error(f"none of the backends {wanted} is installed")
    records = [run_backend(backend, cfg) for backend in installed]
    print(report(records, cfg, time.perf_counter() - start))


if __name__ == "__main__":
    main()
