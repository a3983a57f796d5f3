"""tuneweights: search the loss weights of multi-loss Keras models with Keras Tuner."""

from tuneweights import pruners, schedules, strategies, switches
from tuneweights._validation import ConfigurationError, ConfigurationTypeError
from tuneweights.callbacks import EpochReporter, report_epoch
from tuneweights.hypermodel import WeightedHyperModel
from tuneweights.oracle import WeightOracle
from tuneweights.pruners import MedianStopping, PercentilePruner, Pruner, SuccessiveHalving
from tuneweights.reporting import report
from tuneweights.schedules import Schedule
from tuneweights.space import WeightSpace
from tuneweights.strategies import (
    DWA,
    GradNorm,
    RandomWeights,
    SeparateOptimizers,
    Strategy,
    StrategySearch,
    Uncertainty,
    ValidationDriven,
)
from tuneweights.switches import Switch, SwitchAt, SwitchOnMetric, SwitchOnState
from tuneweights.terms import Range, ScheduleSearch, Term
from tuneweights.tuner import BayesianOptimization, GridSearch, Hyperband, RandomSearch, Tuner
from tuneweights.weighted_model import WeightedModel

__version__ = "0.1.0"

__all__ = [
    "strategies",
    "ValidationDriven",
    "Uncertainty",
    "StrategySearch",
    "Strategy",
    "SeparateOptimizers",
    "RandomWeights",
    "GradNorm",
    "DWA",
    "BayesianOptimization",
    "ConfigurationError",
    "ConfigurationTypeError",
    "EpochReporter",
    "GridSearch",
    "MedianStopping",
    "PercentilePruner",
    "Pruner",
    "Hyperband",
    "RandomSearch",
    "Range",
    "Schedule",
    "ScheduleSearch",
    "Switch",
    "SuccessiveHalving",
    "SwitchAt",
    "SwitchOnMetric",
    "SwitchOnState",
    "Term",
    "Tuner",
    "WeightOracle",
    "WeightSpace",
    "WeightedHyperModel",
    "WeightedModel",
    "__version__",
    "pruners",
    "report",
    "report_epoch",
    "schedules",
    "switches",
]
