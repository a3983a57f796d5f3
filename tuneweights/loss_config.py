"""`LossConfig`: the loss of one trial, with every searched quantity decided.

A declaration (terms whose weights are `Range`s or `ScheduleSearch`es, switches
with searched fields, a `StrategySearch`) stands for a family of losses;
`tuneweights.space.WeightSpace.decode` picks one member for a trial's
hyperparameters. That member is a `LossConfig`: its terms hold numbers or
schedules as weights and switches with values, and its strategy is concrete.
It is the one value every consumer reads: `WeightedModel` is built from it,
and TensorBoard's HParams, `Tuner.describe`, `results_summary`,
`get_best_weights` and the report show it. "Is anything left unresolved?" is
answered once, here, when the value is built.

Example:
    >>> from tuneweights.terms import Term
    >>> config = LossConfig([Term("a", "mse"), Term("b", "mae", weight=0.5)])
    >>> config.weights
    {'a': 1.0, 'b': 0.5}
    >>> LossConfig.from_config(config.get_config()) == config
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tuneweights import _validation as v
from tuneweights import names as logged
from tuneweights import strategies as strategy_module
from tuneweights.ranges import Range, ScheduleSearch
from tuneweights.schedules import Schedule
from tuneweights.strategies import StrategySearch
from tuneweights.switches import Switch
from tuneweights.terms import Term, as_terms

__all__ = ["LossConfig", "check_weights_left_at_one"]

Weight = float | Schedule
_BUILD_WEIGHTED = "use `WeightedHyperModel.build_weighted(hp)` or `WeightSpace.decode(hp)`"


def check_weights_left_at_one(
    terms: Iterable[Term], strategy: Any, overrides: Mapping[str, Any] = {}
) -> None:
    """Refuse declared weights under a strategy that sets the weights itself.

    Such a strategy (``dwa``, ``uncertainty``, ...) starts every weight at its
    own value: a declared weight other than 1, a `Range` or a schedule would
    be silently ignored.

    Raises:
        ConfigurationError: a term's weight (or its override) is not 1.
    """
    if isinstance(strategy, StrategySearch) or strategy.uses_term_weights:
        return
    declared = {t.name: overrides.get(t.name, t.weight) for t in terms}
    fixed = {n: w for n, w in declared.items() if not isinstance(w, (int, float)) or w != 1.0}
    if fixed:
        raise v.invalid(
            "weights",
            f"be left at 1 for every term under strategy {strategy.name!r}, which sets the weights itself",
            fixed,
        )


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The loss of one trial: concrete terms and a concrete strategy.

    Args:
        terms: The loss terms (a list of `Term`, or a dict as accepted by
            `tuneweights.terms.as_terms`). Every weight is a number or a
            `Schedule`; no switch has a searched field.
        strategy: A concrete strategy or its registered name (default
            ``"static"``).

    Raises:
        ConfigurationError: something is still searched (a `Range` or
            `ScheduleSearch` weight, a switch or strategy field given as a
            `Range`, a `StrategySearch`), or the strategy sets the weights
            itself and a weight is not 1.
    """

    terms: tuple[Term, ...]
    strategy: strategy_module.Strategy = strategy_module.Static()

    def __post_init__(self) -> None:
        terms = tuple(as_terms(list(self.terms) if isinstance(self.terms, tuple) else self.terms))
        object.__setattr__(self, "terms", terms)
        strategy = _concrete_strategy(self.strategy)
        object.__setattr__(self, "strategy", strategy)
        check_weights_left_at_one(terms, strategy)
        for term in terms:
            _check_concrete(term)

    @classmethod
    def declared(
        cls, terms: Any, weights: Mapping[str, Any] | None = None, strategy: Any = None
    ) -> LossConfig:
        """The configuration of declared `terms`, with `weights` replacing some terms' weights.

        Args:
            terms: The loss terms.
            weights: ``{term: number or Schedule}`` replacing the declared
                weights (a `Range` declared on a term needs one here).
            strategy: A concrete strategy or its name; None for ``"static"``.
        """
        declared = as_terms(terms)
        names = [t.name for t in declared]
        overrides = dict(weights or {})
        unknown = [name for name in overrides if name not in names]
        if unknown:
            raise v.invalid("weights", f"name only the terms {names}", overrides)
        for name, value in overrides.items():
            if not isinstance(value, Schedule):
                overrides[name] = v.check_non_negative(f"weights[{name!r}]", value)
        chosen = _concrete_strategy(strategy)
        check_weights_left_at_one(declared, chosen, overrides)
        replaced = [
            dataclasses.replace(t, weight=overrides[t.name]) if t.name in overrides else t for t in declared
        ]
        return cls(tuple(replaced), chosen)

    # -- what it holds ----------------------------------------------------
    @property
    def names(self) -> list[str]:
        """The term names, in order."""
        return [t.name for t in self.terms]

    @property
    def weights(self) -> dict[str, Weight]:
        """``{term: weight or Schedule}``; under a strategy that sets the weights itself, each 1."""
        return {t.name: t.weight for t in self.terms}  # type: ignore[misc]

    @property
    def switches(self) -> dict[str, Switch]:
        """``{term: Switch}`` of the terms whose loss switches."""
        return {t.name: t.switch for t in self.terms if t.switch is not None}

    @property
    def resolved(self) -> bool:
        """Whether every term names its output and target."""
        return all(t.output is not None and t.target is not None for t in self.terms)

    def resolve(self, output_names: Sequence[str]) -> LossConfig:
        """This configuration with each term's output and target filled in for a model.

        Raises:
            ConfigurationError: a term names an output the model lacks, or
                leaves it out although the model has several.
        """
        return dataclasses.replace(self, terms=tuple(t.resolve(list(output_names)) for t in self.terms))

    # -- how it reads -----------------------------------------------------
    def describe(self) -> dict[str, str]:
        """Readable ``{term: weight or schedule[; loss switch]}``.

        Example:
            >>> from tuneweights.terms import Term
            >>> LossConfig([Term("a", "mse", weight=2.0)]).describe()
            {'a': '2'}
        """
        described = {}
        for term in self.terms:
            weight = term.weight
            text = weight.describe() if isinstance(weight, Schedule) else f"{weight:g}"
            if term.switch is not None:
                text += f"; loss {term.switch.describe()}"
            described[term.name] = text
        return described

    def hparams(self) -> dict[str, float | str]:
        """The decoded weights as TensorBoard's HParams view shows them.

        Returns:
            ``{"weight/<term>": weight}`` for every term (a float for a
            constant weight, the description of a schedule), and
            ``{"strategy": description}`` under a strategy other than
            ``static``.
        """
        shown: dict[str, float | str] = {}
        for term, weight in self.weights.items():
            shown[f"weight/{term}"] = weight.describe() if isinstance(weight, Schedule) else float(weight)
        if self.strategy.name != "static":
            shown["strategy"] = self.strategy.describe()
        return shown

    def logged_names(self, validation: bool = True, extra: Iterable[str] = ()) -> list[str]:
        """Every name a `WeightedModel` of this configuration logs each epoch.

        Example:
            >>> from tuneweights.terms import Term
            >>> LossConfig([Term("a", "mse", metrics=["mae"]), Term("b", "mse")]).logged_names(False)
            ['loss', 'unweighted_loss', 'a_loss', 'a_weight', 'a_mae', 'b_loss', 'b_weight']
        """
        names = ["loss", logged.UNWEIGHTED_LOSS]
        for term in self.terms:
            names += [logged.loss_metric_name(term.name), logged.weight_metric_name(term.name)]
            names += [logged.term_metric_name(term.name, m) for m in term.metrics]
            if term.switch is not None:
                names.append(logged.switch_metric_name(term.name))
        names += list(extra)
        if validation:
            names += ["val_" + n for n in names]
        return names

    # -- saved form ---------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The JSON form: ``{"terms": [Term configs], "strategy": serialised strategy}``."""
        return {
            "terms": [t.get_config() for t in self.terms],
            "strategy": strategy_module.serialize(self.strategy),
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LossConfig:
        return cls(
            tuple(Term.from_config(t) for t in config["terms"]),
            strategy_module.get(config.get("strategy") or "static"),
        )


def _concrete_strategy(strategy: Any) -> strategy_module.Strategy:
    if isinstance(strategy, StrategySearch) or (isinstance(strategy, (list, tuple))):
        raise v.invalid(
            "strategy",
            "be one concrete strategy in a WeightedModel (a StrategySearch is decoded by the tuner; "
            f"{_BUILD_WEIGHTED})",
            strategy,
        )
    concrete = strategy_module.get(strategy) if strategy is not None else strategy_module.Static()
    if concrete.searched_fields():
        raise v.invalid(
            "strategy",
            f"have values for its searched fields {concrete.searched_fields()} in a WeightedModel "
            f"(the tuner chooses them; {_BUILD_WEIGHTED})",
            concrete,
        )
    return concrete


def _check_concrete(term: Term) -> None:
    if isinstance(term.weight, Range):
        raise v.invalid(
            f"terms[{term.name!r}].weight",
            "be a number or a Schedule in a WeightedModel (a Range is searched by the tuner: give its "
            f"value in `weights={{{term.name!r}: ...}}`, or {_BUILD_WEIGHTED})",
            term.weight,
        )
    if isinstance(term.weight, ScheduleSearch):
        raise v.invalid(
            f"terms[{term.name!r}].weight",
            "be a number or a Schedule in a WeightedModel (a ScheduleSearch is decoded by the tuner; "
            f"{_BUILD_WEIGHTED})",
            term.weight,
        )
    if term.switch is not None and term.switch.searched_fields():
        raise v.invalid(
            f"terms[{term.name!r}].loss",
            "have values for its searched fields in a WeightedModel (the tuner chooses them; "
            f"{_BUILD_WEIGHTED})",
            term.switch.searched_fields(),
        )
