"""Which logged quantity the tuner optimises, and in which direction.

With searched weights, the weighted total ``loss``/``val_loss`` is not
comparable between trials: a trial that samples smaller weights reports a
smaller total without being any better. Objectives must therefore be an
unweighted quantity: a term's loss (``val_<term>_loss``), the unweighted sum
(``val_unweighted_loss``) or a metric (``val_<term>_accuracy``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras_tuner as kt
from keras_tuner.src.engine import metrics_tracking
from keras_tuner.src.engine import objective as kt_objective

from tuneweights import _validation as v
from tuneweights.hypermodel import WeightedHyperModel
from tuneweights.names import (
    UNWEIGHTED_LOSS,
    WEIGHTED_TOTALS,
    loss_metric_name,
    term_metric_name,
    weight_metric_name,
)
from tuneweights.terms import Term

_MAX_NAMES = ("accuracy", "acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "r2_score")


def infer_direction(name: str, terms: Iterable[Term] = ()) -> str | None:
    """``"min"``/``"max"`` for a logged name, or None when unknown.

    Example:
        >>> infer_direction("val_cls_accuracy", [Term("cls", "sparse_categorical_crossentropy")])
        'max'
        >>> infer_direction("val_rec_loss")
        'min'
    """
    base = name[4:] if name.startswith("val_") else name
    if base == "loss" or base.endswith("_loss"):
        return "min"
    for term in terms:
        prefix = f"{term.name}_"
        if base.startswith(prefix):
            base = base[len(prefix) :]
            break
    if base in _MAX_NAMES:
        return "max"
    direction = metrics_tracking.infer_metric_direction(base)
    return direction if direction in ("min", "max") else None


def _single_objectives(objective: Any) -> list[kt.Objective]:
    if isinstance(objective, kt_objective.MultiObjective):
        return list(objective.objectives)
    return [objective]


def resolve(objective: Any, terms: list[Term]) -> Any:
    """Turn a user's objective into keras-tuner's objects, inferring directions.

    Args:
        objective: A name, a `keras_tuner.Objective`, or a list of them.
        terms: The hypermodel's loss terms (for direction inference).

    Returns:
        A `keras_tuner.Objective`, or keras-tuner's multi-objective for a list.

    Raises:
        ConfigurationError: no objective, or a direction that cannot be
            inferred.
    """
    if objective is None:
        raise v.invalid(
            "objective",
            "be given: name an unweighted quantity such as "
            f"{_suggestions(terms)} (or pass `keras_tuner.Objective(name, direction)`)",
            None,
        )
    if isinstance(objective, (list, tuple)):
        if not objective:
            raise v.invalid("objective", "be a name, an Objective or a non-empty list", objective)
        return kt_objective.create_objective([resolve(o, terms) for o in objective])
    if isinstance(objective, kt.Objective):
        if objective.direction not in ("min", "max"):
            raise v.invalid("objective.direction", "be 'min' or 'max'", objective.direction)
        return objective
    if not isinstance(objective, str):
        raise v.wrong_type("objective", "a metric name, a `keras_tuner.Objective` or a list", objective)
    direction = infer_direction(objective, terms)
    if direction is None:
        raise v.invalid(
            "objective",
            "be a metric whose direction is known; for other names pass "
            f"`keras_tuner.Objective({objective!r}, direction='min' or 'max')`",
            objective,
            hint=f'Could not infer optimization direction ("min" or "max") for unknown metric "{objective}"',
        )
    return kt.Objective(objective, direction)


def _suggestions(terms: Iterable[Term]) -> list[str]:
    terms = list(terms)
    names = [f"val_{loss_metric_name(str(t.name))}" for t in terms] + [f"val_{UNWEIGHTED_LOSS}"]
    names += [f"val_{term_metric_name(t.name, m)}" for t in terms for m in t.metrics]
    return names


def check(objective: Any, terms: list[Term], loss_searched: bool, known: list[str] | None) -> None:
    """Refuse objectives that cannot rank trials.

    Args:
        objective: A resolved objective (see `resolve`).
        terms: The loss terms.
        loss_searched: Whether the loss depends on hyperparameters or varies
            with training (weights, schedules, switches or the strategy).
        known: The names that will be logged, or None when they cannot be
            known (a custom ``fit``).

    Raises:
        ConfigurationError: an objective on a weighted total while the loss is
            searched, on a weight, on the loss of a term whose loss switch is
            searched, or on a name that is never logged.
    """
    if isinstance(objective, kt_objective.DefaultObjective):
        raise v.invalid("objective", f"be given, e.g. one of {_suggestions(terms)}", None)
    for single in _single_objectives(objective):
        name = single.name
        if loss_searched and name in WEIGHTED_TOTALS:
            raise v.invalid(
                "objective",
                "not be the weighted total loss while loss weights are searched: "
                "its value depends on the sampled weights (smaller weights give a "
                "smaller total without a better model), so it cannot rank trials. "
                f"Use an unweighted quantity instead: one of {_suggestions(terms)}",
                name,
            )
        base = name[4:] if name.startswith("val_") else name
        switched = [t.name for t in terms if t.switch is not None and t.switch.searched_fields()]
        if switched and base in [UNWEIGHTED_LOSS] + [loss_metric_name(str(t)) for t in switched]:
            raise v.invalid(
                "objective",
                f"not include the loss of a term whose loss switch is searched ({switched}): it "
                "measures a different loss before and after the switch, at an epoch that differs "
                "between trials. Use another term's loss or a metric",
                name,
            )
        if any(base == weight_metric_name(str(t.name)) for t in terms):
            raise v.invalid("objective", "name a loss or metric, not a term's weight", name)
        if known is not None and name not in known:
            raise v.invalid(
                "objective",
                f"be one of the logged names {known} (declare metrics on the terms "
                "with `Term(..., metrics=[...])`, or list names your own callbacks "
                "log in `WeightedHyperModel.logged_metrics`)",
                name,
            )


def of_hypermodel(objective: Any, hypermodel: Any) -> Any:
    """The objective of a tuner of `hypermodel`, with keras-tuner's defaults.

    A `WeightedHyperModel` whose loss does not vary between trials ranks by
    ``val_loss`` by default; one whose weights are searched needs an
    unweighted objective. Any other hypermodel follows keras-tuner: without
    an objective, its `fit` (or the tuner's `run_trial`) returns the value to
    minimise.

    Example:
        >>> of_hypermodel(None, None) is None
        True
        >>> objective = of_hypermodel("val_mae", None)
        >>> objective.name, objective.direction
        ('val_mae', 'min')
    """
    if isinstance(hypermodel, WeightedHyperModel):
        if objective is None and not hypermodel.loss_searched:
            return kt.Objective("val_loss", "min")
        return resolve(objective, hypermodel.terms)
    return None if objective is None else resolve(objective, [])
