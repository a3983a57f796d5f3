"""Running the repository's scripts (examples, benchmarks) in a subprocess, as a user would."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_script(relative_path: str, *args: str, timeout: int = 300) -> list[str]:
    """Run ``python <script> <args>``; assert it succeeded and return its stdout lines."""
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, relative_path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()
