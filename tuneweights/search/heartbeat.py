"""Heartbeats of a distributed search: when the chief last heard from each worker.

keras-tuner's chief keeps, per worker id, the trial that worker runs
(``oracle.ongoing_trials``) but never asks whether the worker is still alive:
a worker killed during a trial leaves it running for ever. The chief's
`WeightOracle` listens to the traffic that exists anyway. Each request a
worker sends (asking for a trial, reporting an epoch) counts as a heartbeat,
and a worker silent for longer than ``heartbeat_timeout`` seconds is presumed
dead: its trial goes to the next worker that asks for one.

keras-tuner's report (``update_trial(trial_id, metrics, step)``) does not say
who sends it, so a worker names itself with one more metric,
``tuneweights/reported_by/<tuner id>`` (value 1), that the oracle takes out
before recording anything (`tag`, `sender`). A report from a worker that no
longer owns the trial is then refused rather than recorded twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from keras_tuner.src.engine import trial as trial_module

from tuneweights import _validation as v

#: The default `heartbeat_timeout`, in seconds: longer than any epoch of most searches.
DEFAULT_TIMEOUT = 600.0
#: Prefix of the metric that names the worker sending a report (its value: 1).
REPORTER_METRIC = "tuneweights/reported_by/"
#: The status of the answer to a report from a worker that no longer runs the trial. keras-tuner's
#: statuses cross gRPC as an enum; a report is otherwise answered RUNNING or STOPPED, never IDLE.
LOST = trial_module.TrialStatus.IDLE


def check_timeout(argument: str, value: Any) -> float | None:
    """None, or a finite number of seconds > 0.

    Example:
        >>> check_timeout("heartbeat_timeout", 30)
        30.0
        >>> check_timeout("heartbeat_timeout", None) is None
        True
    """
    return None if value is None else v.check_positive(argument, value)


def tag(metrics: dict[str, Any], tuner_id: str) -> dict[str, Any]:
    """`metrics` with the metric naming their sender added.

    Example:
        >>> tag({"loss": 0.5}, "tuner1")
        {'loss': 0.5, 'tuneweights/reported_by/tuner1': 1.0}
    """
    return {**metrics, REPORTER_METRIC + tuner_id: 1.0}


def sender(metrics: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The worker that sent a report (None when it does not say) and its metrics without the tag.

    Example:
        >>> sender({"loss": 0.5, "tuneweights/reported_by/tuner1": 1.0})
        ('tuner1', {'loss': 0.5})
        >>> sender({"loss": 0.5})
        (None, {'loss': 0.5})
    """
    named = [name for name in metrics if name.startswith(REPORTER_METRIC)]
    cleaned = {name: value for name, value in metrics.items() if name not in named}
    return (named[0][len(REPORTER_METRIC) :] if named else None), cleaned


class Heartbeats:
    """When each worker was last heard from, on the chief.

    The times are the chief's own clock (`time.monotonic`), which no other
    process reads and which does not survive a restart: a restarted chief
    hears each worker afresh.

    Args:
        timeout: Seconds of silence after which a worker is presumed dead;
            None never presumes one dead.
        clock: Where the time comes from (a fake one in tests).

    Example:
        >>> now = [0.0]
        >>> beats = Heartbeats(10.0, clock=lambda: now[0])
        >>> beats.hear("tuner0")
        >>> now[0] = 11.0
        >>> beats.silent("tuner0"), beats.silent("tuner1")
        (True, False)
    """

    def __init__(self, timeout: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = check_timeout("heartbeat_timeout", timeout)
        self.clock = clock
        self.heard: dict[str, float] = {}

    def hear(self, tuner_id: str) -> None:
        """Record that `tuner_id` sent something now."""
        self.heard[tuner_id] = self.clock()

    def silent(self, tuner_id: str) -> bool:
        """Whether `tuner_id` has sent nothing for longer than the timeout.

        A worker not heard from yet is heard now: its silence starts here.
        """
        if self.timeout is None:
            return False
        last = self.heard.setdefault(tuner_id, self.clock())
        return self.clock() - last > self.timeout

    def silence(self, tuner_id: str) -> float:
        """Seconds since `tuner_id` was last heard from."""
        return self.clock() - self.heard.get(tuner_id, self.clock())
