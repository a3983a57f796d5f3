"""tuneweights: search the loss weights of multi-loss Keras models with Keras Tuner."""

from tuneweights import schedules, switches
from tuneweights._validation import ConfigurationError, ConfigurationTypeError
from tuneweights.callbacks import EpochReporter, report_epoch
from tuneweights.hypermodel import WeightedHyperModel
from tuneweights.oracle import WeightOracle
from tuneweights.schedules import Schedule
from tuneweights.space import WeightSpace
from tuneweights.switches import Switch, SwitchAt, SwitchOnMetric, SwitchOnState
from tuneweights.terms import Range, ScheduleSearch, Term
from tuneweights.tuner import BayesianOptimization, GridSearch, Hyperband, RandomSearch, Tuner
from tuneweights.weighted_model import WeightedModel

__version__ = "0.1.0"

__all__ = [
    "BayesianOptimization",
    "ConfigurationError",
    "ConfigurationTypeError",
    "EpochReporter",
    "GridSearch",
    "Hyperband",
    "RandomSearch",
    "Range",
    "Schedule",
    "ScheduleSearch",
    "Switch",
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
    "report_epoch",
    "schedules",
    "switches",
]
