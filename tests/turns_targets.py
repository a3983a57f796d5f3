"""Trainings for `benchmarks/turns.py`'s tests, importable by the processes it spawns."""

from __future__ import annotations

from typing import Any


def train(way: str, epochs: int) -> dict[str, Any]:
    """A tiny `model.fit` of `epochs` epochs with the turns callback; fails for "broken"; "idle" never trains."""
    import keras
    import numpy as np
    import turns

    if way == "broken":
        raise RuntimeError("this way breaks before its first epoch")
    if way == "idle":
        return {"way": way}  # never trains
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((8, 2), "float32")
    model.fit(x, x[:, :1], epochs=epochs, verbose=0, callbacks=[turns.turns()])
    return {"way": way}
