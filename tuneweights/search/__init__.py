"""Search: keras-tuner's tuners and oracles, reporting every epoch, over the loss-weight space.

This layer uses the training layer and never the report. Its modules:
`tuner` (the per-epoch reporting `Tuner`), `tuners` (RandomSearch,
GridSearch, BayesianOptimization, Hyperband), `oracle` (`WeightOracle`, the
wrapper that owns the weight space on top of any keras-tuner oracle),
`objectives` (which logged name ranks trials), `callbacks` (the epoch
reporter and TensorBoard), `resume` (mid-trial checkpoints), `heartbeat`
(the chief's watch over the workers of a distributed search), `chief` (a
worker's bounded requests to the chief), `progress` (the progress line) and
`pareto`.
"""

from tuneweights.search.callbacks import EpochReporter, report_epoch
from tuneweights.search.chief import ChiefUnreachableError
from tuneweights.search.oracle import WeightOracle
from tuneweights.search.tuner import Tuner
from tuneweights.search.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch

__all__ = [
    "BayesianOptimization",
    "ChiefUnreachableError",
    "EpochReporter",
    "GridSearch",
    "Hyperband",
    "RandomSearch",
    "Tuner",
    "WeightOracle",
    "report_epoch",
]
