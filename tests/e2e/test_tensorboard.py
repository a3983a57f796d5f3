"""TensorBoard's HParams and scalars, and the progress line, from a real search.

The search test is slow (marked); the TensorBoard set-up is also checked on
its own without training.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import types

import keras
import keras_tuner as kt
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2

import tuneweights as tw
from tests.conftest import TwoSources, make_data
from tuneweights.search.callbacks import configure_tensorboard

EPOCHS = 2


def events(directory: str) -> event_accumulator.EventAccumulator:
    accumulator = event_accumulator.EventAccumulator(directory, size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return accumulator


def session_hparams(directory: str) -> dict[str, float | str]:
    """The hyperparameters of the HParams session written in `directory`."""
    contents = events(directory).PluginTagToContent("hparams")
    starts = [plugin_data_pb2.HParamsPluginData.FromString(c) for c in contents.values()]
    starts = [s.session_start_info for s in starts if s.HasField("session_start_info")]
    assert len(starts) == 1, contents
    return {name: getattr(value, value.WhichOneof("kind")) for name, value in starts[0].hparams.items()}


def scalars(directory: str, tag: str) -> dict[int, float]:
    return {e.step: tf.make_ndarray(e.tensor_proto).item() for e in events(directory).Tensors(tag)}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    root = tmp_path_factory.mktemp("tensorboard")
    x, y = make_data()
    tuner = tw.RandomSearch(
        TwoSources(), objective="val_a_loss", max_trials=2, seed=1, directory=str(root), project_name="p"
    )
    board = keras.callbacks.TensorBoard(str(root / "logs"), write_graph=False, profile_batch=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # verbose left at keras-tuner's default, 1
        tuner.search(x, y, validation_data=(x, y), epochs=EPOCHS, batch_size=64, callbacks=[board])
    return tuner, str(root / "logs"), out.getvalue()


@pytest.mark.slow
def test_search_writes_decoded_weights_and_weight_scalars(searched):
    tuner, logs, _ = searched
    trials = list(tuner.oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
    space = tuner.hypermodel.space
    final = {}
    for trial in trials:
        assert [o.step for o in trial.metrics.get_history("val_a_loss")] == list(range(EPOCHS))
        run = os.path.join(logs, trial.trial_id, "execution0")
        ratio = trial.hyperparameters.values["ratio/b"]
        assert session_hparams(run) == {"ratio/b": ratio, "weight/a": 1.0, "weight/b": ratio}
        assert space.decode(trial.hyperparameters).weights == {"a": 1.0, "b": ratio}
        for part in ("train", "validation"):
            directory = os.path.join(run, part)
            assert "epoch_b_weight" in events(directory).Tags()["tensors"]
            assert scalars(directory, "epoch_a_weight") == {0: 1.0, 1: 1.0}
            assert scalars(directory, "epoch_b_weight") == pytest.approx({0: ratio, 1: ratio}, rel=1e-6)
        final[trial.trial_id] = scalars(os.path.join(run, "validation"), "epoch_a_loss")[EPOCHS - 1]
        assert final[trial.trial_id] == pytest.approx(trial.metrics.get_last_value("val_a_loss"), rel=1e-5)
    ratios = [t.hyperparameters.values["ratio/b"] for t in trials]
    assert ratios[0] != pytest.approx(ratios[1], rel=0.1)
    assert len(set(final.values())) == 2  # another weight, another model


@pytest.mark.slow
def test_search_prints_the_progress_line_instead_of_keras_tuner_display(searched):
    tuner, _, printed = searched
    lines = printed.splitlines()
    # not a terminal: one line per trial end; the second (within 30 s) is printed when the search stops
    assert [line.split(" | ")[1] for line in lines] == ["trials 1/2", "trials 2/2"]
    for line, trial in zip(lines, tuner.oracle.trials.values(), strict=True):
        assert line.startswith(f"Trial {trial.trial_id} completed in ")
        assert f", val_a_loss {trial.score:.4g} |" in line
    best = tuner.oracle.get_best_trials(1)[0]
    assert lines[-1].endswith(f" elapsed | best val_a_loss {best.score:.4g} (trial {best.trial_id})")
    assert "Running Trial" not in printed and "So Far" not in printed  # keras-tuner's display
    assert "Epoch 1/2" not in printed and "step" not in printed  # Keras's progress bar
    with open(os.path.join(tuner.project_dir, "oracle.json")) as f:
        starts = json.load(f)["display"]["trial_start"]
    assert set(starts) == set(tuner.oracle.trials)  # still recorded for `tuneweights report`


# -- the set-up alone -------------------------------------------------------------------------
class Scheduled(tw.WeightedHyperModel):
    terms = [
        tw.Term("a", "mse", output="pred", target="ya", weight=2.0),
        tw.Term("b", "mse", output="pred", target="yb", weight=tw.Range(0.1, 10.0)),
        tw.Term("c", "mae", output="pred", target="yc", weight=tw.schedules.Linear(start=1.0, end=0.0)),
    ]

    def build(self, hp):
        inputs = keras.Input((2,))
        return keras.Model(inputs, keras.layers.Dense(1, name="pred")(inputs))


def trial_of(space, values):
    hp = kt.HyperParameters()
    space.declare(hp)
    hp.values.update(values)
    return types.SimpleNamespace(trial_id="07", hyperparameters=hp)


def test_decoded_hparams_of_constants_schedules_and_strategies():
    space = Scheduled().space
    decoded = space.decode({"ratio/b": 0.5}).hparams()
    assert decoded == {"weight/a": 2.0, "weight/b": 1.0, "weight/c": space.terms[2].weight.describe()}
    assert isinstance(decoded["weight/c"], str) and decoded["weight/c"].startswith("linear ")
    search = tw.WeightSpace(
        space.terms, strategy=tw.StrategySearch(["static", tw.Uncertainty(learning_rate=0.05)])
    )
    assert search.decode({"strategy": "uncertainty"}).hparams() == {
        "weight/a": 1.0,  # a strategy that sets the weights starts them at 1
        "weight/b": 1.0,
        "weight/c": 1.0,
        "strategy": "uncertainty(learning_rate=0.05, optimizer='adam', initial=0)",
    }
    # static weights are the default: keras-tuner's raw `strategy` value shows them
    assert "strategy" not in search.decode({"strategy": "static", "ratio/b": 3.0}).hparams()


def test_configure_tensorboard_writes_raw_and_decoded_hparams(tmp_path):
    space = tw.WeightSpace(
        Scheduled.terms, strategy=tw.StrategySearch(["static", tw.Uncertainty(learning_rate=0.05)])
    )
    trial = trial_of(space, {"strategy": "uncertainty"})
    board = keras.callbacks.TensorBoard(str(tmp_path))
    other = keras.callbacks.History()
    callbacks = [other, board]
    configure_tensorboard(
        callbacks, trial, space.decode(trial.hyperparameters), lambda d: os.path.join(d, "07", "execution0")
    )
    run = str(tmp_path / "07" / "execution0")
    assert board.log_dir == run
    assert callbacks[:2] == [other, board] and len(callbacks) == 3
    callbacks[2].on_train_begin()
    callbacks[2].on_train_end()
    assert glob.glob(os.path.join(run, "events.out.tfevents.*"))
    assert session_hparams(run) == {
        "ratio/b": 1.0,  # inactive under this strategy: keras-tuner writes its default
        "strategy": "uncertainty(learning_rate=0.05, optimizer='adam', initial=0)",  # was "uncertainty"
        "weight/a": 1.0,
        "weight/b": 1.0,
        "weight/c": 1.0,
    }
    static = trial_of(space, {"strategy": "static", "ratio/b": 3.0})
    callbacks = [keras.callbacks.TensorBoard(str(tmp_path))]
    configure_tensorboard(
        callbacks, static, space.decode(static.hyperparameters), lambda d: os.path.join(d, "08")
    )
    callbacks[1].on_train_begin()
    callbacks[1].on_train_end()
    assert session_hparams(str(tmp_path / "08")) == {
        "ratio/b": 3.0,
        "strategy": "static",
        "weight/a": 2.0,
        "weight/b": 6.0,
        "weight/c": space.terms[2].weight.describe(),
    }


def test_configure_tensorboard_without_a_tensorboard_changes_nothing():
    space = Scheduled().space
    callbacks = [keras.callbacks.History()]
    configure_tensorboard(callbacks, trial_of(space, {}), space.decode({}), lambda d: "unused")
    assert len(callbacks) == 1
