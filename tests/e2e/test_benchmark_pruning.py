"""The pruning benchmark runs in its fast mode and prints its tables and headline.

Its numbers are not checked here: the fast mode trains a few epochs, and the
result of the full benchmark is recorded in docs/pruning.md.
"""

import re

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow

MSE = r"\d+\.\d{4}"
DIFF = r"[+-]\d+\.\d{4}"
# ASHA(min_epochs=1, reduction_factor=3) over 6 epochs has rungs at epochs 0 and 2: the first of 3
# trials runs its 6 epochs, each other one 1, 3 or 6; epochs beyond the first trial's -> pruned trials.
ASHA_PRUNED = {2: 2, 4: 2, 6: 2, 7: 1, 9: 1, 12: 0}


def test_pruning_fast_mode_prints_tables_and_headline(tmp_path):
    lines = run_script("benchmarks/pruning.py", "--fast", "--directory", str(tmp_path), timeout=600)
    assert re.fullmatch(
        r"headline: pruning_epoch_saving=-?\d+\.\d% \(goal: at least 40% fewer epochs for a best result within noise\)",
        lines[-1],
    ), lines[-1]
    out = "\n".join(lines)
    assert "median: median(percentile=50.0, warmup=1, min_trials=2)" in out
    assert "asha: asha(min_epochs=1, reduction_factor=3)" in out
    for seed in (1, 1001):
        # epochs of the three searches (3 trials x 6 epochs at most), savings, pruned trials, wall times
        row = re.search(
            rf"^\s*{seed}\s+18\s+(\d+)\s+(\d+\.\d)%\s+(\d)/3\s+(\d+)\s+(\d+\.\d)%\s+(\d)/3\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d$",
            out,
            re.M,
        )
        assert row, f"no epochs row for seed {seed}:\n{out}"
        median, median_saving, median_pruned = int(row[1]), float(row[2]), int(row[3])
        asha, asha_saving, asha_pruned = int(row[4]), float(row[5]), int(row[6])
        # min_trials=2: only the last trial can be pruned, after epoch >= 1 (warmup) and before its
        # last epoch (a trial stopped at its last epoch is not counted as pruned)
        assert 6 + 6 + 2 <= median <= 18 and median_pruned == (median < 18)
        assert ASHA_PRUNED[asha - 6] == asha_pruned
        assert median_saving == pytest.approx(100 * (1 - median / 18), abs=0.06)
        assert asha_saving == pytest.approx(100 * (1 - asha / 18), abs=0.06)
        # best test MSE of the three searches, each pruned one's difference with full and same best trial
        row = re.search(
            rf"^\s*{seed}\s+({MSE})\s+({MSE})\s+({DIFF})\s+(yes|no)\s+({MSE})\s+({DIFF})\s+(yes|no)$",
            out,
            re.M,
        )
        assert row, f"no test MSE row for seed {seed}:\n{out}"
        full = float(row[1])
        assert float(row[3]) == pytest.approx(float(row[2]) - full, abs=2e-4)
        assert float(row[6]) == pytest.approx(float(row[5]) - full, abs=2e-4)
    assert re.search(r"^epochs spent per search \(mean\)\s+18\.0\s+\d+\.\d\s+\d+\.\d$", out, re.M)
    assert re.search(r"^epoch saving\s+-\s+\d+\.\d%\s+\d+\.\d%$", out, re.M)
    assert re.search(rf"^best test MSE \(mean\)\s+{MSE}\s+{MSE}\s+{MSE}$", out, re.M)
    assert re.search(rf"^best test MSE \(standard error\)\s+{MSE}\s+{MSE}\s+{MSE}$", out, re.M)
    assert re.search(rf"^paired difference with full\s+-\s+{DIFF}\s+{DIFF}$", out, re.M)
    assert re.search(r"^within noise \(\|diff\| <= 2 SE\)\s+-\s+(yes|no)\s+(yes|no)$", out, re.M)
    assert re.search(
        rf"^paired difference of best test MSE \(median - full\): {DIFF} \(SE {MSE}\)( = [+-]\d+\.\d SE)?$",
        out,
        re.M,
    )
    assert re.search(r"^pruned search worse in \d, better in \d, equal in \d of 2 seeds$", out, re.M)
    assert re.search(r"^best results within noise \(\|difference\| <= 2 SE\): (yes|no)$", out, re.M)
    # all three searches of a seed train the same trials identically until one is pruned
    gap = re.search(
        r"^largest difference of val_src1_loss between the searches before pruning: (\S+)$", out, re.M
    )
    assert gap and float(gap[1]) <= 1e-5, gap
