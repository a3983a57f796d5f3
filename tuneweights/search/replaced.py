"""The project that ``overwrite=True`` replaces, kept until the search it makes room for starts.

keras-tuner deletes an existing project when the tuner is built with
``overwrite=True``, but the data only arrive with `search`: a refusal of the
data would then come after the earlier project was gone. Instead, the tuner
renames the earlier project aside (``DIR/.PROJECT.replaced``, beside it, in
the same directory, so the rename is atomic) before keras-tuner looks at it;
keras-tuner then finds no project and starts a new one, as it would have.

* When `search` has checked its arguments and data, the earlier project is
  deleted (`Replaced.discard`), before the first trial.
* When `search` refuses them, the earlier project is put back where it was,
  byte for byte (`Replaced.restore`); a later `search` of the same tuner that
  passes its checks deletes it then, as the overwrite asked.
* A tuner built with ``overwrite=True`` whose `search` never runs leaves the
  earlier project in ``.PROJECT.replaced``; the next tuner built with
  ``overwrite=True`` for that project deletes it.

Remote directories (``gs://...``) and the workers of a distributed search
keep keras-tuner's own behaviour.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from tuneweights._io import is_local


def aside_path(directory: str, project_name: str) -> str:
    """Where the replaced project waits.

    Example:
        >>> aside_path("runs", "sources")
        'runs/.sources.replaced'
    """
    return os.path.join(directory, f".{project_name}.replaced")


@dataclass
class Replaced:
    """An earlier project set aside by ``overwrite=True``."""

    project: str
    aside: str
    restored: bool = False

    @classmethod
    def set_aside(cls, directory: str, project_name: str) -> Replaced | None:
        """Rename the project aside, if there is one; None when there is nothing to keep."""
        project = os.path.join(directory, project_name)
        if not is_local(project) or not os.path.isdir(project):
            return None
        aside = aside_path(directory, project_name)
        if os.path.lexists(aside):  # left by an earlier overwrite whose search never ran
            shutil.rmtree(aside)
        if not any(files for _, _, files in os.walk(project)):
            return None  # no file to keep: keras-tuner removes the empty project itself
        os.rename(project, aside)
        return cls(project, aside)

    def restore(self) -> None:
        """Put the earlier project back (the new one holds nothing yet)."""
        if self.restored or not os.path.isdir(self.aside):
            return
        if os.path.isdir(self.project):
            shutil.rmtree(self.project)
        os.rename(self.aside, self.project)
        self.restored = True

    def discard(self) -> None:
        """Delete the earlier project, wherever it is now."""
        if self.restored:
            shutil.rmtree(self.project, ignore_errors=True)
            os.makedirs(self.project, exist_ok=True)
        elif os.path.isdir(self.aside):
            shutil.rmtree(self.aside)
