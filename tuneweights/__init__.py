"""tuneweights: search the loss weights of multi-loss Keras models with Keras Tuner.

keras-tuner's public names (`HyperModel`, `HyperParameters`, `Objective`,
`Oracle`, `oracles`, `errors`, `applications`, `synchronized`) are importable
from here too, so that ``import tuneweights as kt`` is the whole migration;
`tuners` holds tuneweights' tuners.
"""

from keras_tuner import (
    HyperModel,
    HyperParameters,
    Objective,
    Oracle,
    applications,
    errors,
    oracles,
    synchronized,
)

from tuneweights import pruners, schedules, strategies, switches
from tuneweights._state_files import DamagedStateFile
from tuneweights._validation import ConfigurationError, ConfigurationTypeError
from tuneweights.hypermodel import WeightedHyperModel
from tuneweights.loss_config import LossConfig
from tuneweights.pruners import MedianStopping, PercentilePruner, Pruner, SuccessiveHalving
from tuneweights.ranges import Range, ScheduleSearch
from tuneweights.reporting import report
from tuneweights.schedules import Schedule
from tuneweights.search import (
    BayesianOptimization,
    ChiefUnreachableError,
    EpochReporter,
    GridSearch,
    Hyperband,
    RandomSearch,
    Tuner,
    WeightOracle,
    report_epoch,
    tuners,
)
from tuneweights.space import WeightSpace
from tuneweights.strategies import (
    DWA,
    GradientStep,
    GradNorm,
    RandomWeights,
    SeparateOptimizers,
    Strategy,
    StrategySearch,
    Uncertainty,
    ValidationDriven,
)
from tuneweights.switches import Switch, SwitchAt, SwitchOnMetric, SwitchOnState
from tuneweights.terms import Term
from tuneweights.training import WeightedModel

__version__ = "0.2.0"

__all__ = [
    "HyperModel",
    "HyperParameters",
    "Objective",
    "Oracle",
    "applications",
    "errors",
    "oracles",
    "synchronized",
    "tuners",
    "strategies",
    "ValidationDriven",
    "Uncertainty",
    "StrategySearch",
    "Strategy",
    "SeparateOptimizers",
    "RandomWeights",
    "GradNorm",
    "GradientStep",
    "DWA",
    "BayesianOptimization",
    "ChiefUnreachableError",
    "ConfigurationError",
    "DamagedStateFile",
    "ConfigurationTypeError",
    "EpochReporter",
    "GridSearch",
    "LossConfig",
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
