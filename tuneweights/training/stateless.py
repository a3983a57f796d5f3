"""The train step on JAX: a pure function of the model's state.

Keras's JAX trainer calls ``train_step(state, data)`` with the values of the
model's trainable, non-trainable, optimizer and metrics variables, and expects
``(logs, new state)`` back; nothing may be assigned in place. tuneweights'
step assigns variables as it goes: a per-step schedule sets a weight, a
strategy updates its slots and applies its own optimizers, a switch moves its
running average, the epoch metrics add up the terms' losses.

`train_step` runs that same step in one `keras.StatelessScope` mapping every
variable of the state to its value. Reads find the value of the step so far;
assignments are recorded in the scope, and their last values are the new
state. Host-side assignments (a schedule at the start of an epoch, DWA at its
end, `assign_term_weights`) reach the step because Keras reads the state from
the variables again after the callbacks of an epoch's start, and after
`model.jax_state_sync()`. A variable outside the state that the step assigns
would lose its update: it is refused, by name, when the step is traced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import keras

from tuneweights import _validation as v

__all__ = ["STATELESS", "StateScope", "state_variables", "train_step"]

#: Whether the backend's train step is a pure function of the state (JAX).
STATELESS = keras.backend.backend() == "jax"


def state_variables(model: Any) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """The variables of the JAX state, in Keras's order: trainable, non-trainable, optimizer, metrics."""
    return (
        list(model.trainable_variables),
        list(model.non_trainable_variables),
        list(model.optimizer.variables),
        list(model.metrics_variables),
    )


class StateScope(keras.StatelessScope):
    """A `keras.StatelessScope` that refuses assignments to variables outside a known state.

    Args:
        mapping: ``(variable, value)`` pairs: the state.
        collect_losses: Collect the losses of `add_loss` (as Keras's
            ``stateless_call`` does).
    """

    def __init__(self, mapping: Iterable[tuple[Any, Any]], collect_losses: bool = False) -> None:
        pairs = list(mapping)
        super().__init__(state_mapping=pairs, collect_losses=collect_losses)
        self._known = {id(var) for var, _ in pairs}
        self._assigned: dict[int, Any] = {}

    def add_update(self, update: tuple[Any, Any]) -> None:
        variable = update[0]
        if id(variable) not in self._known:
            path = getattr(variable, "path", None) or getattr(variable, "name", repr(variable))
            raise v.invalid(
                "train step",
                "assign only variables of the model's state on the 'jax' backend, whose train step is "
                "a pure function of that state (create a strategy's variables in `build_state`, give "
                "its optimizers to `model.track_optimizers`)",
                path,
            )
        self._assigned[id(variable)] = variable
        super().add_update(update)

    def assigned(self) -> list[Any]:
        """The variables assigned in the scope, in the order of their first assignment."""
        return list(self._assigned.values())


def train_step(
    model: Any, state: Sequence[Sequence[Any]], data: Any, step: Callable[[Any], Any]
) -> tuple[Any, tuple[list[Any], ...]]:
    """Run `step(data)` (written with assignments) as Keras's JAX ``train_step(state, data)``.

    Returns:
        ``(logs, new state)``, the new state in the order and structure of
        `state`.
    """
    groups = state_variables(model)
    mapping = [
        (var, value)
        for variables, values in zip(groups, state, strict=True)
        for var, value in zip(variables, values, strict=True)
    ]
    with StateScope(mapping) as scope:
        logs = step(data)
    new_state = tuple([scope.get_current_value(var) for var in variables] for variables in groups)
    return logs, new_state
