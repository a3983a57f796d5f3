"""Every saved format, pinned: what 0.1.0 wrote is what is written today, plus documented additions.

``tests/fixtures/v0_1_0/golden.json`` holds the forms the 0.1.0 release wrote
(terms, strategies, switches, schedules, spaces, hyperparameters, the state
file, the checkpoint layouts), and ``make_golden.py`` beside it the
declarations they came from. Each declaration is serialised again here by
today's code and compared with its golden form; the only differences allowed
are the parameters added since, listed in `ADDED_SINCE_0_1_0` with their
defaults (a saved form without them loads with those defaults).
"""

import json
import os
import tempfile

import h5py
import keras
import keras_tuner as kt
import numpy as np
import pytest

import tuneweights as tw
from tests.fixtures.v0_1_0 import legacy_models
from tests.fixtures.v0_1_0 import make_golden as release
from tuneweights.search import resume
from tuneweights.search.oracle import STATE_FILE, WeightOracle
from tuneweights.space import saved_form

with open(os.path.join(os.path.dirname(__file__), "fixtures", "v0_1_0", "golden.json")) as f:
    GOLDEN = json.load(f)

#: (kind, registered name) -> parameters added since 0.1.0, with the default an old form loads with.
ADDED_SINCE_0_1_0 = {("switch", "state"): {"once": True}}


def as_saved(value):
    return json.loads(json.dumps(value))


def with_additions(kind, config):
    """A golden registry config completed with the documented additions, checking there are no others."""
    registry = {"switch": tw.switches, "strategy": tw.strategies, "schedule": tw.schedules}[kind]
    completed = registry.complete(config)
    added = {k: v for k, v in completed.items() if k not in config}
    assert added == ADDED_SINCE_0_1_0.get((kind, config["name"]), {}), (kind, config["name"], added)
    return completed


def term_with_additions(config):
    config = dict(config)
    if isinstance(config.get("loss"), dict) and set(config["loss"]) == {"switch"}:
        config["loss"] = {"switch": with_additions("switch", config["loss"]["switch"])}
    return config


@pytest.mark.parametrize("key", sorted(release.terms()))
def test_term_format(key):
    term = release.terms()[key]
    assert as_saved(term.get_config()) == term_with_additions(GOLDEN[key])
    if key == "term/loss/user_function":
        return  # Keras saves a plain function by name: only a process that registers it reads it back
    rebuilt = tw.Term.from_config(as_saved(GOLDEN[key]))
    assert as_saved(rebuilt.get_config()) == term_with_additions(GOLDEN[key])


def test_every_strategy_of_0_1_0_is_still_registered():
    assert {k for k in GOLDEN if k.startswith("strategy/")} <= set(release.strategies())


# strategies registered by other tests of the same process have no golden form
@pytest.mark.parametrize("key", sorted(k for k in release.strategies() if k in GOLDEN))
def test_strategy_format(key):
    strategy = release.strategies()[key]
    assert as_saved(tw.strategies.serialize(strategy)) == with_additions("strategy", GOLDEN[key])
    assert tw.strategies.get(as_saved(GOLDEN[key])) == strategy


@pytest.mark.parametrize("key", sorted(release.strategy_searches()))
def test_strategy_search_format(key):
    search = release.strategy_searches()[key]
    assert as_saved(search.get_config()) == GOLDEN[key]
    assert tw.StrategySearch.from_config(as_saved(GOLDEN[key])) == search


@pytest.mark.parametrize("key", sorted(release.switches()))
def test_switch_format(key):
    switch = release.switches()[key]
    assert as_saved(tw.switches.serialize(switch)) == with_additions("switch", GOLDEN[key])
    assert as_saved(tw.switches.serialize(tw.switches.get(as_saved(GOLDEN[key])))) == with_additions(
        "switch", GOLDEN[key]
    )


@pytest.mark.parametrize("key", sorted(release.schedules()))
def test_schedule_format(key):
    schedule = release.schedules()[key]
    assert as_saved(tw.schedules.serialize(schedule)) == with_additions("schedule", GOLDEN[key])
    assert tw.schedules.get(as_saved(GOLDEN[key])) == schedule


#: Declarations 0.1.0 accepted and dropped part of silently, refused since.
REFUSED_SINCE_0_1_0 = {
    # a strategy that sets the weights itself ignored the searched weight of b
    "space/strategy_single": r"Argument `weights` must be left at 1 for every term under strategy 'uncertainty'",
}


@pytest.mark.parametrize("key", sorted(release.space_declarations()))
def test_space_format(key):
    declare = release.space_declarations()[key]
    if key in REFUSED_SINCE_0_1_0:
        with pytest.raises(tw.ConfigurationError, match=REFUSED_SINCE_0_1_0[key]):
            declare()
        return
    assert as_saved(declare().get_config()) == saved_form(GOLDEN[key])


@pytest.mark.parametrize("key", sorted(release.hyperparameters()))
def test_hyperparameter_names_ranges_and_conditions(key):
    assert release.hyperparameters()[key] == GOLDEN[key]


@pytest.mark.parametrize("name", sorted(set(legacy_models.PROJECTS) - {"interrupted"}))
def test_the_state_file_of_a_project(name):
    """``tuneweights.json``: today's keys are 0.1.0's plus ``diverged``; its space reads the same."""
    saved = GOLDEN[f"project/{name}/tuneweights.json"]
    inner = kt.oracles.RandomSearchOracle(kt.Objective(legacy_models.OBJECTIVE, "min"), max_trials=1)
    oracle = WeightOracle(inner, legacy_models.make_hypermodel(name).space)
    state = as_saved(oracle.get_state())
    assert set(state) == set(saved) | {"diverged"}
    assert state["version"] == saved["version"] == 1
    assert state["space"] == saved_form(saved["space"])
    assert state["objective"] == saved["objective"]
    oracle.set_state(saved)  # the release's file loads


def test_loss_config_format():
    config = tw.LossConfig(
        [
            tw.Term("a", "mse", output="pred", target="ya", metrics=["mae"]),
            tw.Term(
                "b",
                tw.SwitchAt("mse", "huber", at=0.5),
                output="pred",
                target="yb",
                weight=tw.schedules.Step(2.0, 0.0, at=0.25),
            ),
        ],
        strategy=tw.SeparateOptimizers("sgd", 0.1),
    )
    assert as_saved(config.get_config()) == {
        "terms": [
            {
                "name": "a",
                "loss": "mse",
                "output": "pred",
                "target": "ya",
                "weight": 1.0,
                "metrics": ["mae"],
                "update": "epoch",
            },
            {
                "name": "b",
                "loss": {
                    "switch": {
                        "name": "epoch",
                        "before": "mse",
                        "after": "huber",
                        "at": 0.5,
                        "unit": "fraction",
                    }
                },
                "output": "pred",
                "target": "yb",
                "weight": {
                    "schedule": {"name": "step", "start": 2.0, "end": 0.0, "at": 0.25, "unit": "fraction"}
                },
                "metrics": [],
                "update": "epoch",
            },
        ],
        "strategy": {"name": "separate", "optimizer": "sgd", "learning_rate": 0.1, "terms": None},
    }
    assert tw.LossConfig.from_config(as_saved(config.get_config())) == config


def layout_of_h5(path):
    layout = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                layout.__setitem__(name, [list(obj.shape), str(obj.dtype)])
                if isinstance(obj, h5py.Dataset)
                else None
            )
        )
    return layout


@pytest.mark.parametrize("name", ["mixed", "separate", "strategy_search"])
def test_checkpoint_and_resume_file_layouts(name):
    """The best-epoch checkpoint and the resume files address variables as 0.1.0's did."""
    trial = "trial_0"
    hypermodel = legacy_models.make_hypermodel(name)
    with open(
        os.path.join(os.path.dirname(__file__), "fixtures", "v0_1_0", "projects", name, trial, "trial.json")
    ) as f:
        hp = kt.HyperParameters.from_config(json.load(f)["hyperparameters"])
    model = hypermodel.build_weighted(hp)
    x, y = legacy_models.make_data()
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as directory:
        resume.save(directory, model, 0)
        with open(os.path.join(directory, resume.POINTER)) as f:
            assert json.load(f) == {"epoch": 0, "file": "resume-0.npz"}
        with np.load(os.path.join(directory, "resume-0.npz")) as data:
            layout = {k: [list(data[k].shape), str(data[k].dtype)] for k in sorted(data.files)}
        (golden_npz,) = [k for k in GOLDEN if k.startswith(f"checkpoint/{name}/{trial}/resume-")]
        assert layout == GOLDEN[golden_npz]
        path = os.path.join(directory, "checkpoint.weights.h5")
        model.save_weights(path)
        assert layout_of_h5(path) == GOLDEN[f"checkpoint/{name}/{trial}/checkpoint.weights.h5"]
    keras.backend.clear_session()


def test_the_state_file_is_named_as_before():
    assert STATE_FILE == "tuneweights.json"


#: One line of a trial's per-epoch journal (``epochs.jsonl``), as written and as read back.
JOURNAL_LINE = '{"metrics":{"loss":0.25,"val_a_loss":Infinity},"step":3}\n'


def test_journal_line_format(tmp_path):
    from tuneweights.search import journal

    assert journal.FILE == "epochs.jsonl"
    assert journal.line(3, {"val_a_loss": float("inf"), "loss": np.float32(0.25)}) == JOURNAL_LINE
    (tmp_path / journal.FILE).write_text(JOURNAL_LINE * 2)
    assert journal.read(str(tmp_path)) == [(3, {"loss": 0.25, "val_a_loss": float("inf")})] * 2
