"""Running the repository's scripts (examples, benchmarks) in a subprocess, as a user would."""

import gc
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Runs a script as `python script args` would (its own folder first on sys.path, run as __main__),
# after freezing what importing the Keras backend and keras-tuner created: see `freeze_imports`.
LAUNCHER = """\
import importlib, os, runpy, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as the scripts do, before TensorFlow is imported
import keras, keras_tuner
importlib.import_module(keras.backend.backend())  # tensorflow, jax or torch
from tests.e2e.scripts import freeze_imports
freeze_imports()
script = sys.argv[1]
sys.argv = sys.argv[1:]
if sys.path and sys.path[0] == "":  # python -c puts the working directory first (unless PYTHONSAFEPATH)
    sys.path[0] = os.path.dirname(script)
else:
    sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""


def freeze_imports() -> None:
    """Exempt every object alive now from garbage collection.

    keras-tuner runs a full ``gc.collect()`` twice before every trial, a fifth
    of a second each over TensorFlow's millions of long-lived objects; frozen,
    milliseconds. Call it once the imports are done: what is created later is
    collected as usual.
    """
    gc.collect()
    gc.freeze()


def run_script(
    relative_path: str, *args: str, timeout: int = 300, env: dict[str, str] | None = None
) -> list[str]:
    """Run ``python <script> <args>``; assert it succeeded and return its stdout lines.

    `env` adds to the environment (``{"KERAS_BACKEND": "jax"}`` runs it on JAX).
    """
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, os.path.join(ROOT, relative_path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=dict(
            os.environ,
            **(env or {}),
            PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        ),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()


def backends(*names: str, slow: tuple[str, ...] = ()) -> list:
    """pytest parameters of Keras backends (tensorflow, jax, torch), each skipped where it is not installed.

    The backends named in `slow` are also marked slow (left to ``pytest -m slow``).
    """
    return [
        pytest.param(
            name,
            marks=[pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"no {name}")]
            + ([pytest.mark.slow] if name in slow else []),
        )
        for name in names
    ]
