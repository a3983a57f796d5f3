"""The strategy as a hyperparameter: a choice among candidate strategies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tuneweights import _validation as v
from tuneweights.strategies.base import Strategy, get, registered, serialize
from tuneweights.strategies.weights import Static

__all__ = ["StrategySearch", "as_strategy"]


class StrategySearch:
    """The strategy as a hyperparameter: a choice among candidate strategies.

    Registers ``strategy`` (an ``hp.Choice`` of the candidates' names) and,
    for each candidate, its searched fields as ``strategy/<name>/<field>``,
    active only when it is chosen. The terms' searched weights are active
    only under candidates that use them (``static``, ``scheduled``,
    ``separate``); under ``static`` a term with a `ScheduleSearch` weight has
    a constant weight searched over the schedule's ``start`` range, and its
    schedule is searched under ``scheduled``.

    Args:
        candidates: Strategies (instances or registered names), each name at
            most once.

    Example:
        >>> from tuneweights.strategies import Uncertainty
        >>> from tuneweights.ranges import Range
        >>> StrategySearch(["static", Uncertainty(learning_rate=Range(1e-3, 1e-1))]).names()
        ['static', 'uncertainty']
    """

    def __init__(
        self, candidates: Sequence[Any] = ("static", "uncertainty", "dwa", "random", "gradnorm")
    ) -> None:
        if isinstance(candidates, (str, Strategy)) or not isinstance(candidates, Sequence):
            raise v.wrong_type("candidates", "a list of strategies or strategy names", candidates)
        self.candidates = [get(c) for c in candidates]
        names = [c.name for c in self.candidates]
        if len(names) < 2 or len(set(names)) != len(names):
            raise v.invalid("candidates", "name at least two different strategies, each once", names)

    def names(self) -> list[str]:
        """The candidates' names, in order (the first is the default)."""
        return [c.name for c in self.candidates]

    def candidate(self, name: str) -> Strategy:
        """The candidate called `name`."""
        for c in self.candidates:
            if c.name == name:
                return c
        raise v.invalid("strategy", f"be one of {self.names()}", name)

    def get_config(self) -> dict[str, Any]:
        return {"candidates": [serialize(c) for c in self.candidates]}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StrategySearch:
        return cls(config["candidates"])

    def describe(self) -> str:
        return "searched among " + ", ".join(c.describe() for c in self.candidates)

    def __repr__(self) -> str:
        return f"StrategySearch({self.names()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StrategySearch) and self.get_config() == other.get_config()

    __hash__ = None  # type: ignore[assignment]


def as_strategy(value: Any) -> Strategy | StrategySearch:
    """A strategy or a `StrategySearch` from what a user passed (None: `Static`)."""
    if value is None:
        return Static()
    if isinstance(value, StrategySearch):
        return value
    if isinstance(value, dict) and set(value) == {"candidates"}:
        return StrategySearch.from_config(value)
    if isinstance(value, (list, tuple)):
        return StrategySearch(value)
    try:
        return get(value)
    except v.ConfigurationError as error:
        raise v.invalid(
            "strategy",
            f"be a registered strategy name {sorted(registered())}, a `tuneweights.strategies.Strategy`, "
            "a `StrategySearch` or a list of candidates",
            value,
        ) from error
