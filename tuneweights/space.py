"""How loss weights, schedules and switches become flat scalar hyperparameters, and back.

Only flat scalars survive keras-tuner's JSON files and its gRPC messages, so
every searched quantity is one hyperparameter with a stable name:

* ``weighting="ratio"`` (default): with Adam-like optimizers only the ratios
  of the weights matter, so K weights are searched as K-1 ratios
  ``w_k / w_ref`` against a reference term, each named ``ratio/<term>``. The
  reference keeps its declared weight, a number or a fixed schedule (1.0 when
  it was declared with a `Range`); searched ratios and schedules are scaled
  by a numeric reference weight.
* ``weighting="absolute"``: every term declared with a `Range` is searched
  on its own, named ``weight/<term>``.
* A `ScheduleSearch` becomes ``schedule/<term>/family`` (a choice) and the
  parameters of the chosen family: ``start``, ``at``, ``floor`` (``"zero"``
  or ``"positive"``), ``floor_value``, ``cycles`` and ``ratio``, each
  registered in a conditional scope so that it is active only for the
  families that use it (keras-tuner encodes inactive ones by their default,
  consistently for the Bayesian oracle).
* A searched switch field becomes ``switch/<term>/<field>``.
* A strategy's searched field becomes ``strategy/<name>/<field>``. With a
  `tuneweights.strategies.StrategySearch`, ``strategy`` is a choice among
  the candidates' names; each candidate's fields, and the terms' weights
  under the candidates that use them, are conditional on it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import keras_tuner as kt

from tuneweights import _validation as v
from tuneweights import schedules as S
from tuneweights import strategies as strategy_module
from tuneweights import switches as switch_module
from tuneweights.loss_config import LossConfig, check_weights_left_at_one
from tuneweights.ranges import DECAYING_FAMILIES, TIMED_FAMILIES, Range, ScheduleSearch
from tuneweights.strategies import SeparateOptimizers, StrategySearch
from tuneweights.terms import Term

WEIGHTINGS = ("ratio", "absolute")
RATIO_PREFIX = "ratio/"
WEIGHT_PREFIX = "weight/"
SCHEDULE_PREFIX = "schedule/"
SWITCH_PREFIX = "switch/"
STRATEGY = "strategy"
SIGMOID_WIDTH = 0.05


class WeightSpace:
    """The searched part of a set of loss terms.

    Args:
        terms: The loss terms.
        weighting: ``"ratio"`` or ``"absolute"`` (see module docstring).
        reference: Name of the reference term for ``"ratio"``. Defaults to the
            first term with a constant fixed weight, else the first with a
            `Range`, else the first term.
        strategy: How the weights are set while training: a strategy (or
            its name), a `StrategySearch`, or None for `Static`.

    Example:
        >>> space = WeightSpace([Term("a", "mse"), Term("b", "mae", weight=Range(0.1, 10))])
        >>> space.hp_names()
        ['ratio/b']
        >>> space.decode({"ratio/b": 4.0}).weights
        {'a': 1.0, 'b': 4.0}
    """

    def __init__(
        self,
        terms: list[Term],
        weighting: str = "ratio",
        reference: str | None = None,
        strategy: Any = None,
    ) -> None:
        self.terms = list(terms)
        self.strategy = strategy_module.as_strategy(strategy)
        self.weighting = v.check_choice("weighting", weighting, WEIGHTINGS)
        if not self.terms:
            raise v.invalid("terms", "declare at least one loss term", self.terms)
        names = [t.name for t in self.terms]
        if reference is not None and self.weighting != "ratio":
            raise v.invalid("reference", "be left out unless weighting='ratio'", reference)
        if reference is not None and reference not in names:
            raise v.invalid("reference", f"name one of the terms {names}", reference)
        if any(t.weight_searched for t in self.terms) and len(self.terms) == 1:
            raise v.invalid(
                f"terms[{names[0]!r}].weight",
                "be a fixed number when the model has a single loss term "
                "(there is nothing to weigh it against; tune the learning rate instead)",
                self.terms[0].weight,
            )
        self.reference: str | None = None
        if self.weighting == "ratio":
            constant = [t.name for t in self.terms if isinstance(t.weight, float)]
            ranged = [t.name for t in self.terms if isinstance(t.weight, Range)]
            self.reference = reference or (constant or ranged or names)[0]
            ref = self._term(self.reference)
            searched = any(t.weight_searched for t in self.terms)
            if searched and not isinstance(ref.weight, (float, Range)):
                raise v.invalid(
                    f"terms[{ref.name!r}].weight",
                    "be a number or a Range for the reference term of weighting='ratio' "
                    "(choose another `reference`, or weighting='absolute')",
                    ref.weight,
                )
            if ref.weight == 0:
                raise v.invalid(
                    f"terms[{ref.name!r}].weight", "be > 0 for the reference term of weighting='ratio'", 0.0
                )

        check_weights_left_at_one(self.terms, self.strategy)
        if isinstance(self.strategy, SeparateOptimizers):
            self._check_scale_invariance(self.strategy)
        if isinstance(self.strategy, StrategySearch) and "scheduled" in self.strategy.names():
            if not any(isinstance(t.weight, ScheduleSearch) for t in self.terms):
                raise v.invalid(
                    "strategy",
                    "offer 'scheduled' only when a term's weight is a `ScheduleSearch` (the "
                    "schedules it would search)",
                    self.strategy.names(),
                )

    def _term(self, name: str) -> Term:
        return next(t for t in self.terms if t.name == name)

    def _check_scale_invariance(self, strategy: SeparateOptimizers) -> None:
        """Refuse a searched constant weight on a term whose own optimizer ignores its scale."""
        invariant = strategy.scale_invariant([t.name for t in self.terms])
        for term in self.searched:
            if isinstance(term.weight, Range) and term.name in invariant:
                raise v.invalid(
                    f"terms[{term.name!r}].weight",
                    f"be fixed under strategy 'separate' when the term's optimizer is "
                    f"{invariant[term.name]!r}: that optimizer divides each step by a running scale of "
                    "the gradient, so a constant weight on the term's own gradient changes nothing",
                    term.weight,
                    hint="Search the term's learning rate instead, the knob that acts: "
                    f"SeparateOptimizers(terms={{{term.name!r}: {{'learning_rate': tw.Range(...)}}}}); "
                    "or give the term an optimizer such as 'sgd', under which its weight scales its steps",
                )

    @property
    def searched(self) -> list[Term]:
        """Terms with a searched weight or schedule of their own (not the reference)."""
        return [t for t in self.terms if t.weight_searched and t.name != self.reference]

    @property
    def switched(self) -> list[Term]:
        """Terms whose loss switch has searched fields."""
        return [t for t in self.terms if t.switch is not None and t.switch.searched_fields()]

    def hp_name(self, term: str) -> str:
        """The hyperparameter name of a term's searched constant weight."""
        prefix = RATIO_PREFIX if self.weighting == "ratio" else WEIGHT_PREFIX
        return prefix + term

    def hp_names(self) -> list[str]:
        """All hyperparameter names this space registers, in term order."""
        hp = kt.HyperParameters()
        self.declare(hp)
        return [p.name for p in hp.space]

    # -- declaring ----------------------------------------------------------
    def declare(self, hp: kt.HyperParameters) -> None:
        """Register the hyperparameters in `hp` (idempotent)."""
        names = [t.name for t in self.terms]
        if isinstance(self.strategy, StrategySearch):
            search = self.strategy
            hp.Choice(STRATEGY, search.names(), default=search.names()[0])
            for candidate in search.candidates:
                if candidate.searched_fields():
                    with hp.conditional_scope(STRATEGY, [candidate.name]):
                        candidate.declare(hp, names)
            users = [c.name for c in search.candidates if c.uses_term_weights]
            scheduled = [n for n in users if n != "static"]
            for term in self.searched:
                if isinstance(term.weight, Range) and users:
                    with hp.conditional_scope(STRATEGY, users):
                        _float(hp, self.hp_name(term.name), term.weight)
                elif isinstance(term.weight, ScheduleSearch):
                    if "static" in users:
                        with hp.conditional_scope(STRATEGY, ["static"]):
                            _float(hp, self.hp_name(term.name), term.weight.start)
                    if scheduled:
                        with hp.conditional_scope(STRATEGY, scheduled):
                            _declare_schedule(hp, f"{SCHEDULE_PREFIX}{term.name}/", term.weight)
        else:
            if self.strategy.searched_fields():
                self.strategy.declare(hp, names)
            for term in self.searched if self.strategy.uses_term_weights else []:
                if isinstance(term.weight, Range):
                    _float(hp, self.hp_name(term.name), term.weight)
                else:
                    assert isinstance(term.weight, ScheduleSearch)
                    _declare_schedule(hp, f"{SCHEDULE_PREFIX}{term.name}/", term.weight)
        for term in self.switched:
            assert term.switch is not None
            for field in term.switch.searched_fields():
                _float(hp, f"{SWITCH_PREFIX}{term.name}/{field}", getattr(term.switch, field))

    # -- decoding -----------------------------------------------------------
    def _reference_scale(self) -> float:
        """The factor of searched ratios: the reference term's fixed weight (1 for a Range)."""
        if self.reference is None:
            return 1.0
        weight = self._term(self.reference).weight
        return weight if isinstance(weight, float) else 1.0

    def decode(self, values: Mapping[str, Any] | kt.HyperParameters) -> LossConfig:
        """The trial's loss that hyperparameter values stand for (defaults where a value is absent).

        Under weighting ``"ratio"`` a searched ratio multiplies the reference
        term's weight; the reference keeps its own weight (a number or a
        schedule; 1 when it was declared with a `Range`). Under a strategy
        that sets the weights itself every weight is 1 (its starting point).

        Example:
            >>> space = WeightSpace([Term("a", "mse", weight=2.0), Term("b", "mae", weight=Range(0.1, 10))])
            >>> space.decode({"ratio/b": 4.0}).weights
            {'a': 2.0, 'b': 8.0}
        """
        values = values.values if isinstance(values, kt.HyperParameters) else values
        names = [t.name for t in self.terms]
        if isinstance(self.strategy, StrategySearch):
            chosen = self.strategy.candidate(str(values.get(STRATEGY, self.strategy.names()[0])))
            strategy = chosen.decode(values, names)
        else:
            strategy = self.strategy.decode(values, names)
        constant_only = isinstance(self.strategy, StrategySearch) and strategy.name == "static"
        scale = self._reference_scale() if self.weighting == "ratio" else 1.0
        terms = []
        for term in self.terms:
            weight: Any = term.weight
            if not strategy.uses_term_weights:
                weight = 1.0
            elif term.name == self.reference and isinstance(weight, Range):
                weight = 1.0
            elif term.name == self.reference:
                pass  # a number or a schedule, used as declared
            elif isinstance(weight, Range):
                weight = float(values.get(self.hp_name(term.name), weight.default_value())) * scale
            elif isinstance(weight, ScheduleSearch) and constant_only:
                weight = float(values.get(self.hp_name(term.name), weight.start.default_value())) * scale
            elif isinstance(weight, ScheduleSearch):
                schedule = _decode_schedule(values, f"{SCHEDULE_PREFIX}{term.name}/", weight)
                weight = S.scaled(schedule, scale)
            loss = term.loss
            if term.switch is not None and term.switch.searched_fields():
                chosen_values = {
                    field: float(
                        values.get(
                            f"{SWITCH_PREFIX}{term.name}/{field}", getattr(term.switch, field).default_value()
                        )
                    )
                    for field in term.switch.searched_fields()
                }
                loss = term.switch.with_values(chosen_values)
            terms.append(dataclasses.replace(term, weight=weight, loss=loss))
        return LossConfig(tuple(terms), strategy)

    # -- state ----------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable description of what a trial's results depend on.

        Used to detect a changed space on resume: names, outputs, targets,
        losses, weights and update of the terms, the weighting and the
        reference. The terms' metrics are left out (adding one does not change
        the results).
        """
        terms = []
        for term in self.terms:
            config = term.get_config()
            config.pop("metrics")
            terms.append(config)
        config = {"weighting": self.weighting, "reference": self.reference, "terms": terms}
        if not isinstance(self.strategy, strategy_module.Static):
            strategy = self.strategy
            config["strategy"] = (
                strategy.get_config()
                if isinstance(strategy, StrategySearch)
                else strategy_module.serialize(strategy)
            )
        return config

    def describe(self) -> str:
        """One line per term: how its weight is obtained."""
        lines = []
        ref_weight = self._reference_scale()
        for term in self.terms:
            weight = term.weight
            if term.name == self.reference and isinstance(weight, S.Schedule):
                how = f"reference, fixed schedule: {weight.describe()}"
            elif term.name == self.reference:
                how = f"reference, weight {ref_weight:g}"
            elif isinstance(weight, Range):
                kind = f"ratio to {self.reference}" if self.weighting == "ratio" else "weight"
                how = (
                    f"searched {kind} in [{weight.low:g}, {weight.high:g}] "
                    f"({weight.sampling}) as `{self.hp_name(term.name)}`"
                )
            elif isinstance(weight, ScheduleSearch):
                how = f"searched schedule among {list(weight.families)} as `{SCHEDULE_PREFIX}{term.name}/...`"
            elif isinstance(weight, S.Schedule):
                how = f"fixed schedule: {weight.describe()}"
            else:
                how = f"fixed weight {weight:g}"
            if term.switch is not None:
                how += f"; loss {term.switch.describe()}"
            lines.append(f"{term.name}: {how}")
        if not isinstance(self.strategy, strategy_module.Static):
            lines.append(f"strategy: {self.strategy.describe()}")
        return "\n".join(lines)


def saved_form(config: Mapping[str, Any]) -> dict[str, Any]:
    """A space's config (`WeightSpace.get_config`) in the form it is saved in today.

    The config goes through JSON (tuples become lists, as in a saved file),
    and the switches, schedules and strategies in it get the defaults of the
    parameters added since it was saved. Two declarations are the same when
    their saved forms are equal.

    Example:
        >>> old = {"terms": [{"name": "a", "loss": {"switch": {"name": "state", "threshold": 0.5}}}]}
        >>> saved_form(old)["terms"][0]["loss"]["switch"]["quantity"]
        'mae'
    """
    form: dict[str, Any] = json.loads(json.dumps(config))
    for term in form.get("terms", []):
        loss, weight = term.get("loss"), term.get("weight")
        if isinstance(loss, dict) and set(loss) == {"switch"} and isinstance(loss["switch"], dict):
            term["loss"] = {"switch": switch_module.complete(loss["switch"])}
        if isinstance(weight, dict) and set(weight) == {"schedule"} and isinstance(weight["schedule"], dict):
            term["weight"] = {"schedule": S.complete(weight["schedule"])}
    strategy = form.get("strategy")
    if isinstance(strategy, dict) and isinstance(strategy.get("candidates"), list):
        strategy["candidates"] = [strategy_module.complete(c) for c in strategy["candidates"]]
    elif isinstance(strategy, dict):
        form["strategy"] = strategy_module.complete(strategy)
    return form


def differences(saved: Any, current: Any, path: str = "") -> list[str]:
    """Where two saved forms differ, one line per place (``path: saved ..., declared ...``).

    Example:
        >>> differences({"terms": [{"weight": 1.0}]}, {"terms": [{"weight": 2.0}]})
        ['terms[0].weight: saved 1.0, declared 2.0']
    """
    if isinstance(saved, dict) and isinstance(current, dict):
        out = []
        for key in sorted(set(saved) | set(current), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in saved:
                out.append(f"{where}: not saved, declared {json.dumps(current[key])}")
            elif key not in current:
                out.append(f"{where}: saved {json.dumps(saved[key])}, not declared")
            else:
                out += differences(saved[key], current[key], where)
        return out
    if isinstance(saved, list) and isinstance(current, list) and len(saved) == len(current):
        return [
            line
            for i, (a, b) in enumerate(zip(saved, current, strict=True))
            for line in differences(a, b, f"{path}[{i}]")
        ]
    if saved != current:
        return [f"{path}: saved {json.dumps(saved)}, declared {json.dumps(current)}"]
    return []


def _float(hp: kt.HyperParameters, name: str, rng: Range) -> Any:
    return hp.Float(name, rng.low, rng.high, sampling=rng.sampling, default=rng.default_value())


def _floor_kinds(search: ScheduleSearch) -> list[str]:
    return (["zero"] if search.zero_floor else []) + (["positive"] if search.floor is not None else [])


def _declare_schedule(hp: kt.HyperParameters, prefix: str, search: ScheduleSearch) -> None:
    families = list(search.families)
    hp.Choice(prefix + "family", families, default=families[0])
    _float(hp, prefix + "start", search.start)
    timed = [f for f in families if f in TIMED_FAMILIES]
    if timed:
        with hp.conditional_scope(prefix + "family", timed):
            _float(hp, prefix + "at", search.at)
    decaying = [f for f in families if f in DECAYING_FAMILIES]
    if decaying:
        kinds = _floor_kinds(search)
        with hp.conditional_scope(prefix + "family", decaying):
            if len(kinds) == 2:
                hp.Choice(prefix + "floor", kinds, default=kinds[0])
                with hp.conditional_scope(prefix + "floor", ["positive"]):
                    _float(hp, prefix + "floor_value", search.floor)  # type: ignore[arg-type]
            elif kinds == ["positive"]:
                _float(hp, prefix + "floor_value", search.floor)  # type: ignore[arg-type]
    if "cyclical" in families:
        with hp.conditional_scope(prefix + "family", ["cyclical"]):
            low, high = search.cycles
            hp.Int(prefix + "cycles", low, high, default=low)
            _float(hp, prefix + "ratio", search.ratio)


def _decode_schedule(values: Mapping[str, Any], prefix: str, search: ScheduleSearch) -> S.Schedule:
    """The schedule that hyperparameter values stand for (defaults where absent).

    Example:
        >>> values = {"s/family": "step", "s/start": 3.0, "s/at": 0.25, "s/floor": "zero"}
        >>> _decode_schedule(values, "s/", ScheduleSearch())
        Step(start=3.0, end=0.0, at=0.25, unit='fraction')
    """
    family = values.get(prefix + "family", search.families[0])
    start = float(values.get(prefix + "start", search.start.default_value()))
    at = float(values.get(prefix + "at", search.at.default_value()))
    floor = 0.0
    if family in DECAYING_FAMILIES:
        kind = values.get(prefix + "floor", _floor_kinds(search)[0])
        if kind == "positive":
            assert search.floor is not None
            floor = float(values.get(prefix + "floor_value", search.floor.default_value()))
    if family == "constant":
        return S.Constant(weight=start)
    if family == "step":
        return S.Step(start=start, end=floor, at=at)
    if family == "linear":
        return S.Linear(start=start, end=floor, begin=0.0, stop=at)
    if family == "cosine":
        return S.Cosine(start=start, end=floor, begin=0.0, stop=at)
    if family == "sigmoid":
        return S.Sigmoid(start=start, end=floor, at=at, width=SIGMOID_WIDTH)
    if family == "warmup":
        return S.Warmup(weight=start, length=at, start=0.0)
    cycles = int(values.get(prefix + "cycles", search.cycles[0]))
    ratio = float(values.get(prefix + "ratio", search.ratio.default_value()))
    return S.Cyclical(weight=start, cycles=cycles, ratio=ratio, start=0.0)
