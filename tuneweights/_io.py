"""Atomic writes: a reader (or a restarted search) never sees a half-written file.

keras-tuner rewrites its state files in place, so a process killed during a
write leaves a project that cannot be reloaded. Every file tuneweights writes
in a local project directory goes to a temporary file in the same directory,
is flushed to disk, then renamed over the target (a rename is atomic within
a file system). Remote directories (``gs://...``) keep keras-tuner's writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any


def is_local(path: str) -> bool:
    """Whether `path` is on the local file system (not ``scheme://...``)."""
    return "://" not in str(path)


def replace_atomically(path: str, write: Callable[[str], None], suffix: str = "") -> None:
    """Call ``write(temporary_path)``, sync the result, then rename it to `path`.

    Args:
        path: The final file.
        write: Writes the whole file at the path it is given.
        suffix: Ending the temporary name must have (Keras checks
            ``.weights.h5``).
    """
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str, obj: Any) -> None:
    """Write `obj` as JSON to `path` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True)

    replace_atomically(path, write, suffix=".json")
