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
  tuneweights trial is) and of tuneweights' to ``plain``;
* **per epoch**: a search of one trial of E epochs, E in ``--epochs``
  (default 1, 50, 500): its wall time less that of a one-trial, one-epoch
  search of the same way in the same round (the fixed cost), divided by
  E - 1: what every further epoch costs; and the ratios as above. Flat
  over E means that the per-epoch cost does not grow with the epochs run.

R rounds (``--rounds``); each round runs every way for every size, in an
order rotated every round, so that load on a shared machine hits all alike;
the tables give medians over rounds, and each ratio is the median of the
per-round ratios.

Run ``python benchmarks/trial_cost.py`` (about an hour on 2 cores with the
defaults), ``--trials 10,100 --epochs 1,50,200`` for a shorter run, ``--quick``
for a smoke run. The last line is the headline, ``trial_cost=``: at the
largest N, how many times cheaper a tuneweights trial is than a keras-tuner
trial (goal: 5x), and the per-epoch ratio of tuneweights to plain at the
largest E (goal: within 1.1x).
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAYS = ("plain", "keras-tuner", "tuneweights")
ROWS = 64


# -- one measurement (the child process) ------------------------------------------------------
def _child(way: str, trials: int, epochs: int, directory: str) -> dict[str, Any]:
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


def run(trial_counts: list[int], epoch_counts: list[int], rounds: int) -> dict[str, Any]:
    per_trial: dict[tuple[str, int], list[float]] = {}
    walls: dict[tuple[str, int], list[float]] = {}
    longer = [e for e in epoch_counts if e > 1]
    jobs = [("trials", n) for n in trial_counts] + [("epochs", e) for e in ([1, *longer] if longer else [])]
    for r in range(rounds):
        for kind, size in jobs:
            for way in _rotated(list(WAYS), r):
                if kind == "trials":
                    per_trial.setdefault((way, size), []).append(_measure(way, size, 1) / size)
                else:
                    walls.setdefault((way, size), []).append(_measure(way, 1, size))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    # A trial of E epochs less a one-epoch trial of the same round, over E - 1: a further epoch.
    per_epoch = {
        (way, e): [
            max(w - one, 0.0) / (e - 1) for w, one in zip(walls[(way, e)], walls[(way, 1)], strict=True)
        ]
        for way in WAYS
        for e in longer
    }
    return {"per_trial": per_trial, "per_epoch": per_epoch}


def _ratio(a: list[float], b: list[float]) -> float:
    """The median of the per-round ratios a/b; nan when no round has b > 0 (a cost lost in noise)."""
    ratios = [x / y for x, y in zip(a, b, strict=True) if y > 0]
    return statistics.median(ratios) if ratios else float("nan")


def report(
    results: dict[str, Any], trial_counts: list[int], epoch_counts: list[int], rounds: int
) -> list[str]:
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
    per_epoch = results["per_epoch"]
    longer = [e for e in epoch_counts if e > 1]
    if longer:
        lines += [
            "",
            "per epoch (one trial of E epochs, less a one-epoch trial): milliseconds per further epoch",
            f"{'epochs':>7} {'plain':>8} {'keras-tuner':>12} {'tuneweights':>12} {'tw / kt':>8} "
            f"{'tw / plain':>11}",
        ]
        for e in longer:
            p, k, t = (per_epoch[(w, e)] for w in WAYS)
            lines.append(
                f"{e:>7} {1e3 * statistics.median(p):>8.1f} {1e3 * statistics.median(k):>12.1f} "
                f"{1e3 * statistics.median(t):>12.1f} {_ratio(t, k):>8.2f} {_ratio(t, p):>11.2f}"
            )
    n = max(trial_counts)
    cheaper = _ratio(per_trial[("keras-tuner", n)], per_trial[("tuneweights", n)])
    headline = f"headline: trial_cost={cheaper:.2f}x cheaper per trial than keras-tuner at {n} trials"
    goal = "5x cheaper per trial"
    if longer:
        e = max(longer)
        epoch = _ratio(per_epoch[("tuneweights", e)], per_epoch[("plain", e)])
        headline += f", {epoch:.2f}x plain model.fit per further epoch at {e} epochs"
        goal += ", within 1.1x of plain model.fit per epoch"
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
    parser.add_argument("--epochs", default="1,50,500", help="one trial of E epochs")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="smoke run: --trials 2 --epochs 1,8")
    parser.add_argument(
        "--child", nargs=4, metavar=("WAY", "TRIALS", "EPOCHS", "DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        way, trials, epochs, directory = args.child
        print(json.dumps(_child(way, int(trials), int(epochs), directory)))
        return
    if args.quick:
        args.trials, args.epochs = "2", "1,8"
    if args.rounds < 1:
        raise SystemExit(f"--rounds must be >= 1, got {args.rounds}")
    trial_counts = _counts(args.trials, "trials", 1)
    epoch_counts = _counts(args.epochs, "epochs", 1)
    results = run(trial_counts, epoch_counts, args.rounds)
    print("\n".join(report(results, trial_counts, epoch_counts, args.rounds)))


if __name__ == "__main__":
    main()
