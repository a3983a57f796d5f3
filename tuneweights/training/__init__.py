"""Training: the model that trains on the weighted sum of its terms inside `model.fit`.

This layer knows nothing of tuners, oracles or reports: it trains one
`tuneweights.LossConfig`. Its modules: `model` (`WeightedModel`), `gradients`
(each term's gradient, per Keras backend, for strategies that take over the
gradient step), `epoch_metrics` (values logged once per epoch), `outputs`
(the user's model's outputs and shared layers), `fit_arguments` (the
arguments of `model.fit`, bound once) and `fit_data` (the data given to
`fit`, checked against the model's shapes).
"""

from tuneweights.training.fit_arguments import FitArguments
from tuneweights.training.model import TermValues, WeightedModel, compile_weighted
from tuneweights.training.outputs import output_names

__all__ = ["FitArguments", "TermValues", "WeightedModel", "compile_weighted", "output_names"]
