"""Reading a project's state files: one loader, one error that names the file.

Every JSON state file of a project directory (keras-tuner's ``oracle.json``,
``tuner0.json`` and ``trial_*/trial.json``, tuneweights' ``tuneweights.json``
and ``resume.json``) is read through `read_state`. A file that cannot be used
raises `DamagedStateFile`, which says which file, what is wrong with it
(missing, truncated, not JSON, a missing key, a value of the wrong type) and
what to do. It is a `ConfigurationError`, so raised inside a trial it stops
the search instead of being recorded as a failed trial.

What the search does about a damaged file (rebuild it, quarantine a trial,
restart a trial from epoch 0) is decided above this layer; ``tuneweights
check DIR/PROJECT`` tells it without changing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tuneweights._validation import ConfigurationError

CHECK_HINT = (
    "Run `tuneweights check DIR/PROJECT` to see what the next `search(overwrite=False)` will do "
    "about it, restore the file from a backup, or start a new search with another `project_name` "
    "or `overwrite=True`."
)

#: A JSON type as `read_state` names it in its messages.
_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number"}


class DamagedStateFile(ConfigurationError):
    """A state file of a project directory is missing, truncated, not JSON or not as expected.

    Attributes:
        path: The file.
        problem: What is wrong with it, in words ("it is truncated ...").
    """

    def __init__(self, path: str, problem: str, hint: str = CHECK_HINT) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"The state file {self.path} cannot be used: {problem}. {hint}")


class DamagedOracleState(DamagedStateFile, RuntimeError):
    """``oracle.json`` holds no state this oracle can take (another oracle's project, or damage).

    keras-tuner raises a `RuntimeError` there: code catching either sees it.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(
            path,
            problem,
            "If you did not mean to reload that project, change the `project_name` or pass "
            "`overwrite=True` when creating the tuner; else run `tuneweights check DIR/PROJECT`, or "
            "restore the file from a backup.",
        )


def decode_problem(text: str, error: json.JSONDecodeError) -> str:
    """Say whether JSON text is cut short or is not JSON at all.

    Example:
        >>> text = '{"epoch": 3, "fi'
        >>> try:
        ...     json.loads(text)
        ... except json.JSONDecodeError as error:
        ...     print(decode_problem(text, error))
        it is truncated (its 16 characters end inside the JSON)
        >>> try:
        ...     json.loads("garbage")
        ... except json.JSONDecodeError as error:
        ...     print(decode_problem("garbage", error))
        it is not JSON (Expecting value at line 1, column 1)
    """
    if not text.strip():
        return "it is empty (truncated to 0 bytes)"
    # A string cut short is reported where it starts; anything else cut short, at the end.
    if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
        return f"it is truncated (its {len(text)} characters end inside the JSON)"
    return f"it is not JSON ({error.msg} at line {error.lineno}, column {error.colno})"


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = [_TYPE_NAMES.get(k, "null" if k is type(None) else k.__name__) for k in kinds]
    return " or ".join(names)


def read_state(
    path: str, required: Mapping[str, type | tuple[type, ...]] | None = None, hint: str = CHECK_HINT
) -> dict[str, Any]:
    """The JSON object in the state file `path`, with its `required` keys of the right types.

    Args:
        path: The file.
        required: ``{key: type or tuple of types}`` the object must hold
            (``float`` also accepts an int, as JSON does).
        hint: What the message tells the user to do.

    Returns:
        The object.

    Raises:
        DamagedStateFile: the file is missing or unreadable, empty or
            truncated, not JSON, not an object, or lacks a required key or
            holds one of another type.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "resume.json")
        >>> with open(path, "w") as f:
        ...     _ = f.write('{"epoch": "3"}')
        >>> try:
        ...     read_state(path, {"epoch": int})
        ... except DamagedStateFile as error:
        ...     print(error.problem)
        its key `epoch` holds a str where an integer is expected
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise DamagedStateFile(path, "it is missing", hint) from None
    except UnicodeDecodeError as error:
        raise DamagedStateFile(path, f"it is not JSON (not UTF-8 text: {error.reason})", hint) from None
    except OSError as error:
        raise DamagedStateFile(path, f"it cannot be read ({error.strerror or error})", hint) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DamagedStateFile(path, decode_problem(text, error), hint) from None
    if not isinstance(data, dict):
        raise DamagedStateFile(
            path, f"it holds {_type_name(type(data))} where a JSON object is expected", hint
        )
    for key, kind in (required or {}).items():
        check_key(path, data, key, kind, hint)
    return data


def check_key(
    path: str, data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], hint: str = CHECK_HINT
) -> Any:
    """``data[key]``, which must be of type `kind`; `DamagedStateFile` naming `path` otherwise."""
    if key not in data:
        raise DamagedStateFile(path, f"its key `{key}` is missing", hint)
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds:
        kinds = (*kinds, int)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise DamagedStateFile(
            path, f"its key `{key}` holds a {type(value).__name__} where {_type_name(kind)} is expected", hint
        )
    return value
