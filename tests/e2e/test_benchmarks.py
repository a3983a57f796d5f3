"""The speed benchmarks run (in their quick mode) and end with a headline line.

Their timings are not checked here: speed targets are read from the scripts'
tables, measured as ratios within one run.
"""

import re

import pytest

from tests.e2e.scripts import run_script

pytestmark = pytest.mark.slow


def test_overhead_quick_mode_prints_a_table_and_headline():
    lines = run_script("benchmarks/overhead.py", "--quick")
    assert re.fullmatch(r"headline: overhead=[+-]\d+\.\d% \(goal: within 3% of plain model\.fit\)", lines[-1])
    table = "\n".join(lines)
    variants = (
        "plain",
        "tuneweights-fixed",
        "tuneweights-callback",
        "tuneweights-schedule-epoch",
        "tuneweights-schedule-step",
        "gradienttape-loop",
    )
    for variant in variants:
        assert re.search(rf"^{variant}\s+\d", table, re.M), variant


def test_backends_quick_mode_prints_a_table_and_headline():
    pytest.importorskip("jax")
    lines = run_script("benchmarks/backends.py", "--quick", "--backends", "jax", timeout=600)
    assert re.fullmatch(
        r"headline: backends=jax [+-]\d+\.\d% per epoch against plain model\.fit "
        r"\(goal: every feature on every backend; within 3% of plain model\.fit on TensorFlow\)",
        lines[-1],
    )
    table = "\n".join(lines)
    for way in ("plain", "tuneweights", "search"):
        assert re.search(rf"^jax [\d.]+\s+{way}\s+\d", table, re.M), way


def test_trial_cost_quick_mode_prints_both_tables_and_a_headline():
    lines = run_script("benchmarks/trial_cost.py", "--quick", timeout=900)
    assert re.fullmatch(
        r"headline: trial_cost=\d+\.\d\dx cheaper per trial than keras-tuner at 2 trials, "
        r"\d+\.\d\dx plain model\.fit per epoch at epochs 8-12, \d+\.\d\dx from epochs 4-8 to 8-12 against "
        r"plain model\.fit "
        r"\(goal: 5x cheaper per trial, per epoch within 1\.1x of plain model\.fit and flat\)",
        lines[-1],
    )
    table = "\n".join(lines)
    assert re.search(r"^\s+2\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d\d\s+\d+\.\d\d$", table, re.M)
    for window in ("4-8", "8-12"):
        assert re.search(rf"^\s+{window}(\s+\d+\.\d){{3}}\s+\d+\.\d\d\s+\d+\.\d\d$", table, re.M), window


def test_epoch_cost_quick_mode_prints_a_table_and_headline():
    lines = run_script("benchmarks/epoch_cost.py", "--quick", timeout=600)
    assert re.fullmatch(
        r"headline: epoch_cost=\d+\.\d\dx from epochs 8-16 to 16-24 against plain model\.fit, "
        r"\d+\.\d\dx plain model\.fit "
        r"at epochs 16-24 \(goal: flat from epoch 10 to 500, within 1\.1x of plain model\.fit\)",
        lines[-1],
    )
    table = "\n".join(lines)
    for way in ("plain", "keras-tuner", "tuneweights", "tuneweights-every1"):
        rows = re.findall(rf"^{way}\s+\d+\.\d\s+\d\.\d{{3}}\s+\d+\.\d\s+\d\.\d{{3}}$", table, re.M)
        assert len(rows) == 2, way  # mean and median
    for size in ("20 x 10", "40 x 10"):
        assert re.search(rf"^\s+{size}\s+\d+\.\d\s+\d+\.\d\s+\d+$", table, re.M), size


def test_ratio_landscape_quick_mode_prints_both_sources_and_a_headline():
    lines = run_script("benchmarks/ratio_landscape.py", "--quick", timeout=600)
    assert re.fullmatch(
        r"headline: ratio_landscape=lowest test MSE at offsets src2 [+-]\d\.\d\d, src3 [+-]\d\.\d\d "
        r"\(goal: none, a measurement; 0 is the analytic ratio\)",
        lines[-1],
    )
    rows = [line for line in lines if re.match(r"^\s+[+-]\d\.\d\d\s+\d\.\d{5}", line)]
    assert len(rows) == 4  # offsets -1 and 0 for each of the two sources


def test_search_quality_quick_mode_compares_every_ratio():
    lines = run_script("benchmarks/search_quality.py", "--quick", timeout=600)
    assert re.fullmatch(
        r"headline: search_quality=\d/2 searched ratios within 1\.0 of the analytic ones "
        r"\(goal: all, in at most 30 trials\)",
        lines[-1],
    )
    assert any(line.startswith("src3 ") for line in lines)
