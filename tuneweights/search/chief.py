"""A worker's requests to the chief of a distributed search, each waiting a bounded time.

keras-tuner's `OracleClient` sends every request with ``wait_for_ready=True``
and a timeout of one hour: a worker whose chief was killed waits that hour,
silently, at its next request. `limit_waits` keeps keras-tuner's client and
its requests, and changes only how long each one waits and what a worker
says when the chief does not answer: it raises `ChiefUnreachableError`, which
stops the search (a keras-tuner `FatalError`), with the chief's address and
what to do.
"""

from __future__ import annotations

import os
from typing import Any

import grpc
from keras_tuner import errors as kt_errors


class ChiefUnreachableError(kt_errors.FatalError, ConnectionError):
    """The chief of a distributed search did not answer a worker's request in time.

    A keras-tuner `FatalError` (the worker's search stops at once) and a
    `ConnectionError`.
    """


def address() -> str:
    """The chief's address, as keras-tuner's environment variables give it."""
    return f"{os.environ.get('KERASTUNER_ORACLE_IP')}:{os.environ.get('KERASTUNER_ORACLE_PORT')}"


def unreachable(chief: str, tuner_id: str, request: str, timeout: float | None, code: str) -> str:
    """What a worker says when its request to the chief failed.

    Args:
        chief: The chief's address.
        tuner_id: The worker's KERASTUNER_TUNER_ID.
        request: The gRPC request that failed (``CreateTrial``, ...).
        timeout: How long it waited, in seconds (None: keras-tuner's hour).
        code: gRPC's status code.

    Example:
        >>> text = unreachable("10.0.0.1:8000", "tuner1", "CreateTrial", 5.0, "DEADLINE_EXCEEDED")
        >>> print(text.splitlines()[0])
        The chief of the search at 10.0.0.1:8000 did not answer within 5 s (CreateTrial: DEADLINE_EXCEEDED).
    """
    waited = "keras-tuner's limit of an hour" if timeout is None else f"{timeout:g} s"
    return (
        f"The chief of the search at {chief} did not answer within {waited} ({request}: {code}).\n"
        "It has stopped, or cannot be reached from this worker. Restart the chief with the same "
        "script and `overwrite=False`: it resumes the search from the project directory. Then "
        f"restart this worker with the same KERASTUNER_TUNER_ID ({tuner_id}); its trial continues "
        "from its last checkpoint (another worker takes it over once the chief's `heartbeat_timeout` "
        "has passed). If the chief is only slow to start or to answer, raise `chief_timeout`."
    )


class _Bounded:
    """keras-tuner's gRPC stub, whose every request waits at most `timeout` seconds."""

    def __init__(self, stub: Any, timeout: float | None) -> None:
        self._stub = stub
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        request = getattr(self._stub, name)

        def call(message: Any, **kwargs: Any) -> Any:
            if self._timeout is not None:
                kwargs["timeout"] = self._timeout
            try:
                return request(message, **kwargs)
            except grpc.RpcError as error:
                code = error.code() if callable(getattr(error, "code", None)) else None
                tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "?")
                text = unreachable(address(), tuner_id, name, self._timeout, getattr(code, "name", str(code)))
                raise ChiefUnreachableError(text) from error

        return call


def limit_waits(client: Any, timeout: float | None) -> None:
    """Make each request of keras-tuner's `OracleClient` wait at most `timeout` seconds for the chief.

    Args:
        client: The worker's `keras_tuner` `OracleClient` (a tuner's
            ``oracle`` on a worker).
        timeout: Seconds; None keeps keras-tuner's own limit (an hour).
            Either way a request that fails raises `ChiefUnreachableError`.
    """
    if not isinstance(client.stub, _Bounded):
        client.stub = _Bounded(client.stub, timeout)
