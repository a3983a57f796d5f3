"""`search` keeps the objects alive when it starts out of keras-tuner's per-trial collections."""

import gc

import keras
import numpy as np
import pytest

import tuneweights as tw


@pytest.fixture
def nothing_frozen():
    """Unfreeze what the test session froze (tests/conftest.py), and freeze it again after."""
    gc.unfreeze()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()


def _search(tmp_path, seen):
    def build(hp):
        seen.append(gc.get_freeze_count())
        inputs = keras.Input((3,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile("sgd", "mse")
        return model

    x = np.ones((8, 3), "float32")
    tuner = tw.RandomSearch(build, objective="loss", max_trials=1, directory=tmp_path)
    tuner.search(x, x[:, :1], epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"]


def test_trials_run_with_the_objects_of_the_caller_frozen_and_nothing_stays_frozen(tmp_path, nothing_frozen):
    marker = [object()]  # alive before the search: frozen during it
    seen = []
    _search(tmp_path, seen)
    assert seen[-1] > 0  # the last build is the trial's (the first one populates the space)
    assert gc.get_freeze_count() == 0
    assert gc.is_tracked(marker)


def test_a_freeze_made_by_the_caller_is_left_as_it_is(tmp_path, nothing_frozen):
    gc.freeze()
    before = gc.get_freeze_count()
    seen = []
    _search(tmp_path, seen)
    # Neither unfrozen nor frozen anew (frozen objects freed by reference counting leave it).
    assert 0 < min(seen) and max(seen) <= before
    assert 0 < gc.get_freeze_count() <= before


def test_a_disabled_collector_is_left_as_it_is(tmp_path, nothing_frozen):
    gc.disable()
    try:
        seen = []
        _search(tmp_path, seen)
    finally:
        gc.enable()
    assert set(seen) == {0}
    assert gc.get_freeze_count() == 0
