"""The arguments of `model.fit`, bound once by name, and their checks against the terms.

`search(...)` takes the arguments of `model.fit`; the tuner reads the epochs,
the validation data and the callbacks from them, adds its own callbacks, and
passes them on. `FitArguments` binds them to `keras.Model.fit`'s signature
once, so that every reader agrees on what was passed, whether by position or
by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import keras

from tuneweights import _validation as v

__all__ = ["FitArguments", "check_targets", "targets_of"]

_SIGNATURE = inspect.signature(keras.Model.fit)
_DEFAULTS = {
    name: parameter.default
    for name, parameter in _SIGNATURE.parameters.items()
    if parameter.default is not inspect.Parameter.empty
}


class FitArguments:
    """The arguments given to `model.fit` (or `search`), by name.

    Args:
        given: The arguments given, by name (see `bind`).

    Example:
        >>> fit = FitArguments.bind(("x", "y", 32, 10), {"validation_split": 0.2})
        >>> fit.epochs, fit.has_validation, fit.given["batch_size"]
        (10, True, 32)
        >>> fit.replace(epochs=3, verbose=0).kwargs()["epochs"]
        3
    """

    def __init__(self, given: Mapping[str, Any]) -> None:
        self.given = dict(given)

    @classmethod
    def bind(cls, args: Sequence[Any], kwargs: Mapping[str, Any], strict: bool = True) -> FitArguments:
        """Bind `model.fit`'s positional and keyword arguments.

        Args:
            args: The positional arguments.
            kwargs: The keyword arguments.
            strict: Refuse arguments `model.fit` does not take; when False
                (the arguments of a user's own `fit`), keep the keyword
                arguments alone instead.

        Raises:
            ConfigurationError: with `strict`, arguments `model.fit` does not
                take.
        """
        try:
            bound = _SIGNATURE.bind(None, *args, **kwargs)
        except TypeError as error:
            if not strict:
                return cls(kwargs)
            raise v.invalid(
                "fit arguments",
                f"be arguments that `keras.Model.fit` takes ({error})",
                {"positional": len(args), "keywords": sorted(kwargs)},
            ) from None
        given = dict(bound.arguments)
        given.pop("self")
        return cls(given)

    def get(self, name: str) -> Any:
        """An argument's value, its default in `model.fit` when it was not given."""
        return self.given.get(name, _DEFAULTS.get(name))

    def kwargs(self) -> dict[str, Any]:
        """The arguments given, by name: ``model.fit(**fit.kwargs())``."""
        return dict(self.given)

    def replace(self, **changes: Any) -> FitArguments:
        """These arguments with some replaced or added."""
        return FitArguments({**self.given, **changes})

    @property
    def x(self) -> Any:
        return self.get("x")

    @property
    def y(self) -> Any:
        return self.get("y")

    @property
    def epochs(self) -> Any:
        return self.get("epochs")

    @property
    def initial_epoch(self) -> Any:
        return self.get("initial_epoch")

    @property
    def verbose(self) -> Any:
        return self.get("verbose")

    @property
    def validation_data(self) -> Any:
        return self.get("validation_data")

    @property
    def callbacks(self) -> list[Any]:
        """The callbacks given, as a list (empty when none)."""
        callbacks = self.get("callbacks")
        if isinstance(callbacks, keras.callbacks.CallbackList):
            return list(callbacks.callbacks)
        return list(callbacks or [])

    @property
    def has_validation(self) -> bool:
        """Whether `fit` will log ``val_*`` quantities."""
        return self.validation_data is not None or bool(self.get("validation_split"))

    def check(self, targets: Sequence[str]) -> None:
        """Check `x`/`y`/`validation_data` against the target keys the terms read, and `epochs`.

        Raises:
            ConfigurationError: a target is missing, or a number breaks
                its rule (see `check_numbers`).
        """
        structure = _y_structure(self.y) if self.y is not None else _dataset_targets(self.x)
        check_targets("y", structure, targets)
        validation = self.validation_data
        if isinstance(validation, (tuple, list)):
            if len(validation) not in (2, 3):
                raise v.invalid(
                    "validation_data",
                    "be (x, y) or (x, y, sample_weight)",
                    v.Shown(f"a {type(validation).__name__} of {len(validation)} items"),
                )
            check_targets("validation_data", _y_structure(validation[1]), targets)
        elif validation is not None:
            check_targets("validation_data", _dataset_targets(validation), targets)
        self.check_numbers()

    def check_numbers(self) -> None:
        """Check the counts, sizes and fractions given to `fit`, whatever the model.

        Raises:
            ConfigurationError: `epochs`, `batch_size`, `steps_per_epoch`,
                `validation_steps`, `validation_batch_size` or
                `validation_freq` is not a positive int, `initial_epoch` is
                not an int in ``[0, epochs)``, `validation_split` is not in
                ``[0, 1)`` (or given with a dataset), or a callback is not a
                `keras.callbacks.Callback`.
        """
        epochs = v.check_int("epochs", self.epochs, 1)
        for name in ("batch_size", "steps_per_epoch", "validation_steps", "validation_batch_size"):
            v.check_optional_int(name, self.get(name), 1)
        frequency = self.get("validation_freq")
        if not isinstance(frequency, list):  # a list names the epochs to validate at
            v.check_int("validation_freq", frequency, 1)
        initial = v.check_int("initial_epoch", self.initial_epoch, 0)
        if initial >= epochs:
            raise v.invalid("initial_epoch", f"be < epochs={epochs} (no epoch would run)", initial)
        split = self.get("validation_split")
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 <= split < 1:
            raise v.invalid("validation_split", "be a number in [0, 1)", split)
        if split and _is_streamed(self.x):
            raise v.invalid(
                "validation_split",
                "be 0 when `x` is a dataset or a generator (give `validation_data` instead)",
                split,
            )
        if self.get("sample_weight") is not None and _is_streamed(self.x):
            raise v.invalid(
                "sample_weight",
                "be left out when `x` is a dataset or a generator (let it yield (x, y, sample_weight))",
                v.Shown(type(self.get("sample_weight")).__name__),
            )
        for index, callback in enumerate(self.callbacks):
            if not isinstance(callback, keras.callbacks.Callback):
                raise v.wrong_type(f"callbacks[{index}]", "a `keras.callbacks.Callback`", callback)


def _is_streamed(x: Any) -> bool:
    """Whether `x` yields batches Keras cannot split (a dataset, a PyDataset, a generator, a DataLoader)."""
    return (
        hasattr(x, "element_spec")
        or isinstance(x, keras.utils.PyDataset)
        or hasattr(x, "__next__")
        or type(x).__module__.startswith("torch.utils.data")
    )


def targets_of(terms: Sequence[Any]) -> list[str]:
    """The distinct target keys that resolved terms read from ``y``."""
    return sorted({str(t.target) for t in terms})


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


def check_targets(argument: str, structure: Any, targets: Sequence[str]) -> None:
    """Raise when a ``y`` of this structure lacks a target.

    Args:
        argument: The argument name for the message.
        structure: Keys of a dict target, ``"single"`` for one array, or
            None when unknown.
        targets: The target keys needed.
    """
    if structure is None:
        return
    targets = list(targets)
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
