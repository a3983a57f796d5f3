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

A killed process leaves its temporary file behind; `remove_leftovers` removes
such files when the project is opened again.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any


def is_local(path: str) -> bool:
    """Whether `path` is on the local file system (not ``scheme://...``)."""
    return "://" not in str(path)


TEMPORARY_PREFIX = ".tmp-"

# What `tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=...)` names a file: 8 characters from
# its alphabet, then the suffix (".json", ".npz", ".weights.h5").
_TEMPORARY_NAME = re.compile(re.escape(TEMPORARY_PREFIX) + r"[a-z0-9_]{8}(\.[A-Za-z0-9]+)*")

LEFTOVER_AGE = 600.0
"""Seconds a temporary file must have gone unmodified before `remove_leftovers` takes it."""

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
    directory of `path` (`remove_leftovers` relies on the pattern). Before
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


def remove_leftovers(directory: str, min_age: float = LEFTOVER_AGE) -> list[str]:
    """Remove the temporary files that interrupted writes left in a project directory.

    A process killed inside `replace_atomically` leaves its temporary file
    behind. This removes those in `directory` and in its ``trial_*``
    directories, and nothing else: only regular files named as
    `replace_atomically` names them (``.tmp-`` and 8 characters, then a
    suffix).

    Only files not modified for `min_age` seconds are taken. Another process
    may be writing one right now: a worker of a distributed search sharing
    the directory, or the search itself while a second tuner opens its
    project to read the results. A file being written is modified as it is
    written and renamed within moments of its last write, so ten minutes
    (`LEFTOVER_AGE`) leaves a wide margin, also for clocks that differ
    between the machines sharing a network file system. A file left by a
    crash just before the reopening is taken at a later one.

    Args:
        directory: The project directory.
        min_age: Seconds since its last modification from which a
            temporary file is removed.

    Returns:
        The paths removed.

    Example:
        >>> import tempfile
        >>> project = tempfile.mkdtemp()
        >>> os.makedirs(os.path.join(project, "trial_0"))
        >>> for name in ("trial_0/.tmp-ab12cd_9.weights.h5", ".tmp-mine.txt", "oracle.json"):
        ...     open(os.path.join(project, name), "w").close()
        >>> [os.path.relpath(p, project) for p in remove_leftovers(project, min_age=0)]
        ['trial_0/.tmp-ab12cd_9.weights.h5']
        >>> sorted(os.listdir(project))
        ['.tmp-mine.txt', 'oracle.json', 'trial_0']
    """
    removed = []
    for path in find_leftovers(directory, min_age):
        with contextlib.suppress(OSError):  # gone meanwhile: renamed, or another cleaner
            os.unlink(path)
            removed.append(path)
    return removed


def find_leftovers(directory: str, min_age: float = LEFTOVER_AGE) -> list[str]:
    """The temporary files `remove_leftovers` would remove, without removing them.

    Regular files named as `replace_atomically` names them, in `directory`
    and its ``trial_*`` directories, unmodified for `min_age` seconds.
    """
    found = []
    latest = time.time() - min_age
    for folder in [directory, *sorted(glob.glob(os.path.join(glob.escape(directory), "trial_*")))]:
        with contextlib.suppress(OSError):  # not a directory, or gone
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not _TEMPORARY_NAME.fullmatch(entry.name):
                        continue
                    with contextlib.suppress(OSError):  # gone meanwhile
                        info = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(info.st_mode) and info.st_mtime <= latest:
                            found.append(entry.path)
    return found
