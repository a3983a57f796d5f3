"""`checkpoint_every` and `keep_checkpoints`: what a trial writes, keeps, and how it resumes."""

import os

import keras
import keras_tuner as kt
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import TwoSources
from tuneweights.search import journal, resume
from tuneweights.search import tuner as tuner_module

EPOCHS = 5
STARTED = {"trials": 0}
BEGUN: list[int] = []
SAVED: list[int] = []


class InterruptSecondTrial(keras.callbacks.Callback):
    """Stands in for a killed process at the end of epoch 3 of the second trial (before reporting it)."""

    def on_train_begin(self, logs=None):
        STARTED["trials"] += 1

    def on_epoch_end(self, epoch, logs=None):
        if STARTED["trials"] == 2 and epoch == 3:
            raise KeyboardInterrupt


class RecordEpochs(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        BEGUN.append(epoch)


def tuner_in(directory, **kwargs):
    return tw.RandomSearch(
        TwoSources(),
        objective="val_a_loss",
        max_trials=2,
        seed=5,
        directory=str(directory),
        project_name="policy",
        **kwargs,
    )


def search(tuner, data, callbacks=()):
    x, y = data
    tuner.search(x, y, validation_data=(x, y), epochs=EPOCHS, verbose=0, callbacks=list(callbacks))
    return tuner


def files(tmp_path, trial_id):
    return sorted(os.listdir(tmp_path / "policy" / f"trial_{trial_id}"))


def test_every_third_epoch_checkpoints_and_a_crash_reruns_the_epochs_after_it_once(
    tmp_path, data, monkeypatch
):
    _record_resume_saves(monkeypatch)
    STARTED["trials"] = 0
    with pytest.raises(KeyboardInterrupt):
        search(tuner_in(tmp_path, checkpoint_every=3), data, [InterruptSecondTrial()])
    assert SAVED == [2, 2]  # after epoch 2 only; the first trial's epoch 5 is not a multiple of 3
    BEGUN.clear()
    tuner = search(tuner_in(tmp_path, checkpoint_every=3), data, [RecordEpochs()])
    assert BEGUN == [3, 4]  # from the checkpoint after epoch 2: epoch 3 is trained again
    for trial in tuner.oracle.trials.values():
        assert trial.status == "COMPLETED"
        history = trial.metrics.get_history("val_a_loss")
        assert [(o.step, len(o.value)) for o in history] == [(step, 1) for step in range(EPOCHS)]
        listed = files(tmp_path, trial.trial_id)
        assert (
            "checkpoint.weights.h5" in listed and resume.POINTER not in listed and journal.FILE not in listed
        )
        assert not [name for name in listed if name.startswith("resume-")]


@pytest.mark.parametrize(("spacing", "saved"), [(0.0, [0, 1, 2, 3, 4]), (1e9, [0])])
def test_auto_checkpoints_the_first_epoch_then_as_often_as_writing_allows(
    tmp_path, data, monkeypatch, spacing, saved
):
    _record_resume_saves(monkeypatch)
    monkeypatch.setattr(resume, "AUTO_SPACING", spacing)
    tuner = search(tuner_in(tmp_path), data)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 2
    assert tuner.checkpoint_every == "auto"
    assert SAVED == saved * 2


def test_under_auto_a_crash_reruns_the_epochs_after_the_last_checkpoint_once(tmp_path, data, monkeypatch):
    monkeypatch.setattr(resume, "AUTO_SPACING", 1e9)  # the first epoch's checkpoint only
    STARTED["trials"] = 0
    with pytest.raises(KeyboardInterrupt):
        search(tuner_in(tmp_path), data, [InterruptSecondTrial()])
    BEGUN.clear()
    tuner = search(tuner_in(tmp_path), data, [RecordEpochs()])
    assert BEGUN == [1, 2, 3, 4]
    for trial in tuner.oracle.trials.values():
        assert trial.status == "COMPLETED"
        history = trial.metrics.get_history("val_a_loss")
        assert [(o.step, len(o.value)) for o in history] == [(step, 1) for step in range(EPOCHS)]


@pytest.mark.parametrize("every", [0, 1.5, True, "always"])
def test_checkpoint_every_must_be_a_positive_int_or_auto(tmp_path, every):
    with pytest.raises(
        tw.ConfigurationError,
        match=rf"Argument `checkpoint_every` must be an int >= 1 or 'auto'. Received: checkpoint_every={every!r}",
    ):
        tuner_in(tmp_path, checkpoint_every=every)
    assert not os.path.exists(tmp_path / "policy")


def test_keep_checkpoints_is_one_of_three(tmp_path):
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `keep_checkpoints` must be one of \['best', 'last', 'none'\]. Received: keep_checkpoints='all'",
    ):
        tuner_in(tmp_path, keep_checkpoints="all")


def test_hyperband_needs_kept_checkpoints(tmp_path):
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `keep_checkpoints` must be 'best' or 'last' with Hyperband"
    ):
        tw.Hyperband(
            TwoSources(),
            objective="val_a_loss",
            max_epochs=3,
            keep_checkpoints="none",
            directory=str(tmp_path),
        )


def test_keep_last_loads_the_last_epoch_and_none_keeps_no_weights(tmp_path, data):
    last = search(tuner_in(tmp_path / "last", keep_checkpoints="last"), data)
    trial = last.oracle.get_best_trials(1)[0]
    x, y = data
    model = last.load_model(trial)
    # the loaded model is the last epoch's: its validation loss is the one recorded for epoch 4
    recorded = trial.metrics.get_history("val_a_loss")[-1].value[0]
    np.testing.assert_allclose(
        float(np.mean((model.predict(x, verbose=0)[:, 0] - y["ya"][:, 0]) ** 2)), recorded, rtol=1e-4
    )

    none = search(tuner_in(tmp_path / "none", keep_checkpoints="none"), data)
    trial = none.oracle.get_best_trials(1)[0]
    assert trial.status == "COMPLETED" and trial.score is not None
    assert "checkpoint.weights.h5" not in files(tmp_path / "none", trial.trial_id)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `keep_checkpoints` must be 'best' or 'last' to load"
    ):
        none.load_model(trial)


def _recorded_weight_writes(monkeypatch):
    """The names of the weight files the tuner writes from now on, in order."""
    writes = []
    save = tuner_module.replace_atomically
    monkeypatch.setattr(
        tuner_module,
        "replace_atomically",
        lambda path, *a, **k: (writes.append(os.path.basename(path)), save(path, *a, **k)),
    )
    return writes


def _record_resume_saves(monkeypatch):
    """Record in SAVED the epoch of every resume checkpoint written from now on."""
    saved = resume.save
    monkeypatch.setattr(resume, "save", lambda d, m, e, best=None: (SAVED.append(e), saved(d, m, e, best)))
    SAVED[:] = []


def test_the_first_epochs_best_checkpoint_is_written_once(tmp_path, data, monkeypatch):
    writes = _recorded_weight_writes(monkeypatch)
    x, y = data
    tuner = tuner_in(tmp_path, keep_checkpoints="best")
    tuner.oracle.max_trials = 1
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]
    assert writes == ["checkpoint.weights.h5"]


def test_the_best_epoch_is_written_once_per_trial(tmp_path, data, monkeypatch):
    writes = _recorded_weight_writes(monkeypatch)
    tuner = search(tuner_in(tmp_path), data)
    assert (
        writes == ["checkpoint.weights.h5"] * 2
    )  # two trials of 5 epochs, most of them better than the last
    _check_best_weights_loaded(tuner, data)


def _check_best_weights_loaded(tuner, data):
    x, y = data
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 2
    for trial in tuner.oracle.trials.values():
        model = tuner.load_model(trial)
        prediction = model.predict(x, verbose=0)[:, 0]
        best = trial.metrics.get_best_value("val_a_loss")
        np.testing.assert_allclose(float(np.mean((prediction - y["ya"][:, 0]) ** 2)), best, rtol=1e-4)


class WorseAfterEpoch1(keras.callbacks.Callback):
    """Stops the second trial after epoch 3, and makes every epoch after the second one worse."""

    def on_train_begin(self, logs=None):
        STARTED["trials"] += 1

    def on_epoch_end(self, epoch, logs=None):
        if epoch >= 2:
            logs["val_a_loss"] = 10.0 + epoch  # what the checkpoint and the oracle see
        if STARTED["trials"] == 2 and epoch == 3:
            raise KeyboardInterrupt


def test_a_resumed_trial_writes_the_best_epoch_it_reached_before_the_crash(tmp_path, data):
    STARTED["trials"] = 0
    with pytest.raises(KeyboardInterrupt):
        search(tuner_in(tmp_path), data, [WorseAfterEpoch1()])
    interrupted = [t for t in os.listdir(tmp_path / "policy") if t.startswith("trial_")][-1]
    assert "checkpoint.weights.h5" not in os.listdir(tmp_path / "policy" / interrupted)  # held in memory
    tuner = search(tuner_in(tmp_path), data, [WorseAfterEpoch1()])
    for trial in tuner.oracle.trials.values():
        assert trial.status == "COMPLETED"
        assert trial.metrics.get_best_step("val_a_loss") == 1  # before the crash, in the resumed trial
    _check_best_weights_loaded(tuner, data)


class InterruptSecondTrialsEnd(keras.callbacks.Callback):
    """Stands in for a process killed after the second trial's last epoch, before the trial's end."""

    def on_train_begin(self, logs=None):
        STARTED["trials"] += 1

    def on_train_end(self, logs=None):
        if STARTED["trials"] == 2:
            raise KeyboardInterrupt


def test_a_trial_whose_end_was_lost_writes_its_best_epoch_when_taken_up(tmp_path, data):
    STARTED["trials"] = 0
    with pytest.raises(KeyboardInterrupt):
        search(tuner_in(tmp_path, checkpoint_every=1), data, [InterruptSecondTrialsEnd()])
    BEGUN.clear()
    tuner = search(tuner_in(tmp_path, checkpoint_every=1), data, [RecordEpochs()])
    assert BEGUN == []  # every epoch had run: nothing is trained again
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 2
    _check_best_weights_loaded(tuner, data)


def test_a_finished_trial_keeps_what_keras_tuner_keeps(tmp_path, data):
    tuner = search(tuner_in(tmp_path), data)
    x, y = data
    plain = kt.RandomSearch(
        lambda hp: keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]),
        objective="val_loss",
        max_trials=1,
        directory=str(tmp_path),
        project_name="kt",
    )
    plain.model_compile = None
    plain.hypermodel.build = lambda hp: _compiled()
    plain.search(x, y["ya"], validation_data=(x, y["ya"]), epochs=2, verbose=0)
    (kept,) = [
        sorted(os.listdir(tmp_path / "kt" / d)) for d in os.listdir(tmp_path / "kt") if d.startswith("trial_")
    ]
    assert len(tuner.oracle.trials) == 2
    for trial in tuner.oracle.trials.values():
        assert (
            files(tmp_path, trial.trial_id)
            == kept
            == ["build_config.json", "checkpoint.weights.h5", "trial.json"]
        )


def _compiled():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model
