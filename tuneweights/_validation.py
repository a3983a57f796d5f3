"""Errors a user can act on.

Every configuration error names the argument, states the rule and echoes the
value received, in the style "Argument `epochs` must be > 0. Received:
epochs=0". They derive from keras-tuner's fatal errors so that, raised inside a
trial, they stop the search instead of being recorded as a failed trial, and
from `ValueError`/`TypeError` so that ordinary `except` clauses still work.
"""

from __future__ import annotations

import math
from typing import Any

from keras_tuner import errors as kt_errors


class ConfigurationError(kt_errors.FatalValueError):
    """A search was configured in a way that cannot work.

    Raised before any training starts. It is a `keras_tuner.errors.FatalError`
    (the search stops) and a `ValueError`.
    """


class ConfigurationStateError(ConfigurationError, RuntimeError):
    """A `ConfigurationError` where keras-tuner raises a `RuntimeError`: code catching either sees it."""


class ConfigurationTypeError(kt_errors.FatalTypeError):
    """An argument has the wrong type. A `FatalError` and a `TypeError`."""


class Shown(str):
    """Text shown as it is where a received value is echoed (an array as its shape, not its values)."""

    def __repr__(self) -> str:
        return str(self)


def describe(value: Any) -> str:
    """Short `repr` of a received value for error messages."""
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def invalid(
    argument: str, rule: str, value: Any, hint: str = "", kind: type[ConfigurationError] = ConfigurationError
) -> ConfigurationError:
    """Build the error (of class `kind`) for `argument` breaking `rule`.

    Example:
        >>> str(invalid("epochs", "be > 0", 0))
        'Argument `epochs` must be > 0. Received: epochs=0'
    """
    message = f"Argument `{argument}` must {rule}. Received: {argument}={describe(value)}"
    if hint:
        message += f". {hint}"
    return kind(message)


def wrong_type(argument: str, expected: str, value: Any, hint: str = "") -> ConfigurationTypeError:
    """Build the error for `argument` having the wrong type.

    Example:
        >>> str(wrong_type("name", "a str", 3))
        'Argument `name` must be a str. Received: name=3 (of type int)'
    """
    message = (
        f"Argument `{argument}` must be {expected}. "
        f"Received: {argument}={describe(value)} (of type {type(value).__name__})"
    )
    if hint:
        message += f". {hint}"
    return ConfigurationTypeError(message)


def check_instance(argument: str, value: Any, expected: str) -> None:
    """Refuse a class where an instance is expected.

    A class is callable, so it passes for a loss or metric function until it
    is called with ``(y_true, y_pred)`` and fails inside training.

    Example:
        >>> class MeanError: ...
        >>> try:
        ...     check_instance("loss", MeanError, "a loss")
        ... except ConfigurationTypeError as error:
        ...     print(str(error).split("Received: ")[1])  # doctest: +ELLIPSIS
        loss=<class '...MeanError'> (a class). Pass an instance: `MeanError()`
    """
    if isinstance(value, type):
        raise ConfigurationTypeError(
            f"Argument `{argument}` must be {expected}. Received: {argument}={describe(value)} "
            f"(a class). Pass an instance: `{value.__name__}()`"
        )


def check_name(argument: str, value: Any) -> str:
    """A non-empty identifier-like string usable in metric and hp names."""
    if not isinstance(value, str):
        raise wrong_type(argument, "a str", value)
    if not value or not all(c.isalnum() or c in "_-." for c in value):
        raise invalid(
            argument,
            "be a non-empty string of letters, digits, '_', '-' or '.'",
            value,
        )
    return value


def check_int(argument: str, value: Any, minimum: int) -> int:
    """An int (not a bool) >= `minimum`.

    Example:
        >>> check_int("epochs", 3, 1)
        3
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid(argument, f"be an int >= {minimum}", value)
    return value


def check_optional_int(argument: str, value: Any, minimum: int) -> int | None:
    """None, or an int (not a bool) >= `minimum`.

    Example:
        >>> check_optional_int("batch_size", None, 1) is None
        True
    """
    return None if value is None else check_int(argument, value, minimum)


def check_positive(argument: str, value: Any) -> float:
    """A finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise wrong_type(argument, "a number", value)
    if not math.isfinite(value) or value <= 0:
        raise invalid(argument, "be a finite number > 0", value)
    return float(value)


def check_non_negative(argument: str, value: Any) -> float:
    """A finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise wrong_type(argument, "a number", value)
    if not math.isfinite(value) or value < 0:
        raise invalid(argument, "be a finite number >= 0", value)
    return float(value)


def check_bool(argument: str, value: Any) -> bool:
    """A bool (not an int standing for one).

    Example:
        >>> check_bool("overwrite", True)
        True
    """
    if not isinstance(value, bool):
        raise wrong_type(argument, "a bool", value)
    return value


def check_choice(argument: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if value not in choices:
        raise invalid(argument, f"be one of {list(choices)}", value)
    return str(value)
