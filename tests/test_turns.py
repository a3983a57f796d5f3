"""`benchmarks/turns.py`: trainings in processes that take turns epoch by epoch."""

from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import turns  # noqa: E402

from tests import turns_targets  # noqa: E402


def test_every_way_times_every_epoch_and_returns_its_result():
    results = turns.run(turns_targets.train, ["a", "b"], 5)
    assert sorted(results) == ["a", "b"]
    for way, result in results.items():
        assert result["result"] == {"way": way}
        assert len(result["durations"]) == 5
        assert all(d > 0 for d in result["durations"])


def test_a_way_that_fails_is_named():
    with pytest.raises(SystemExit, match=r"broken failed \(exit code 1\)"):
        turns.run(turns_targets.train, ["a", "broken"], 3)


def test_a_way_that_never_trains_is_named():
    with pytest.raises(SystemExit, match=r"idle returned without ending a training with `turns\(\)`"):
        turns.run(turns_targets.train, ["a", "idle"], 3)


@pytest.mark.parametrize(
    "epochs, windows",
    [
        (500, [(10, 60), (225, 275), (450, 500)]),
        (200, [(10, 60), (75, 125), (150, 200)]),
        (12, [(4, 8), (8, 12)]),
    ],
)
def test_windows(epochs, windows):
    assert turns.windows(epochs) == windows


def test_window_statistics():
    durations = [1.0, 2.0, 3.0, 10.0]
    assert turns.window_mean(durations, 1, 4) == pytest.approx(5.0)
    assert turns.window_median(durations, 1, 4) == 3.0
