"""tuneweights: search the loss weights of multi-loss Keras models with Keras Tuner."""

from tuneweights._validation import ConfigurationError, ConfigurationTypeError
from tuneweights.callbacks import EpochReporter, report_epoch
from tuneweights.hypermodel import WeightedHyperModel
from tuneweights.oracle import WeightOracle
from tuneweights.space import WeightSpace
from tuneweights.terms import Range, Term
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
    "Term",
    "Tuner",
    "WeightOracle",
    "WeightSpace",
    "WeightedHyperModel",
    "WeightedModel",
    "__version__",
    "report_epoch",
]
