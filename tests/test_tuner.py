"""Configuration errors: raised before any training, project directory untouched."""

import os

import keras
import keras_tuner as kt
import pytest

import tuneweights as tw
from tests.conftest import TwoSources, fingerprint, make_data


@pytest.fixture(scope="module")
def existing_project(tmp_path_factory):
    """A finished one-trial search whose files must survive every bad configuration."""
    directory = str(tmp_path_factory.mktemp("runs"))
    x, y = make_data()
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=1, directory=directory, project_name="p"
    )
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    return directory


def single_output(build_outputs):
    def build(self, hp):
        inputs = keras.Input((4,))
        return keras.Model(inputs, build_outputs(inputs))

    return build


class MissingOutput(TwoSources):
    terms = [tw.Term("a", "mse", output="pred", target="ya"), tw.Term("b", "mse", output="nope", target="yb")]


class OutputWithoutLoss(TwoSources):
    def build(self, hp):
        inputs = keras.Input((4,))
        return keras.Model(
            inputs, {"pred": keras.layers.Dense(1)(inputs), "extra": keras.layers.Dense(1)(inputs)}
        )


class ReturnsWeightedModel(TwoSources):
    def build(self, hp):
        return tw.WeightedModel(super().build(hp), self.terms, weights={"b": 1.0})


class NoBuild(tw.WeightedHyperModel):
    terms = TwoSources.terms


CASES = {
    "missing output": (
        lambda: MissingOutput(),
        "val_a_loss",
        r"Argument `terms\['b'\].output` must be one of the model outputs \['pred'\]. Received: terms\['b'\].output='nope'",
    ),
    "output without loss": (
        lambda: OutputWithoutLoss(),
        "val_a_loss",
        r"Argument `terms` must declare a loss term for every model output; outputs without one: \['extra'\]",
    ),
    "build returns a WeightedModel": (
        lambda: ReturnsWeightedModel(),
        "val_a_loss",
        r"Argument `build\(hp\)` must return the plain Keras model; tuneweights wraps it",
    ),
    "weighted total": (
        lambda: TwoSources(),
        "val_loss",
        r"Argument `objective` must not be the weighted total loss while loss weights are searched",
    ),
    "never logged": (
        lambda: TwoSources(),
        kt.Objective("val_a_f1", "max"),
        r"Argument `objective` must be one of the logged names .* Received: objective='val_a_f1'",
    ),
    "weight on a single term": (
        lambda: tw.WeightedHyperModel([tw.Term("a", "mse", weight=tw.Range(0.1, 10))]),
        "val_a_loss",
        r"Argument `terms\['a'\].weight` must be a fixed number when the model has a single loss term",
    ),
    "unknown loss": (
        lambda: tw.WeightedHyperModel([tw.Term("a", "mean_sqare")]),
        "val_a_loss",
        r"Argument `loss` must be a loss name known to `keras.losses.get`.* Received: loss='mean_sqare'",
    ),
    "bad range": (
        lambda: tw.WeightedHyperModel([tw.Term("a", "mse"), tw.Term("b", "mse", weight=tw.Range(0, 1))]),
        "val_a_loss",
        r"Argument `low` must be a finite number > 0. Received: low=0",
    ),
}


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_configuration_fails_before_training_and_keeps_the_project(existing_project, case, overwrite):
    make_hypermodel, objective, match = CASES[case]
    before = fingerprint(existing_project)
    with pytest.raises(tw.ConfigurationError, match=match) as info:
        tw.RandomSearch(
            make_hypermodel(),
            objective=objective,
            max_trials=2,
            directory=existing_project,
            project_name="p",
            overwrite=overwrite,
        )
    assert isinstance(info.value, kt.errors.FatalError)
    assert fingerprint(existing_project) == before


def test_build_must_be_implemented():
    with pytest.raises(NotImplementedError, match=r"NoBuild must implement `build\(self, hp\)`"):
        tw.RandomSearch(NoBuild(), objective="val_a_loss", max_trials=1, directory="unused", project_name="p")


def test_a_hypermodel_that_is_neither_callable_nor_a_hypermodel_is_refused_as_keras_tuner_does(tmp_path):
    with pytest.raises(ValueError, match=r"The `hypermodel` argument should be either a callable"):
        tw.RandomSearch(5, objective="val_loss", directory=str(tmp_path))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_trials": 0}, r"Argument `max_trials` must be an int >= 1. Received: max_trials=0"),
        ({"executions_per_trial": 0}, r"Argument `executions_per_trial` must be an int >= 1"),
        (
            {"loss": "mse"},
            r"Argument `loss` must be left out: declare losses and metrics on the hypermodel's terms",
        ),
        ({"metrics": ["mae"]}, r"Argument `metrics` must be left out"),
    ],
)
def test_bad_tuner_arguments(tmp_path, kwargs, match):
    with pytest.raises(tw.ConfigurationError, match=match):
        tw.RandomSearch(TwoSources(), objective="val_a_loss", directory=str(tmp_path), **kwargs)
    assert not os.listdir(tmp_path)


def test_bad_strategy_arguments(tmp_path):
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `factor` must be an int >= 2. Received: factor=1"
    ):
        tw.Hyperband(TwoSources(), objective="val_a_loss", factor=1, directory=str(tmp_path))
    with pytest.raises(tw.ConfigurationError, match=r"Argument `max_epochs` must be an int >= 1"):
        tw.Hyperband(TwoSources(), objective="val_a_loss", max_epochs=0, directory=str(tmp_path))
    with pytest.raises(tw.ConfigurationError, match=r"Argument `num_initial_points` must be an int >= 1"):
        tw.BayesianOptimization(
            TwoSources(), objective="val_a_loss", num_initial_points=-1, directory=str(tmp_path)
        )


def test_bayesian_exploration_defaults_to_one_and_takes_keras_tuners_value(tmp_path):
    default = tw.BayesianOptimization(TwoSources(), objective="val_a_loss", directory=str(tmp_path / "a"))
    assert (default.oracle.beta, default.oracle.alpha) == (1.0, 1e-4)
    keras_tuners = tw.BayesianOptimization(
        TwoSources(), objective="val_a_loss", beta=2.6, directory=str(tmp_path / "b")
    )
    assert keras_tuners.oracle.beta == 2.6


@pytest.mark.parametrize(
    "fit, match",
    [
        (
            lambda x, y: ((x, {"ya": y["ya"]}), {"validation_data": (x, y)}),
            r"Argument `y` must hold every target the terms read: \['ya', 'yb'\] \(missing \['yb'\]\)",
        ),
        (
            lambda x, y: ((x, y["ya"]), {"validation_data": (x, y)}),
            r"Argument `y` must be a dict keyed by the targets \['ya', 'yb'\]",
        ),
        (
            lambda x, y: ((x, y), {"validation_data": (x, {"yb": y["yb"]})}),
            r"Argument `validation_data` must hold every target",
        ),
        (
            lambda x, y: ((x, y), {}),
            r"Argument `validation_data` must be given \(or `validation_split`\) when the objective is `val_a_loss`",
        ),
        (
            lambda x, y: ((x, y), {"validation_data": (x, y), "epochs": 0}),
            r"Argument `epochs` must be an int >= 1. Received: epochs=0",
        ),
    ],
)
def test_bad_search_data_fails_before_any_trial(tmp_path, data, fit, match):
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=1, directory=str(tmp_path), project_name="p"
    )
    args, kwargs = fit(*data)
    with pytest.raises(tw.ConfigurationError, match=match):
        tuner.search(*args, verbose=0, **kwargs)
    assert not tuner.oracle.trials


def test_datasets_are_checked_from_their_element_spec(tmp_path, data):
    import tensorflow as tf

    x, y = data
    tuner = tw.RandomSearch(
        TwoSources(), objective="a_loss", max_trials=1, directory=str(tmp_path), project_name="p"
    )
    dataset = tf.data.Dataset.from_tensor_slices((x, {"ya": y["ya"]})).batch(16)
    with pytest.raises(tw.ConfigurationError, match=r"Argument `y` must hold every target"):
        tuner.search(dataset, epochs=1, verbose=0)


def test_missing_objective_in_logs_is_fatal_not_a_failed_trial(tmp_path, data):
    class CustomFit(TwoSources):
        def fit(self, hp, model, *args, **kwargs):  # logs are not predictable here
            return model.fit(*args, **kwargs)

    x, y = data
    tuner = tw.RandomSearch(
        CustomFit(),
        objective=kt.Objective("val_a_f1", "max"),
        max_trials=2,
        directory=str(tmp_path),
        project_name="p",
    )
    with pytest.raises(
        tw.ConfigurationError, match=r"The objective `val_a_f1` is missing from the logs of epoch 0"
    ):
        tuner.search(x, y, validation_data=(x, y), epochs=2, verbose=0)


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda d: tw.RandomSearch(
                TwoSources(), objective="val_a_loss", seed="1", directory=d, project_name="p"
            ),
            r"Argument `seed` must be an int or None. Received: seed='1'",
        ),
        (
            lambda d: tw.BayesianOptimization(
                TwoSources(), objective="val_a_loss", alpha=0, directory=d, project_name="p"
            ),
            r"Argument `alpha` must be a finite number > 0. Received: alpha=0",
        ),
        (
            lambda d: tw.Hyperband(
                TwoSources(), objective="val_a_loss", hyperband_iterations=0, directory=d, project_name="p"
            ),
            r"Argument `hyperband_iterations` must be an int >= 1",
        ),
        (
            lambda d: tw.RandomSearch(
                TwoSources(), objective="val_a_loss", max_restarts=-1, directory=d, project_name="p"
            ),
            r"Argument `max_restarts` must be an int >= 0. Received: max_restarts=-1",
        ),
        (
            lambda d: tw.RandomSearch(
                TwoSources(), objective="val_a_loss", heartbeat_timeout=0, directory=d, project_name="p"
            ),
            r"Argument `heartbeat_timeout` must be a finite number > 0. Received: heartbeat_timeout=0",
        ),
        (
            lambda d: tw.RandomSearch(
                TwoSources(), objective="val_a_loss", chief_timeout=-5.0, directory=d, project_name="p"
            ),
            r"Argument `chief_timeout` must be a finite number > 0. Received: chief_timeout=-5.0",
        ),
        (
            lambda d: tw.RandomSearch(
                TwoSources(), objective="val_a_loss", chief_timeout="1m", directory=d, project_name="p"
            ),
            r"Argument `chief_timeout` must be a number. Received: chief_timeout='1m' \(of type str\)",
        ),
        (
            lambda d: tw.Tuner(
                tw.search.oracle.WeightOracle(
                    kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=1),
                    TwoSources().space,
                ),
                TwoSources(),
                heartbeat_timeout=5,
                directory=d,
                project_name="p",
            ),
            r"Argument `heartbeat_timeout` must be given to the WeightOracle, which is already built with "
            r"heartbeat_timeout=600.0. Received: heartbeat_timeout=5",
        ),
        (
            lambda d: tw.RandomSearch(
                TwoSources(), objective="val_a_loss", pruner="sometimes", directory=d, project_name="p"
            ),
            r"Argument `identifier` must name a registered pruner",
        ),
        (
            lambda d: tw.RandomSearch(TwoSources(), objective=3, directory=d, project_name="p"),
            r"Argument `objective` must be a metric name",
        ),
        (
            lambda d: tw.RandomSearch(tw.WeightedHyperModel(terms=[]), objective="val_a_loss", directory=d),
            r"Argument `terms` must declare at least one loss term",
        ),
        (
            lambda d: tw.RandomSearch(
                tw.WeightedHyperModel(terms=[tw.Term("a", "mse"), tw.Term("a", "mae")]),
                objective="val_a_loss",
                directory=d,
            ),
            r"Argument `terms` must have unique names; duplicated: \['a'\]",
        ),
        (
            lambda d: tw.Term("a", "mse", weight=tw.schedules.Step(at=1.5)),
            r"Argument `at` must lie in \[0, 1\] with unit='fraction'",
        ),
        (
            lambda d: tw.Term("a", "mse", weight="heavy"),
            r"Argument `weight` must be a number, a Range, a Schedule or a ScheduleSearch",
        ),
        (
            lambda d: tw.WeightedModel("model", [tw.Term("a", "mse")]),
            r"Argument `base` must be a `keras.Model`. Received: base='model'",
        ),
    ],
)
def test_more_bad_constructor_arguments_keep_the_project(existing_project, make, match):
    before = fingerprint(existing_project)
    with pytest.raises((tw.ConfigurationError, tw.ConfigurationTypeError), match=match):
        make(existing_project)
    assert fingerprint(existing_project) == before


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": -1}, r"Argument `epochs` must be an int >= 1. Received: epochs=-1"),
        ({"epochs": 2.5}, r"Argument `epochs` must be an int >= 1. Received: epochs=2.5"),
        (
            {"validation_data": (1,)},
            r"Argument `validation_data` must be \(x, y\) or \(x, y, sample_weight\)",
        ),
    ],
)
def test_bad_search_arguments_keep_the_project(existing_project, data, kwargs, match):
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=2, directory=existing_project, project_name="p"
    )
    before = fingerprint(existing_project)
    x, y = data
    kwargs = {"validation_data": (x, y), **kwargs}
    with pytest.raises(tw.ConfigurationError, match=match):
        tuner.search(x, y, verbose=0, **kwargs)
    assert fingerprint(existing_project) == before


# -- overwrite=True deletes the project only after every check passed --------------------------------


def contents(directory):
    """Every file under `directory`: {relative path: bytes}."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, directory)] = f.read()
    return files


@pytest.fixture
def old_project(tmp_path):
    """An earlier project, as files with known bytes, in `tmp_path / "p"`."""
    project = tmp_path / "p"
    (project / "trial_0").mkdir(parents=True)
    (project / "oracle.json").write_bytes(b'{"ongoing_trials": {}, "tried_so_far": ["0"]}')
    (project / "tuner0.json").write_bytes(b"{}")
    (project / "trial_0" / "trial.json").write_bytes(b'{"trial_id": "0", "status": "COMPLETED"}')
    (project / "trial_0" / "checkpoint.weights.h5").write_bytes(bytes(range(256)))
    return tmp_path


def hyperparameters(declare):
    hp = kt.HyperParameters()
    declare(hp)
    return hp


class UnitsAsked(TwoSources):
    """`build` declares `units`, only when `kind` is "wide"."""

    def build(self, hp):
        inputs = keras.Input((4,))
        kind = hp.Choice("kind", ["wide", "narrow"])
        with hp.conditional_scope("kind", ["wide"]):
            units = hp.Int("units", 8, 32, step=8) if kind == "wide" else 4
        hidden = keras.layers.Dense(units or 4, activation="tanh")(inputs)
        return keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))


def two_terms(loss="mse", metrics=(), switch_before=None):
    second = tw.Term("b", loss, output="pred", target="yb", metrics=metrics, weight=tw.Range(0.01, 100.0))
    if switch_before is not None:
        second = tw.Term(
            "b", tw.switches.SwitchAt(before=switch_before, after="mae", at=0.5), output="pred", target="yb"
        )
    return TwoSources([tw.Term("a", "mse", output="pred", target="ya"), second])


REFUSED_WITH_OVERWRITE = {
    "a conditional loss weight fixed": (
        lambda: {
            "hypermodel": TwoSources(strategy=["static", "dwa"]),
            "hyperparameters": hyperparameters(lambda hp: hp.Fixed("ratio/b", 2.0)),
        },
        tw.ConfigurationError,
        r"Argument `hyperparameters` must not fix or narrow `ratio/b`, a loss-weight hyperparameter active "
        r"only for some values of another one. Received: hyperparameters=\{'ratio/b': Fixed\(value=2.0\)\}. "
        r"To fix or narrow a loss weight, give its `Term` a number or a narrower `Range`",
    ),
    "a loss weight fixed outside its range": (
        lambda: {"hyperparameters": hyperparameters(lambda hp: hp.Fixed("ratio/b", 1000.0))},
        tw.ConfigurationError,
        r"Argument `hyperparameters` must fix or narrow `ratio/b` only inside its declaration "
        r"Float\(default=1.0, min_value=0.01, max_value=100.0, step=None, sampling='log'\). "
        r"Received: hyperparameters=\{'ratio/b': Fixed\(value=1000.0\)\}",
    ),
    "a loss weight widened": (
        lambda: {"hyperparameters": hyperparameters(lambda hp: hp.Float("ratio/b", 0.001, 10.0))},
        tw.ConfigurationError,
        r"Argument `hyperparameters` must fix or narrow `ratio/b` only inside its declaration .* "
        r"Received: hyperparameters=\{'ratio/b': Float\(default=0.001, min_value=0.001, max_value=10.0",
    ),
    "a loss weight fixed to a string": (
        lambda: {"hyperparameters": hyperparameters(lambda hp: hp.Fixed("ratio/b", "heavy"))},
        tw.ConfigurationError,
        r"Argument `hyperparameters` must fix or narrow `ratio/b` only inside its declaration",
    ),
    "a hyperparameter of build fixed outside its condition": (
        lambda: {
            "hypermodel": UnitsAsked(),
            "hyperparameters": hyperparameters(lambda hp: hp.Fixed("units", 8)),
        },
        tw.ConfigurationError,
        r"Argument `hyperparameters` must fix or narrow `units` under the conditions `build\(hp\)` declares "
        r"it with: .*'conditions': \[\{'class_name': 'Parent'.* Received: hyperparameters=\{'units': ",
    ),
    "a hyperparameter of build missing without new entries": (
        lambda: {
            "hypermodel": UnitsAsked(),
            "hyperparameters": hyperparameters(lambda hp: hp.Choice("kind", ["wide", "narrow"])),
            "allow_new_entries": False,
        },
        tw.ConfigurationError,
        r"Argument `hyperparameters` must declare every hyperparameter `build\(hp\)` declares when "
        r"`allow_new_entries=False`; missing: \['units'\]. Received: hyperparameters=\['kind'\]",
    ),
    "a loss class": (
        lambda: {"hypermodel": two_terms(loss=keras.losses.MeanSquaredError)},
        tw.ConfigurationTypeError,
        r"Argument `loss` must be a loss name, a `keras.losses.Loss` instance, a callable `\(y_true, y_pred\)` "
        r"or a Switch. Received: loss=<class '.*MeanSquaredError'> \(a class\). "
        r"Pass an instance: `MeanSquaredError\(\)`",
    ),
    "a metric class": (
        lambda: {"hypermodel": two_terms(metrics=["mae", keras.metrics.MeanAbsoluteError])},
        tw.ConfigurationTypeError,
        r"Argument `metrics\[1\]` must be a metric name, a `keras.metrics.Metric` instance or a callable "
        r"`\(y_true, y_pred\)`. Received: metrics\[1\]=<class '.*MeanAbsoluteError'> \(a class\). "
        r"Pass an instance: `MeanAbsoluteError\(\)`",
    ),
    "a metric of another type": (
        lambda: {"hypermodel": two_terms(metrics=[3])},
        tw.ConfigurationTypeError,
        r"Argument `metrics\[0\]` must be a metric name, .* Received: metrics\[0\]=3 \(of type int\)",
    ),
    "a loss class to switch from": (
        lambda: {"hypermodel": two_terms(switch_before=keras.losses.MeanSquaredError)},
        tw.ConfigurationTypeError,
        r"Argument `before` must be a loss name, a `keras.losses.Loss` instance or a callable "
        r"`\(y_true, y_pred\)`. Received: before=<class '.*MeanSquaredError'> \(a class\)",
    ),
    "a distribution strategy of another type": (
        lambda: {"distribution_strategy": "mirrored"},
        tw.ConfigurationTypeError,
        r"Argument `distribution_strategy` must be None or a `tf.distribute.Strategy`. "
        r"Received: distribution_strategy='mirrored' \(of type str\)",
    ),
    "max_trials": (
        lambda: {"max_trials": 0},
        tw.ConfigurationError,
        r"Argument `max_trials` must be an int >= 1. Received: max_trials=0",
    ),
    "loss given to the tuner": (
        lambda: {"loss": "mse"},
        tw.ConfigurationError,
        r"Argument `loss` must be left out",
    ),
    "weighted total as objective": (
        lambda: {"objective": "val_loss"},
        tw.ConfigurationError,
        r"Argument `objective` must not be the weighted total loss",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_WITH_OVERWRITE))
def test_a_refused_input_leaves_the_project_untouched_even_with_overwrite(old_project, case):
    make_arguments, error, match = REFUSED_WITH_OVERWRITE[case]
    before = contents(old_project)
    with pytest.raises(error, match=match) as info:
        arguments = {
            "hypermodel": TwoSources(),
            "objective": "val_a_loss",
            "max_trials": 2,
            **make_arguments(),
        }
        tw.RandomSearch(directory=str(old_project), project_name="p", overwrite=True, **arguments)
    assert isinstance(info.value, kt.errors.FatalError)
    assert contents(old_project) == before


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: tw.Hyperband(TwoSources(), objective="val_a_loss", factor=1, **d), r"Argument `factor`"),
        (lambda d: tw.RandomSearch(TwoSources(), objective="val_a_loss", seed="1", **d), r"Argument `seed`"),
        (
            lambda d: tw.Hyperband(TwoSources(), objective="val_a_loss", pruner="median", **d),
            r"Argument `pruner` must be left out with Hyperband",
        ),
        (
            lambda d: tw.BayesianOptimization(
                TwoSources(),
                objective="val_a_loss",
                hyperparameters=hyperparameters(lambda hp: hp.Fixed("ratio/b", 0.0)),
                **d,
            ),
            r"Argument `hyperparameters` must fix or narrow `ratio/b` only inside its declaration",
        ),
    ],
)
def test_each_strategy_refuses_before_overwrite_deletes(old_project, make, match):
    before = contents(old_project)
    with pytest.raises((tw.ConfigurationError, tw.ConfigurationTypeError), match=match):
        make({"directory": str(old_project), "project_name": "p", "overwrite": True})
    assert contents(old_project) == before


@pytest.mark.parametrize(
    "fit, match",
    [
        (
            lambda x, y: ((x, {"ya": y["ya"]}), {"validation_data": (x, y)}),
            r"Argument `y` must hold every target the terms read: \['ya', 'yb'\] \(missing \['yb'\]\)",
        ),
        (lambda x, y: ((x, y), {}), r"Argument `validation_data` must be given"),
        (lambda x, y: ((x, y), {"validation_data": (x, y), "epochs": 0}), r"Argument `epochs` must be"),
    ],
)
def test_refused_search_data_leave_the_project_that_overwrite_replaces(old_project, data, fit, match):
    before = contents(old_project)
    tuner = tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=1,
        directory=str(old_project),
        project_name="p",
        overwrite=True,
    )
    # As keras-tuner's overwrite: the project holds nothing; the earlier one waits beside it.
    assert not contents(old_project / "p")
    assert contents(old_project / ".p.replaced") == {
        k[2:]: v for k, v in before.items() if k.startswith("p/")
    }
    args, kwargs = fit(*data)
    with pytest.raises(tw.ConfigurationError, match=match):
        tuner.search(*args, verbose=0, **kwargs)
    assert contents(old_project) == before


def test_the_project_overwrite_replaces_is_deleted_once_a_search_passes_its_checks(old_project, data):
    x, y = data
    tuner = tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=1,
        directory=str(old_project),
        project_name="p",
        overwrite=True,
    )
    with pytest.raises(tw.ConfigurationError, match="validation_data"):
        tuner.search(x, y, epochs=1, verbose=0)  # refused: the earlier project is back
    assert "trial_0/checkpoint.weights.h5" in contents(old_project / "p")
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    files = contents(old_project)
    assert not any(name.startswith(".p.replaced") for name in files)
    earlier = {
        name: data
        for name, data in files.items()
        if data
        in (
            b'{"ongoing_trials": {}, "tried_so_far": ["0"]}',
            b'{"trial_id": "0", "status": "COMPLETED"}',
            bytes(range(256)),
        )
    }
    assert earlier == {}  # nothing of the earlier project is left


def test_a_tuner_that_fails_to_build_after_overwrite_puts_the_earlier_project_back(old_project):
    before = contents(old_project)

    class Broken(TwoSources):
        def build(self, hp):
            raise RuntimeError("broken build")

    with pytest.raises(Exception, match="broken build"):
        tw.RandomSearch(
            Broken(), objective="val_a_loss", directory=str(old_project), project_name="p", overwrite=True
        )
    assert contents(old_project) == before


def test_a_replaced_project_left_by_a_tuner_that_never_searched_goes_with_the_next_overwrite(old_project):
    make = lambda: tw.RandomSearch(  # noqa: E731
        TwoSources(), objective="val_a_loss", directory=str(old_project), project_name="p", overwrite=True
    )
    make()
    assert "trial_0/checkpoint.weights.h5" in contents(old_project / ".p.replaced")
    make()  # the project is empty: nothing is set aside, and the earlier leftover is removed
    assert not (old_project / ".p.replaced").exists()


@pytest.mark.parametrize(
    "declare, weight",
    [(lambda hp: hp.Fixed("ratio/b", 3.0), 3.0), (lambda hp: hp.Choice("ratio/b", [0.5, 2.0]), 0.5)],
)
def test_a_valid_overwrite_deletes_the_project_and_starts_over(old_project, declare, weight):
    tuner = tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=2,
        hyperparameters=hyperparameters(declare),
        directory=str(old_project),
        project_name="p",
        overwrite=True,
    )
    assert contents(old_project / "p") == {}  # the earlier project waits aside until `search`
    assert not tuner.oracle.trials
    assert tuner.decode(tuner.oracle.get_space()).weights == {"a": 1.0, "b": weight}


def test_a_weight_oracle_holding_conditional_loss_weights_is_taken_as_it_is(tmp_path):
    hypermodel = TwoSources(strategy=["static", "dwa"])
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=1)
    oracle = tw.search.oracle.WeightOracle(inner, hypermodel.space)
    tuner = tw.Tuner(oracle, hypermodel, directory=str(tmp_path), project_name="p", overwrite=True)
    assert [p.name for p in tuner.oracle.hyperparameters.space] == ["strategy", "ratio/b"]


def _plain_units(hp):
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(hp.Int("units", 4, 8), activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile("adam", "mse")
    return model


def test_new_hyperparameters_without_new_entries_raise_what_keras_tuner_code_catches(tmp_path):
    # keras-tuner raises a RuntimeError there: code written for it still catches ours.
    hp = kt.HyperParameters()
    hp.Float("rate", 1e-3, 1e-1)
    with pytest.raises(RuntimeError, match=r"but `allow_new_entries` is `False`") as raised:
        tw.RandomSearch(
            _plain_units,
            objective="val_loss",
            hyperparameters=hp,
            allow_new_entries=False,
            directory=tmp_path,
        )
    assert isinstance(raised.value, tw.ConfigurationError)


def test_a_project_of_another_strategy_is_refused_as_keras_tuner_refuses_it(tmp_path):
    x, y = make_data()
    first = tw.RandomSearch(
        _plain_units, objective="val_loss", max_trials=1, directory=tmp_path, project_name="p"
    )
    first.search(x, y["ya"], validation_data=(x, y["ya"]), epochs=1, verbose=0)
    assert [t.status for t in first.oracle.trials.values()] == ["COMPLETED"]
    before = fingerprint(tmp_path / "p")
    with pytest.raises(
        RuntimeError,
        match=r"oracle\.json cannot be used: it is not the state of this oracle \(BayesianOptimizationOracle\) "
        r"as keras-tuner writes it .*another oracle's project, or a damaged file\. If you did not mean to "
        r"reload that project, change the `project_name` or pass `overwrite=True`",
    ) as raised:
        tw.BayesianOptimization(
            _plain_units, objective="val_loss", max_trials=2, directory=tmp_path, project_name="p"
        )
    assert isinstance(raised.value, tw.DamagedStateFile)
    assert fingerprint(tmp_path / "p") == before
