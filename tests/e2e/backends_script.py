"""Every feature of tuneweights end to end, on the Keras backend of this process.

Keras reads its backend once, at import, so `test_backends.py` runs this
script in a subprocess with ``KERAS_BACKEND`` set (tensorflow, jax, torch). It searches
and trains tiny models and prints, as its last line, ``RESULT <json>``: what
it observed (trial statuses, the epochs recorded in the oracle, logged
weights and losses, and updates next to the same step computed by hand with
numpy). The test asserts on it.

Usage: python backends_script.py DIRECTORY [CHECK ...]  (default: every check)
"""

import dataclasses
import json
import os
import sys
import time
from typing import ClassVar

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

import tuneweights as tw  # noqa: E402
from tests.conftest import TwoSources, make_data  # noqa: E402
from tests.e2e.scripts import freeze_imports  # noqa: E402
from tuneweights import schedules as Sch  # noqa: E402
from tuneweights import strategies as S  # noqa: E402
from tuneweights.training import compile_weighted  # noqa: E402

freeze_imports()

EPOCHS = 3


# -- searches ------------------------------------------------------------------------------
def histories(tuner, names):
    """Per trial: status, and each logged name's (epoch, value) pairs as the oracle recorded them."""
    out = {}
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        logged = {
            name: [[o.step, float(o.mean())] for o in trial.metrics.get_history(name)]
            for name in names
            if trial.metrics.exists(name)
        }
        out[trial_id] = {"status": trial.status, "logs": logged}
    return out


def search(tuner, epochs=EPOCHS, callbacks=()):
    x, y = make_data()
    tuner.search(x, y, validation_data=(x, y), epochs=epochs, verbose=0, callbacks=list(callbacks))


def static_weights(directory):
    """A searched ratio: two trials, two weights; and two weights trained from the same start."""
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=2, seed=1, directory=directory, project_name="static"
    )
    search(tuner, epochs=2)
    facts = histories(tuner, ["val_a_loss", "b_weight"])
    x, y = make_data()
    kernels = []
    for weight in (0.01, 100.0):
        model = tw.WeightedModel(TwoSources().build(None), TwoSources.terms, weights={"b": weight})
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        kernels.append(model.base.get_layer("pred").get_weights()[0])
    return {"trials": facts, "learned_difference": float(np.abs(kernels[0] - kernels[1]).max())}


class Timed(TwoSources):
    """A searched epoch schedule, a fixed per-step schedule and the three kinds of switch.

    The switched terms all use the prediction and target of `b`: while a
    term uses its first loss its logged loss is `b`'s (MSE), after its switch
    it is the MAE, the same for every switched term.
    """

    terms = [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term(
            "b", "mse", output="pred", target="yb", weight=tw.ScheduleSearch(families=("step", "linear"))
        ),
        tw.Term("c", "mse", output="pred", target="ya", weight=Sch.Linear(start=1.0, end=0.0), update="step"),
        tw.Term("d", tw.SwitchAt("mse", "mae", at=0.5), output="pred", target="yb"),
        tw.Term(
            "e",
            tw.SwitchOnMetric("mse", "mae", monitor="val_a_loss", threshold=1e9),
            output="pred",
            target="yb",
        ),
        tw.Term("f", tw.SwitchOnState("mse", "mae", threshold=1e9, once=False), output="pred", target="yb"),
    ]


def schedules_and_switches(directory):
    tuner = tw.RandomSearch(
        Timed(), objective="val_a_loss", max_trials=1, seed=2, directory=directory, project_name="timed"
    )
    search(tuner)
    names = ["val_a_loss", "b_loss", "b_weight", "c_weight", "d_loss", "e_loss", "f_loss"]
    names += [f"{t}_switch_epoch" for t in "def"]
    facts = histories(tuner, names)
    for trial_id, trial in tuner.oracle.trials.items():
        weights = tuner.decode(trial.hyperparameters).weights
        facts[trial_id]["expected_b_weight"] = [weights["b"].value(e, EPOCHS) for e in range(EPOCHS)]
        # 64 samples in batches of 32: the weight logged at an epoch's end is that of its second step
        facts[trial_id]["expected_c_weight"] = [weights["c"].value(e + 0.5, EPOCHS) for e in range(EPOCHS)]
    return facts


def reused_models(directory):
    """Three trials of `Timed` (their schedules of `b` differ), with and without a reused model."""
    runs = {}
    for reuse_models in (True, False):
        tuner = tw.RandomSearch(
            Timed(),
            objective="val_a_loss",
            max_trials=3,
            seed=4,
            directory=directory,
            project_name=f"reuse_{reuse_models}",
            reuse_models=reuse_models,
        )
        search(tuner)
        runs[str(reuse_models)] = {
            "reused": tuner._reuse.reused,
            "trials": histories(tuner, ["val_a_loss", "b_weight", "d_loss"]),
            "b_weights": sorted(
                {repr(tuner.decode(t.hyperparameters).weights["b"]) for t in tuner.oracle.trials.values()}
            ),
        }
    return runs


@S.register
@dataclasses.dataclass(frozen=True)
class ProjectConflicts(S.Strategy):
    """A user's gradient-level strategy (PCGrad, Yu et al. 2020), written with keras.ops only."""

    name: ClassVar[str] = "project_conflicts_e2e"
    uses_term_weights: ClassVar[bool] = True

    def apply_gradients(self, step):
        flat = [step.flat(step.weighted(k)) for k in range(len(step.gradients))]
        total = None
        for i, g in enumerate(flat):
            for j, other in enumerate(flat):
                if i != j:
                    g = g - ops.minimum(ops.sum(g * other), 0.0) / ops.sum(other * other) * other
            total = g if total is None else total + g
        step.apply(step.unflat(total))


class Strategies(TwoSources):
    terms = [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term("b", "mse", output="pred", target="yb"),
    ]
    strategy = ["dwa", "gradnorm", "separate", ProjectConflicts()]


def strategy_search(directory):
    tuner = tw.GridSearch(
        Strategies(), objective="val_a_loss", directory=directory, project_name="strategies"
    )
    search(tuner)
    facts = histories(tuner, ["val_a_loss", "a_loss", "b_loss", "a_weight", "b_weight"])
    for trial_id, trial in tuner.oracle.trials.items():
        facts[trial_id]["strategy"] = trial.hyperparameters.get("strategy")
    return facts


@tw.pruners.register
@dataclasses.dataclass(frozen=True)
class AllButTheFirst(tw.Pruner):
    """Prunes every trial but the first after epoch 1: the same every time, on every backend."""

    name: ClassVar[str] = "all_but_the_first_e2e"

    def prune(self, history, others, step, direction):
        return step >= 1 and len(others) >= 1


def pruning(directory):
    tuner = tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=2,
        seed=3,
        directory=directory,
        project_name="pruning",
        pruner=AllButTheFirst(),
    )
    search(tuner)
    return {"trials": histories(tuner, ["val_a_loss"]), "pruned": dict(tuner.oracle.pruned)}


STARTED = {"trials": 0}
BEGUN = []


class InterruptSecondTrial(keras.callbacks.Callback):
    """Ctrl-C at the end of epoch 1 of the second trial, before the tuner reports or checkpoints it."""

    def on_train_begin(self, logs=None):
        STARTED["trials"] += 1

    def on_epoch_end(self, epoch, logs=None):
        if STARTED["trials"] == 2 and epoch == 1:
            raise KeyboardInterrupt


class RecordEpochs(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        BEGUN.append(epoch)


def resume(directory):
    def run(callbacks):
        tuner = tw.RandomSearch(
            TwoSources(),
            objective="val_a_loss",
            max_trials=2,
            seed=5,
            directory=directory,
            project_name="resume",
            checkpoint_every=1,
        )
        search(tuner, callbacks=callbacks)
        return tuner

    try:
        run([InterruptSecondTrial()])
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
    tuner = run([RecordEpochs()])
    return {
        "interrupted": interrupted,
        "begun": BEGUN,
        "run_times": dict(tuner.oracle.wrapped._run_times),
        "trials": histories(tuner, ["val_a_loss"]),
    }


# -- one step by hand ------------------------------------------------------------------------
def two_heads():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    shared = keras.layers.Dense(2, use_bias=False, name="shared")(inputs)
    return keras.Model(
        inputs,
        {
            "a": keras.layers.Dense(1, use_bias=False, name="a")(shared),
            "b": keras.layers.Dense(1, use_bias=False, name="b")(shared),
        },
    )


def hand_data(scale=1.0):
    rng = np.random.default_rng(0)
    x = scale * rng.normal(size=(8, 3)).astype("float32")
    return x, {
        "a": scale * rng.normal(size=(8, 1)).astype("float32"),
        "b": scale * 3 * rng.normal(size=(8, 1)).astype("float32"),
    }


def mse_grads(x, w, head, y):
    """Loss, d/dW and d/dhead of mean((x W head - y)^2)."""
    residual = x @ w @ head - y
    return (
        float(np.mean(residual**2)),
        2 / len(x) * x.T @ residual @ head.T,
        2 / len(x) * (x @ w).T @ residual,
    )


def kernels(base):
    return [base.get_layer(n).get_weights()[0] for n in ("shared", "a", "b")]


def pcgrad_by_hand(grads):
    projected = []
    for i, g in enumerate(grads):
        for j, other in enumerate(grads):
            if i != j:
                g = g - min(float(g @ other), 0.0) / float(other @ other) * other
        projected.append(g)
    return sum(projected)


def one_step(strategy, terms, optimizer=None, scale=1.0, y_of=None):
    """Train one full-batch step; return the model, kernels before and after, and the hand gradients."""
    x, y = hand_data(scale)
    y = y_of(y) if y_of else y
    base = two_heads()
    if y_of:  # small heads, equal: predictions far from opposite targets, so the gradients conflict
        small = [0.1 * h for h in base.get_layer("a").get_weights()]
        base.get_layer("a").set_weights(small)
        base.get_layer("b").set_weights(small)
    before = kernels(base)
    model = compile_weighted(
        base, terms, optimizer=optimizer or keras.optimizers.SGD(0.01), strategy=strategy
    )
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    w, ha, hb = before
    return model, before, kernels(base), mse_grads(x, w, ha, y["a"]), mse_grads(x, w, hb, y["b"])


def error(before, after, deltas):
    """The largest gap between the step taken (`after - before`) and `deltas`, relative to the largest step."""
    gaps = [np.abs(a - b - d).max() for b, a, d in zip(before, after, deltas, strict=True)]
    return float(max(gaps) / max(np.abs(d).max() for d in deltas))


def gradnorm_by_hand():
    strategy = S.GradNorm(alpha=1.5, learning_rate=0.1, optimizer="sgd")
    model, (w, ha, hb), got, (la, gwa, gha), (lb, gwb, ghb) = one_step(strategy, TERMS)
    norms = np.array([np.linalg.norm(gwa), np.linalg.norm(gwb)])
    weights = np.ones(2) - 0.1 * np.sign(norms - norms.mean()) * norms  # first step: every target is the mean
    weights = 2 * weights / weights.sum()
    deltas = [
        -0.01 * (gwa + gwb),
        -0.01 * gha,
        -0.01 * ghb,
    ]  # the model's update: weights 1 at the first step
    return {
        "error": error((w, ha, hb), got, deltas),
        "weights": list(model.term_weights().values()),
        "expected_weights": weights.tolist(),
    }


def separate_by_hand(scale=1.0):
    strategy = S.SeparateOptimizers("sgd", 0.01, terms={"b": {"learning_rate": 0.002}})
    terms = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=3.0)]
    model, before, got, (_, gwa, gha), (_, gwb, ghb) = one_step(strategy, terms, scale=scale)
    deltas = [-0.01 * gwa - 0.002 * 3.0 * gwb, -0.01 * gha, -0.002 * 3.0 * ghb]
    return {
        "error": error(before, got, deltas),
        "iterations": int(ops.convert_to_numpy(model.optimizer.iterations)),
        "term_optimizers": sorted({type(o).__name__ for o in model.term_optimizers().values()}),
        "model_optimizer": type(model.optimizer).__name__,
    }


def user_strategy_by_hand():
    terms = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=2.0)]
    model, before, got, (_, gwa, gha), (_, gwb, ghb) = one_step(
        ProjectConflicts(),
        terms,
        keras.optimizers.SGD(0.1),
        y_of=lambda y: {"a": 3 * y["a"], "b": -3 * y["a"]},
    )
    w, ha, hb = before
    ga = np.concatenate([gwa.ravel(), gha.ravel(), np.zeros(hb.size)])
    gb = 2.0 * np.concatenate([gwb.ravel(), np.zeros(ha.size), ghb.ravel()])
    update = pcgrad_by_hand([ga, gb])
    parts = np.split(update, [w.size, w.size + ha.size])
    deltas = [-0.1 * p.reshape(k.shape) for p, k in zip(parts, before, strict=True)]
    return {
        "conflict": float(ga @ gb),
        "error": error(before, got, deltas),
        "needs_gradients": model.strategy.needs_gradients,
    }


def mixed_precision_by_hand():
    """SeparateOptimizers under mixed_float16: every optimizer scales its loss; one step by hand."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        return separate_by_hand(scale=0.1)  # small values: no float16 overflow, no skipped step
    finally:
        keras.mixed_precision.set_global_policy("float32")


def assignment_within_an_epoch():
    """`assign_term_weights` from a batch callback takes effect at the next step (JAX: state synced)."""
    x, y = make_data(64)
    model = tw.WeightedModel(TwoSources().build(None), TwoSources.terms, weights={"b": 1.0})
    model.compile(optimizer=keras.optimizers.SGD(0.0))  # the model does not move: losses in closed form

    class ZeroAfterFirstBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                self.model.assign_term_weights({"b": 0.0})

    logs = model.fit(
        x, y, epochs=1, batch_size=32, shuffle=False, verbose=0, callbacks=[ZeroAfterFirstBatch()]
    )
    pred = model.base.predict(x, verbose=0)
    a = [float(np.mean((pred[i : i + 32] - y["ya"][i : i + 32]) ** 2)) for i in (0, 32)]
    b = [float(np.mean((pred[i : i + 32] - y["yb"][i : i + 32]) ** 2)) for i in (0, 32)]
    return {
        "loss": logs.history["loss"][0],
        "expected": (a[0] + b[0] + a[1]) / 2,
        "b_weight": model.term_weights()["b"],
    }


@S.register
@dataclasses.dataclass(frozen=True)
class UntrackedOptimizer(S.Strategy):
    """Applies the gradient with an optimizer it does not give to `model.track_optimizers`."""

    name: ClassVar[str] = "untracked_optimizer_e2e"
    uses_term_weights: ClassVar[bool] = True

    def setup(self, model):
        object.__setattr__(self, "own", keras.optimizers.SGD(0.01))
        self.own.build(model.trainable_variables)

    def apply_gradients(self, step):
        step.apply(step.total(), self.own)


def untracked_optimizer():
    """On JAX its update would be lost: refused, by name, before the first step; elsewhere it trains."""
    x, y = hand_data()
    model = compile_weighted(two_heads(), TERMS, strategy=UntrackedOptimizer())
    try:
        model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    except tw.ConfigurationError as error:
        return {"error": str(error)}
    return {"error": None}


TERMS = [tw.Term("a", "mse"), tw.Term("b", "mse")]


def main():
    directory = sys.argv[1]
    checks = {
        "static": lambda: static_weights(directory),
        "timed": lambda: schedules_and_switches(directory),
        "reuse": lambda: reused_models(directory),
        "strategies": lambda: strategy_search(directory),
        "pruning": lambda: pruning(directory),
        "resume": lambda: resume(directory),
        "gradnorm": gradnorm_by_hand,
        "separate": separate_by_hand,
        "user_strategy": user_strategy_by_hand,
        "mixed_precision": mixed_precision_by_hand,
        "assign": assignment_within_an_epoch,
        "untracked": untracked_optimizer,
    }
    chosen = sys.argv[2:] or list(checks)
    result = {"backend": keras.backend.backend(), "seconds": {}}
    for name in chosen:
        check = checks[name]
        start = time.perf_counter()
        result[name] = check()
        result["seconds"][name] = round(time.perf_counter() - start, 1)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
