"""The four search strategies: keras-tuner's oracles behind a per-epoch reporting `Tuner`."""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner as kt

from tuneweights import _validation as v
from tuneweights.search import objectives as _objectives
from tuneweights.search import tuner_arguments
from tuneweights.search.tuner import Tuner, load_checkpoint

__all__ = ["BayesianOptimization", "GridSearch", "Hyperband", "RandomSearch"]


class RandomSearch(Tuner):
    """Random search over architecture and loss weights.

    Arguments are keras-tuner's `RandomSearch` arguments; `objective` must be
    an unweighted quantity (see `tuneweights.search.objectives`).
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        hyperparameters: kt.HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        options = tuner_arguments.oracle_options(
            hyperparameters,
            tune_new_entries,
            allow_new_entries,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )
        oracle = kt.oracles.RandomSearchOracle(
            objective=_objectives.of_hypermodel(objective, hypermodel),
            max_trials=v.check_int("max_trials", max_trials, 1),
            seed=_seed(seed),
            **options,
        )
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)


class GridSearch(Tuner):
    """keras-tuner's grid search over architecture and loss weights.

    A weight `Range` has no step, so keras-tuner takes 10 values evenly spaced
    in its sampling scale (log or linear); the first trial uses the defaults.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: kt.HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        options = tuner_arguments.oracle_options(
            hyperparameters,
            tune_new_entries,
            allow_new_entries,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )
        oracle = kt.oracles.GridSearchOracle(
            objective=_objectives.of_hypermodel(objective, hypermodel),
            max_trials=None if max_trials is None else v.check_int("max_trials", max_trials, 1),
            seed=_seed(seed),
            **options,
        )
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)


class BayesianOptimization(Tuner):
    """Gaussian-process Bayesian optimisation over architecture and loss weights.

    The weight hyperparameters are in the space from the first trial.
    Diverged trials (inf or nan objective) count as the worst score seen,
    never as 0. `beta`, the weight of the Gaussian process's uncertainty in
    the acquisition (mean - beta * std), defaults to 1.0, not keras-tuner's
    2.6, which spent about half of a 30-trial weight search at the bounds
    of the ranges (`benchmarks/README.md`, `search_quality.py`).
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 1.0,
        seed: int | None = None,
        hyperparameters: kt.HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        if num_initial_points is not None:
            v.check_int("num_initial_points", num_initial_points, 1)
        options = tuner_arguments.oracle_options(
            hyperparameters,
            tune_new_entries,
            allow_new_entries,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )
        oracle = kt.oracles.BayesianOptimizationOracle(
            objective=_objectives.of_hypermodel(objective, hypermodel),
            max_trials=v.check_int("max_trials", max_trials, 1),
            num_initial_points=num_initial_points,
            alpha=v.check_positive("alpha", alpha),
            beta=v.check_positive("beta", beta),
            seed=_seed(seed),
            **options,
        )
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)


class Hyperband(Tuner):
    """Hyperband over architecture and loss weights.

    keras-tuner's semantics are kept: ``tuner/epochs`` and
    ``tuner/initial_epoch`` set the epochs of each round, a promoted trial
    starts from its parent's best checkpoint, and epoch indices (hence the
    steps reported to the oracle) are absolute.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: kt.HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        v.check_int("factor", factor, 2)
        options = tuner_arguments.oracle_options(
            hyperparameters,
            tune_new_entries,
            allow_new_entries,
            max_retries_per_trial,
            max_consecutive_failed_trials,
        )
        oracle = kt.oracles.HyperbandOracle(
            objective=_objectives.of_hypermodel(objective, hypermodel),
            max_epochs=v.check_int("max_epochs", max_epochs, 1),
            factor=factor,
            hyperband_iterations=v.check_int("hyperband_iterations", hyperband_iterations, 1),
            seed=_seed(seed),
            **options,
        )
        self._max_epochs = max_epochs
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)

    def _horizon(self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> int:
        # Every round of a bracket shares one horizon, so that the weight at
        # an epoch is the same whether a trial ran from 0 or was promoted.
        return self._max_epochs

    def run_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> list[Any]:
        hp = trial.hyperparameters
        if "tuner/epochs" in hp.values:
            fit_kwargs["epochs"] = hp.values["tuner/epochs"]
            fit_kwargs["initial_epoch"] = hp.values["tuner/initial_epoch"]
        return super().run_trial(trial, *fit_args, **fit_kwargs)

    def _build_hypermodel(self, hp: kt.HyperParameters) -> keras.Model:
        model = super()._build_hypermodel(hp)
        if "tuner/trial_id" in hp.values:
            parent = hp.values["tuner/trial_id"]
            load_checkpoint(model, self._get_checkpoint_fname(parent), self._get_build_config_fname(parent))
        return model


def _seed(seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise v.wrong_type("seed", "an int or None", seed)
    return seed
