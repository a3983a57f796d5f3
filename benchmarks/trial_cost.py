"""What a trial costs: tuneweights' tuner against keras-tuner's on the same hypermodel.

Both tools run a RandomSearch of the same plain ``build(hp)`` hypermodel (the
only change is the import, ``keras_tuner`` or ``tuneweights``): a tiny
8-16(tanh)-1 model on 64 rows, one batch of 64, validated on the same rows,
Adam with a searched learning rate, objective ``val_loss``. A third way,
``plain``, is the loop a user would write without a tuner: per trial,
``keras.backend.clear_session()``, build, compile, ``model.fit``. Every search
runs in its own process (the way a user's script runs), which times only the
call that does the work.

Two tables:

* **per trial**: searches of N one-epoch trials, N in ``--trials``
  (default 10, 100, 400): seconds per trial (search wall time / N), and the
  ratio of keras-tuner's to tuneweights' (how many times cheaper a
  tuneweights trial is) and of tuneweights' to ``plain``. R rounds
  (``--rounds``) run every way for every size, in an order rotated every
  round, so that load on a shared machine hits all alike; the table gives
  medians over rounds, and each ratio is the median of the per-round ratios.
* **per epoch**: one trial of E epochs (``--epochs``, default 500) per way,
  the three ways in their own processes taking turns epoch by epoch
  (``turns.py``: only one trains at a time, and a change of load hits all
  alike); an epoch lasts from its turn to the start of the next, so the
  reporting, the checkpoints (tuneweights' default policy) and the best-epoch
  copies count. For windows of epochs (10-60, the middle 50 and the last 50)
  the mean epoch in milliseconds (what an epoch costs, checkpoints included)
  and tuneweights' ratios to plain ``model.fit`` and to keras-tuner; then
  how tuneweights' ratio to plain ``model.fit`` changed from the first window
  to the last (flat: an epoch does not cost more as the epochs run; taken
  against plain ``model.fit`` in the same windows, a change of the machine's
  load cancels out). With R rounds, medians over rounds.

Run ``python benchmarks/trial_cost.py`` (about half an hour on 2 cores with the
defaults), ``--trials 10,40 --rounds 2`` for a shorter run, ``--quick`` for a
smoke run. The last line is the headline, ``trial_cost=``: at the largest N,
how many times cheaper a tuneweights trial is than a keras-tuner trial (goal:
5x), tuneweights' epoch over the last window against plain ``model.fit``
(goal: within 1.1x), and the growth of that ratio from the first window
(goal: within 1.1x).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import turns  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAYS = ("plain", "keras-tuner", "tuneweights")
ROWS = 64


# -- one measurement (the child process) ------------------------------------------------------
def _child(
    way: str, trials: int, epochs: int, directory: str, callbacks: tuple[Any, ...] = ()
) -> dict[str, Any]:
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 8)).astype("float32")
    y = np.tanh(x[:, :1] - x[:, 1:2]).astype("float32")

    def build(hp: Any) -> Any:
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(16, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")), "mse")
        return model

    fit = {"validation_data": (x, y), "epochs": epochs, "batch_size": ROWS, "verbose": 0}
    if callbacks:
        fit["callbacks"] = list(callbacks)
    if way == "plain":
        import keras_tuner as kt

        space = kt.HyperParameters()
        space.Float("lr", 1e-3, 1e-1, sampling="log")
        start = time.perf_counter()
        for trial in range(trials):
            keras.backend.clear_session()
            hp = kt.HyperParameters()
            hp.Fixed("lr", float(space.space[0].random_sample(trial)))
            build(hp).fit(x, y, **fit)
        wall = time.perf_counter() - start
        return {"wall": wall, "completed": trials}
    if way == "keras-tuner":
        import keras_tuner as module
    else:
        import tuneweights as module  # type: ignore[no-redef]
    tuner = module.RandomSearch(
        build, objective="val_loss", max_trials=trials, seed=1, directory=directory, project_name="cost"
    )
    start = time.perf_counter()
    tuner.search(x, y, **fit)
    wall = time.perf_counter() - start
    completed = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())
    return {"wall": wall, "completed": completed}


def _turn_child(way: str, epochs: int, directory: str) -> dict[str, Any]:
    """One trial of `epochs` epochs, taking turns with the other ways (`turns.run`)."""
    return _child(way, 1, epochs, os.path.join(directory, way), callbacks=(turns.turns(),))


def _measure(way: str, trials: int, epochs: int) -> float:
    """Seconds the child spent on `trials` trials of `epochs` epochs; fails unless all completed."""
    with tempfile.TemporaryDirectory(prefix="trial-cost-") as directory:
        out = subprocess.run(
            [sys.executable, __file__, "--child", way, str(trials), str(epochs), directory],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
    if out.returncode != 0:
        raise SystemExit(f"{way} ({trials} trials x {epochs} epochs) failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["completed"] != trials:
        raise SystemExit(f"{way}: only {result['completed']} of {trials} trials completed")
    return float(result["wall"])


# -- the parent -------------------------------------------------------------------------------
def _rotated(items: list[Any], shift: int) -> list[Any]:
    shift %= len(items)
    return items[shift:] + items[:shift]


def run(trial_counts: list[int], epochs: int, rounds: int) -> dict[str, Any]:
    per_trial: dict[tuple[str, int], list[float]] = {}
    durations: dict[str, list[list[float]]] = {way: [] for way in WAYS}
    for r in range(rounds):
        for n in trial_counts:
            for way in _rotated(list(WAYS), r):
                per_trial.setdefault((way, n), []).append(_measure(way, n, 1) / n)
        if epochs > 1:
            with tempfile.TemporaryDirectory(prefix="trial-cost-") as directory:
                results = turns.run(_turn_child, _rotated(list(WAYS), r), epochs, directory)
            for way in WAYS:
                if results[way]["result"]["completed"] != 1 or len(results[way]["durations"]) != epochs:
                    raise SystemExit(f"{way}: the {epochs}-epoch trial did not complete every epoch")
                durations[way].append(results[way]["durations"])
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {"per_trial": per_trial, "durations": durations}


def _ratio(a: list[float], b: list[float]) -> float:
    """The median of the per-round ratios a/b; nan when no round has b > 0 (a cost lost in noise)."""
    ratios = [x / y for x, y in zip(a, b, strict=True) if y > 0]
    return statistics.median(ratios) if ratios else float("nan")


def _window_means(results: dict[str, Any], way: str, low: int, high: int) -> list[float]:
    """The way's mean epoch over the window, one per round."""
    return [turns.window_mean(d, low, high) for d in results["durations"][way]]


def report(results: dict[str, Any], trial_counts: list[int], epochs: int, rounds: int) -> list[str]:
    import keras
    import keras_tuner

    lines = [
        f"trial_cost: {ROWS} rows, one batch, 8-16-1 model, {rounds} round(s), keras {keras.__version__}, "
        f"keras-tuner {keras_tuner.__version__}, backend {keras.backend.backend()}, "
        f"python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "",
        "per trial (N one-epoch trials): seconds per trial",
        f"{'trials':>7} {'plain':>8} {'keras-tuner':>12} {'tuneweights':>12} {'kt / tw':>8} "
        f"{'tw / plain':>11}",
    ]
    per_trial = results["per_trial"]
    for n in trial_counts:
        p, k, t = (per_trial[(w, n)] for w in WAYS)
        lines.append(
            f"{n:>7} {statistics.median(p):>8.3f} {statistics.median(k):>12.3f} "
            f"{statistics.median(t):>12.3f} "
            f"{_ratio(k, t):>8.2f} {_ratio(t, p):>11.2f}"
        )
    n = max(trial_counts)
    cheaper = _ratio(per_trial[("keras-tuner", n)], per_trial[("tuneweights", n)])
    headline = f"headline: trial_cost={cheaper:.2f}x cheaper per trial than keras-tuner at {n} trials"
    goal = "5x cheaper per trial"
    if epochs > 1:
        spans = turns.windows(epochs)
        lines += [
            "",
            f"per epoch (one trial of {epochs} epochs per way, in turns): mean milliseconds per epoch",
            f"{'epochs':>9} {'plain':>8} {'keras-tuner':>12} {'tuneweights':>12} {'tw / plain':>11} "
            f"{'tw / kt':>8}",
        ]
        for low, high in spans:
            p, k, t = (_window_means(results, w, low, high) for w in WAYS)
            ms = [1e3 * statistics.median(values) for values in (p, k, t)]
            lines.append(
                f"{f'{low}-{high}':>9} {ms[0]:>8.1f} {ms[1]:>12.1f} {ms[2]:>12.1f} "
                f"{_ratio(t, p):>11.2f} {_ratio(t, k):>8.2f}"
            )
        (first_lo, first_hi), (low, high) = spans[0], spans[-1]
        tw_first, tw_last = (
            _window_means(results, "tuneweights", lo, hi) for lo, hi in (spans[0], spans[-1])
        )
        plain_first, plain_last = (
            _window_means(results, "plain", lo, hi) for lo, hi in (spans[0], spans[-1])
        )
        against = _ratio(tw_last, plain_last)
        # Growth against plain model.fit's epoch in the same windows: a change of load cancels out.
        growth = _ratio(
            [t / p for t, p in zip(tw_last, plain_last, strict=True)],
            [t / p for t, p in zip(tw_first, plain_first, strict=True)],
        )
        lines.append(
            f"from epochs {first_lo}-{first_hi} to {low}-{high}: tuneweights' epoch against plain "
            f"model.fit's {growth:.2f}x (tuneweights' own {_ratio(tw_last, tw_first):.2f}x, "
            f"plain model.fit's {_ratio(plain_last, plain_first):.2f}x)"
        )
        headline += (
            f", {against:.2f}x plain model.fit per epoch at epochs {low}-{high}, "
            f"{growth:.2f}x from epochs {first_lo}-{first_hi} to {low}-{high} against plain model.fit"
        )
        goal += ", per epoch within 1.1x of plain model.fit and flat"
    headline += f" (goal: {goal})"
    lines += ["", headline]
    return lines


def _counts(text: str, name: str, least: int) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise SystemExit(f"--{name} must be comma-separated integers, got {text!r}") from None
    if not values or values[0] < least:
        raise SystemExit(f"--{name} must list integers >= {least}, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="10,100,400", help="searches of N one-epoch trials")
    parser.add_argument("--epochs", type=int, default=500, help="one trial of E epochs per way, in turns")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="smoke run: --trials 2 --epochs 12")
    parser.add_argument(
        "--child", nargs=4, metavar=("WAY", "TRIALS", "EPOCHS", "DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        way, trials, epochs, directory = args.child
        print(json.dumps(_child(way, int(trials), int(epochs), directory)))
        return
    if args.quick:
        args.trials, args.epochs = "2", 12
    if args.rounds < 1:
        raise SystemExit(f"--rounds must be >= 1, got {args.rounds}")
    if args.epochs < 1:
        raise SystemExit(f"--epochs must be >= 1, got {args.epochs}")
    trial_counts = _counts(args.trials, "trials", 1)
    results = run(trial_counts, args.epochs, args.rounds)
    print("\n".join(report(results, trial_counts, args.epochs, args.rounds)))


if __name__ == "__main__":
    main()
