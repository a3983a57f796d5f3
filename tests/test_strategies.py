"""Weighting strategies: update rules against hand computations, configs, errors."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import ClassVar

import keras
import keras_tuner as kt
import numpy as np
import pytest
from keras import ops
from numpy.testing import assert_allclose

import tuneweights as tw
from tuneweights import strategies as S
from tuneweights.search import resume
from tuneweights.space import WeightSpace
from tuneweights.training import WeightedModel, compile_weighted, gradients


# -- pure rules ------------------------------------------------------------------
def test_uncertainty_weights_closed_form():
    s = np.array([0.0, np.log(4.0), -np.log(2.0)])
    assert_allclose(S.uncertainty_weights(s), [0.5, 0.125, 1.0])


def test_dwa_weights_by_hand_for_three_terms():
    previous, before, t = [0.5, 1.0, 2.0], [1.0, 1.0, 1.0], 2.0
    r = np.array([0.5, 1.0, 2.0]) / t
    expected = 3 * np.exp(r) / np.exp(r).sum()
    assert_allclose(S.dwa_weights(previous, before, t), expected)
    assert S.dwa_weights(previous, before, t).sum() == pytest.approx(3.0)
    # A large temperature makes them even.
    assert_allclose(S.dwa_weights(previous, before, 1e6), [1.0, 1.0, 1.0], atol=1e-5)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("inverse", [2 * 4 / 5, 2 * 1 / 5]), ("proportional", [2 * 1 / 5, 2 * 4 / 5])],
)
def test_normalised_weights(rule, expected):
    assert_allclose(S.normalised_weights([1.0, 2.0], rule, power=2.0), expected)


def test_gradnorm_gradient_by_hand():
    w = np.array([1.0, 2.0, 0.5])
    norms = np.array([1.0, 1.0, 4.0])
    losses, initial = np.array([0.5, 1.0, 1.0]), np.array([1.0, 1.0, 0.5])
    g = w * norms  # 1, 2, 2
    rates = losses / initial  # 0.5, 1, 2
    r = rates / rates.mean()
    target = g.mean() * r**1.5
    expected = np.sign(g - target) * norms
    assert_allclose(S.gradnorm_gradient(w, norms, losses, initial, 1.5), expected)
    # With alpha = 0 every target is the mean norm: larger norms are pushed down.
    assert_allclose(S.gradnorm_gradient(w, norms, losses, initial, 0.0), [-1.0, 1.0, 4.0])


# -- contract over every registered strategy ------------------------------------------
@pytest.mark.parametrize("name", sorted(S.registered()))
def test_every_strategy_round_trips_through_json_and_deepcopy(name):
    strategy = S.get(name)
    restored = S.get(json.loads(json.dumps(S.serialize(strategy))))
    assert restored == strategy
    assert copy.deepcopy(strategy) == strategy
    assert strategy.describe().startswith(name)


def test_searched_fields_round_trip_and_decode():
    strategy = S.GradNorm(alpha=tw.Range(0.1, 3.0, sampling="linear"), learning_rate=tw.Range(1e-3, 1e-1))
    assert strategy.searched_fields() == ["alpha", "learning_rate"]
    assert S.get(json.loads(json.dumps(S.serialize(strategy)))) == strategy
    hp = kt.HyperParameters()
    strategy.declare(hp, ["a", "b"])
    assert [p.name for p in hp.space] == ["strategy/gradnorm/alpha", "strategy/gradnorm/learning_rate"]
    decoded = strategy.decode({"strategy/gradnorm/alpha": 0.7}, ["a", "b"])
    assert decoded == S.GradNorm(alpha=0.7, learning_rate=1e-2)


def test_separate_optimizers_search_per_term():
    strategy = S.SeparateOptimizers(optimizer=("adam", "sgd"), learning_rate=tw.Range(1e-4, 1e-1))
    hp = kt.HyperParameters()
    strategy.declare(hp, ["a", "b"])
    assert [p.name for p in hp.space] == [
        "strategy/separate/a/optimizer",
        "strategy/separate/a/learning_rate",
        "strategy/separate/b/optimizer",
        "strategy/separate/b/learning_rate",
    ]
    decoded = strategy.decode({"strategy/separate/b/optimizer": "sgd"}, ["a", "b"])
    default = tw.Range(1e-4, 1e-1).default_value()
    assert decoded.settings(["a", "b"]) == {"a": ("adam", default), "b": ("sgd", default)}
    assert not decoded.searched_fields()


# -- errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: S.Uncertainty(learning_rate=0), r"learning_rate.*> 0.*Received: learning_rate=0"),
        (lambda: S.Uncertainty(optimizer="rmsprop"), r"optimizer.*one of \['adam', 'sgd'\]"),
        (lambda: S.DWA(temperature=-1.0), r"temperature.*> 0"),
        (lambda: S.RandomWeights(distribution="cauchy"), r"distribution.*one of"),
        (lambda: S.ValidationDriven(metric="val_loss"), r"metric.*'\{term\}'"),
        (lambda: S.ValidationDriven(momentum=1.0), r"momentum.*\[0, 1\)"),
        (lambda: S.ValidationDriven(rule="max"), r"rule.*one of"),
        (lambda: S.GradNorm(alpha=-0.5), r"alpha.*>= 0"),
        (lambda: S.SeparateOptimizers(optimizer="nope"), r"optimizer.*keras.optimizers.get.*nope"),
        (lambda: S.SeparateOptimizers(terms={"a": {"lr": 1}}), r"terms\['a'\].*'optimizer' and"),
        (lambda: S.StrategySearch(["static"]), r"candidates.*at least two"),
        (lambda: S.StrategySearch(["dwa", "dwa"]), r"candidates.*each once"),
        (lambda: S.as_strategy("softmax"), r"strategy.*registered strategy name"),
    ],
)
def test_configuration_errors(make, match):
    with pytest.raises(tw.ConfigurationError, match=match):
        make()


def two_heads(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    shared = keras.layers.Dense(2, use_bias=False, name="shared")(inputs)
    return keras.Model(
        inputs,
        {
            "a": keras.layers.Dense(1, use_bias=False, name="a")(shared),
            "b": keras.layers.Dense(1, use_bias=False, name="b")(shared),
        },
    )


TERMS = [tw.Term("a", "mse"), tw.Term("b", "mse")]


def test_model_refuses_a_search_searched_fields_and_fixed_weights():
    with pytest.raises(tw.ConfigurationError, match="strategy.*one concrete strategy"):
        WeightedModel(two_heads(), TERMS, strategy=S.StrategySearch(["static", "dwa"]))
    with pytest.raises(tw.ConfigurationError, match=r"searched fields \['temperature'\]"):
        WeightedModel(two_heads(), TERMS, strategy=S.DWA(temperature=tw.Range(1.0, 4.0)))
    with pytest.raises(tw.ConfigurationError, match=r"weights.*left at 1.*'dwa'.*\{'b': 0.5\}"):
        WeightedModel(two_heads(), [TERMS[0], tw.Term("b", "mse", weight=0.5)], strategy="dwa")
    with pytest.raises(tw.ConfigurationError, match=r"GradNorm.layer.*name a layer.*'nope'"):
        WeightedModel(two_heads(), TERMS, strategy=S.GradNorm(layer="nope"))


def test_validation_driven_needs_validation_data():
    model = compile_weighted(two_heads(), TERMS, strategy="validation")
    x, y = data()
    with pytest.raises(tw.ConfigurationError, match=r"validation_data.*'validation'.*val_a_loss"):
        model.fit(x, y, epochs=1, verbose=0)


def test_scheduled_candidate_needs_a_schedule_search():
    with pytest.raises(tw.ConfigurationError, match="'scheduled' only when"):
        WeightSpace(TERMS, strategy=["static", "scheduled"])


# -- in the model: hand computations ----------------------------------------------------
def data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, {
        "a": rng.normal(size=(n, 1)).astype("float32"),
        "b": 3 * rng.normal(size=(n, 1)).astype("float32"),
    }


def forward(model, x):
    w = model.get_layer("shared").get_weights()[0]
    ha, hb = model.get_layer("a").get_weights()[0], model.get_layer("b").get_weights()[0]
    return w, ha, hb, x @ w @ ha, x @ w @ hb


def mse_grads(x, w, head, y):
    """Loss, d/dW and d/dhead of mean((x W head - y)^2)."""
    residual = x @ w @ head - y
    n = len(x)
    loss = float(np.mean(residual**2))
    return loss, 2 / n * x.T @ residual @ head.T, 2 / n * (x @ w).T @ residual


def test_uncertainty_one_sgd_step_by_hand():
    x, y = data()
    base = two_heads()
    w, ha, hb, _, _ = forward(base, x)
    strategy = S.Uncertainty(learning_rate=0.1, optimizer="sgd", initial=0.5)
    model = compile_weighted(base, TERMS, optimizer=keras.optimizers.SGD(0.01), strategy=strategy)
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    la, gwa, gha = mse_grads(x, w, ha, y["a"])
    lb, gwb, ghb = mse_grads(x, w, hb, y["b"])
    weight = 0.5 * np.exp(-0.5)
    s = 0.5 - 0.1 * (0.5 - weight * np.array([la, lb]))
    assert_allclose(model._strategy_state.values("log_variance"), s, rtol=1e-5)
    # The model's step used the weights before the update.
    assert_allclose(base.get_layer("a").get_weights()[0], ha - 0.01 * weight * gha, rtol=1e-5)
    assert_allclose(base.get_layer("shared").get_weights()[0], w - 0.01 * weight * (gwa + gwb), rtol=1e-5)
    assert model.term_weights() == pytest.approx({"a": weight, "b": weight})


def test_uncertainty_adam_fixed_point_is_half_the_inverse_loss():
    x, y = data()
    model = compile_weighted(
        two_heads(), TERMS, optimizer=keras.optimizers.SGD(0.0), strategy=S.Uncertainty(0.05)
    )
    # 300 steps on the same batch (the model does not move: learning rate 0).
    repeated = {k: np.tile(value, (300, 1)) for k, value in y.items()}
    history = model.fit(np.tile(x, (300, 1)), repeated, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    losses = np.array([history.history["a_loss"][-1], history.history["b_loss"][-1]])
    assert_allclose(model.term_weights()["a"] / model.term_weights()["b"], losses[1] / losses[0], rtol=0.05)
    assert_allclose(list(model.term_weights().values()), 0.5 / losses, rtol=0.05)


def test_dwa_weights_follow_the_epoch_loss_ratios():
    x, y = data(32)
    model = compile_weighted(two_heads(), TERMS, strategy=S.DWA(temperature=0.5))
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history
    assert history["a_weight"][:2] == [1.0, 1.0]
    for epoch in (2, 3):
        previous = [history["a_loss"][epoch - 1], history["b_loss"][epoch - 1]]
        before = [history["a_loss"][epoch - 2], history["b_loss"][epoch - 2]]
        expected = S.dwa_weights(previous, before, 0.5)
        assert_allclose([history["a_weight"][epoch], history["b_weight"][epoch]], expected, rtol=1e-5)


def test_random_weights_sum_to_k_change_every_step_and_follow_the_seed():
    x, y = data(32)

    def run():
        model = compile_weighted(two_heads(), TERMS, strategy=S.RandomWeights(seed=3))
        history = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history
        return np.array([history["a_weight"], history["b_weight"]])

    first, second = run(), run()
    assert_allclose(first.sum(axis=0), 2.0, rtol=1e-5)
    assert len(set(np.round(first[0], 6))) == 3
    assert_allclose(first, second)


def test_validation_driven_weights_from_the_validation_losses():
    x, y = data(32)
    strategy = S.ValidationDriven(rule="proportional", power=1.0, momentum=0.25)
    model = compile_weighted(two_heads(), TERMS, strategy=strategy)
    history = model.fit(x, y, epochs=3, batch_size=8, validation_data=(x, y), verbose=0).history
    assert history["a_weight"][0] == 1.0
    weights = np.ones(2)
    for epoch in (1, 2):
        scores = [history["val_a_loss"][epoch - 1], history["val_b_loss"][epoch - 1]]
        weights = 0.25 * weights + 0.75 * S.normalised_weights(scores, "proportional", 1.0)
        assert_allclose([history["a_weight"][epoch], history["b_weight"][epoch]], weights, rtol=1e-5)


def test_validation_driven_names_a_missing_metric():
    x, y = data(16)
    strategy = S.ValidationDriven(metric="val_{term}_accuracy")
    model = compile_weighted(two_heads(), TERMS, strategy=strategy)
    with pytest.raises(tw.ConfigurationError, match=r"missing \['val_a_accuracy', 'val_b_accuracy'\]"):
        model.fit(x, y, epochs=1, validation_data=(x, y), verbose=0)


def test_gradnorm_first_step_by_hand():
    x, y = data()
    base = two_heads()
    w, ha, hb, _, _ = forward(base, x)
    strategy = S.GradNorm(alpha=1.5, learning_rate=0.1, optimizer="sgd")
    model = compile_weighted(base, TERMS, optimizer=keras.optimizers.SGD(0.01), strategy=strategy)
    assert model.shared_layer().name == "shared"
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    la, gwa, gha = mse_grads(x, w, ha, y["a"])
    lb, gwb, ghb = mse_grads(x, w, hb, y["b"])
    norms = np.array([np.linalg.norm(gwa), np.linalg.norm(gwb)])
    # First step: every loss is its own initial loss, so every target is the mean norm.
    weights = np.ones(2) - 0.1 * np.sign(norms - norms.mean()) * norms
    weights = 2 * weights / weights.sum()
    assert_allclose(list(model.term_weights().values()), weights, rtol=1e-5)
    assert_allclose(base.get_layer("shared").get_weights()[0], w - 0.01 * (gwa + gwb), rtol=1e-5)
    assert_allclose(base.get_layer("b").get_weights()[0], hb - 0.01 * ghb, rtol=1e-5)


def test_separate_optimizers_one_step_by_hand():
    x, y = data()
    base = two_heads()
    w, ha, hb, _, _ = forward(base, x)
    strategy = S.SeparateOptimizers("sgd", 0.01, terms={"b": {"learning_rate": 0.002}})
    terms = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=3.0)]
    model = compile_weighted(base, terms, strategy=strategy)
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    _, gwa, gha = mse_grads(x, w, ha, y["a"])
    _, gwb, ghb = mse_grads(x, w, hb, y["b"])
    # The shared layer gets both optimizers' steps; each head only its own.
    assert_allclose(base.get_layer("shared").get_weights()[0], w - 0.01 * gwa - 0.002 * 3.0 * gwb, rtol=1e-5)
    assert_allclose(base.get_layer("a").get_weights()[0], ha - 0.01 * gha, rtol=1e-5)
    assert_allclose(base.get_layer("b").get_weights()[0], hb - 0.002 * 3.0 * ghb, rtol=1e-5)
    assert int(model.optimizer.iterations) == 1


@S.register
@dataclasses.dataclass(frozen=True)
class ProjectConflicts(S.Strategy):
    """PCGrad (Yu et al., 2020) as a user writes it: each term's gradient loses its
    component along any other term's gradient it conflicts with; the sum is applied."""

    name: ClassVar[str] = "project_conflicts_test"
    uses_term_weights: ClassVar[bool] = True

    def apply_gradients(self, step):
        flat = [step.flat(step.weighted(k)) for k in range(len(step.gradients))]
        total = None
        for i, g in enumerate(flat):
            for j, other in enumerate(flat):
                if i != j:
                    dot = ops.sum(g * other)
                    g = g - ops.minimum(dot, 0.0) / ops.sum(other * other) * other
            total = g if total is None else total + g
        step.apply(step.unflat(total))


def pcgrad_by_hand(grads):
    projected = []
    for i, g in enumerate(grads):
        g = g.copy()
        for j, other in enumerate(grads):
            if i != j:
                g = g - min(float(g @ other), 0.0) / float(other @ other) * other
        projected.append(g)
    return sum(projected)


def test_a_gradient_level_strategy_written_by_a_user_trains_one_step_by_hand():
    x, y = data()
    y = {"a": 3 * y["a"], "b": -3 * y["a"]}  # opposite targets from equal heads: the gradients conflict
    base = two_heads()
    small = [0.1 * h for h in base.get_layer("a").get_weights()]  # predictions far from the targets
    base.get_layer("a").set_weights(small)
    base.get_layer("b").set_weights(small)
    w, ha, hb, _, _ = forward(base, x)
    terms = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=2.0)]
    model = compile_weighted(base, terms, optimizer=keras.optimizers.SGD(0.1), strategy=ProjectConflicts())
    assert model.strategy.needs_gradients
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    _, gwa, gha = mse_grads(x, w, ha, y["a"])
    _, gwb, ghb = mse_grads(x, w, hb, y["b"])
    zeros_a, zeros_b = np.zeros_like(ghb), np.zeros_like(gha)
    # variables in order: shared kernel, head a, head b; flat as the strategy sees them
    ga = np.concatenate([gwa.ravel(), gha.ravel(), zeros_a.ravel()])
    gb = 2.0 * np.concatenate([gwb.ravel(), zeros_b.ravel(), ghb.ravel()])
    assert ga @ gb < 0  # they do conflict
    update = pcgrad_by_hand([ga, gb])
    sizes = [w.size, ha.size, hb.size]
    dw, dha, dhb = np.split(update, np.cumsum(sizes)[:-1])
    assert_allclose(base.get_layer("shared").get_weights()[0], w - 0.1 * dw.reshape(w.shape), rtol=1e-5)
    assert_allclose(base.get_layer("a").get_weights()[0], ha - 0.1 * dha.reshape(ha.shape), rtol=1e-5)
    assert_allclose(base.get_layer("b").get_weights()[0], hb - 0.1 * dhb.reshape(hb.shape), rtol=1e-5)
    assert int(model.optimizer.iterations) == 1


@pytest.fixture
def mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", ["separate", "project_conflicts_test"])
def test_gradient_level_strategies_scale_the_losses_under_mixed_precision(mixed_precision, name):
    x, y = data()
    x, y = 0.1 * x, {k: 0.1 * value for k, value in y.items()}  # small values: no float16 overflow
    base = two_heads()
    w, ha, hb, _, _ = forward(base, x)
    terms = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=3.0)]
    if name == "separate":
        strategy = S.SeparateOptimizers("sgd", 0.01, terms={"b": {"learning_rate": 0.002}})
        rates = (0.01, 0.002)
    else:  # a user's strategy, with the model's optimizer
        strategy, rates = ProjectConflicts(), (0.01, 0.01)
    model = compile_weighted(base, terms, optimizer=keras.optimizers.SGD(0.01), strategy=strategy)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    for optimizer in model.term_optimizers().values():  # each term's optimizer scales its own loss
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    _, gwa, gha = mse_grads(x, w, ha, y["a"])
    _, gwb, ghb = mse_grads(x, w, hb, y["b"])
    if name == "separate":
        expected = -rates[0] * gwa - rates[1] * 3.0 * gwb
    else:
        ga = np.concatenate([gwa.ravel(), gha.ravel(), np.zeros(hb.size)])
        gb = 3.0 * np.concatenate([gwb.ravel(), np.zeros(ha.size), ghb.ravel()])
        expected = -rates[0] * pcgrad_by_hand([ga, gb])[: w.size].reshape(w.shape)
    # The true gradient reaches each optimizer: unscaled, it would be 2**15 times too small.
    moved = base.get_layer("shared").get_weights()[0] - w
    assert_allclose(moved, expected, atol=0.02 * np.abs(expected).max())
    assert float(model.optimizer.scale_loss(1.0)) == 2.0**15  # the step was finite: not skipped


def test_loss_scale_of_an_optimizer():
    assert S.loss_scale(keras.optimizers.SGD()) is None
    assert S.loss_scale(keras.optimizers.SGD(loss_scale_factor=4.0)) == 4.0
    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), initial_scale=8.0)
    assert float(S.loss_scale(scaled)) == 8.0


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad"])
def test_separate_optimizers_refuse_a_searched_weight_their_optimizer_ignores(optimizer):
    terms = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    match = (
        rf"Argument `terms\['b'\].weight` must be fixed under strategy 'separate' when the term's optimizer is "
        rf"'{optimizer}': that optimizer divides each step by a running scale of the gradient, so a constant "
        r"weight on the term's own gradient changes nothing. Received: .*Range\(low=0.1, high=10.0.*"
        r"Search the term's learning rate instead"
    )
    with pytest.raises(tw.ConfigurationError, match=match):
        WeightSpace(terms, strategy=S.SeparateOptimizers(optimizer))
    # with SGD the weight scales the term's steps: it is searched
    assert WeightSpace(terms, strategy=S.SeparateOptimizers("sgd")).hp_names() == ["ratio/b"]
    # per term: only the term whose optimizer ignores it is refused
    per_term = S.SeparateOptimizers("sgd", terms={"b": {"optimizer": optimizer}})
    with pytest.raises(tw.ConfigurationError, match=r"terms\['b'\].weight"):
        WeightSpace(terms, strategy=per_term)


def test_strategy_state_and_term_optimizers_survive_a_checkpoint(tmp_path):
    x, y = data(32)
    for strategy in (
        S.DWA(),
        S.Uncertainty(),
        S.GradNorm(),
        S.RandomWeights(seed=1),
        S.SeparateOptimizers("adam", 1e-2),
    ):
        model = compile_weighted(two_heads(), TERMS, strategy=strategy)
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        resume.save(str(tmp_path), model, 2)
        fresh = compile_weighted(two_heads(seed=1), TERMS, strategy=strategy)
        assert resume.restore(str(tmp_path), fresh) == 2
        for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
            assert_allclose(a, b)
        for name, optimizer in model.term_optimizers().items():
            for a, b in zip(optimizer.variables, fresh.term_optimizers()[name].variables, strict=True):
                assert_allclose(np.asarray(a), np.asarray(b))


def test_dwa_resumes_with_its_loss_history(tmp_path):
    x, y = data(32)
    model = compile_weighted(two_heads(), TERMS, strategy=S.DWA(temperature=0.5))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    resume.save(str(tmp_path), model, 1)
    fresh = compile_weighted(two_heads(seed=1), TERMS, strategy=S.DWA(temperature=0.5))
    resume.restore(str(tmp_path), fresh)
    fresh.begin_epoch(2)
    expected = S.dwa_weights(
        [history["a_loss"][1], history["b_loss"][1]], [history["a_loss"][0], history["b_loss"][0]], 0.5
    )
    assert_allclose(list(fresh.term_weights().values()), expected, rtol=1e-5)


# -- the strategy as a hyperparameter -----------------------------------------------------
def test_strategy_search_space_is_conditional():
    terms = [
        tw.Term("a", "mse"),
        tw.Term("b", "mse", weight=tw.Range(0.01, 100)),
        tw.Term("c", "mse", weight=tw.ScheduleSearch(families=("constant", "step"))),
    ]
    search = S.StrategySearch(["static", "scheduled", S.DWA(temperature=tw.Range(0.5, 5.0)), "random"])
    space = WeightSpace(terms, strategy=search)
    hp = kt.HyperParameters()
    space.declare(hp)
    conditions = {p.name: [c.values for c in p.conditions] for p in hp.space}
    assert conditions["strategy"] == []
    assert conditions["strategy/dwa/temperature"] == [["dwa"]]
    assert conditions["ratio/b"] == [["static", "scheduled"]]
    assert conditions["ratio/c"] == [["static"]]
    assert conditions["schedule/c/family"] == [["scheduled"]]
    values = {"strategy": "static", "ratio/b": 2.0, "ratio/c": 0.5}
    assert space.decode(values).weights == {"a": 1.0, "b": 2.0, "c": 0.5}
    values = {"strategy": "scheduled", "ratio/b": 2.0, "schedule/c/family": "step", "schedule/c/start": 4.0}
    assert isinstance(space.decode(values).weights["c"], tw.schedules.Step)
    values = {"strategy": "dwa", "strategy/dwa/temperature": 3.0}
    assert space.decode(values).weights == {"a": 1.0, "b": 1.0, "c": 1.0}
    assert space.decode(values).strategy == S.DWA(temperature=3.0)
    assert space.decode(values).strategy.describe() == "dwa(temperature=3)"
    assert json.loads(json.dumps(space.get_config()))["strategy"]["candidates"][2]["name"] == "dwa"


def test_hypermodel_builds_the_chosen_strategy():
    class Model(tw.WeightedHyperModel):
        terms = TERMS
        strategy = ["static", S.Uncertainty(learning_rate=tw.Range(1e-3, 1e-1))]

        def build(self, hp):
            return two_heads()

    hypermodel = Model()
    assert hypermodel.loss_searched
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values["strategy"] = "uncertainty"
    hp.values["strategy/uncertainty/learning_rate"] = 0.02
    model = hypermodel.build_weighted(hp)
    assert model.strategy == S.Uncertainty(learning_rate=0.02)
    assert model.term_weights() == {"a": 0.5, "b": 0.5}


def test_validation_driven_accepts_validation_data_by_position():
    x, y = data(16)
    model = compile_weighted(two_heads(), TERMS, strategy="validation")
    history = model.fit(x, y, 8, 2, 0, None, 0.0, (x, y)).history
    assert history["a_weight"][1] != 1.0


def test_a_gradient_level_strategy_is_refused_before_training_on_a_backend_without_gradients(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    match = (
        r"Argument `strategy` must not take over the gradient step on the 'numpy' backend \('separate' does; "
        r"it runs on \['jax', 'tensorflow', 'torch'\]\). Received: strategy='separate'"
    )
    with pytest.raises(tw.ConfigurationError, match=match):
        gradients.check_backend(S.SeparateOptimizers("sgd"))
    gradients.check_backend(S.DWA())  # a strategy that leaves the gradient step to Keras runs anywhere
