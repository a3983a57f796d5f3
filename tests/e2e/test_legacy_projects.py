"""Projects written by tuneweights 0.1.0 keep loading: results, best models, and an interrupted trial.

The projects under ``tests/fixtures/v0_1_0/projects`` were written by the 0.1.0
release (see the README there); each test works on a copy.
"""

import json
import os
import shutil

import keras
import pytest

from tests.fixtures.v0_1_0.legacy_models import PROJECTS, fit_kwargs, make_tuner

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "v0_1_0")
BEGUN = []


class RecordEpochs(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        BEGUN.append(epoch)


@pytest.fixture
def projects(tmp_path):
    directory = tmp_path / "projects"
    shutil.copytree(os.path.join(FIXTURES, "projects"), directory)
    return str(directory)


def golden():
    with open(os.path.join(FIXTURES, "golden.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("name", sorted(set(PROJECTS) - {"interrupted"}))
def test_a_finished_project_reopens_with_its_results_and_models(projects, name):
    with open(os.path.join(projects, name, "trial_0", "trial.json")) as f:
        saved_score = json.load(f)["score"]
    tuner = make_tuner(name, projects, overwrite=False)
    trials = tuner.oracle.trials
    assert len(trials) == PROJECTS[name][1]
    assert {t.status for t in trials.values()} == {"COMPLETED"}
    assert trials["0"].score == saved_score
    assert tuner.oracle.hyperparameters.get_config()["space"] == golden()[f"hp/model/{name}"]["space"]
    BEGUN.clear()
    tuner.search(**fit_kwargs(name, callbacks=[RecordEpochs()]))  # the budget is spent: nothing runs
    assert BEGUN == [] and len(tuner.oracle.trials) == PROJECTS[name][1]
    best = tuner.oracle.get_best_trials(1)[0]
    assert tuner.get_best_weights()[0] == tuner.decode(best.hyperparameters).weights
    model = tuner.load_model(best)  # its best epoch's weights, from the release's checkpoint file
    assert isinstance(model, keras.Model)


def test_an_interrupted_trial_of_the_release_continues_from_its_checkpoint(projects):
    BEGUN.clear()
    tuner = make_tuner("interrupted", projects, overwrite=False)
    tuner.search(**fit_kwargs("interrupted", callbacks=[RecordEpochs()]))
    trials = tuner.oracle.trials
    assert BEGUN[:2] == [1, 2]  # trial 1 went on after its checkpoint of epoch 0
    assert len(trials) == 3 and {t.status for t in trials.values()} == {"COMPLETED"}
    for trial in trials.values():
        assert [o.step for o in trial.metrics.get_history("val_a_loss")] == [0, 1, 2]
