"""Swap one import: keras-tuner's hypermodels and habits, with per-epoch reporting, pruning and resume."""

import os

import keras
import keras_tuner as kt
import numpy as np
import pytest

import tuneweights as tw

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4)).astype("float32")
Y = (X[:, :1] - X[:, 1:2] > 0).astype("int32")


def build_model(hp):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def statuses(tuner):
    return sorted(t.status for t in tuner.oracle.trials.values())


def steps(trial, name="val_loss"):
    return [o.step for o in trial.metrics.get_history(name)]


@pytest.mark.parametrize("strategy", ["RandomSearch", "BayesianOptimization"])
def test_a_build_function_reports_every_epoch(tmp_path, strategy):
    tuner = getattr(tw, strategy)(
        build_model, objective="val_accuracy", max_trials=2, directory=str(tmp_path), project_name="p"
    )
    tuner.search(X, Y, validation_data=(X, Y), epochs=3, verbose=0)
    assert statuses(tuner) == ["COMPLETED", "COMPLETED"]
    for trial in tuner.oracle.trials.values():
        assert steps(trial, "val_accuracy") == [0, 1, 2] and steps(trial, "loss") == [0, 1, 2]
    best = tuner.get_best_models(1)[0]
    assert isinstance(best, keras.Model) and best.predict(X, verbose=0).shape == (64, 2)
    assert tuner.describe(tuner.get_best_hyperparameters()[0])["weights"] == {}
    (row, *_) = tw.report(tuner.project_dir, str(tmp_path / "report"), plots=False).rows
    assert row.status == "COMPLETED" and row.weights == {}


class WithFit(kt.HyperModel):
    def __init__(self, returns):
        super().__init__()
        self.returns = returns

    def build(self, hp):
        return build_model(hp)

    def fit(self, hp, model, *args, **kwargs):
        history = model.fit(*args, **kwargs)
        value = float(history.history["val_loss"][-1])
        return {"float": value, "dict": {"val_loss": value}, "history": history, "list": [history]}[
            self.returns
        ]


@pytest.mark.parametrize("returns", ["float", "dict", "history", "list"])
def test_a_hypermodel_fit_may_return_what_keras_tuner_accepts(tmp_path, returns):
    objective = None if returns == "float" else "val_loss"
    tuner = tw.RandomSearch(
        WithFit(returns), objective=objective, max_trials=1, directory=str(tmp_path), project_name="p"
    )
    tuner.search(X, Y, validation_data=(X, Y), epochs=2, verbose=0)
    assert statuses(tuner) == ["COMPLETED"]
    assert all(np.isfinite(t.score) for t in tuner.oracle.trials.values())


def test_without_an_objective_fit_must_return_a_float_as_in_keras_tuner(tmp_path):
    tuner = tw.RandomSearch(WithFit("history"), max_trials=1, directory=str(tmp_path), project_name="p")
    with pytest.raises(
        kt.errors.FatalTypeError, match=r"to be a single float when `objective` is left unspecified"
    ):
        tuner.search(X, Y, validation_data=(X, Y), epochs=1, verbose=0)


class BlackBox(tw.RandomSearch):
    """keras-tuner's "tune anything": no hypermodel, an overridden run_trial."""

    returns = "float"

    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.Float("x", -2.0, 2.0)
        value = (x - 1.0) ** 2
        if self.returns == "update":
            self.oracle.update_trial(trial.trial_id, {"score": value})
            return None
        return {"float": value, "dict": {"score": value}, "list": [value, value]}[self.returns]


@pytest.mark.parametrize("returns", ["float", "dict", "list", "update"])
def test_no_hypermodel_with_run_trial_overridden(tmp_path, returns):
    BlackBox.returns = returns
    tuner = BlackBox(objective=kt.Objective("score", "min"), max_trials=4, seed=1, directory=str(tmp_path))
    if returns == "update":
        with pytest.warns(DeprecationWarning, match=r"calling `self.oracle.update_trial"):
            tuner.search()
    else:
        tuner.search()
    assert statuses(tuner) == ["COMPLETED"] * 4
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == min(t.score for t in tuner.oracle.trials.values())
    assert best.score == pytest.approx((best.hyperparameters.values["x"] - 1.0) ** 2)


def test_tuner_level_loss_metrics_and_optimizer_override_the_compiled_ones(tmp_path):
    tuner = tw.RandomSearch(
        build_model,
        objective="val_mae",
        max_trials=1,
        loss="mse",
        metrics=["mae"],
        optimizer=keras.optimizers.SGD(0.1),
        directory=str(tmp_path),
        project_name="p",
    )
    tuner.search(X, Y.astype("float32"), validation_data=(X, Y.astype("float32")), epochs=2, verbose=0)
    (trial,) = tuner.oracle.trials.values()
    assert trial.status == "COMPLETED" and steps(trial, "val_mae") == [0, 1]
    model = tuner.get_best_models(1)[0]
    assert isinstance(model.optimizer, keras.optimizers.SGD)


def test_a_plain_search_prunes(tmp_path):
    def build(hp):
        model = build_model(hp)
        model.compile(
            optimizer=keras.optimizers.SGD(hp.Choice("lr", [0.5, 1e-9])),
            loss="sparse_categorical_crossentropy",
        )
        return model

    tuner = tw.GridSearch(
        build,
        objective="val_loss",
        max_trials=4,
        pruner=tw.MedianStopping(warmup=1, min_trials=1),
        directory=str(tmp_path),
        project_name="p",
    )
    tuner.search(X, Y, validation_data=(X, Y), epochs=6, verbose=0)
    assert set(statuses(tuner)) == {"COMPLETED"}
    assert tuner.oracle.pruned  # the trials that do not learn were stopped early
    for trial_id, epoch in tuner.oracle.pruned.items():
        assert max(steps(tuner.oracle.trials[trial_id])) == epoch < 5


class Interrupt(keras.callbacks.Callback):
    calls = {"trials": 0}

    def on_train_begin(self, logs=None):
        Interrupt.calls["trials"] += 1

    def on_epoch_end(self, epoch, logs=None):
        if Interrupt.calls["trials"] == 2 and epoch == 1:
            raise KeyboardInterrupt


class Begun(keras.callbacks.Callback):
    epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        Begun.epochs.append(epoch)


def test_a_plain_search_resumes_an_interrupted_trial_from_its_last_epoch(tmp_path):
    def run(callbacks):
        tuner = tw.RandomSearch(
            build_model, objective="val_loss", max_trials=2, seed=3, directory=str(tmp_path), project_name="p"
        )
        tuner.search(X, Y, validation_data=(X, Y), epochs=3, verbose=0, callbacks=callbacks)
        return tuner

    Interrupt.calls["trials"] = 0
    with pytest.raises(KeyboardInterrupt):
        run([Interrupt()])
    Begun.epochs.clear()
    tuner = run([Begun()])
    assert Begun.epochs == [1, 2]  # the second trial went on after its checkpoint of epoch 0
    assert statuses(tuner) == ["COMPLETED", "COMPLETED"]
    for trial in tuner.oracle.trials.values():
        assert steps(trial) == [0, 1, 2]


def two_outputs(hp):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="tanh")(inputs)
    model = keras.Model(
        inputs, {"a": keras.layers.Dense(1, name="a")(hidden), "b": keras.layers.Dense(1, name="b")(hidden)}
    )
    model.compile(
        optimizer="adam",
        loss={"a": "mse", "b": "mse"},
        loss_weights={"a": 1.0, "b": hp.Float("w_b", 0.01, 100.0, sampling="log")},
    )
    return model


def test_ranking_by_a_weighted_total_is_refused_when_a_plain_models_loss_weights_vary(tmp_path):
    y = {"a": X[:, :1], "b": X[:, 1:2]}
    tuner = tw.RandomSearch(
        two_outputs, objective="val_loss", max_trials=3, seed=1, directory=str(tmp_path), project_name="p"
    )
    match = (
        r"Argument `objective` must not be the weighted total loss \(val_loss\) when the compiled `loss_weights` "
        r"vary between trials .* Use each output's unweighted loss \(`val_<output>_loss`\)"
    )
    with pytest.raises(tw.ConfigurationError, match=match):
        tuner.search(X, y, validation_data=(X, y), epochs=1, verbose=0)
    fine = tw.RandomSearch(
        two_outputs, objective="val_a_loss", max_trials=3, seed=1, directory=str(tmp_path), project_name="q"
    )
    fine.search(X, y, validation_data=(X, y), epochs=1, verbose=0)
    assert statuses(fine) == ["COMPLETED"] * 3


def test_keras_tuners_errors_are_raised_as_keras_tuner_raises_them(tmp_path):
    with pytest.raises(ValueError, match=r"Received `hypermodel=None`"):
        tw.RandomSearch(max_trials=1, directory=str(tmp_path))
    with pytest.raises(ValueError, match=r"Expected `oracle` argument to be an instance of `Oracle`"):
        tw.Tuner(oracle="invalid", hypermodel=build_model, directory=str(tmp_path))
    with pytest.raises(ValueError, match=r"Could not infer optimization direction"):
        tw.RandomSearch(build_model, objective="custom_metric", max_trials=1, directory=str(tmp_path))
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `hypermodel` must be a `tuneweights.WeightedHyperModel`"
    ):
        tw.RandomSearch(
            build_model, objective="val_loss", max_trials=1, directory=str(tmp_path)
        ).get_best_weights()
    assert not os.path.exists(os.path.join(str(tmp_path), "untitled_project", "trial_0"))


def test_the_getting_started_guide_with_only_the_import_changed(tmp_path, capsys):
    import tuneweights as kt  # was: import keras_tuner as kt

    def build(hp):
        model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Flatten()])
        model.add(
            keras.layers.Dense(
                hp.Int("units", 4, 8, step=4), activation=hp.Choice("activation", ["relu", "tanh"])
            )
        )
        if hp.Boolean("dropout"):
            model.add(keras.layers.Dropout(rate=0.25))
        model.add(keras.layers.Dense(2, activation="softmax"))
        learning_rate = hp.Float("lr", min_value=1e-3, max_value=1e-1, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    build(kt.HyperParameters())
    tuner = kt.RandomSearch(
        hypermodel=build,
        objective="val_accuracy",
        max_trials=2,
        executions_per_trial=2,
        overwrite=True,
        directory=str(tmp_path),
        project_name="helloworld",
    )
    tuner.search_space_summary()
    tuner.search(X, Y, epochs=2, validation_data=(X, Y), verbose=0)
    assert len(tuner.get_best_models(num_models=2)) == 2
    tuner.results_summary()
    assert "Results summary" in capsys.readouterr().out

    class MyHyperModel(kt.HyperModel):
        def build(self, hp):
            return build(hp)

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, shuffle=hp.Boolean("shuffle"), **kwargs)

    hp = kt.HyperParameters()
    hp.Fixed("lr", 0.01)
    tuner = kt.RandomSearch(
        MyHyperModel(),
        hyperparameters=hp,
        tune_new_entries=False,
        objective=kt.Objective("val_accuracy", "max"),
        max_trials=2,
        overwrite=True,
        directory=str(tmp_path),
        project_name="fixed",
    )
    tuner.search(X, Y, epochs=1, validation_data=(X, Y), verbose=0)
    assert statuses(tuner) == ["COMPLETED", "COMPLETED"]
    assert {t.hyperparameters.values["lr"] for t in tuner.oracle.trials.values()} == {0.01}
    assert [p.name for p in tuner.oracle.get_space().space] == ["lr"]  # nothing else is tuned
    assert isinstance(tuner, kt.tuners.RandomSearch) and issubclass(kt.errors.FatalError, Exception)


def test_a_plain_trial_that_diverges_is_recorded_ranked_last_and_shown_on_the_progress_line(tmp_path, capsys):
    def regression(hp):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(optimizer=keras.optimizers.SGD(hp.Choice("learning_rate", [1e-2, 1e12])), loss="mse")
        return model

    tuner = tw.GridSearch(regression, objective="val_loss", directory=str(tmp_path), project_name="p")
    target = X[:, :1] - X[:, 1:2]
    tuner.search(X, target, validation_data=(X, target), epochs=3)  # verbose left to the tuner
    trials = {t.hyperparameters.values["learning_rate"]: t for t in tuner.oracle.trials.values()}
    assert trials[1e-2].status == "COMPLETED" and np.isfinite(trials[1e-2].score)
    diverged = trials[1e12]
    assert diverged.status == "FAILED" and diverged.message.startswith("Diverged: the training loss was")
    assert diverged.trial_id in tuner.oracle.diverged  # a fact of the search, not a failure of the setup
    # ranked after every completed trial (keras-tuner pads the list with the others), not as a 0
    assert tuner.oracle.get_best_trials(2) == [trials[1e-2], diverged] and diverged.score is None
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.startswith("Trial ")]
    assert lines[0].startswith(f"Trial {trials[1e-2].trial_id} completed in ")
    assert lines[1].startswith(f"Trial {diverged.trial_id} diverged at epoch 1 in ")
    assert lines[1].endswith(f"best val_loss {trials[1e-2].score:.4g} (trial {trials[1e-2].trial_id})")
    assert "Running Trial" not in printed and "Epoch 1/3" not in printed  # keras-tuner's and Keras's
