"""The tuner's own arguments, checked before keras-tuner deletes, reads or writes a project.

keras-tuner checks some of these late (an unknown argument after the oracle
is built, `allow_new_entries=False` after ``overwrite=True`` deleted the
project) and some never (``max_consecutive_failed_trials=0`` stops the search
after its first trial, a string `overwrite` is true).
"""

from __future__ import annotations

import copy
import inspect
import os
import types
from typing import Any

import keras
import keras_tuner as kt
from keras_tuner.src.engine import base_tuner
from keras_tuner.src.engine import hypermodel as kt_hypermodel

from tuneweights import _validation as v

__all__ = [
    "check_optimizer",
    "check_oracle",
    "check_plain_declarations",
    "check_tuner_kwargs",
    "oracle_options",
]

# What keras-tuner's `Tuner` and `BaseTuner` take besides the oracle, the hypermodel and the
# arguments `tuneweights.Tuner` names itself.
_TAKEN = frozenset(
    name
    for cls in (kt.Tuner, base_tuner.BaseTuner)
    for name, parameter in inspect.signature(cls.__init__).parameters.items()
    if parameter.kind is not inspect.Parameter.VAR_KEYWORD and name not in ("self", "oracle", "hypermodel")
)


def check_tuner_kwargs(kwargs: dict[str, Any]) -> None:
    """Refuse what keras-tuner's `Tuner` would refuse or misread, before it runs.

    Raises:
        ConfigurationError: an argument keras-tuner does not take.
        ConfigurationTypeError: `overwrite` that is not a bool, `directory`
            or `project_name` that is not a string.
    """
    for name, value in kwargs.items():
        if name not in _TAKEN:
            raise v.invalid(
                name,
                f"be left out: the tuner takes no such argument (it takes {sorted(_TAKEN)})",
                value,
                hint=f"Unrecognized arguments {[name]} for `BaseTuner.__init__()`",
            )
    v.check_bool("overwrite", kwargs.get("overwrite", False))
    directory = kwargs.get("directory")
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise v.wrong_type("directory", "a str, a path or None", directory)
    project_name = kwargs.get("project_name")
    if project_name is not None and (not isinstance(project_name, str) or not project_name):
        raise v.invalid("project_name", "be a non-empty str or None", project_name)


def check_optimizer(optimizer: Any) -> None:
    """Refuse an optimizer Keras cannot build (else every trial fails when it compiles).

    Raises:
        ConfigurationError: a name `keras.optimizers.get` does not know.
        ConfigurationTypeError: neither None, a name nor a
            `keras.optimizers.Optimizer`.
    """
    if optimizer is None or isinstance(optimizer, keras.optimizers.Optimizer):
        return
    v.check_instance("optimizer", optimizer, "an optimizer name or a `keras.optimizers.Optimizer` instance")
    if not isinstance(optimizer, str):
        raise v.wrong_type(
            "optimizer", "None, an optimizer name or a `keras.optimizers.Optimizer`", optimizer
        )
    try:
        keras.optimizers.get(optimizer)
    except ValueError:
        raise v.invalid(
            "optimizer",
            "be an optimizer name known to `keras.optimizers.get` (e.g. 'adam', 'sgd')",
            optimizer,
        ) from None


def check_oracle(oracle: kt.Oracle) -> None:
    """Refuse oracle settings that cannot work, whichever tuner built it (see `oracle_options`)."""
    oracle_options(
        oracle.hyperparameters,
        oracle.tune_new_entries,
        oracle.allow_new_entries,
        oracle.max_retries_per_trial,
        oracle.max_consecutive_failed_trials,
    )


def oracle_options(
    hyperparameters: Any,
    tune_new_entries: Any,
    allow_new_entries: Any,
    max_retries_per_trial: Any,
    max_consecutive_failed_trials: Any,
) -> dict[str, Any]:
    """The options every keras-tuner oracle takes, as its keyword arguments, once checked.

    Returns:
        ``{"hyperparameters": ..., "tune_new_entries": ..., ...}``.

    Raises:
        ConfigurationError: ``max_consecutive_failed_trials < 1``
            (keras-tuner would end the search after its first trial,
            whatever its outcome), ``max_retries_per_trial < 0``, no
            `hyperparameters` while new entries are not tuned or not allowed.
        ConfigurationTypeError: `hyperparameters` that is not a
            `keras_tuner.HyperParameters`, `tune_new_entries` or
            `allow_new_entries` that is not a bool.
    """
    if hyperparameters is not None and not isinstance(hyperparameters, kt.HyperParameters):
        raise v.wrong_type("hyperparameters", "None or a `keras_tuner.HyperParameters`", hyperparameters)
    for name, value in (("tune_new_entries", tune_new_entries), ("allow_new_entries", allow_new_entries)):
        if not v.check_bool(name, value) and (hyperparameters is None or not hyperparameters.space):
            raise v.invalid(
                "hyperparameters", f"declare the search space when `{name}=False`", hyperparameters
            )
    return {
        "hyperparameters": hyperparameters,
        "tune_new_entries": tune_new_entries,
        "allow_new_entries": allow_new_entries,
        "max_retries_per_trial": v.check_int("max_retries_per_trial", max_retries_per_trial, 0),
        "max_consecutive_failed_trials": v.check_int(
            "max_consecutive_failed_trials", max_consecutive_failed_trials, 1
        ),
    }


class _Space:
    """The part of an oracle that keras-tuner's walk over `build`'s conditions uses.

    It records what is new, and never refuses it.
    """

    def __init__(self, hyperparameters: kt.HyperParameters) -> None:
        self.hyperparameters = hyperparameters.copy()
        self.new: list[Any] = []

    def get_space(self) -> kt.HyperParameters:
        return self.hyperparameters.copy()

    def update_space(self, hp: kt.HyperParameters) -> None:
        new = [p for p in hp.space if not self.hyperparameters._exists(p.name, p.conditions)]
        self.new.extend(new)
        self.hyperparameters.merge(new)


def check_plain_declarations(hypermodel: Any, oracle: kt.Oracle) -> None:
    """Refuse `allow_new_entries=False` when `build(hp)` declares what `hyperparameters=` does not.

    keras-tuner finds out by building the model under every condition, after
    ``overwrite=True`` deleted the project; this builds it the same way
    first (only when new entries are refused).

    Raises:
        ConfigurationError: a hyperparameter of `build` missing from
            `hyperparameters` while `allow_new_entries=False`.
    """
    if hypermodel is None or oracle.allow_new_entries:
        return
    space = _Space(oracle.hyperparameters)
    plain = kt_hypermodel.get_hypermodel(hypermodel)
    hp = space.get_space()
    plain.declare_hyperparameters(hp)
    space.update_space(hp)
    walk = types.SimpleNamespace(oracle=space, hypermodel=plain)
    base_tuner.BaseTuner._activate_all_conditions(walk)  # keras-tuner's own walk
    keras.backend.clear_session()
    if space.new:
        raise v.invalid(
            "hyperparameters",
            "declare every hyperparameter `build(hp)` declares when `allow_new_entries=False`; "
            f"missing: {[p.name for p in space.new]}",
            [p.name for p in oracle.hyperparameters.space],
            hint="`build(hp)` declares new hyperparameters but `allow_new_entries` is `False`",
            kind=v.ConfigurationStateError,
        )


def check_callbacks_copyable(callbacks: Any) -> None:
    """Refuse, as keras-tuner does, callbacks that cannot be copied for every trial.

    Raises:
        ConfigurationError: a callback `copy.deepcopy` fails on.
    """
    listed = callbacks.callbacks if isinstance(callbacks, keras.callbacks.CallbackList) else callbacks
    for index, callback in enumerate(listed or []):
        try:
            copy.deepcopy(callback)
        except Exception as error:  # whatever copying it raises, the search could not use it
            raise v.invalid(
                f"callbacks[{index}]",
                f"be deep-copyable: every trial gets its own copy (copying it raised {error!r})",
                callback,
                hint="All callbacks used during a search should be deep-copyable (since they are reused "
                "across trials)",
            ) from None
