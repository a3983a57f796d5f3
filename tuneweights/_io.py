"""Atomic writes: a reader (or a restarted search) never sees a half-written file.

keras-tuner rewrites its state files in place, so a process killed during a
write leaves a project that cannot be reloaded. Every file tuneweights writes
in a local project directory goes to a temporary file in the same directory,
is flushed to disk, then renamed over the target (a rename is atomic within
a file system). Remote directories (``gs://...``) keep keras-tuner's writer.

A file written this way gets the permissions a plain ``open(path, "w")``
would give it: an existing file keeps its own, a new one gets ``0o666``
less the process's umask (`tempfile.mkstemp` alone would make every file
``0o600``, unreadable to the group of a shared project directory).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable
from typing import Any


def is_local(path: str) -> bool:
    """Whether `path` is on the local file system (not ``scheme://...``)."""
    return "://" not in str(path)


TEMPORARY_PREFIX = ".tmp-"

_STATUS = "/proc/self/status"
_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows.

    Linux shows it in ``/proc/self/status``: read there, it is always the
    current one and no other thread can see a changed umask. Elsewhere the
    only way is to set it and put it back at once; a thread of this process
    creating a file between the two calls would get umask ``0o022``, which
    is what most users have anyway. The umask is read at each call, not
    cached, so a script may set it after importing tuneweights.

    Example:
        >>> old = os.umask(0o027)
        >>> oct(current_umask())
        '0o27'
        >>> _ = os.umask(old)
    """
    with contextlib.suppress(OSError), open(_STATUS) as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _umask_lock:
        umask = os.umask(0o022)
        os.umask(umask)
    return umask


def mode_for(path: str) -> int:
    """The permission bits ``open(path, "w")`` would leave `path` with.

    An existing file keeps its own (an overwrite does not change them); a
    new file gets ``0o666`` less the umask.
    """
    try:
        return os.stat(path).st_mode & 0o777  # not set-id bits, which a write by its owner clears
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def replace_atomically(path: str, write: Callable[[str], None], suffix: str = "") -> None:
    """Call ``write(temporary_path)``, sync the result, then rename it to `path`.

    The temporary file is named ``.tmp-<8 characters><suffix>`` in the
    directory of `path`. Before
    the rename it gets the permissions of the file it replaces, or, for a
    new file, ``0o666`` less the process's umask: what a plain
    ``open(path, "w")`` would give.

    Args:
        path: The final file.
        write: Writes the whole file at the path it is given.
        suffix: Ending the temporary name must have (Keras checks
            ``.weights.h5``).
    """
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX, suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            # After `write` (which may recreate the file), before the sync that also syncs the mode;
            # once open, a read-only mode no longer stops the sync.
            os.chmod(tmp, mode_for(path))
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
