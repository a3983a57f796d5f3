"""How loss weights become flat scalar hyperparameters, and back.

Only flat scalars survive keras-tuner's JSON files and its gRPC messages, so
every searched weight is one `hp.Float` with a stable name:

* ``weighting="ratio"`` (default): with Adam-like optimizers only the ratios
  of the weights matter, so K weights are searched as K-1 ratios
  ``w_k / w_ref`` against a reference term, each named ``ratio/<term>``. The
  reference keeps its fixed weight (1.0 when it was declared with a `Range`).
* ``weighting="absolute"``: every term declared with a `Range` is searched
  on its own, named ``weight/<term>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras_tuner as kt

from tuneweights import _validation as v
from tuneweights.terms import Range, Term

WEIGHTINGS = ("ratio", "absolute")
RATIO_PREFIX = "ratio/"
WEIGHT_PREFIX = "weight/"


class WeightSpace:
    """The searched part of a set of loss terms.

    Args:
        terms: The loss terms.
        weighting: ``"ratio"`` or ``"absolute"`` (see module docstring).
        reference: Name of the reference term for ``"ratio"``. Defaults to the
            first term with a fixed weight, else the first term.

    Example:
        >>> space = WeightSpace([Term("a", "mse"), Term("b", "mae", weight=Range(0.1, 10))])
        >>> space.hp_names()
        ['ratio/b']
        >>> space.weights({"ratio/b": 4.0})
        {'a': 1.0, 'b': 4.0}
    """

    def __init__(
        self,
        terms: list[Term],
        weighting: str = "ratio",
        reference: str | None = None,
    ) -> None:
        self.terms = list(terms)
        self.weighting = v.check_choice("weighting", weighting, WEIGHTINGS)
        if not self.terms:
            raise v.invalid("terms", "declare at least one loss term", self.terms)
        names = [t.name for t in self.terms]
        if reference is not None and self.weighting != "ratio":
            raise v.invalid("reference", "be left out unless weighting='ratio'", reference)
        if reference is not None and reference not in names:
            raise v.invalid("reference", f"name one of the terms {names}", reference)
        if any(t.searched for t in self.terms) and len(self.terms) == 1:
            raise v.invalid(
                f"terms[{names[0]!r}].weight",
                "be a fixed number when the model has a single loss term "
                "(there is nothing to weigh it against; tune the learning rate instead)",
                self.terms[0].weight,
            )
        self.reference: str | None = None
        if self.weighting == "ratio":
            fixed = [t.name for t in self.terms if not t.searched]
            self.reference = reference or (fixed[0] if fixed else names[0])
            ref = self._term(self.reference)
            if not ref.searched and ref.weight == 0:
                raise v.invalid(
                    f"terms[{ref.name!r}].weight",
                    "be > 0 for the reference term of `weighting='ratio'`",
                    ref.weight,
                )

    def _term(self, name: str) -> Term:
        return next(t for t in self.terms if t.name == name)

    @property
    def searched(self) -> list[Term]:
        """Terms whose weight has a hyperparameter of its own."""
        return [t for t in self.terms if t.searched and t.name != self.reference]

    def hp_name(self, term: str) -> str:
        """The hyperparameter name of a searched term."""
        prefix = RATIO_PREFIX if self.weighting == "ratio" else WEIGHT_PREFIX
        return prefix + term

    def hp_names(self) -> list[str]:
        """Hyperparameter names, in term order."""
        return [self.hp_name(t.name) for t in self.searched]

    def declare(self, hp: kt.HyperParameters) -> None:
        """Register the weight hyperparameters in `hp` (idempotent)."""
        for term in self.searched:
            assert isinstance(term.weight, Range)
            hp.Float(
                self.hp_name(term.name),
                min_value=term.weight.low,
                max_value=term.weight.high,
                sampling=term.weight.sampling,
                default=term.weight.default_value(),
            )

    def weights(self, values: Mapping[str, Any] | kt.HyperParameters) -> dict[str, float]:
        """Decode hyperparameter values into ``{term: weight}``."""
        if isinstance(values, kt.HyperParameters):
            values = values.values
        ref_weight = 1.0
        if self.reference is not None:
            ref = self._term(self.reference)
            ref_weight = 1.0 if ref.searched else float(ref.weight)  # type: ignore[arg-type]
        decoded: dict[str, float] = {}
        for term in self.terms:
            if not term.searched:
                decoded[term.name] = float(term.weight)  # type: ignore[arg-type]
            elif term.name == self.reference:
                decoded[term.name] = ref_weight
            else:
                assert isinstance(term.weight, Range)
                value = float(values.get(self.hp_name(term.name), term.weight.default_value()))
                decoded[term.name] = value * ref_weight if self.weighting == "ratio" else value
        return decoded

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable description of what a trial's results depend on.

        Used to detect a changed space on resume: names, outputs, targets,
        losses and weights of the terms, the weighting and the reference. The
        terms' metrics are left out (adding one does not change the results).
        """
        terms = []
        for term in self.terms:
            config = term.get_config()
            config.pop("metrics")
            terms.append(config)
        return {"weighting": self.weighting, "reference": self.reference, "terms": terms}

    def describe(self) -> str:
        """One line per term: how its weight is obtained."""
        lines = []
        for term in self.terms:
            if term.name == self.reference:
                how = f"reference, weight {self.weights({})[term.name]:g}"
            elif term.searched:
                assert isinstance(term.weight, Range)
                kind = "ratio to " + str(self.reference) if self.weighting == "ratio" else "weight"
                how = (
                    f"searched {kind} in [{term.weight.low:g}, {term.weight.high:g}] "
                    f"({term.weight.sampling}) as `{self.hp_name(term.name)}`"
                )
            else:
                how = f"fixed weight {term.weight:g}"
            lines.append(f"{term.name}: {how}")
        return "\n".join(lines)
