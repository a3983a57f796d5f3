"""A catalogue of malformed inputs: each is refused with a clear error before any training.

Every case asserts the exception's type (a keras-tuner `FatalError`, so that
raised inside a trial it would stop the search), that the message names the
argument, states the rule and shows the value received, and that nothing
trained:

* declarations (terms, ranges, schedules, switches, strategies, pruners,
  hypermodels) are refused by their constructors, before any model exists;
* tuner arguments are refused on a copy of an existing project with
  ``overwrite=True``: the project is left byte for byte as it was;
* `search` arguments and data are refused on a copy of an existing project
  reopened (its files byte for byte as they were, no trial added), or, for
  models of other shapes, in a new directory (no trial, no trial directory).

Cases tested elsewhere (tests/test_tuner.py, tests/test_fit_arguments.py,
tests/test_terms.py, tests/test_schedules.py, ...) are not repeated here.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import threading
from collections.abc import Callable
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import TwoSources, fingerprint, make_data
from tuneweights import pruners, schedules, strategies, switches

N = 32
X, Y = make_data(N)
V = (X, Y)


@dataclasses.dataclass(frozen=True)
class Case:
    """A malformed input and what its error must say.

    Attributes:
        make: Raises the error (its arguments depend on the group).
        argument: The argument the message names: "Argument `<argument>` must".
        rule: A regular expression of the rule, right after "must ".
        received: A regular expression of the value shown, right after "Received: ".
        error: The exception type.
    """

    make: Callable[..., Any]
    argument: str
    rule: str
    received: str
    error: type[Exception] = tw.ConfigurationError


def check_message(error: BaseException, case: Case) -> None:
    assert isinstance(error, case.error), repr(error)
    assert isinstance(error, kt.errors.FatalError), repr(error)
    message = str(error)
    assert re.search(rf"Argument `{re.escape(case.argument)}` must {case.rule}", message), message
    assert re.search(rf"Received: {case.received}", message), message


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A finished one-trial search of `TwoSources`, built once: `(directory, fingerprint)`."""
    directory = str(tmp_path_factory.mktemp("existing"))
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=1, directory=directory, project_name="p"
    )
    tuner.search(X, Y, validation_data=V, epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    return directory, fingerprint(directory)


@pytest.fixture
def copied(project, tmp_path):
    """A copy of the existing project: `(directory, fingerprint)`."""
    directory, before = project
    copy = str(tmp_path / "copy")
    shutil.copytree(directory, copy)
    assert fingerprint(copy) == before
    return copy, before


# -- declarations --------------------------------------------------------------------------------


def two_terms(**second: Any) -> list[tw.Term]:
    return [
        tw.Term("a", "mse", output="pred", target="ya"),
        tw.Term("b", output="pred", target="yb", **second),
    ]


S, W, ST, P = schedules, switches, strategies, pruners

DECLARATIONS = {
    # Term
    "term name of another type": Case(
        lambda: tw.Term(3), "name", "be a str", r"name=3 \(of type int\)", tw.ConfigurationTypeError
    ),
    "term name with a slash": Case(
        lambda: tw.Term("a/b"), "name", "be a non-empty string of letters", "name='a/b'"
    ),
    "term output empty": Case(
        lambda: tw.Term("a", output=""), "output", "be a non-empty string", "output=''"
    ),
    "term output of another type": Case(
        lambda: tw.Term("a", output=7), "output", "be a str", "output=7", tw.ConfigurationTypeError
    ),
    "term target with a space": Case(
        lambda: tw.Term("a", target="y b"), "target", "be a non-empty string", "target='y b'"
    ),
    "term target of another type": Case(
        lambda: tw.Term("a", target=5), "target", "be a str", "target=5", tw.ConfigurationTypeError
    ),
    "term weight nan": Case(
        lambda: tw.Term("a", weight=math.nan), "weight", "be a finite number >= 0", "weight=nan"
    ),
    "term weight inf": Case(
        lambda: tw.Term("a", weight=math.inf), "weight", "be a finite number >= 0", "weight=inf"
    ),
    "term weight bool": Case(
        lambda: tw.Term("a", weight=True),
        "weight",
        "be a number",
        r"weight=True \(of type bool\)",
        tw.ConfigurationTypeError,
    ),
    "term weight None": Case(
        lambda: tw.Term("a", weight=None), "weight", "be a number", "weight=None", tw.ConfigurationTypeError
    ),
    "term weight list": Case(
        lambda: tw.Term("a", weight=[1, 2]),
        "weight",
        "be a number",
        r"weight=\[1, 2\]",
        tw.ConfigurationTypeError,
    ),
    "term weight unknown dict": Case(
        lambda: tw.Term("a", weight={"foo": 1}),
        "weight",
        "be a dict as written by `Term.get_config`",
        r"weight=\{'foo': 1\}",
    ),
    "term update unknown": Case(
        lambda: tw.Term("a", update="batch"), "update", r"be one of \['epoch', 'step'\]", "update='batch'"
    ),
    "term update None": Case(
        lambda: tw.Term("a", update=None), "update", r"be one of \['epoch', 'step'\]", "update=None"
    ),
    "term metrics an int": Case(
        lambda: tw.Term("a", metrics=3),
        "metrics",
        "be a list of metrics",
        "metrics=3",
        tw.ConfigurationTypeError,
    ),
    "term metric name misspelt": Case(
        lambda: tw.Term("a", metrics=["accurcy"]),
        "metrics[0]",
        "be a metric name known to `keras.metrics.get`",
        r"metrics\[0\]='accurcy'",
    ),
    "term second metric unknown": Case(
        lambda: tw.Term("a", metrics=["mae", "f1_scor"]),
        "metrics[1]",
        "be a metric name known",
        r"metrics\[1\]='f1_scor'",
    ),
    "term single metric name unknown": Case(
        lambda: tw.Term("a", metrics="nope"), "metrics[0]", "be a metric name known", r"metrics\[0\]='nope'"
    ),
    "term metric None": Case(
        lambda: tw.Term("a", metrics=[None]),
        "metrics[0]",
        "be a metric name",
        r"metrics\[0\]=None",
        tw.ConfigurationTypeError,
    ),
    "term loss None": Case(
        lambda: tw.Term("a", loss=None), "loss", "be a loss name", "loss=None", tw.ConfigurationTypeError
    ),
    "term loss empty name": Case(
        lambda: tw.Term("a", loss=""), "loss", "be a loss name known to `keras.losses.get`", "loss=''"
    ),
    "term loss list": Case(
        lambda: tw.Term("a", loss=["mse"]),
        "loss",
        "be a loss name",
        r"loss=\['mse'\]",
        tw.ConfigurationTypeError,
    ),
    # Range
    "range high nan": Case(lambda: tw.Range(1, math.nan), "high", "be a finite number > 0", "high=nan"),
    "range low bool": Case(
        lambda: tw.Range(True, 2), "low", "be a number", "low=True", tw.ConfigurationTypeError
    ),
    "range high str": Case(
        lambda: tw.Range(1, "10"), "high", "be a number", "high='10'", tw.ConfigurationTypeError
    ),
    "range default nan": Case(
        lambda: tw.Range(1, 2, default=math.nan), "default", "be a finite number > 0", "default=nan"
    ),
    "range default str": Case(
        lambda: tw.Range(1, 2, default="1"),
        "default",
        "be a number",
        "default='1'",
        tw.ConfigurationTypeError,
    ),
    "range sampling None": Case(
        lambda: tw.Range(1, 2, sampling=None), "sampling", r"be one of \['log', 'linear'\]", "sampling=None"
    ),
    # ScheduleSearch
    "schedule search family not searchable": Case(
        lambda: tw.ScheduleSearch(families=("step", "exponential")),
        "families",
        "be a non-empty subset of",
        r"families=\('step', 'exponential'\)",
    ),
    "schedule search no family": Case(
        lambda: tw.ScheduleSearch(families=()), "families", "be a non-empty subset of", r"families=\(\)"
    ),
    "schedule search at beyond 1": Case(
        lambda: tw.ScheduleSearch(at=tw.Range(0.1, 2)),
        "at",
        r"lie within \(0, 1\]",
        r"at=Range\(low=0.1, high=2.0",
    ),
    "schedule search ratio beyond 1": Case(
        lambda: tw.ScheduleSearch(ratio=tw.Range(0.1, 2)),
        "ratio",
        r"lie within \(0, 1\]",
        r"ratio=Range\(low=0.1",
    ),
    "schedule search no floor left": Case(
        lambda: tw.ScheduleSearch(floor=None, zero_floor=False),
        "floor",
        "be a Range when zero_floor=False",
        "floor=None",
    ),
    "schedule search cycles from 0": Case(
        lambda: tw.ScheduleSearch(cycles=(0, 3)),
        "cycles",
        r"be \(low, high\) ints with 1 <= low <= high",
        r"cycles=\(0, 3\)",
    ),
    "schedule search cycles reversed": Case(
        lambda: tw.ScheduleSearch(cycles=(4, 2)), "cycles", r"be \(low, high\) ints", r"cycles=\(4, 2\)"
    ),
    "schedule search cycles float": Case(
        lambda: tw.ScheduleSearch(cycles=(1.5, 3)), "cycles", r"be \(low, high\) ints", r"cycles=\(1.5, 3\)"
    ),
    "schedule search start a number": Case(
        lambda: tw.ScheduleSearch(start=0.5),
        "start",
        "be a `tuneweights.Range`",
        "start=0.5",
        tw.ConfigurationTypeError,
    ),
    "schedule search zero_floor str": Case(
        lambda: tw.ScheduleSearch(zero_floor="yes"),
        "zero_floor",
        "be a bool",
        "zero_floor='yes'",
        tw.ConfigurationTypeError,
    ),
    # schedules
    "constant weight inf": Case(
        lambda: S.Constant(math.inf), "weight", "be a finite number >= 0", "weight=inf"
    ),
    "linear start negative": Case(lambda: S.Linear(start=-1), "start", "be a finite number >= 0", "start=-1"),
    "linear begin beyond 1": Case(
        lambda: S.Linear(begin=1.5, stop=2.0), "begin", r"lie in \[0, 1\] with unit='fraction'", "begin=1.5"
    ),
    "exponential start 0": Case(lambda: S.Exponential(start=0), "start", "be a finite number > 0", "start=0"),
    "exponential stop negative in epochs": Case(
        lambda: S.Exponential(stop=-1, unit="epoch"), "stop", "be a finite number >= 0", "stop=-1"
    ),
    "cosine begin after stop": Case(lambda: S.Cosine(begin=0.9, stop=0.1), "begin", "be < stop", "begin=0.9"),
    "step at nan": Case(lambda: S.Step(at=math.nan), "at", "be a finite number >= 0", "at=nan"),
    "step start negative": Case(lambda: S.Step(start=-2), "start", "be a finite number >= 0", "start=-2"),
    "warmup weight negative": Case(
        lambda: S.Warmup(weight=-1), "weight", "be a finite number >= 0", "weight=-1"
    ),
    "warmup length inf": Case(
        lambda: S.Warmup(length=math.inf, unit="epoch"), "length", "be a finite number > 0", "length=inf"
    ),
    "sigmoid width negative": Case(
        lambda: S.Sigmoid(width=-1), "width", "be a finite number > 0", "width=-1"
    ),
    "sigmoid at beyond 1": Case(
        lambda: S.Sigmoid(at=2), "at", r"lie in \[0, 1\] with unit='fraction'", "at=2"
    ),
    "cyclical cycles negative": Case(lambda: S.Cyclical(cycles=-2), "cycles", "be >= 1", "cycles=-2"),
    "cyclical ratio negative": Case(
        lambda: S.Cyclical(ratio=-0.5), "ratio", "be a finite number > 0", r"ratio=-0.5"
    ),
    "schedule name misspelt": Case(
        lambda: S.get("cosin"), "identifier", "name a registered schedule", "identifier='cosin'"
    ),
    "schedule dict with an unknown field": Case(
        lambda: S.get({"name": "step", "bogus": 1}),
        "identifier",
        r"hold only parameters of Step \['start', 'end', 'at', 'unit'\]",
        r"identifier=\{'name': 'step', 'bogus': 1\}",
    ),
    # switches
    "switch point beyond 1": Case(
        lambda: W.SwitchAt(at=1.5), "at", r"lie in \[0, 1\] with unit='fraction'", "at=1.5"
    ),
    "switch from an unknown loss": Case(
        lambda: W.SwitchAt(before="msee"),
        "before",
        "be a loss name known to `keras.losses.get`",
        "before='msee'",
    ),
    "switch to a number": Case(
        lambda: W.SwitchAt(after=3), "after", "be a loss name", "after=3", tw.ConfigurationTypeError
    ),
    "switch unit unknown": Case(
        lambda: W.SwitchAt(unit="epochs"), "unit", r"be one of \['fraction', 'epoch'\]", "unit='epochs'"
    ),
    "switch on metric patience 0": Case(
        lambda: W.SwitchOnMetric(patience=0), "patience", "be an int >= 1", "patience=0"
    ),
    "switch on metric mode unknown": Case(
        lambda: W.SwitchOnMetric(mode="under"), "mode", "be one of", "mode='under'"
    ),
    "switch on metric threshold negative": Case(
        lambda: W.SwitchOnMetric(threshold=-1), "threshold", "be a finite number >= 0", "threshold=-1"
    ),
    "switch on metric monitor not a name": Case(
        lambda: W.SwitchOnMetric(monitor=3),
        "monitor",
        r"be a logged name \(str\)",
        "monitor=3",
        tw.ConfigurationTypeError,
    ),
    "switch on state momentum 1": Case(
        lambda: W.SwitchOnState(momentum=1.0), "momentum", r"be in \[0, 1\)", "momentum=1.0"
    ),
    "switch on state quantity unknown": Case(
        lambda: W.SwitchOnState(quantity="entropy"), "quantity", "be one of", "quantity='entropy'"
    ),
    "switch on state once str": Case(
        lambda: W.SwitchOnState(once="yes"), "once", "be a bool", "once='yes'", tw.ConfigurationTypeError
    ),
    # strategies
    "uncertainty learning rate negative": Case(
        lambda: ST.Uncertainty(learning_rate=-1), "learning_rate", r".*> 0", "learning_rate=-1"
    ),
    "dwa temperature 0": Case(lambda: ST.DWA(temperature=0), "temperature", r".*> 0", "temperature=0"),
    "random weights seed negative": Case(
        lambda: ST.RandomWeights(seed=-1), "seed", "be an int >= 0", "seed=-1"
    ),
    "validation power 0": Case(lambda: ST.ValidationDriven(power=0), "power", r".*> 0", "power=0"),
    "validation momentum negative": Case(
        lambda: ST.ValidationDriven(momentum=-0.1), "momentum", "be a finite number >= 0", r"momentum=-0.1"
    ),
    "gradnorm learning rate 0": Case(
        lambda: ST.GradNorm(learning_rate=0), "learning_rate", r".*> 0", "learning_rate=0"
    ),
    "separate learning rate negative": Case(
        lambda: ST.SeparateOptimizers(learning_rate=-1), "learning_rate", r".*> 0", "learning_rate=-1"
    ),
    "strategy search of a name": Case(
        lambda: ST.StrategySearch("static"),
        "candidates",
        "be a list of strategies",
        "candidates='static'",
        tw.ConfigurationTypeError,
    ),
    "strategy name misspelt": Case(
        lambda: ST.get("softmx"), "identifier", "name a registered strategy", "identifier='softmx'"
    ),
    # pruners
    "percentile negative": Case(
        lambda: P.PercentilePruner(percentile=-5), "percentile", "be a finite number > 0", "percentile=-5"
    ),
    "median warm-up float": Case(
        lambda: P.MedianStopping(warmup=1.5), "warmup", "be an int >= 0", "warmup=1.5"
    ),
    "halving min epochs 0": Case(
        lambda: P.SuccessiveHalving(min_epochs=0), "min_epochs", "be an int >= 1", "min_epochs=0"
    ),
    "halving reduction factor float": Case(
        lambda: P.SuccessiveHalving(reduction_factor=2.5),
        "reduction_factor",
        "be an int >= 2",
        "reduction_factor=2.5",
    ),
    "pruner of another type": Case(
        lambda: P.get(3), "identifier", "be a pruner name", "identifier=3", tw.ConfigurationTypeError
    ),
    # WeightedHyperModel
    "weighting unknown": Case(
        lambda: TwoSources(weighting="relative"), "weighting", "be one of", "weighting='relative'"
    ),
    "reference unknown": Case(
        lambda: TwoSources(reference="zz"), "reference", "name one of the terms", "reference='zz'"
    ),
    "terms dict of a number": Case(
        lambda: tw.WeightedHyperModel({"pred": 3}),
        "loss",
        "be a loss name",
        "loss=3",
        tw.ConfigurationTypeError,
    ),
    "terms dict output not a name": Case(
        lambda: tw.WeightedHyperModel({"a b": "mse"}),
        "terms (output name)",
        "be a non-empty string",
        "terms \\(output name\\)='a b'",
    ),
}


@pytest.mark.parametrize("case", sorted(DECLARATIONS))
def test_a_malformed_declaration_is_refused_when_made(case):
    declared = DECLARATIONS[case]
    with pytest.raises(declared.error) as info:
        declared.make()
    check_message(info.value, declared)


# -- tuner arguments, on an existing project with overwrite=True ------------------------------------


def plain_build(hp):
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(hp.Int("units", 2, 8, step=2), activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer="adam", loss="mse")
    return model


class PlainKinds(kt.HyperModel):
    """A plain hypermodel that declares `units` only when `kind` is "wide"."""

    def build(self, hp):
        inputs = keras.Input((4,))
        kind = hp.Choice("kind", ["narrow", "wide"])
        units = 4
        with hp.conditional_scope("kind", ["wide"]):
            if kind == "wide":
                units = hp.Int("units", 8, 16, step=8)
        model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(units)(inputs)))
        model.compile(optimizer="adam", loss="mse")
        return model


def declared(build):
    hp = kt.HyperParameters()
    build(hp)
    return hp


def random(**kwargs):
    return lambda d: tw.RandomSearch(**{"hypermodel": TwoSources(), "objective": "val_a_loss", **d, **kwargs})


def bayesian(**kwargs):
    return lambda d: tw.BayesianOptimization(
        **{"hypermodel": TwoSources(), "objective": "val_a_loss", **d, **kwargs}
    )


def hyperband(**kwargs):
    return lambda d: tw.Hyperband(**{"hypermodel": TwoSources(), "objective": "val_a_loss", **d, **kwargs})


def grid(**kwargs):
    return lambda d: tw.GridSearch(**{"hypermodel": TwoSources(), "objective": "val_a_loss", **d, **kwargs})


def plain(**kwargs):
    return lambda d: tw.RandomSearch(**{"hypermodel": plain_build, "objective": "val_loss", **d, **kwargs})


def on_oracle(**kwargs):
    def make(d):
        oracle = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=2, **kwargs)
        return tw.Tuner(oracle, TwoSources(), **d)

    return make


T = tw.ConfigurationTypeError
TUNERS = {
    "random: no failed trial allowed": Case(
        random(max_consecutive_failed_trials=0),
        "max_consecutive_failed_trials",
        "be an int >= 1",
        "max_consecutive_failed_trials=0",
    ),
    "bayesian: negative failed trials": Case(
        bayesian(max_consecutive_failed_trials=-1),
        "max_consecutive_failed_trials",
        "be an int >= 1",
        "max_consecutive_failed_trials=-1",
    ),
    "hyperband: no failed trial allowed": Case(
        hyperband(max_consecutive_failed_trials=0),
        "max_consecutive_failed_trials",
        "be an int >= 1",
        "max_consecutive_failed_trials=0",
    ),
    "grid: no failed trial allowed": Case(
        grid(max_consecutive_failed_trials=0),
        "max_consecutive_failed_trials",
        "be an int >= 1",
        "max_consecutive_failed_trials=0",
    ),
    "failed trials a float": Case(
        random(max_consecutive_failed_trials=1.5),
        "max_consecutive_failed_trials",
        "be an int >= 1",
        "max_consecutive_failed_trials=1.5",
    ),
    "retries negative": Case(
        random(max_retries_per_trial=-1),
        "max_retries_per_trial",
        "be an int >= 0",
        "max_retries_per_trial=-1",
    ),
    "tune_new_entries a str": Case(
        random(tune_new_entries="yes"), "tune_new_entries", "be a bool", "tune_new_entries='yes'", T
    ),
    "allow_new_entries None": Case(
        random(allow_new_entries=None), "allow_new_entries", "be a bool", "allow_new_entries=None", T
    ),
    "hyperparameters a dict": Case(
        random(hyperparameters={"ratio/b": 2.0}),
        "hyperparameters",
        "be None or a `keras_tuner.HyperParameters`",
        r"hyperparameters=\{'ratio/b': 2.0\}",
        T,
    ),
    "overwrite a str": Case(random(overwrite="yes"), "overwrite", "be a bool", "overwrite='yes'", T),
    "reuse_models a str": Case(
        random(reuse_models="no"), "reuse_models", "be a bool", "reuse_models='no'", T
    ),
    "directory a number": Case(
        random(directory=3), "directory", "be a str, a path or None", "directory=3", T
    ),
    "project name empty": Case(
        random(project_name=""), "project_name", "be a non-empty str or None", "project_name=''"
    ),
    "argument misspelt": Case(
        random(overwite=True), "overwite", "be left out: the tuner takes no such argument", "overwite=True"
    ),
    "fit argument given to the tuner": Case(
        random(epochs=3), "epochs", "be left out: the tuner takes no such argument", "epochs=3"
    ),
    "max_trials negative": Case(random(max_trials=-1), "max_trials", "be an int >= 1", "max_trials=-1"),
    "max_trials a str": Case(random(max_trials="5"), "max_trials", "be an int >= 1", "max_trials='5'"),
    "max_trials a float": Case(bayesian(max_trials=2.0), "max_trials", "be an int >= 1", "max_trials=2.0"),
    "grid: max_trials 0": Case(grid(max_trials=0), "max_trials", "be an int >= 1", "max_trials=0"),
    "executions a float": Case(
        random(executions_per_trial=1.5), "executions_per_trial", "be an int >= 1", "executions_per_trial=1.5"
    ),
    "seed a float": Case(random(seed=1.5), "seed", "be an int or None", "seed=1.5", T),
    "seed a bool": Case(hyperband(seed=True), "seed", "be an int or None", "seed=True", T),
    "beta negative": Case(bayesian(beta=-1), "beta", "be a finite number > 0", "beta=-1"),
    "alpha nan": Case(bayesian(alpha=math.nan), "alpha", "be a finite number > 0", "alpha=nan"),
    "initial points 0": Case(
        bayesian(num_initial_points=0), "num_initial_points", "be an int >= 1", "num_initial_points=0"
    ),
    "max_epochs a str": Case(hyperband(max_epochs="10"), "max_epochs", "be an int >= 1", "max_epochs='10'"),
    "factor a float": Case(hyperband(factor=2.5), "factor", "be an int >= 2", "factor=2.5"),
    "pruner of another type": Case(random(pruner=3), "identifier", "be a pruner name", "identifier=3", T),
    "max_restarts a float": Case(
        random(max_restarts=1.5), "max_restarts", "be an int >= 0", "max_restarts=1.5"
    ),
    "max_restarts a str": Case(
        random(max_restarts="3"), "max_restarts", "be an int >= 0", "max_restarts='3'"
    ),
    "objective of no term": Case(
        random(objective="val_c_loss"), "objective", "be one of the logged names", "objective='val_c_loss'"
    ),
    "objective a term's weight": Case(
        random(objective=kt.Objective("b_weight", "min")),
        "objective",
        "name a loss or metric, not a term's weight",
        "objective='b_weight'",
    ),
    "objectives one never logged": Case(
        random(objective=["val_a_loss", kt.Objective("val_zz", "min")]),
        "objective",
        "be one of the logged names",
        "objective='val_zz'",
    ),
    "optimizer misspelt": Case(
        random(optimizer="adm"),
        "optimizer",
        "be an optimizer name known to `keras.optimizers.get`",
        "optimizer='adm'",
    ),
    "optimizer class": Case(
        random(optimizer=keras.optimizers.Adam),
        "optimizer",
        "be an optimizer name",
        r"optimizer=<class .*Adam'> \(a class\)",
        T,
    ),
    "optimizer a number": Case(
        random(optimizer=0.01), "optimizer", "be None, an optimizer name", "optimizer=0.01", T
    ),
    "oracle a name": Case(
        lambda d: tw.Tuner("random", TwoSources(), **d),
        "oracle",
        "be an instance of `keras_tuner.Oracle`",
        "oracle='random'",
    ),
    "own oracle: no failed trial allowed": Case(
        on_oracle(max_consecutive_failed_trials=0),
        "max_consecutive_failed_trials",
        "be an int >= 1",
        "max_consecutive_failed_trials=0",
    ),
    "own oracle: negative retries": Case(
        on_oracle(max_retries_per_trial=-2),
        "max_retries_per_trial",
        "be an int >= 0",
        "max_retries_per_trial=-2",
    ),
    "plain: no space without new entries": Case(
        plain(allow_new_entries=False),
        "hyperparameters",
        "declare the search space when `allow_new_entries=False`",
        "hyperparameters=None",
    ),
    "no space without tuning new entries": Case(
        random(tune_new_entries=False),
        "hyperparameters",
        "declare the search space when `tune_new_entries=False`",
        "hyperparameters=None",
    ),
    "plain: a new entry without new entries": Case(
        plain(allow_new_entries=False, hyperparameters=declared(lambda hp: hp.Float("rate", 1e-3, 1e-1))),
        "hyperparameters",
        r"declare every hyperparameter `build\(hp\)` declares when `allow_new_entries=False`; missing: \['units'\]",
        r"hyperparameters=\['rate'\]",
    ),
    "plain: a conditional entry without new entries": Case(
        plain(
            hypermodel=PlainKinds(),
            allow_new_entries=False,
            hyperparameters=declared(lambda hp: hp.Choice("kind", ["narrow", "wide"])),
        ),
        "hyperparameters",
        r"declare every hyperparameter .*; missing: \['units'\]",
        r"hyperparameters=\['kind'\]",
    ),
    "plain: no failed trial allowed": Case(
        plain(max_consecutive_failed_trials=0),
        "max_consecutive_failed_trials",
        "be an int >= 1",
        "max_consecutive_failed_trials=0",
    ),
    "plain: argument misspelt": Case(plain(executions=2), "executions", "be left out", "executions=2"),
    "plain: optimizer misspelt": Case(
        plain(optimizer="adamw2"), "optimizer", "be an optimizer name known", "optimizer='adamw2'"
    ),
}


@pytest.mark.parametrize("case", sorted(TUNERS))
def test_a_malformed_tuner_argument_leaves_an_existing_project_untouched_with_overwrite(copied, case):
    directory, before = copied
    refused = TUNERS[case]
    with pytest.raises(refused.error) as info:
        refused.make({"directory": directory, "project_name": "p", "overwrite": True})
    check_message(info.value, refused)
    assert fingerprint(directory) == before  # nothing deleted, nothing written, nothing trained


# -- search arguments and data, on an existing project reopened ---------------------------------------


def without(y, key):
    return {k: v for k, v in y.items() if k != key}


def replaced(y, **arrays):
    return {**y, **arrays}


def dataset(*parts, batch=8):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(parts if len(parts) > 1 else parts[0]).batch(batch)


class _Locked(keras.callbacks.Callback):
    """A callback holding a lock, which `copy.deepcopy` refuses."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


def fit(*args, **kwargs):
    return lambda: (args, {"validation_data": V, **kwargs})


def fit_only(*args, **kwargs):
    return lambda: (args, kwargs)


WIDE = X[:, :3]
EMPTY_Y = {k: v[:0] for k, v in Y.items()}
SEARCHES = {
    "x and y of different lengths": Case(
        fit(X, replaced(Y, ya=Y["ya"][:10])),
        "y['ya']",
        r"have as many samples as `x` \(32\)",
        r"y\['ya'\]=ndarray of shape \(10, 1\)",
    ),
    "second target shorter": Case(
        fit(X, replaced(Y, yb=Y["yb"][:31])),
        "y['yb']",
        r"have as many samples as `x` \(32\)",
        r"y\['yb'\]=ndarray of shape \(31, 1\)",
    ),
    "sample weights shorter": Case(
        fit(X, Y, sample_weight=np.ones(16)),
        "sample_weight",
        r"have as many samples as `x` \(32\)",
        r"sample_weight=ndarray of shape \(16,\)",
    ),
    "no samples": Case(
        fit(X[:0], {k: v[:0] for k, v in Y.items()}),
        "x",
        "hold at least one sample",
        r"x=ndarray of shape \(0, 4\)",
    ),
    "no validation samples": Case(
        fit_only(X, Y, validation_data=(X[:0], {k: v[:0] for k, v in Y.items()})),
        "validation_data[0]",
        "hold at least one sample",
        r"validation_data\[0\]=ndarray of shape \(0, 4\)",
    ),
    "validation x and y of different lengths": Case(
        fit_only(X, Y, validation_data=(X[:8], Y)),
        "validation_data[1]['ya']",
        r"have as many samples as `validation_data\[0\]` \(8\)",
        r"validation_data\[1\]\['ya'\]=ndarray of shape \(32, 1\)",
    ),
    "x one column short": Case(
        fit(WIDE, Y),
        "x",
        r"have the shape the model input takes: \(batch, 4\)",
        r"x=ndarray of shape \(32, 3\)",
    ),
    "x one column too many": Case(
        fit(np.hstack([X, X[:, :1]]), Y),
        "x",
        r"have the shape the model input takes: \(batch, 4\)",
        r"x=ndarray of shape \(32, 5\)",
    ),
    "x of rank 3": Case(
        fit(X[:, :, None], Y),
        "x",
        r"have the shape the model input takes",
        r"x=ndarray of shape \(32, 4, 1\)",
    ),
    "x of rank 1": Case(
        fit(X[:, 0], Y), "x", r"have the shape the model input takes", r"x=ndarray of shape \(32,\)"
    ),
    "validation x one column short": Case(
        fit_only(X, Y, validation_data=(WIDE, Y)),
        "validation_data[0]",
        r"have the shape the model input takes: \(batch, 4\)",
        r"validation_data\[0\]=ndarray of shape \(32, 3\)",
    ),
    "x of strings": Case(
        fit(X.astype(str), Y),
        "x",
        "hold numbers: the model input is float32",
        r"x=ndarray of shape \(32, 4\) and dtype <U",
    ),
    "string targets": Case(
        fit(X, replaced(Y, ya=Y["ya"].astype(str))),
        "y['ya']",
        "hold numbers: a loss cannot compare strings or objects",
        r"y\['ya'\]=ndarray of shape \(32, 1\) and dtype <U",
    ),
    "object targets": Case(
        fit(X, replaced(Y, yb=Y["yb"].astype(object))),
        "y['yb']",
        "hold numbers",
        r"y\['yb'\]=ndarray of shape \(32, 1\) and dtype object",
    ),
    "byte-string targets": Case(
        fit(X, replaced(Y, ya=Y["ya"].astype(bytes))),
        "y['ya']",
        "hold numbers",
        r"y\['ya'\]=ndarray of shape \(32, 1\) and dtype \|S",
    ),
    "validation string targets": Case(
        fit_only(X, Y, validation_data=(X, replaced(Y, yb=Y["yb"].astype(str)))),
        "validation_data[1]['yb']",
        "hold numbers",
        r"validation_data\[1\]\['yb'\]=ndarray",
    ),
    "targets that broadcast": Case(
        fit(X, replaced(Y, ya=np.repeat(Y["ya"], 3, axis=1))),
        "y['ya']",
        r"have the shape of the output, \(batch, 1\), for mean_squared_error: other shapes broadcast \(term 'a', output 'pred'\)",
        r"y\['ya'\]=ndarray of shape \(32, 3\)",
    ),
    "targets of rank 3": Case(
        fit(X, replaced(Y, yb=Y["yb"][:, :, None].repeat(2, axis=2))),
        "y['yb']",
        r"have the shape of the output, \(batch, 1\)",
        r"y\['yb'\]=ndarray of shape \(32, 1, 2\)",
    ),
    "validation targets that broadcast": Case(
        fit_only(X, Y, validation_data=(X, replaced(Y, yb=np.tile(Y["yb"], 2)))),
        "validation_data[1]['yb']",
        r"have the shape of the output, \(batch, 1\)",
        r"validation_data\[1\]\['yb'\]=ndarray of shape \(32, 2\)",
    ),
    "validation data without targets": Case(
        fit_only(X, Y, validation_data=X),
        "validation_data",
        r"be \(x, y\), \(x, y, sample_weight\) or a dataset yielding them",
        r"validation_data=ndarray of shape \(32, 4\)",
    ),
    "validation targets None": Case(
        fit_only(X, Y, validation_data=(X, None)),
        "validation_data[1]",
        r"be given: the terms read the targets \['ya', 'yb'\]",
        r"validation_data\[1\]=None",
    ),
    "validation data a dict": Case(
        fit_only(X, Y, validation_data={"x": X, "y": Y}),
        "validation_data",
        r"be \(x, y\), \(x, y, sample_weight\) or a dataset",
        r"validation_data=\{'x': ndarray of shape \(32, 4\) and dtype float32, 'y': \{'ya': ndarray",
    ),
    "validation data of four parts": Case(
        fit_only(X, Y, validation_data=(X, Y, None, None)),
        "validation_data",
        r"be \(x, y\) or \(x, y, sample_weight\)",
        "validation_data=a tuple of 4 items",
    ),
    "no targets": Case(fit(X), "y", r"be given: the terms read the targets \['ya', 'yb'\]", "y=None"),
    "validation split beyond 1": Case(
        fit_only(X, Y, validation_split=1.5),
        "validation_split",
        r"be a number in \[0, 1\)",
        "validation_split=1.5",
    ),
    "validation split negative": Case(
        fit_only(X, Y, validation_split=-0.1),
        "validation_split",
        r"be a number in \[0, 1\)",
        r"validation_split=-0.1",
    ),
    "validation split 1": Case(
        fit_only(X, Y, validation_split=1.0),
        "validation_split",
        r"be a number in \[0, 1\)",
        r"validation_split=1.0",
    ),
    "validation split a str": Case(
        fit_only(X, Y, validation_split="0.2"),
        "validation_split",
        r"be a number in \[0, 1\)",
        "validation_split='0.2'",
    ),
    "validation split with a dataset": Case(
        fit_only(dataset(X, Y), validation_split=0.2),
        "validation_split",
        "be 0 when `x` is a dataset or a generator",
        "validation_split=0.2",
    ),
    "validation split leaving no training sample": Case(
        fit_only(X[:1], {k: v[:1] for k, v in Y.items()}, validation_split=0.5),
        "validation_split",
        "leave at least one of the 1 samples for training and one for validation",
        "validation_split=0.5",
    ),
    "sample weights with a dataset": Case(
        fit(dataset(X, Y), sample_weight=np.ones(N)),
        "sample_weight",
        "be left out when `x` is a dataset",
        "sample_weight=ndarray",
    ),
    "batch size 0": Case(fit(X, Y, batch_size=0), "batch_size", "be an int >= 1", "batch_size=0"),
    "batch size negative": Case(fit(X, Y, batch_size=-8), "batch_size", "be an int >= 1", "batch_size=-8"),
    "batch size a float": Case(fit(X, Y, batch_size=2.5), "batch_size", "be an int >= 1", "batch_size=2.5"),
    "batch size a str": Case(fit(X, Y, batch_size="32"), "batch_size", "be an int >= 1", "batch_size='32'"),
    "epochs a str": Case(fit(X, Y, epochs="3"), "epochs", "be an int >= 1", "epochs='3'"),
    "epochs a bool": Case(fit(X, Y, epochs=True), "epochs", "be an int >= 1", "epochs=True"),
    "epochs None": Case(fit(X, Y, epochs=None), "epochs", "be an int >= 1", "epochs=None"),
    "epochs by position 0": Case(fit(X, Y, None, 0), "epochs", "be an int >= 1", "epochs=0"),
    "initial epoch negative": Case(
        fit(X, Y, initial_epoch=-1), "initial_epoch", "be an int >= 0", "initial_epoch=-1"
    ),
    "initial epoch at the end": Case(
        fit(X, Y, epochs=3, initial_epoch=3),
        "initial_epoch",
        r"be < epochs=3 \(no epoch would run\)",
        "initial_epoch=3",
    ),
    "steps per epoch 0": Case(
        fit(X, Y, steps_per_epoch=0), "steps_per_epoch", "be an int >= 1", "steps_per_epoch=0"
    ),
    "validation steps 0": Case(
        fit(X, Y, validation_steps=0), "validation_steps", "be an int >= 1", "validation_steps=0"
    ),
    "validation batch size negative": Case(
        fit(X, Y, validation_batch_size=-1),
        "validation_batch_size",
        "be an int >= 1",
        "validation_batch_size=-1",
    ),
    "validation frequency 0": Case(
        fit(X, Y, validation_freq=0), "validation_freq", "be an int >= 1", "validation_freq=0"
    ),
    "a callback by name": Case(
        fit(X, Y, callbacks=["early_stopping"]),
        "callbacks[0]",
        "be a `keras.callbacks.Callback`",
        r"callbacks\[0\]='early_stopping'",
        T,
    ),
    "a callback class": Case(
        fit(X, Y, callbacks=[keras.callbacks.History(), keras.callbacks.EarlyStopping]),
        "callbacks[1]",
        "be a `keras.callbacks.Callback`",
        r"callbacks\[1\]=<class",
        T,
    ),
    "a callback that cannot be copied": Case(
        fit(X, Y, callbacks=[_Locked()]),
        "callbacks[0]",
        "be deep-copyable: every trial gets its own copy",
        r"callbacks\[0\]=<",
    ),
    "a fit argument misspelt": Case(
        fit(X, Y, epoch=3),
        "fit arguments",
        "be arguments that `keras.Model.fit` takes",
        r"fit arguments=\{'positional': 2",
    ),
    "an empty dataset": Case(
        fit(dataset(X[:0], EMPTY_Y)),
        "x",
        r"hold at least one batch \(its cardinality is 0\)",
        "x=_BatchDataset of element_spec",
    ),
    "a dataset without targets": Case(
        fit(dataset(X)),
        "x",
        r"yield \(x, y\) or \(x, y, sample_weight\)",
        "x=_BatchDataset of element_spec TensorSpec",
    ),
    "a dataset one column short": Case(
        fit(dataset(WIDE, Y)),
        "x (its x)",
        r"have the shape the model input takes: \(batch, 4\)",
        r"x \(its x\)=TensorSpec of shape \(None, 3\) and dtype float32",
    ),
    "a dataset of string targets": Case(
        fit(dataset(X, replaced(Y, ya=Y["ya"].astype(str)))),
        "x (its y)['ya']",
        "hold numbers",
        r"x \(its y\)\['ya'\]=TensorSpec",
    ),
    "a dataset of targets that broadcast": Case(
        fit(dataset(X, replaced(Y, yb=np.tile(Y["yb"], 4)))),
        "x (its y)['yb']",
        r"have the shape of the output, \(batch, 1\)",
        r"x \(its y\)\['yb'\]=TensorSpec of shape \(None, 4\) and dtype float32",
    ),
    "a validation dataset without targets": Case(
        fit_only(X, Y, validation_data=dataset(X)),
        "validation_data",
        r"yield \(x, y\) or \(x, y, sample_weight\)",
        "validation_data=_BatchDataset",
    ),
    "a validation dataset missing a target": Case(
        fit_only(X, Y, validation_data=dataset(X, without(Y, "yb"))),
        "validation_data",
        r"hold every target the terms read: \['ya', 'yb'\] \(missing \['yb'\]\)",
        r"validation_data=\['ya'\]",
    ),
}


@pytest.mark.parametrize("case", sorted(SEARCHES))
def test_malformed_search_data_leave_an_existing_project_untouched(copied, case):
    directory, before = copied
    refused = SEARCHES[case]
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=2, directory=directory, project_name="p"
    )
    args, kwargs = refused.make()
    with pytest.raises(refused.error) as info:
        tuner.search(*args, **{"verbose": 0, **kwargs})
    check_message(info.value, refused)
    assert list(tuner.oracle.trials) == ["0"]  # the finished trial alone: none started
    assert fingerprint(directory) == before


# -- search data for models of other shapes, and plain hypermodels, in a new directory ----------------


class TwoInputs(tw.WeightedHyperModel):
    terms = TwoSources.terms

    def build(self, hp):
        left, right = keras.Input((4,), name="left"), keras.Input((2,), name="right")
        joined = keras.layers.Concatenate()([left, right])
        return keras.Model({"left": left, "right": right}, keras.layers.Dense(1, name="pred")(joined))


class Classifier(tw.WeightedHyperModel):
    def build(self, hp):
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="cls")(inputs))


LABELS = np.arange(N) % 3
ONE_HOT = np.eye(3, dtype="float32")[LABELS]

OTHER_SHAPES = {
    "two inputs given one array": Case(
        lambda: (TwoInputs(), "a_loss", (X, Y), {}),
        "x",
        r"be a dict with one array per model input \['left', 'right'\]",
        r"x=ndarray of shape \(32, 4\)",
    ),
    "two inputs, one missing": Case(
        lambda: (TwoInputs(), "a_loss", ({"left": X}, Y), {}),
        "x",
        r"hold every model input \['left', 'right'\] \(missing \['right'\]\)",
        r"x=\['left'\]",
    ),
    "two inputs, one too wide": Case(
        lambda: (TwoInputs(), "a_loss", ({"left": X, "right": X}, Y), {}),
        "x['right']",
        r"have the shape the model input takes: \(batch, 2\)",
        r"x\['right'\]=ndarray of shape \(32, 4\)",
    ),
    "two inputs of different lengths": Case(
        lambda: (TwoInputs(), "a_loss", ({"left": X, "right": X[:20, :2]}, Y), {}),
        "x['right']",
        r"have as many samples as `x\['left'\]` \(32\)",
        r"x\['right'\]=ndarray of shape \(20, 2\)",
    ),
    "class indices given as one-hot rows to a sparse loss": Case(
        lambda: (Classifier({"cls": "sparse_categorical_crossentropy"}), "cls_loss", (X, ONE_HOT), {}),
        "y",
        r"have the shape of the output less its class axis, \(batch, \), for sparse_categorical_crossentropy",
        r"y=ndarray of shape \(32, 3\)",
    ),
    "class indices given to a one-hot loss": Case(
        lambda: (Classifier({"cls": "categorical_crossentropy"}), "cls_loss", (X, LABELS), {}),
        "y",
        r"have the shape of the output, \(batch, 3\), for categorical_crossentropy: other shapes broadcast",
        r"y=ndarray of shape \(32,\)",
    ),
    "labels as strings": Case(
        lambda: (
            Classifier({"cls": "sparse_categorical_crossentropy"}),
            "cls_loss",
            (X, LABELS.astype(str)),
            {},
        ),
        "y",
        "hold numbers",
        r"y=ndarray of shape \(32,\) and dtype <U",
    ),
    "a switch whose second loss would broadcast": Case(
        lambda: (
            Classifier({"cls": tw.switches.SwitchAt(before="sparse_categorical_crossentropy", after="mse")}),
            "cls_loss",
            (X, LABELS),
            {},
        ),
        "y",
        r"have the shape of the output, \(batch, 3\), for mean_squared_error",
        r"y=ndarray of shape \(32,\)",
    ),
    "plain: batch size 0": Case(
        lambda: (plain_build, "loss", (X, Y["ya"]), {"batch_size": 0}),
        "batch_size",
        "be an int >= 1",
        "batch_size=0",
    ),
    "plain: x and y of different lengths": Case(
        lambda: (plain_build, "loss", (X, Y["ya"][:5]), {}),
        "y",
        r"have as many samples as `x` \(32\)",
        r"y=ndarray of shape \(5, 1\)",
    ),
    "plain: no samples": Case(
        lambda: (plain_build, "loss", (X[:0], Y["ya"][:0]), {}),
        "x",
        "hold at least one sample",
        r"x=ndarray of shape \(0, 4\)",
    ),
    "plain: validation split beyond 1": Case(
        lambda: (plain_build, "loss", (X, Y["ya"]), {"validation_split": 1.5}),
        "validation_split",
        r"be a number in \[0, 1\)",
        "validation_split=1.5",
    ),
    "plain: epochs 0": Case(
        lambda: (plain_build, "loss", (X, Y["ya"]), {"epochs": 0}), "epochs", "be an int >= 1", "epochs=0"
    ),
    "plain: validation data without targets": Case(
        lambda: (plain_build, "loss", (X, Y["ya"]), {"validation_data": X}),
        "validation_data",
        r"be \(x, y\), \(x, y, sample_weight\) or a dataset",
        "validation_data=ndarray",
    ),
}


@pytest.mark.parametrize("case", sorted(OTHER_SHAPES))
def test_malformed_search_data_are_refused_before_any_trial(tmp_path, case):
    refused = OTHER_SHAPES[case]
    hypermodel, objective, args, kwargs = refused.make()
    tuner = tw.RandomSearch(
        hypermodel, objective=objective, max_trials=1, directory=str(tmp_path), project_name="p"
    )
    with pytest.raises(refused.error) as info:
        tuner.search(*args, **{"verbose": 0, **kwargs})
    check_message(info.value, refused)
    assert not tuner.oracle.trials
    assert not list(tmp_path.glob("p/trial_*"))


def test_the_catalogue_holds_at_least_150_malformed_inputs():
    assert len(DECLARATIONS) + len(TUNERS) + len(SEARCHES) + len(OTHER_SHAPES) >= 150
