"""Every feature end to end on each Keras backend: TensorFlow, and JAX and PyTorch where installed.

Keras reads its backend once, at import, and the suite runs on TensorFlow; so
`backends_script.py` runs in a subprocess with ``KERAS_BACKEND`` set, and
reports what it observed as JSON: the same checks on every backend. One
subprocess per backend (30 s to a minute on 2 cores); the checks are grouped
by feature below.
"""

import json
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tests.e2e.scripts import backends, run_script
from tuneweights import strategies as S

# TensorFlow and PyTorch run the same checks in the slow tier (PyTorch also in `tox -e torch`): the rest of the suite checks each feature on TensorFlow in detail.
BACKENDS = backends("tensorflow", "jax", "torch", slow=("tensorflow", "torch"))


def steps(trial, name):
    return [step for step, _ in trial["logs"][name]]


def values(trial, name):
    return [value for _, value in trial["logs"][name]]


def check_static_weights(observed):
    trials = observed["trials"]
    assert [t["status"] for t in trials.values()] == ["COMPLETED", "COMPLETED"]
    for trial in trials.values():
        assert steps(trial, "val_a_loss") == [0, 1] and steps(trial, "b_weight") == [0, 1]
    first, second = trials.values()
    assert abs(np.log(values(first, "b_weight")[0] / values(second, "b_weight")[0])) > 0.5  # two weights
    assert values(first, "val_a_loss")[-1] != values(second, "val_a_loss")[-1]
    assert observed["learned_difference"] > 1e-3  # weights 0.01 and 100 from the same start


def check_schedules_and_switches(observed):
    (trial,) = observed.values()
    assert trial["status"] == "COMPLETED"
    assert steps(trial, "val_a_loss") == [0, 1, 2]
    # a searched epoch schedule, and a per-step one logged at each epoch's last step
    assert_allclose(values(trial, "b_weight"), trial["expected_b_weight"], rtol=1e-5)
    assert_allclose(values(trial, "c_weight"), trial["expected_c_weight"], rtol=1e-5)
    # at a point in training, on a metric at an epoch's end, on the state inside the step
    assert values(trial, "d_switch_epoch") == [-1, -1, 2]
    assert values(trial, "e_switch_epoch") == [-1, 1, 1]
    assert values(trial, "f_switch_epoch") == [0, 0, 0]  # SwitchOnState(once=False), its condition always met
    mse, d, e, f = (values(trial, f"{t}_loss") for t in "bdef")
    assert_allclose([d[0], d[1], e[0]], [mse[0], mse[1], mse[0]], rtol=1e-5)  # before: MSE
    assert_allclose([d[2], e[1], e[2]], [f[2], f[1], f[2]], rtol=1e-5)  # after: MAE, as f from the start
    assert abs(e[1] - mse[1]) > 0.1 * mse[1]


def check_strategies(observed):
    trials = {t["strategy"]: t for t in observed.values()}
    assert sorted(trials) == ["dwa", "gradnorm", "project_conflicts_e2e", "separate"]
    for trial in trials.values():
        assert trial["status"] == "COMPLETED" and steps(trial, "val_a_loss") == [0, 1, 2]
    # DWA sets the weights on the host, between epochs, from the two epochs before
    dwa = trials["dwa"]
    assert values(dwa, "a_weight")[:2] == [1.0, 1.0]
    losses = [values(dwa, "a_loss"), values(dwa, "b_loss")]
    expected = S.dwa_weights([x[1] for x in losses], [x[0] for x in losses], 2.0)
    assert_allclose([values(dwa, "a_weight")[2], values(dwa, "b_weight")[2]], expected, rtol=1e-5)
    # GradNorm sets them inside the step: they move every epoch and sum to K
    gradnorm = trials["gradnorm"]
    assert len(set(values(gradnorm, "a_weight"))) == 3
    assert_allclose(np.add(values(gradnorm, "a_weight"), values(gradnorm, "b_weight")), 2.0, rtol=1e-5)
    finals = {name: values(t, "val_a_loss")[-1] for name, t in trials.items()}
    assert len(set(finals.values())) == 4, finals  # each strategy learned something else


def check_reused_models(observed):
    reused, fresh = observed["True"], observed["False"]
    assert reused["reused"] == 2 and fresh["reused"] == 0
    assert len(reused["b_weights"]) == 3  # three schedules of `b`, one compiled model
    assert reused["trials"].keys() == fresh["trials"].keys()
    for trial_id, trial in reused["trials"].items():
        assert trial["status"] == "COMPLETED" and steps(trial, "val_a_loss") == [0, 1, 2]
        for name, logged in trial["logs"].items():
            assert_allclose(logged, fresh["trials"][trial_id]["logs"][name], rtol=1e-5, err_msg=name)


def check_pruning(observed):
    trials = observed["trials"]
    assert observed["pruned"] == {"1": 1}
    assert [t["status"] for t in trials.values()] == ["COMPLETED", "COMPLETED"]  # a pruned trial completes
    assert steps(trials["0"], "val_a_loss") == [0, 1, 2]
    assert steps(trials["1"], "val_a_loss") == [0, 1]


def check_resume(observed):
    assert observed["interrupted"]
    assert observed["begun"][:2] == [1, 2]  # the interrupted trial went on from its checkpoint of epoch 0
    assert observed["run_times"] == {"0": 1, "1": 1}
    for trial in observed["trials"].values():
        assert trial["status"] == "COMPLETED"
        assert steps(trial, "val_a_loss") == [0, 1, 2]  # every epoch recorded once


def check_gradient_level_strategies(observed):
    gradnorm = observed["gradnorm"]
    assert gradnorm["error"] < 1e-4
    assert_allclose(gradnorm["weights"], gradnorm["expected_weights"], rtol=1e-5)
    separate = observed["separate"]
    assert separate["error"] < 1e-4 and separate["iterations"] == 1
    user = observed["user_strategy"]
    assert user["needs_gradients"] and user["conflict"] < 0  # the projection is exercised
    assert user["error"] < 1e-4
    mixed = observed["mixed_precision"]  # float16 forward: a looser tolerance
    assert mixed["model_optimizer"] == "LossScaleOptimizer"
    assert mixed["term_optimizers"] == ["LossScaleOptimizer"]
    assert mixed["error"] < 0.02 and mixed["iterations"] == 1


def check_assignment_within_an_epoch(observed):
    assert observed["b_weight"] == 0.0
    assert_allclose(observed["loss"], observed["expected"], rtol=1e-5)


def check_untracked_optimizer(observed, backend):
    if backend != "jax":  # the update happens in place: nothing to refuse
        assert observed["error"] is None
        return
    match = (
        r"Argument `train step` must assign only variables of the model's state on the 'jax' backend, .*"
        r"give its optimizers to `model.track_optimizers`\). Received: train step='sgd(_\d+)?/iteration'"
    )
    assert re.fullmatch(match, observed["error"]), observed["error"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_feature_on_the_backend(tmp_path, backend):
    lines = run_script(
        "tests/e2e/backends_script.py", str(tmp_path), timeout=900, env={"KERAS_BACKEND": backend}
    )
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result["backend"] == backend
    check_static_weights(result["static"])
    check_schedules_and_switches(result["timed"])
    check_reused_models(result["reuse"])
    check_strategies(result["strategies"])
    check_pruning(result["pruning"])
    check_resume(result["resume"])
    check_gradient_level_strategies(result)
    check_assignment_within_an_epoch(result["assign"])
    check_untracked_optimizer(result["untracked"], backend)
