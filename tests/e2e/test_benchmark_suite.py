"""Benchmark D (the weight of the positive class) runs in its fast mode, and its theory holds.

The fast mode's numbers are not checked (it trains for a few seconds); the
result of the full benchmark is recorded in benchmarks/README.md. The
closed-form theory the benchmark compares with is checked against the data
generator and against the weighted cross-entropy.
"""

import doctest
import importlib.util
import math
import os
import re
import sys

import numpy as np
import pytest

from tests.e2e.scripts import ROOT, run_script

pytestmark = pytest.mark.slow

BENCHMARKS = os.path.join(ROOT, "benchmarks")
NUMBER = r"\d+(?:\.\d+)?"


def load(name):
    if BENCHMARKS not in sys.path:
        sys.path.insert(0, BENCHMARKS)  # the scripts import `problems` from their folder
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCHMARKS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_class_weight_d_fast_mode_prints_tables_checks_and_headline(tmp_path):
    lines = run_script("benchmarks/class_weight_d.py", "--fast", "--directory", str(tmp_path))
    assert re.fullmatch(
        rf"headline: d_searched_w_pos=({NUMBER}) for balanced accuracy, ({NUMBER}) for F1 \(goal: within a "
        r"factor of 2 of theory, 19 and 5\.08, and on test no worse than the unweighted model with its "
        r"threshold tuned on val by more than 2 standard errors\)",
        lines[-1],
    ), lines[-1]
    out = "\n".join(lines)
    assert "searches: 2 x 2 trials x 3 epochs, all COMPLETED with one value per epoch" in out
    assert "balanced accuracy is best at w_pos=19 (0.750); F1 is best at w_pos=5.08 (0.329)" in out
    # the grid: w_pos 1 and 19 with val, test and population values of both metrics
    for weight in ("1", "19"):
        assert re.search(
            rf"^\s+{weight}(\s+\d\.\d{{3}}){{2}}\s+nan(\s+\d\.\d{{3}}){{3}}\s+nan\s+\d\.\d{{3}}$", out, re.M
        )
    # the test table: every method for both metrics
    for metric in ("balanced accuracy", "F1"):
        for method in (
            "unweighted, threshold 0.5",
            "unweighted, threshold on val",
            "searched w_pos \\(tuneweights\\)",
            "theory w_pos",
            "grid optimum on test",
        ):
            assert re.search(rf"^{metric}\s+{method}\s+{NUMBER}\s+\d\.\d{{3}}\s", out, re.M), (metric, method)
    assert len(re.findall(r"^check: .*: (yes|no)$", out, re.M)) == 4
    assert re.search(r"^goal met: (yes|no)$", out, re.M)
    # the searched weights lie in the searched range
    weights = [float(w) for w in re.findall(rf"({NUMBER}) for (?:balanced accuracy|F1)", lines[-1])]
    assert len(weights) == 2 and all(1.0 <= w <= 100.0 for w in weights)
    # run_all reads this headline
    run_all = load("run_all")
    verdict = run_all.judge(run_all.parse_headline(lines[-1]), out)
    assert verdict.passed is (re.search(r"^goal met: yes$", out, re.M) is not None)
    assert verdict.value == weights[0] and verdict.target == (9.5, 38.0)


def test_class_weight_d_theory_matches_the_data_and_the_loss():
    d = load("class_weight_d")
    problems = load("problems")
    assert doctest.testmod(d).failed == 0 and doctest.testmod(problems).failed == 0
    # the closed forms against the Bayes classifier of 200,000 test points of the generator
    data = problems.problem_d(seed=3, sizes=(20, 20, 200_000))
    x, y = data["test"]["x"].astype("float64"), data["test"]["y"][:, 0]
    logit = data.functions["logit"](x)[:, 0]
    for weight in (1.0, 5.08, 19.0, 100.0):
        for metric in d.METRICS:
            sample = d.score(metric, y, logit + math.log(weight))
            assert sample == pytest.approx(d.population_metric(metric, weight), abs=0.01), (metric, weight)
    # each theoretical weight is the maximum of its metric
    for metric in d.METRICS:
        best = d.theory_weight(metric)
        value = d.population_metric(metric, best)
        assert value > d.population_metric(metric, best * 1.2) and value > d.population_metric(
            metric, best / 1.2
        )
    assert d.theory_weight("f1") < d.theory_weight("balanced_accuracy") / 3
    # the two terms, weighted, are the class-weighted binary cross-entropy
    rng = np.random.default_rng(0)
    labels = (rng.random((64, 1)) < 0.3).astype("float32")
    logits = rng.normal(size=(64, 1)).astype("float32") * 3
    weighted = 7.0 * np.asarray(d.positive_bce(labels, logits)) + np.asarray(d.negative_bce(labels, logits))
    probability = 1 / (1 + np.exp(-logits[:, 0].astype("float64")))
    expected = -(7.0 * labels[:, 0] * np.log(probability) + (1 - labels[:, 0]) * np.log(1 - probability))
    np.testing.assert_allclose(weighted, expected, rtol=1e-5, atol=1e-6)
    # the threshold search finds the best cut of a sample
    threshold, value = d.best_threshold("f1", y[:5000], logit[:5000])
    assert value == pytest.approx(d.score("f1", y[:5000], logit[:5000], threshold))
    for other in np.quantile(logit[:5000], np.linspace(0.01, 0.99, 25)):
        assert d.score("f1", y[:5000], logit[:5000], other) <= value + 1e-12
