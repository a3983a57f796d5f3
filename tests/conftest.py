"""Shared fixtures: a tiny two-term hypermodel and its data."""

from __future__ import annotations

import hashlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tuneweights as tw  # noqa: E402

# The scripts that end-to-end tests run in a subprocess are not test modules: importing them for
# their doctests would run their module-level code (registering a pruner, freezing the garbage
# collector) inside the test process.
collect_ignore_glob = ["e2e/*_script.py"]


class TwoSources(tw.WeightedHyperModel):
    """One prediction, two label sources, the second's weight searched."""

    terms = [
        tw.Term("a", "mse", output="pred", target="ya", metrics=["mae"]),
        tw.Term("b", "mse", output="pred", target="yb", weight=tw.Range(0.01, 100.0)),
    ]

    def build(self, hp):
        keras.utils.set_random_seed(0)  # same initial weights in every trial
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="pred")(hidden))
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        return model


def fingerprint(directory) -> dict[str, str]:
    """{path relative to `directory`: sha256 of its bytes} of every file under `directory`."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, directory)] = hashlib.sha256(f.read()).hexdigest()
    return files


def make_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    clean = np.tanh(x[:, :1] - x[:, 1:2])
    y = {
        "ya": (clean + 0.1 * rng.normal(size=clean.shape)).astype("float32"),
        "yb": (2.0 * clean + 1.0).astype("float32"),  # a biased source: its weight matters
    }
    return x, y


@pytest.fixture
def data():
    return make_data()


@pytest.fixture
def hypermodel():
    return TwoSources()


# A linear model with a known kernel, for losses in closed form.
def linear_base(kernel=(1.0, -2.0, 0.5)):
    inputs = keras.Input((3,))
    layer = keras.layers.Dense(1, use_bias=False, name="pred")
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([np.asarray(kernel, dtype="float32")[:, None]])
    return model


def linear_data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, {
        "ya": rng.normal(size=(n, 1)).astype("float32"),
        "yb": rng.normal(size=(n, 1)).astype("float32"),
    }


def pytest_collection_finish(session):
    """Exempt what importing the test modules created (TensorFlow, Keras) from garbage collection.

    keras-tuner runs a full ``gc.collect()`` twice before every trial; with
    TensorFlow's millions of long-lived objects frozen, each takes milliseconds
    instead of a fifth of a second. Objects created by the tests themselves are
    still collected as usual.
    """
    from tests.e2e.scripts import freeze_imports

    freeze_imports()


# The fixtures' generating scripts ran once with the release they pin; they are not tests.
collect_ignore = ["fixtures"]
