"""The README's main example runs end to end (at a tiny size, on every installed Keras backend)."""

import pytest

from tests.e2e.scripts import backends, run_script


@pytest.mark.parametrize("backend", backends("tensorflow", "jax", "torch", slow=("torch",)))
def test_quickstart_runs_and_prints_ratios_and_test_mse(tmp_path, backend):
    arguments = ("--trials", "2", "--epochs", "3", "--directory", str(tmp_path))
    out = "\n".join(run_script("examples/quickstart.py", *arguments, env={"KERAS_BACKEND": backend}))
    assert "2 trials completed" in out
    for line in ("src2", "src3", "equal", "found", "analytic"):
        assert line in out


@pytest.mark.slow
def test_learned_weights_on_problem_a2_favour_the_smallest_losses(tmp_path):
    figure = tmp_path / "weights.png"
    out = run_script(
        "examples/learned_weights.py", "--epochs", "30", "--trials", "2", "--figure", str(figure)
    )
    methods = ("softmax", "uncertainty", "equal", "searched")
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]] for line in out if line.startswith(methods)}
    for method in methods:
        assert len(rows[method]) == 5, out  # four shares and the test MSE
        assert sum(rows[method][:4]) == pytest.approx(1.0, abs=2e-3)
    for method in ("softmax", "uncertainty"):
        src1, src2, src3, src4 = rows[method][:4]
        # Weight flows to the small losses: the noisy sources fade, the biased one grows.
        assert src3 < 0.15 and src2 + src3 < 0.45 and src4 > 0.3, rows[method]
    assert rows["equal"][:4] == [0.25] * 4
    assert figure.stat().st_size > 10_000


def _trial_rows(out):
    """The table rows of a tutorial's output: lines whose first field is a trial id."""
    rows = [line.split() for line in out if "trials completed" not in line]
    return [row for row in rows if row and row[0].rstrip("*").isdigit()]


@pytest.mark.slow
def test_tune_loss_weights_shows_the_ignored_callback_and_searched_ratio_and_schedule(tmp_path):
    out = run_script(
        "examples/tune_loss_weights.py", "--epochs", "3", "--trials", "2", "--directory", str(tmp_path)
    )
    text = "\n".join(out)
    asked = [float(x) for x in text.split("asked for:")[1].splitlines()[0].split()]
    used = [float(x) for x in text.split("used:")[1].splitlines()[0].split()]
    assert asked == [1.0, 0.5, 0.0]
    assert used == pytest.approx([1.0, 1.0, 1.0], abs=2e-3)  # Keras kept the compiled float
    assert "2 trials completed" in text
    rows = _trial_rows(out)
    assert len(rows) == 2, out
    ratios, scores = [float(r[1]) for r in rows], [float(r[2]) for r in rows]
    assert all(1e-3 <= r <= 10.0 for r in ratios)
    assert scores == sorted(scores) and scores[0] < scores[1]  # different weights, different models
    assert all(0.25 < s < 3.0 for s in scores)  # above the expert labels' noise variance, 0.5 ** 2
    families = [r[3] for r in rows]
    assert set(families) <= {"constant", "step", "linear", "cosine"}
    # The best trial logged its schedule's starting weight at epoch 0.
    header = next(i for i, line in enumerate(out) if "teacher weight logged" in line)
    logged = [float(x) for x in out[header + 1].split()]
    assert len(logged) == 3
    assert logged[0] == pytest.approx(float(rows[0][4]), rel=1e-2)
    if families[0] == "constant":
        assert logged == pytest.approx([float(rows[0][4])] * 3, rel=1e-2)


@pytest.mark.slow
def test_heterogeneous_losses_rank_by_accuracy_not_by_the_weighted_total(tmp_path):
    out = run_script(
        "examples/heterogeneous_losses.py", "--epochs", "3", "--trials", "2", "--directory", str(tmp_path)
    )
    assert "2 trials completed" in "\n".join(out)
    rows = _trial_rows(out)
    assert len(rows) == 2, out
    ratio, accuracy, mae, weighted = ([float(r[k]) for r in rows] for k in (1, 2, 3, 4))
    assert accuracy == sorted(accuracy, reverse=True)  # best first
    assert all(0.0 <= a <= 1.0 for a in accuracy) and all(0.5 < m < 16.0 for m in mae)  # pixel units
    equal = ratio.index(1.0)  # GridSearch's first trial: the Range default, the hand-written sum
    assert "equal weights" in " ".join(rows[equal])
    other = 1 - equal
    assert ratio[other] < 1.0
    # The reconstruction's unit dominates the sum: equal weights cost accuracy, and the weighted
    # total would rank by the size of the ratio.
    assert accuracy[equal] < accuracy[other]
    assert weighted[other] < weighted[equal] and weighted[equal] > 20.0
    front = [a for row, a in zip(rows, accuracy, strict=True) if row[0].endswith("*")]
    assert front and max(front) == max(accuracy)  # the Pareto front holds a most accurate trial


@pytest.mark.slow
def test_validation_weights_search_compares_validation_driven_with_static(tmp_path):
    out = run_script(
        "examples/validation_weights.py", "--epochs", "3", "--trials", "2", "--directory", str(tmp_path)
    )
    assert "2 trials completed" in "\n".join(out)
    rows = {r[1]: r for r in _trial_rows(out)}
    assert sorted(rows) == ["static", "validation"], out
    easy, medium, hard = (float(x) for x in rows["validation"][3:6])
    assert easy + medium + hard == pytest.approx(3.0, abs=2e-3)  # normalised to the number of terms
    assert hard > easy  # rule="proportional": the task with the largest validation loss gains
    assert 0.25 <= float(rows["validation"][2].split("=")[1]) <= 4.0
    static = rows["static"]
    ratios = dict(item.split("=") for item in static[2:4])
    assert float(static[4]) == 1.0  # easy: the reference
    assert float(static[5]) == pytest.approx(float(ratios["medium"]), rel=0.01)
    assert float(static[6]) == pytest.approx(float(ratios["hard"]), rel=0.01)
    scores = [float(r[-1]) for r in _trial_rows(out)]
    assert scores == sorted(scores) and scores[0] < scores[1] and all(0.0 < s < 6.0 for s in scores)


@pytest.mark.slow
def test_switch_losses_flag_is_ignored_and_switches_happen_where_searched(tmp_path):
    import math

    epochs = 3
    out = run_script(
        "examples/switch_losses.py", "--epochs", str(epochs), "--trials", "2", "--directory", str(tmp_path)
    )
    text = "\n".join(out)
    gaps = [float(x) for x in text.split("loss - mse after that:")[1].split("(")[0].split()]
    assert gaps == pytest.approx([0.0, 0.0], abs=1e-3)  # the loss stayed MSE
    assert "2 trials completed" in text
    never = text.split("never switched, last epoch:")[1].splitlines()[0]
    plain_mse, plain_huber = (float(part.split()[-1].rstrip(",")) for part in never.split(","))
    assert plain_huber > 2 * plain_mse  # with SGD, Huber crawls towards the far target
    rows = _trial_rows(out)
    assert len(rows) == 2, out
    for row in rows:
        at, by_epoch, by_metric, by_state = float(row[1]), int(row[4]), int(row[5]), int(row[6])
        assert 0.05 <= at <= 0.95 and 5.0 <= float(row[2]) <= 100.0 and 1.0 <= float(row[3]) <= 30.0
        # SwitchAt: Huber from epoch ceil(at * horizon), never if that is past the last epoch;
        # `at` is printed to 2 decimals.
        expected = {math.ceil((at + d) * epochs) for d in (-0.005, 0.005)}
        assert by_epoch in {e if e < epochs else -1 for e in expected}
        assert by_metric == -1 or 1 <= by_metric < epochs  # from the epoch after the one that crossed
        assert -1 <= by_state < epochs
        assert all(0.0 < float(x) < 1e4 for x in row[7:10])


@pytest.mark.slow
def test_separate_optimizers_search_each_terms_optimizer_and_rate(tmp_path):
    out = run_script(
        "examples/separate_optimizers.py", "--epochs", "3", "--trials", "2", "--directory", str(tmp_path)
    )
    assert "2 trials completed" in "\n".join(out)
    rows = _trial_rows(out)
    assert len(rows) == 2, out
    for row in rows:
        assert row[1] in {"adam", "sgd", "rmsprop"} and row[3] in {"adam", "sgd", "rmsprop"}
        assert 1e-4 <= float(row[2]) <= 0.1 and 1e-4 <= float(row[4]) <= 0.1
        assert 0.0 <= float(row[6]) <= 1.0 and 0.0 < float(row[7]) < 10.0
    scores = [float(r[5]) for r in rows]
    assert scores == sorted(scores) and scores[0] < scores[1]  # different settings, different models
    assert rows[0][1:5] != rows[1][1:5]
