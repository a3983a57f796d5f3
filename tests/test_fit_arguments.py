"""`model.fit`'s arguments, bound once: by position or by name, read the same."""

import keras
import pytest

import tuneweights as tw
from tuneweights.training import FitArguments


def test_positional_and_named_arguments_read_the_same():
    by_position = FitArguments.bind(("x", "y", 16, 7, 0, None, 0.0, ("vx", "vy")), {})
    by_name = FitArguments.bind(
        (), {"x": "x", "y": "y", "batch_size": 16, "epochs": 7, "validation_data": ("vx", "vy")}
    )
    for fit in (by_position, by_name):
        assert (fit.x, fit.y, fit.epochs, fit.validation_data, fit.has_validation) == (
            "x",
            "y",
            7,
            ("vx", "vy"),
            True,
        )
    assert by_position.kwargs()["verbose"] == 0 and "verbose" not in by_name.kwargs()


def test_defaults_are_keras_fit_defaults():
    fit = FitArguments.bind(("x",), {})
    assert (fit.epochs, fit.initial_epoch, fit.verbose, fit.callbacks, fit.has_validation) == (
        1,
        0,
        "auto",
        [],
        False,
    )
    assert FitArguments.bind(("x",), {"validation_split": 0.2}).has_validation


def test_replace_adds_and_keeps_the_given_arguments_only():
    fit = FitArguments.bind(("x", "y"), {"epochs": 3})
    history = keras.callbacks.History()
    again = fit.replace(initial_epoch=2, callbacks=[history])
    assert again.kwargs() == {"x": "x", "y": "y", "epochs": 3, "initial_epoch": 2, "callbacks": [history]}
    assert fit.kwargs() == {"x": "x", "y": "y", "epochs": 3}
    listed = FitArguments.bind((), {"callbacks": keras.callbacks.CallbackList([history])})
    assert listed.callbacks == [history]


def test_arguments_fit_does_not_take_are_refused_unless_they_are_a_custom_fits():
    match = (
        r"Argument `fit arguments` must be arguments that `keras.Model.fit` takes \(got an unexpected keyword "
        r"argument 'epoch'\). Received: fit arguments=\{'positional': 1, 'keywords': \['epoch'\]\}"
    )
    with pytest.raises(tw.ConfigurationError, match=match):
        FitArguments.bind(("x",), {"epoch": 3})
    assert FitArguments.bind(("x",), {"epoch": 3}, strict=False).kwargs() == {"epoch": 3}


@pytest.mark.parametrize(
    "check, match",
    [
        (
            lambda: FitArguments.bind(("x", {"ya": 1}), {}).check(["ya", "yb"]),
            r"Argument `y` must hold every target the terms read: \['ya', 'yb'\] \(missing \['yb'\]\)",
        ),
        (
            lambda: FitArguments.bind(("x", [1]), {}).check(["ya", "yb"]),
            r"Argument `y` must be a dict keyed by the targets \['ya', 'yb'\]",
        ),
        (
            lambda: FitArguments.bind(("x", [1]), {"validation_data": ("x",)}).check(["ya"]),
            r"Argument `validation_data` must be \(x, y\) or \(x, y, sample_weight\)",
        ),
        (
            lambda: FitArguments.bind(("x", [1]), {"epochs": 0}).check(["ya"]),
            r"Argument `epochs` must be an int >= 1. Received: epochs=0",
        ),
    ],
)
def test_checks_against_the_terms_targets(check, match):
    with pytest.raises(tw.ConfigurationError, match=match):
        check()
