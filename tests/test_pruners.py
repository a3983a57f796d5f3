import copy
import json

import pytest

import tuneweights as tw
from tuneweights import pruners as P


def test_best_so_far_ignores_later_epochs_and_nan():
    assert P.best_so_far({0: 3.0, 1: float("nan"), 2: 1.0}, 1, "min") == 3.0
    assert P.best_so_far({0: 3.0, 2: 5.0}, 2, "max") == 5.0
    assert P.best_so_far({}, 0, "min") is None


@pytest.mark.parametrize(
    "own, expected",
    [(0.4, False), (0.6, False), (0.61, True)],  # median of the others' best so far is 0.6
)
def test_median_stopping_against_the_median_at_the_same_epoch(own, expected):
    others = [{0: 1.0, 1: 0.5}, {0: 0.6, 1: 0.9}, {0: 3.0, 1: 0.7}, {0: 9.0}]  # the last has no epoch 1
    assert P.MedianStopping(warmup=1, min_trials=3).prune({0: 5.0, 1: own}, others, 1, "min") is expected


def test_median_stopping_respects_warmup_and_min_trials():
    others = [{0: 1.0, 1: 0.5}, {0: 2.0, 1: 0.6}, {0: 3.0, 1: 0.7}]
    assert not P.MedianStopping(warmup=2).prune({0: 9.0, 1: 9.0}, others, 1, "min")
    assert not P.MedianStopping(min_trials=4).prune({0: 9.0, 1: 9.0}, others, 1, "min")


def test_percentile_for_maximised_objectives():
    others = [{0: 0.9}, {0: 0.8}, {0: 0.7}, {0: 0.6}]
    # the best quarter of the others starts at the 75th percentile, 0.825
    assert P.PercentilePruner(percentile=25, warmup=0).prune({0: 0.82}, others, 0, "max")
    assert not P.PercentilePruner(percentile=25, warmup=0).prune({0: 0.83}, others, 0, "max")


def test_asha_keeps_the_best_fraction_at_each_rung():
    asha = P.SuccessiveHalving(min_epochs=2, reduction_factor=2)
    assert asha.rungs(10) == [1, 3, 7]
    others = [{1: 1.0}, {1: 2.0}, {1: 3.0}]
    assert not asha.prune({1: 1.5}, others, 1, "min")  # 2nd of 4: within the best half
    assert asha.prune({1: 2.5}, others, 1, "min")
    assert not asha.prune({0: 99.0}, others, 0, "min")  # not a rung
    assert not asha.prune({1: 9.0}, [], 1, "min")  # the first to reach a rung goes on


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: P.PercentilePruner(percentile=0), r"Argument `percentile` must be a finite number > 0"),
        (lambda: P.PercentilePruner(percentile=120), r"Argument `percentile` must be in \(0, 100\]"),
        (lambda: P.MedianStopping(warmup=-1), r"Argument `warmup` must be an int >= 0. Received: warmup=-1"),
        (lambda: P.MedianStopping(min_trials=0), r"Argument `min_trials` must be an int >= 1"),
        (lambda: P.SuccessiveHalving(reduction_factor=1), r"Argument `reduction_factor` must be an int >= 2"),
        (
            lambda: P.get("patience"),
            r"Argument `identifier` must name a registered pruner, one of \['asha', 'median', 'percentile'\]",
        ),
    ],
)
def test_pruner_validation(make, match):
    with pytest.raises(tw.ConfigurationError, match=match):
        make()


@pytest.mark.parametrize(
    "pruner",
    [P.MedianStopping(), P.PercentilePruner(10, 2, 4), P.SuccessiveHalving(2, 4)],
    ids=lambda p: p.name,
)
def test_pruner_contract_json_and_deepcopy(pruner):
    assert P.get(json.loads(json.dumps(P.serialize(pruner)))) == pruner
    assert copy.deepcopy(pruner) == pruner
    assert P.get(pruner.name) == type(pruner)()
