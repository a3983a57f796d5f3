"""`WeightedHyperModel`: a keras-tuner HyperModel whose loss weights are searched."""

from __future__ import annotations

from typing import Any, ClassVar

import keras
import keras_tuner as kt

from tuneweights import _validation as v
from tuneweights.loss_config import LossConfig
from tuneweights.schedules import Schedule
from tuneweights.space import WeightSpace
from tuneweights.strategies import StrategySearch
from tuneweights.terms import Term, as_terms
from tuneweights.training import WeightedModel, compile_weighted, output_names


class WeightedHyperModel(kt.HyperModel):
    """Subclass it, declare the loss terms and implement `build(hp)`.

    `build(hp)` returns a functional or Sequential Keras model whose outputs
    are named (a dict of outputs, or the output layers' names). It may compile
    the model to choose the optimizer (``model.compile(optimizer=...)``) but
    declares no loss or metrics there: those belong to the terms.

    Args:
        terms: The loss terms: a list of `Term`, or a dict mapping each output
            to a loss, a `Term` or a list of terms. Defaults to the class
            attribute `terms`.
        weighting: ``"ratio"`` (default) searches K-1 ratios against a
            reference term; ``"absolute"`` searches each declared `Range` on
            its own. See `tuneweights.space`.
        reference: The reference term for ``"ratio"``; defaults to the first
            term with a constant fixed weight, else the first with a `Range`,
            else the first term.
        strategy: How the weights are set while training (see
            `tuneweights.strategies`): a strategy or its name, a
            `StrategySearch` (the strategy is a hyperparameter), or a list of
            candidates (a `StrategySearch` of them). Defaults to the class
            attribute `strategy`, else ``"static"`` (the terms' weights).
        name: keras-tuner's HyperModel name.
        tunable: keras-tuner's HyperModel flag.

    Attributes:
        logged_metrics: Extra names that your callbacks or your own `fit`
            add to the epoch logs, so that they may be used as objectives.

    Example:
        >>> from tuneweights import Range
        >>> class Model(WeightedHyperModel):
        ...     terms = [Term("main", "mse", output="y"),
        ...              Term("aux", "mae", output="y", weight=Range(0.01, 100))]
        ...     def build(self, hp):
        ...         inputs = keras.Input((4,))
        ...         units = hp.Int("units", 4, 16)
        ...         hidden = keras.layers.Dense(units)(inputs)
        ...         return keras.Model(inputs, keras.layers.Dense(1, name="y")(hidden))
        >>> Model().weights_of(kt.HyperParameters())
        {'main': 1.0, 'aux': 1.0}
        >>> Model().decode(kt.HyperParameters()).describe()
        {'main': '1', 'aux': '1'}
    """

    terms: ClassVar[Any] = None
    strategy: ClassVar[Any] = None
    logged_metrics: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        terms: Any = None,
        *,
        weighting: str = "ratio",
        reference: str | None = None,
        strategy: Any = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        declared = terms if terms is not None else type(self).terms
        if declared is None:
            raise v.invalid(
                "terms",
                "be declared, as the `terms` argument or a `terms` class attribute",
                None,
            )
        self.terms: list[Term] = as_terms(declared)  # type: ignore[misc]
        chosen = strategy if strategy is not None else type(self).strategy
        self.space = WeightSpace(self.terms, weighting=weighting, reference=reference, strategy=chosen)

    @property
    def weights_searched(self) -> bool:
        """Whether any weight or schedule is a hyperparameter."""
        return bool(self.space.searched)

    @property
    def loss_searched(self) -> bool:
        """Whether the loss's weights vary between trials or epochs.

        True when weights, schedules, switches or the strategy are searched,
        or when the strategy sets the weights itself.
        """
        strategy = self.space.strategy
        varies = isinstance(strategy, StrategySearch) or (
            not strategy.uses_term_weights or bool(strategy.searched_fields())
        )
        return bool(self.space.searched or self.space.switched or varies)

    def declare_hyperparameters(self, hp: kt.HyperParameters) -> None:
        """Register the weight hyperparameters (keras-tuner calls this first)."""
        self.space.declare(hp)

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        """Return the Keras model for `hp`. Subclasses must implement it."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `build(self, hp)` returning a "
            "Keras model with named outputs."
        )

    def decode(self, hp: kt.HyperParameters) -> LossConfig:
        """The trial's loss configuration that `hp` stands for (the weight hyperparameters declared first)."""
        self.space.declare(hp)
        return self.space.decode(hp)

    def weights_of(self, hp: kt.HyperParameters) -> dict[str, float | Schedule]:
        """The loss weights ``{term: weight or Schedule}`` that `hp` stands for."""
        return self.decode(hp).weights

    def prepare(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        optimizer: Any = None,
        config: LossConfig | None = None,
    ) -> WeightedModel:
        """Wrap the model from `build(hp)` into a compiled `WeightedModel`.

        Args:
            hp: The trial's hyperparameters.
            model: What `build(hp)` returned.
            optimizer: Replaces the optimizer `model` was compiled with.
            config: The trial's loss configuration, when the caller decoded
                it already (else it is decoded from `hp`).

        Raises:
            ConfigurationError: a term names a missing output, or an output
                has no term.
        """
        if isinstance(model, WeightedModel):
            raise v.invalid(
                "build(hp)",
                "return the plain Keras model; tuneweights wraps it in a WeightedModel "
                "with the trial's loss weights",
                model,
            )
        if not isinstance(model, keras.Model):
            raise v.wrong_type("build(hp)", "to return a `keras.Model`", model)
        names = output_names(model)
        resolved = (config if config is not None else self.decode(hp)).resolve(names)
        unused = [n for n in names if n not in {t.output for t in resolved.terms}]
        if unused:
            raise v.invalid(
                "terms",
                f"declare a loss term for every model output; outputs without one: {unused}",
                [t.name for t in self.terms],
            )
        return compile_weighted(model, resolved, optimizer=optimizer)

    def build_weighted(self, hp: kt.HyperParameters | None = None) -> WeightedModel:
        """`build(hp)` then `prepare`: a model ready for `fit` outside a tuner."""
        hp = hp if hp is not None else kt.HyperParameters()
        self.declare_hyperparameters(hp)
        return self.prepare(hp, self.build(hp))

    def fit(self, hp: kt.HyperParameters, model: WeightedModel, *args: Any, **kwargs: Any) -> Any:
        """Train `model` (a `WeightedModel`); by default plain `model.fit`.

        Override it for a custom loop, and report every epoch in one line
        with `tuneweights.report_epoch(callbacks, model, epoch, logs)`.
        """
        return model.fit(*args, **kwargs)

    def logged_names(self, validation: bool = True) -> list[str]:
        """The names logged each epoch (see `LossConfig.logged_names`)."""
        return self.decode(kt.HyperParameters()).logged_names(
            validation=validation, extra=self.logged_metrics
        )

    def has_custom_fit(self) -> bool:
        """Whether a subclass replaced `fit` (its logs cannot be predicted)."""
        return type(self).fit is not WeightedHyperModel.fit
