"""Checks of the data given to `search`/`fit` against the terms' targets.

They run before any trial so that a missing target is reported at once, not
as a failed trial after the model was built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tuneweights import _validation as v
from tuneweights.terms import Term


def targets_of(terms: Sequence[Term]) -> list[str]:
    """The distinct target keys that resolved terms read from ``y``."""
    return sorted({str(t.target) for t in terms})


def fit_epochs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The `epochs` of a `model.fit` call, given by keyword or position (default 1).

    Example:
        >>> fit_epochs(("x", "y", 32, 10), {}), fit_epochs(("x",), {"epochs": 5}), fit_epochs((), {})
        (10, 5, 1)
    """
    if "epochs" in kwargs:
        return kwargs["epochs"]
    return args[3] if len(args) > 3 else 1


def has_validation(fit_kwargs: dict[str, Any]) -> bool:
    """Whether `fit` will log ``val_*`` quantities."""
    split = fit_kwargs.get("validation_split") or 0
    return fit_kwargs.get("validation_data") is not None or split > 0


def _y_structure(y: Any) -> Any:
    """Keys of a dict target, the string 'single' for one array, or None if unknown."""
    if y is None:
        return None
    if isinstance(y, dict):
        return sorted(y)
    return "single"


def _dataset_targets(x: Any) -> Any:
    spec = getattr(x, "element_spec", None)
    if spec is None or not isinstance(spec, tuple) or len(spec) < 2:
        return None
    return _y_structure(spec[1])


def check_targets(argument: str, structure: Any, targets: list[str]) -> None:
    """Raise when a ``y`` of this structure lacks a target.

    Args:
        argument: The argument name for the message.
        structure: As returned by `_y_structure`.
        targets: The target keys needed.
    """
    if structure is None:
        return
    if structure == "single":
        if len(targets) > 1:
            raise v.invalid(
                argument,
                f"be a dict keyed by the targets {targets}, since the terms read several targets",
                "a single array",
            )
        return
    missing = [t for t in targets if t not in structure]
    if missing:
        raise v.invalid(
            argument,
            f"hold every target the terms read: {targets} (missing {missing})",
            structure,
        )


def check_fit_arguments(args: tuple[Any, ...], kwargs: dict[str, Any], terms: Sequence[Term]) -> None:
    """Check `fit`'s `x`/`y`/`validation_data` against resolved terms.

    Raises:
        ConfigurationError: a target is missing, or `epochs` is not a
            positive int.
    """
    targets = targets_of(terms)
    x = args[0] if args else kwargs.get("x")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    structure = _y_structure(y) if y is not None else _dataset_targets(x)
    check_targets("y", structure, targets)
    validation = kwargs.get("validation_data")
    if isinstance(validation, (tuple, list)):
        if len(validation) < 2:
            raise v.invalid("validation_data", "be (x, y) or (x, y, sample_weight)", validation)
        check_targets("validation_data", _y_structure(validation[1]), targets)
    elif validation is not None:
        check_targets("validation_data", _dataset_targets(validation), targets)
    epochs = fit_epochs(args, kwargs)
    v.check_int("epochs", epochs, 1)
