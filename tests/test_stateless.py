"""The pieces of the JAX train step that run on any backend: the state's scope, where a gradient reaches."""

import keras
import numpy as np
import pytest

import tuneweights as tw
from tuneweights.training import gradients
from tuneweights.training.stateless import StateScope


def test_the_scope_records_assignments_and_refuses_a_variable_outside_the_state():
    known = keras.Variable(0.0, name="known")
    outside = keras.Variable(0.0, name="outside")
    with StateScope([(known, 1.0)]) as scope:
        assert float(known.value) == 1.0  # read from the state
        known.assign(known.value + 1.0)
        assert float(known.value) == 2.0
        match = (
            r"Argument `train step` must assign only variables of the model's state on the 'jax' backend, "
            r"whose train step is a pure function of that state \(create a strategy's variables in "
            r"`build_state`, give its optimizers to `model.track_optimizers`\). Received: train step='outside'"
        )
        with pytest.raises(tw.ConfigurationError, match=match):
            outside.assign(1.0)
    assert scope.assigned() == [known]
    assert float(scope.get_current_value(known)) == 2.0
    assert float(known.numpy()) == 0.0  # nothing assigned in place


def test_where_each_output_reaches_read_from_the_backward_pass():
    jax = pytest.importorskip("jax")

    def forward(values):
        x, y, z = values
        return (2.0 * x, x * y, 0.0 * y)  # z reaches no output

    result, backward = jax.vjp(forward, [np.float32(1.0), np.float32(2.0), np.float32(3.0)])
    reach = gradients._reach(backward, result)
    assert reach == [{0, 1}, {1, 2}, set()]  # by the graph, not the values: 0 * y reaches y
