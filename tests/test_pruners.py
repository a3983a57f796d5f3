import copy
import json

import numpy as np
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


def random_reports(seed, trials=12, epochs=9, nan=False):
    """Interleaved reports of a random search: ties, infinities, repeated epochs (a second execution)."""
    rng = np.random.default_rng(seed)
    pool = [0.1, 0.2, 0.2, 0.5, 1.0, float("inf")] + ([float("nan")] if nan else [])
    progress = dict.fromkeys(range(trials), 0)
    reports = []
    while progress:
        trial = int(rng.choice(list(progress)))
        step = progress[trial]
        if step > 0 and rng.random() < 0.1:
            step = int(rng.integers(0, step))  # an epoch reported again
        else:
            progress[trial] += 1
            if progress[trial] == epochs or rng.random() < 0.05:
                del progress[trial]  # finished, or stopped early
        value = float(rng.choice(pool)) if rng.random() < 0.3 else float(rng.normal())
        reports.append((f"t{trial}", step, value))
    return reports


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # numpy's inf - inf
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("direction", ["min", "max"])
def test_incremental_statistics_decide_as_a_full_recomputation(seed, direction):
    pruners = [
        P.MedianStopping(warmup=0, min_trials=1),
        P.PercentilePruner(percentile=10, warmup=1, min_trials=3),
        P.PercentilePruner(percentile=90, warmup=2, min_trials=2),
        P.SuccessiveHalving(min_epochs=1, reduction_factor=2),
        P.SuccessiveHalving(min_epochs=2, reduction_factor=3),
    ]
    peers = P.Peers(direction)
    histories: dict[str, dict[int, float]] = {}
    decisions = 0
    for trial_id, step, value in random_reports(seed, nan=False):
        history = histories.setdefault(trial_id, {})
        history[step] = value if step not in history else (history[step] + value) / 2
        peers.record(trial_id, step, history[step])
        others = [h for t, h in histories.items() if t != trial_id]
        for pruner in pruners:
            expected = pruner.prune(history, others, step, direction)
            assert pruner.decide(trial_id, peers, step, direction) == expected, (pruner, trial_id, step)
            decisions += expected
    assert decisions > 20  # the random searches do prune

    rebuilt = P.Peers(direction)
    for trial_id, history in histories.items():
        rebuilt.set_history(trial_id, history)
    steps = {s for h in histories.values() for s in h}
    for step in steps:
        assert peers.best_at(step) == rebuilt.best_at(step)
        assert peers.values_at(step) == rebuilt.values_at(step)
        values = [h[step] for h in histories.values() if step in h]
        assert peers.values_at(step) == sorted(values)
        bests = [P.best_so_far(h, step, direction) for h in histories.values() if step in h]
        assert peers.best_at(step) == sorted(bests)


@pytest.mark.parametrize("seed", range(4))
def test_percentile_statistics_skip_nan_as_best_so_far_does(seed):
    pruner = P.PercentilePruner(percentile=40, warmup=0, min_trials=2)
    peers, histories = P.Peers("min"), {}
    for trial_id, step, value in random_reports(seed, nan=True):
        histories.setdefault(trial_id, {})[step] = value
        peers.record(trial_id, step, value)
        others = [h for t, h in histories.items() if t != trial_id]
        assert pruner.decide(trial_id, peers, step, "min") == pruner.prune(
            histories[trial_id], others, step, "min"
        )


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("seed", range(20))
def test_percentile_of_sorted_is_numpys_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    values = sorted(
        rng.choice([0.1, 0.3, float("inf"), -float("inf"), 2.0], size=rng.integers(1, 8)).tolist()
    )
    values += sorted(rng.normal(size=rng.integers(0, 30)).tolist())
    values.sort()
    for q in [1e-9, 10.0, 25.0, 33.3, 50.0, 75.0, 99.9, 100.0, float(rng.uniform(0, 100))]:
        np.testing.assert_array_equal(P.percentile_of_sorted(values, q), np.percentile(values, q))
        if len(values) > 1:
            skip = int(rng.integers(0, len(values)))
            rest = values[:skip] + values[skip + 1 :]
            np.testing.assert_array_equal(P.percentile_of_sorted(values, q, skip), np.percentile(rest, q))


def test_a_pruner_with_prune_alone_is_handed_every_history():
    seen = []

    class Recorder(P.Pruner):
        def prune(self, history, others, step, direction):
            seen.append((dict(history), sorted(map(sorted, (h.items() for h in others))), step))
            return False

    peers = P.Peers("min")
    peers.record("a", 0, 1.0)
    peers.record("b", 0, 2.0)
    peers.record("b", 1, 0.5)
    assert Recorder().decide("b", peers, 1, "min") is False
    assert seen == [({0: 2.0, 1: 0.5}, [[(0, 1.0)]], 1)]
