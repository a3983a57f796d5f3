"""``tuneweights check``: what is damaged in a project directory, and what the next search does about it.

It reads the project as the next ``search(overwrite=False)`` will
(`tuneweights.search.recovery`) and changes nothing.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from tuneweights import _validation as v
from tuneweights.reporting.project import existing_directory
from tuneweights.search.recovery import ORACLE_FILE, OWN_FILE, Finding, findings, survey, trial_ids

CLEAN, REPAIRED, CANNOT_RESUME = 0, 1, 2
"""The exit codes of ``tuneweights check``."""


@dataclasses.dataclass
class CheckResult:
    """The problems of a project directory.

    Attributes:
        project_dir: The directory.
        findings: One per problem: the file, what is wrong, what the next
            ``search(overwrite=False)`` does.
    """

    project_dir: str
    findings: list[Finding]

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 when the next search repairs or works around something, 2 when it cannot resume."""
        if any(f.blocking for f in self.findings):
            return CANNOT_RESUME
        return REPAIRED if self.findings else CLEAN

    def to_text(self) -> str:
        """The findings, one paragraph each, and the verdict."""
        lines = []
        for finding in self.findings:
            lines += [
                f"{os.path.relpath(finding.path, self.project_dir)}: {finding.problem}.",
                f"  {'CANNOT RESUME' if finding.blocking else 'next search'}: {finding.action}.",
            ]
        verdict = {
            CLEAN: "No problem found: the search resumes as it is.",
            REPAIRED: f"{len(self.findings)} problem(s): the next `search(overwrite=False)` resumes "
            "and deals with each as said.",
            CANNOT_RESUME: "The search cannot resume until the files marked CANNOT RESUME are restored.",
        }[self.exit_code]
        return "\n".join([f"Project {self.project_dir}", *lines, verdict])


def check(project_dir: Any, tuner_id: str = "tuner0") -> CheckResult:
    """List the problems of a project directory and what the next search does about each.

    Nothing is written, moved or removed.

    Args:
        project_dir: The search's ``directory/project_name`` folder.
        tuner_id: Whose tuner file to check (``tuner0``: a single process,
            or the chief of a distributed search).

    Returns:
        The `CheckResult`; its `exit_code` is 0 when the project is clean, 1
        when the next search resumes and repairs something, 2 when it cannot
        resume.

    Raises:
        ConfigurationError: `project_dir` is not a search's project directory.

    Example:
        >>> result = check("runs/sources")  # doctest: +SKIP
        >>> print(result.to_text())  # doctest: +SKIP
        Project runs/sources
        No problem found: the search resumes as it is.
    """
    path = existing_directory(project_dir)
    markers = [ORACLE_FILE, OWN_FILE, f"{tuner_id}.json"]
    if not trial_ids(path) and not any(os.path.exists(os.path.join(path, m)) for m in markers):
        raise v.invalid(
            "project_dir",
            f"be a search's project directory, holding {', '.join(markers)} or trial_* directories "
            "(`directory`/`project_name` of the tuner)",
            path,
        )
    return CheckResult(path, findings(survey(path, tuner_id)))
