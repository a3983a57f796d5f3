import keras
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import TwoSources, linear_base, linear_data, make_data
from tuneweights.training import compile_weighted, epoch_metrics, output_names

TERMS = [
    tw.Term("a", "mse", output="pred", target="ya"),
    tw.Term("b", "mae", output="pred", target="yb", weight=0.25),
]


def test_logged_values_match_closed_form():
    x, y = linear_data()
    model = compile_weighted(linear_base(), TERMS)
    logs = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)  # uneven last batch
    pred = x @ np.array([[1.0], [-2.0], [0.5]])
    mse = float(np.mean((pred - y["ya"]) ** 2))
    mae = float(np.mean(np.abs(pred - y["yb"])))
    np.testing.assert_allclose(logs["a_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["b_loss"], mae, rtol=1e-5)
    np.testing.assert_allclose(logs["unweighted_loss"], mse + mae, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], mse + 0.25 * mae, rtol=1e-5)
    assert logs["a_weight"] == 1.0 and logs["b_weight"] == 0.25


def test_assigned_weights_change_the_loss_without_retracing():
    x, y = linear_data(32)
    model = compile_weighted(linear_base(), TERMS, optimizer=keras.optimizers.SGD(0.0))
    traces = []
    original = model.compute_loss

    def counting(*args, **kwargs):
        traces.append(1)  # runs in Python only while a function is traced
        return original(*args, **kwargs)

    model.compute_loss = counting

    class Switch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.assign_term_weights({"b": [0.25, 4.0, 0.0][epoch]})

    history = model.fit(x, y, validation_data=(x, y), epochs=3, batch_size=8, verbose=0, callbacks=[Switch()])
    h = history.history
    assert h["b_weight"] == [0.25, 4.0, 0.0] and h["val_b_weight"] == [0.25, 4.0, 0.0]
    for epoch, w in enumerate([0.25, 4.0, 0.0]):  # learning rate 0: same model every epoch
        np.testing.assert_allclose(h["loss"][epoch], h["a_loss"][epoch] + w * h["b_loss"][epoch], rtol=1e-5)
    assert len(traces) == 2  # one train trace, one validation trace, none after


def test_different_weights_learn_different_models():
    x, y = linear_data(64)

    def train(weight_b):
        keras.utils.set_random_seed(0)
        model = compile_weighted(
            linear_base(), TERMS, weights={"b": weight_b}, optimizer=keras.optimizers.Adam(0.05)
        )
        model.fit(x, y, epochs=5, batch_size=16, verbose=0, shuffle=False)
        return model.base.get_weights()[0]

    first, again, other = train(0.25), train(0.25), train(4.0)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3


def test_sample_weights_keyed_by_target():
    x, y = linear_data()
    model = compile_weighted(linear_base(), TERMS)
    zeros = np.zeros(len(x), dtype="float32")
    ones = np.ones(len(x), dtype="float32")
    logs = model.evaluate(
        x, y, sample_weight={"ya": zeros, "yb": ones}, batch_size=10, verbose=0, return_dict=True
    )
    assert logs["a_loss"] == 0.0 and logs["b_loss"] > 0


def test_regularisation_counts_in_loss_but_not_in_unweighted():
    inputs = keras.Input((3,))
    out = keras.layers.Dense(
        1,
        use_bias=False,
        name="pred",
        kernel_regularizer=keras.regularizers.L2(1.0),
        kernel_initializer="ones",
    )(inputs)
    x, y = linear_data()
    logs = compile_weighted(keras.Model(inputs, out), TERMS).evaluate(
        x, y, batch_size=10, verbose=0, return_dict=True
    )
    np.testing.assert_allclose(logs["loss"], logs["a_loss"] + 0.25 * logs["b_loss"] + 3.0, rtol=1e-5)
    np.testing.assert_allclose(logs["unweighted_loss"], logs["a_loss"] + logs["b_loss"], rtol=1e-5)


def test_two_terms_on_one_target_and_term_metrics():
    x, y = linear_data()
    terms = [
        tw.Term("fit", "mse", output="pred", metrics=["mae"]),
        tw.Term("l1", "mae", output="pred", weight=0.1),
    ]
    model = compile_weighted(linear_base(), terms)
    logs = model.evaluate(x, y["ya"], batch_size=10, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["fit_mae"], logs["l1_loss"], rtol=1e-5)


def test_dict_list_and_sequential_outputs_are_named():
    inputs = keras.Input((3,))
    a = keras.layers.Dense(1, name="dense_a")(inputs)
    b = keras.layers.Dense(2, name="dense_b")(inputs)
    assert output_names(keras.Model(inputs, {"cls": a, "rec": b})) == ["cls", "rec"]
    assert output_names(keras.Model(inputs, [a, b])) == ["dense_a", "dense_b"]
    assert output_names(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="out")])) == ["out"]


def test_subclassed_models_are_refused():
    class Sub(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `build\(hp\)` must return a functional or Sequential"
    ):
        output_names(Sub())


def test_list_outputs_train_by_position():
    inputs = keras.Input((3,))
    base = keras.Model(
        inputs, [keras.layers.Dense(1, name="p1")(inputs), keras.layers.Dense(1, name="p2")(inputs)]
    )
    x, y = linear_data()
    model = compile_weighted(base, [tw.Term("p1", "mse", target="ya"), tw.Term("p2", "mse", target="yb")])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    pred1, pred2 = base.predict(x, verbose=0)
    np.testing.assert_allclose(logs["p2_loss"], np.mean((pred2 - y["yb"]) ** 2), rtol=1e-5)


def test_missing_target_is_reported():
    x, y = linear_data()
    model = compile_weighted(linear_base(), TERMS)
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `y` must be a dict with a key for every target \['ya', 'yb'\]; missing \['yb'\]",
    ):
        model.evaluate(x, {"ya": y["ya"]}, verbose=0)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `y` must be a dict keyed by the targets \['ya', 'yb'\]"
    ):
        model.evaluate(x, y["ya"], verbose=0)


def test_compiled_loss_or_metrics_in_build_are_refused():
    base = linear_base()
    base.compile(optimizer="adam", loss="mse")
    with pytest.raises(tw.ConfigurationError, match=r"return a model compiled without `loss`"):
        compile_weighted(base, TERMS)
    base = linear_base()
    base.compile(optimizer="adam", metrics=["mae"])
    with pytest.raises(tw.ConfigurationError, match=r"return a model compiled without `metrics`"):
        compile_weighted(base, TERMS)


def test_optimizer_comes_from_the_compiled_base():
    base = linear_base()
    base.compile(optimizer=keras.optimizers.SGD(0.123))
    model = compile_weighted(base, TERMS)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.123)


def test_weight_access_errors():
    model = compile_weighted(linear_base(), TERMS)
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `term` must name one of the terms \['a', 'b'\]. Received: term='c'",
    ):
        model.weight_variable("c")
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `weights\['a'\]` must be a finite number >= 0"
    ):
        model.assign_term_weights({"a": -1.0})
    model.assign_term_weights({"a": 3.0})
    assert model.term_weights() == {"a": 3.0, "b": 0.25}


def test_checkpoint_round_trip_keeps_weights_and_loss_weights(tmp_path):
    x, y = linear_data()
    model = compile_weighted(linear_base(), TERMS, weights={"b": 0.7})
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    other = compile_weighted(linear_base(kernel=(0.0, 0.0, 0.0)), TERMS)
    other.optimizer.build(other.trainable_variables)
    other.load_weights(path)
    np.testing.assert_allclose(other.base.predict(x, verbose=0), model.base.predict(x, verbose=0))
    assert other.term_weights()["b"] == pytest.approx(0.7)


def test_initial_weights_are_validated():
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `weights` must name only the terms \['a', 'b'\]"
    ):
        tw.WeightedModel(linear_base(), TERMS, weights={"zzz": 1.0})
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `weights\['a'\]` must be a finite number >= 0"
    ):
        tw.WeightedModel(linear_base(), TERMS, weights={"a": -5.0})


def test_compile_uses_the_terms_metrics_and_refuses_a_loss():
    x, y = linear_data()
    terms = [tw.Term("a", "mse", output="pred", target="ya", metrics=["mae"]), TERMS[1]]
    model = tw.WeightedModel(linear_base(), terms)
    model.compile(optimizer="sgd")
    assert "a_mae" in model.evaluate(x, y, verbose=0, return_dict=True)
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `loss` must be left out: a WeightedModel's loss is the weighted sum",
    ):
        model.compile(optimizer="sgd", loss="mse")


def test_term_values_are_in_epoch_logs_but_not_returned_by_every_step(monkeypatch):
    x, y = make_data()
    model = tw.WeightedModel(TwoSources().build(None), TwoSources.terms, weights={"b": 1.0})
    model.compile(optimizer="sgd")
    seen = []
    batch = keras.callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: seen.append(set(logs)))
    history = model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0, callbacks=[batch])
    names = {"a_loss", "b_loss", "unweighted_loss", "a_weight", "b_weight"}
    assert names <= set(history.history) and {f"val_{n}" for n in names} <= set(history.history)
    assert all(not (names & logs) for logs in seen)  # the steps return none of them
    assert names <= set(model.evaluate(x, y, verbose=0, return_dict=True))
    # without Keras's hook, every step returns them (and the epoch logs still hold them)
    monkeypatch.setattr(epoch_metrics, "EPOCH_LOGS_HOOK", False)
    monkeypatch.setattr(
        tw.WeightedModel, "_get_metrics_result_or_logs", keras.Model._get_metrics_result_or_logs
    )
    model = tw.WeightedModel(TwoSources().build(None), TwoSources.terms, weights={"b": 1.0})
    model.compile(optimizer="sgd")
    seen.clear()
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[batch])
    assert names <= set(history.history) and all(names <= logs for logs in seen)


def test_a_declared_range_needs_its_value_and_a_config_holds_weights_and_strategy():
    terms = [tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0.1, 10))]
    match = (
        r"Argument `terms\['b'\].weight` must be a number or a Schedule in a WeightedModel \(a Range is "
        r"searched by the tuner: give its value in `weights=\{'b': ...\}`, or use "
        r"`WeightedHyperModel.build_weighted\(hp\)` or `WeightSpace.decode\(hp\)`\)"
    )
    with pytest.raises(tw.ConfigurationError, match=match):
        tw.WeightedModel(linear_base(), terms)
    assert tw.WeightedModel(linear_base(), terms, weights={"b": 3.0}).term_weights() == {"a": 1.0, "b": 3.0}
    config = tw.WeightSpace(terms).decode({"ratio/b": 2.0})
    for argument, value in (("weights", {"b": 1.0}), ("strategy", "dwa")):
        match = rf"Argument `{argument}` must be left out with a LossConfig, which holds it already"
        with pytest.raises(tw.ConfigurationError, match=match):
            tw.WeightedModel(linear_base(), config, **{argument: value})


@pytest.mark.parametrize("strategy", ["static", "dwa", "gradnorm"])
def test_every_layer_is_built_so_that_fit_and_evaluate_do_not_trace_the_model_again(strategy):
    # On JAX and PyTorch (and TensorFlow under a distribution strategy) Keras traces the model
    # symbolically in every `fit` and `evaluate`, each epoch's validation included, while any of
    # its layers is unbuilt (`Trainer._symbolic_build`): a cost of every epoch.
    terms = [tw.Term("a", tw.SwitchAt("mse", "mae", at=0.5), output="pred", target="ya")]
    terms.append(tw.Term("b", "mse", output="pred", target="yb"))
    model = compile_weighted(TwoSources().build(None), terms, strategy=strategy)
    assert [layer.name for layer in model._flatten_layers() if not layer.built] == []
