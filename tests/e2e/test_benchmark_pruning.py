"""The pruning benchmark runs in its fast mode and prints its table and headline.

Its numbers are not checked here: the fast mode trains a few epochs, and the
result of the full benchmark is recorded in docs/pruning.md.
"""

import re

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow

MSE = r"\d+\.\d{4}"
DIFF = r"[+-]\d+\.\d{4}"


def test_pruning_fast_mode_prints_a_table_and_headline(tmp_path):
    lines = run_script("benchmarks/pruning.py", "--fast", "--directory", str(tmp_path), timeout=600)
    assert re.fullmatch(
        r"headline: pruning_epoch_saving=-?\d+\.\d% \(goal: at least 40% fewer epochs for a best result within noise\)",
        lines[-1],
    ), lines[-1]
    out = "\n".join(lines)
    assert "median(percentile=50.0, warmup=1, min_trials=2)" in out
    # one row per seed: epochs of both searches (3 trials x 6 epochs at most), saving, pruned trials,
    # best test MSE of both, their difference, whether the best trial is the same, wall times
    for seed in (1, 1001):
        row = re.search(
            rf"^\s*{seed}\s+18\s+(\d+)\s+(\d+\.\d)%\s+(\d)/3\s+{MSE}\s+{MSE}\s+{DIFF}\s+(yes|no)\s+\d+\.\d\s+\d+\.\d$",
            out,
            re.M,
        )
        assert row, f"no row for seed {seed}:\n{out}"
        epochs, saving, pruned = int(row[1]), float(row[2]), int(row[3])
        assert 3 + 3 + 2 <= epochs <= 18  # at most the last trial is pruned (min_trials=2), after epoch >= 1
        assert saving == pytest.approx(100 * (1 - epochs / 18), abs=0.06)
        assert (pruned == 0) == (epochs == 18)
    assert re.search(r"^epochs spent per search \(mean\)\s+18\.0\s+\d+\.\d$", out, re.M)
    assert re.search(rf"^best test MSE \(mean\)\s+{MSE}\s+{MSE}$", out, re.M)
    assert re.search(rf"^best test MSE \(standard error\)\s+{MSE}\s+{MSE}$", out, re.M)
    assert re.search(
        rf"^paired difference of best test MSE \(median - full\): {DIFF} \(SE {MSE}\)( = [+-]\d+\.\d SE)?$",
        out,
        re.M,
    )
    assert re.search(r"^pruned search worse in \d, better in \d, equal in \d of 2 seeds$", out, re.M)
    assert re.search(r"^best results within noise \(\|difference\| <= 2 SE\): (yes|no)$", out, re.M)
    # both searches of a seed train the same trials identically until one is pruned
    gap = re.search(
        r"^largest difference of val_src1_loss between the searches before pruning: (\S+)$", out, re.M
    )
    assert gap and float(gap[1]) <= 1e-5, gap
