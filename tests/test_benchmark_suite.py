"""benchmarks/run_all.py: parsing and judging headlines, the page, and running scripts (tiny fake ones).

The real benchmarks are not run here (their fast modes take minutes together);
tests/e2e/test_benchmark_suite.py runs problem D's script in its fast mode.
"""

import doctest
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_run_all():
    spec = importlib.util.spec_from_file_location("run_all", os.path.join(ROOT, "benchmarks", "run_all.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


run_all = load_run_all()

UNITS = (
    "headline: c_units_searched_change=+0.200 delta_m% ({} SE, paired; equal weights -6.000, {} SE) "
    "(goal: in raw 0-16 units searched weights keep delta_m within 2 standard errors while equal weights "
    "lose more)"
)
OVERHEAD = "headline: overhead={} (goal: within 3% of plain model.fit)"
SCHEDULE = "headline: schedule_gap={} SE (goal: best searched schedule beats the best constant by > 3 standard errors)"
PRUNING = (
    "headline: pruning_epoch_saving={}% (goal: at least 40% fewer epochs for a best result within noise)"
)
A2 = (
    "headline: a2_uncertainty_minus_static=+0.0480 test MSE ({} SE, paired; w_src4/w_src1 uncertainty 40.1, "
    "searched static 0.0123) (goal: uncertainty weighting trusts the precise but biased source 4, searched "
    "static weights do not and beat it on test by more than 2 standard errors)"
)
D = (
    "headline: d_searched_w_pos={} for balanced accuracy, 4.2 for F1 (goal: within a factor of 2 of theory, "
    "19 and 5.08, and on test no worse than the unweighted model with its threshold tuned on val by more "
    "than 2 standard errors)"
)


def test_doctests_of_run_all():
    # module=False: the module may be loaded under a name another test reused.
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(run_all, "run_all", module=False, globs=vars(run_all)):
        runner.run(test)
    assert runner.tries >= 5 and runner.failures == 0


def test_headline_parsing_keeps_parentheses_of_the_value():
    headline = run_all.parse_headline(A2.format("+3.4"))
    assert headline.name == "a2_uncertainty_minus_static"
    assert headline.value.startswith("+0.0480 test MSE (+3.4 SE, paired;")
    assert headline.goal.startswith("uncertainty weighting trusts")
    assert run_all.parse_headline("headline: no goal here") is None
    assert run_all.parse_headline("not a headline: x=1 (goal: y)") is None


@pytest.mark.parametrize(
    "line, output, passed, value",
    [
        (OVERHEAD.format("+0.5%"), "", True, 0.5),
        (OVERHEAD.format("-1.2%"), "", True, -1.2),
        (OVERHEAD.format("+3.1%"), "", False, 3.1),
        (SCHEDULE.format("21.1"), "", True, 21.1),
        (SCHEDULE.format("2.9"), "", False, 2.9),
        (SCHEDULE.format("-inf"), "", False, float("-inf")),
        (PRUNING.format("55.0"), "best results within noise (|difference| <= 2 SE): yes\n", True, 55.0),
        (PRUNING.format("55.0"), "best results within noise (|difference| <= 2 SE): no\n", False, 55.0),
        (PRUNING.format("35.0"), "best results within noise (|difference| <= 2 SE): yes\n", False, 35.0),
        (A2.format("+3.4"), "", True, 3.4),
        (A2.format("+1.2"), "", False, 1.2),
        (A2.format("n/a"), "", None, None),
        (
            "headline: a_static_regret=+0.0010 test MSE (+0.8 SE, paired) (goal: searched static weights "
            "within 2 standard errors of the analytic optimum)",
            "",
            True,
            0.8,
        ),
        (
            "headline: c_static_minus_best_adaptive=-0.512 delta_m% (best adaptive: dwa) (goal: searched "
            "static weights at least as good as every adaptive strategy)",
            "",
            False,
            -0.512,
        ),
        (D.format("17.3"), "goal met: yes\n", True, 17.3),
        (D.format("17.3"), "goal met: no\n", False, 17.3),
        (UNITS.format("+0.4", "-4.1"), "goal met: yes\n", True, 0.4),
        (UNITS.format("-2.3", "-4.1"), "goal met: no\n", False, -2.3),
        (UNITS.format("+0.4", "-1.9"), "goal met: no\n", False, 0.4),
        (UNITS.format("+0.4", "-4.1"), "", None, None),
        (UNITS.format("nan", "-4.1"), "goal met: no\n", None, None),
        ("headline: something_new=42 (goal: whatever)", "", None, None),
    ],
)
def test_judging_each_known_headline(line, output, passed, value):
    verdict = run_all.judge(run_all.parse_headline(line), output + line)
    assert verdict.passed is passed
    assert verdict.value == value


def test_the_goal_of_d_is_a_band_around_the_theoretical_weight():
    verdict = run_all.judge(run_all.parse_headline(D.format("40")), "goal met: no")
    assert (verdict.relation, verdict.target, verdict.log) == ("within", (9.5, 38.0), True)


def fake_run(name, stdout, returncode=0, stderr="", wall=12.3):
    benchmark = run_all.Benchmark(name, f"benchmarks/{name}.py", f"problem of {name}")
    return run_all.Run(benchmark, f"python benchmarks/{name}.py --fast", returncode, stdout, stderr, wall)


INFO = {
    "date": "2026-11-21 10:00 UTC",
    "commit": "abc1234",
    "machine": "2 CPU cores available (2 in the machine, Some CPU), Linux",
    "software": "Python 3.11.7, TensorFlow 2.21.0",
    "load": "1.0 2.0 3.0",
    "load_end": "4.0 5.0 6.0",
}
TABLE = "variant   ms/epoch\nplain        142.9\nfixed        143.1"


def test_render_shows_tables_verbatim_headlines_goals_and_marks():
    runs = [
        fake_run("overhead", f"{TABLE}\n{OVERHEAD.format('+0.5%')}\n"),
        fake_run("schedule_b", f"some table\n{SCHEDULE.format('2.0')}\n", wall=60),
        fake_run(
            "broken", "half a table\n", returncode=1, stderr="Traceback\n  ...\nValueError: bad input\n"
        ),
        fake_run("silent", "no headline at all\n"),
    ]
    page = run_all.render(runs, INFO, "full", plot="img/benchmarks.png")
    assert page.startswith("# Benchmark results\n")
    for text in (
        "2026-11-21 10:00 UTC",
        "abc1234",
        "Some CPU",
        "TensorFlow 2.21.0",
        "1.0 2.0 3.0 at the start",
    ):
        assert text in page
    assert "**full** (`--full`)" in page
    assert "- Wall time: 97 s in all; failed: broken, silent\n" in page
    assert "![Each headline value against its goal](img/benchmarks.png)" in page
    # summary: one row per benchmark, the mark of each
    assert (
        "| [overhead](#overhead) | problem of overhead | `overhead=+0.5%` | within 3% of plain model.fit | "
        "**pass** | 12 s |" in page
    )
    assert "| `schedule_gap=2.0 SE` |" in page and "**miss** | 60 s |" in page
    assert "| [broken](#broken) | problem of broken | - | - | **FAILED** |" in page
    assert "| [silent](#silent) | problem of silent | - | - | **FAILED** |" in page
    # per benchmark: the table verbatim in a code block, without the headline line
    assert f"```text\n{TABLE}\n```" in page
    assert "Headline: `overhead=+0.5%`; goal: within 3% of plain model.fit; **pass**." in page
    assert "Command: `python benchmarks/overhead.py --fast`; wall time 12 s; exit status 0; **pass**." in page
    # failures: the reason, the end of standard error, what was printed
    assert "Failed: it exited with an error." in page
    assert "```text\nTraceback\n  ...\nValueError: bad input\n```" in page
    assert "```text\nhalf a table\n```" in page
    assert "Failed: no headline line at the end of its output." in page


def test_render_labels_a_fast_run_and_escapes_pipes():
    line = "headline: thing=1|2 (goal: a|b)"
    page = run_all.render([fake_run("thing", f"x | y\n{line}\n")], INFO, "fast")
    assert "**fast** (`--fast`)" in page and "they say nothing about how tuneweights performs" in page
    assert "`thing=1\\|2` | a\\|b | **not judged** |" in page
    assert "```text\nx | y\n```" in page
    assert "![" not in page


def test_the_plot_skips_what_it_cannot_draw(tmp_path):
    pytest.importorskip("matplotlib")
    runs = [
        fake_run("schedule_b", SCHEDULE.format("-inf")),
        fake_run("overhead", OVERHEAD.format("+0.5%")),
        fake_run("thing", "headline: thing=1 (goal: whatever)"),
    ]
    assert run_all.write_plot(runs, str(tmp_path / "plot.png"))
    assert (tmp_path / "plot.png").stat().st_size > 1000
    assert not run_all.write_plot(runs[::2], str(tmp_path / "none.png"))
    assert not (tmp_path / "none.png").exists()


def test_fences_grow_around_backticks():
    assert run_all.fence("a ``` b").startswith("````text\n")


def write_script(path, body):
    path.write_text(textwrap.dedent(body))
    return str(path)


def test_main_runs_scripts_writes_the_page_and_fails_when_a_script_fails(tmp_path):
    good = write_script(
        tmp_path / "good.py",
        """\
        import sys
        print("variant  ms/epoch")
        print("plain       142.9")
        print("args:", sys.argv[1:])
        print("headline: overhead=+0.5% (goal: within 3% of plain model.fit)")
        """,
    )
    bad = write_script(tmp_path / "bad.py", "import sys\nprint('oops', file=sys.stderr)\nsys.exit(3)\n")
    benchmarks = [
        run_all.Benchmark("good", good, "a good one", fast=("--quick",)),
        run_all.Benchmark("bad", bad, "a bad one"),
    ]
    out = tmp_path / "page.md"
    assert run_all.main(["--fast", "--out", str(out)], benchmarks=benchmarks) == 1
    page = out.read_text()
    assert "args: ['--quick']" in page
    assert "**pass**" in page and "**FAILED**" in page and "exit status 3" in page
    assert "```text\noops\n```" in page
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "page.png").stat().st_size > 1000
        assert "![Each headline value against its goal](page.png)" in page
    assert run_all.main(["--fast", "--out", str(out), "--only", "good"], benchmarks=benchmarks) == 0
    assert "bad" not in out.read_text()


def test_a_stopped_run_writes_what_it_has_and_lists_the_rest(tmp_path):
    good = write_script(tmp_path / "good.py", f"print({OVERHEAD.format('+0.5%')!r})\n")
    # stands for an outside `kill`: the script sends SIGTERM to run_all, here the test process itself
    stopper = write_script(
        tmp_path / "stopper.py",
        "import os, signal, time\nos.kill(os.getppid(), signal.SIGTERM)\ntime.sleep(30)\n",
    )
    benchmarks = [
        run_all.Benchmark("good", good, "a good one"),
        run_all.Benchmark("stopper", stopper, "sends SIGTERM"),
        run_all.Benchmark("later", good, "never reached"),
    ]
    out = tmp_path / "page.md"
    before = signal.getsignal(signal.SIGTERM)
    assert run_all.main(["--fast", "--out", str(out), "--plot", "none"], benchmarks=benchmarks) == 1
    assert signal.getsignal(signal.SIGTERM) is before
    page = out.read_text()
    assert "| [good](#good) | a good one | `overhead=+0.5%` |" in page
    assert "| [stopper](#stopper) | sends SIGTERM | - | - | **not run** | - |" in page
    assert "| [later](#later) | never reached | - | - | **not run** | - |" in page
    assert "; not run: stopper, later (the run was stopped by SIGTERM during stopper)" in page
    assert "Not run: the run was stopped by SIGTERM during stopper." in page


def test_the_page_is_written_after_every_benchmark(tmp_path):
    out = tmp_path / "page.md"
    # the second script reads the page that run_all wrote after the first one
    good = write_script(tmp_path / "good.py", f"print({OVERHEAD.format('+0.5%')!r})\n")
    reader = write_script(
        tmp_path / "reader.py",
        f"""\
        page = open({str(out)!r}).read()
        assert "**not run** | - |" in page and "the run is in progress" in page, page
        print("headline: read=1 (goal: the page so far exists)")
        """,
    )
    benchmarks = [run_all.Benchmark("good", good, "first"), run_all.Benchmark("reader", reader, "second")]
    assert run_all.main(["--fast", "--out", str(out), "--plot", "none"], benchmarks=benchmarks) == 0
    page = out.read_text()
    assert "**not judged**" in page and "not run" not in page


def test_a_script_past_its_timeout_is_a_failure(tmp_path):
    slow = write_script(tmp_path / "slow.py", "import time\nprint('started', flush=True)\ntime.sleep(30)\n")
    run = run_all.run_benchmark(run_all.Benchmark("slow", slow, "slow"), "fast", timeout=1)
    assert run.returncode is None and run.failed and run.mark == "FAILED"
    assert "killed after the timeout of 1 s" in run.stderr


def test_unknown_benchmarks_are_refused():
    with pytest.raises(SystemExit):
        run_all.parse_args(["--fast", "--only", "nothing"], run_all.BENCHMARKS)
    with pytest.raises(SystemExit):
        run_all.parse_args([], run_all.BENCHMARKS)  # a mode is required


def test_the_registry_holds_every_benchmark_script():
    scripts = {b.script for b in run_all.BENCHMARKS}
    on_disk = {
        f"benchmarks/{name}"
        for name in os.listdir(os.path.join(ROOT, "benchmarks"))
        if name.endswith(".py")
        and name not in ("problems.py", "stats.py", "turns.py", "run_all.py")  # helpers, not benchmarks
    }
    assert scripts == on_disk


def test_a_fast_run_never_writes_docs_by_default():
    page, plot = run_all.default_paths("fast")
    assert not page.startswith(os.path.join(ROOT, "docs")) and not plot.startswith(os.path.join(ROOT, "docs"))
    for path in (page, plot):
        ignored = subprocess.run(["git", "check-ignore", "-q", os.path.relpath(path, ROOT)], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} must be ignored by git"
    assert run_all.default_paths("full") == (
        os.path.join(ROOT, "docs", "benchmarks.md"),
        os.path.join(ROOT, "docs", "img", "benchmarks.png"),
    )


def test_keep_runs_one_benchmark_again_and_keeps_the_others_from_the_record(tmp_path):
    first = write_script(tmp_path / "first.py", f"print({OVERHEAD.format('+9.7%')!r})\n")
    second = write_script(
        tmp_path / "second.py",
        f"print('a table')\nprint('best results within noise (|difference| <= 2 SE): yes')\nprint({PRUNING.format('42.1')!r})\n",
    )
    benchmarks = [run_all.Benchmark("overhead", first, "speed"), run_all.Benchmark("pruning", second, "A")]
    out = tmp_path / "page.md"
    args = ["--full", "--out", str(out), "--plot", "none"]
    assert run_all.main(args, benchmarks=benchmarks) == 0  # +9.7% misses its goal: no failure
    record = json.loads((tmp_path / "page.json").read_text())
    assert record["mode"] == "full" and [r["benchmark"] for r in record["runs"]] == ["overhead", "pruning"]
    pruning_run = record["runs"][1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", pruning_run["started"])
    assert re.fullmatch(
        r"[\d.]+ [\d.]+ [\d.]+ at the start, [\d.]+ [\d.]+ [\d.]+ at the end", pruning_run["load"]
    )
    page = out.read_text()
    assert (
        "**miss**" in page and f"Ran {pruning_run['started']} at commit {pruning_run['commit']}; load" in page
    )

    # the first script, measured again (say, on a quiet machine); the second's run is kept as it was
    write_script(tmp_path / "first.py", f"print({OVERHEAD.format('+0.4%')!r})\n")
    os.remove(second)  # not run again
    assert run_all.main([*args, "--only", "overhead", "--keep"], benchmarks=benchmarks) == 0
    again = json.loads((tmp_path / "page.json").read_text())
    assert again["runs"][1] == pruning_run
    page = out.read_text()
    assert "`overhead=+0.4%`" in page and "+9.7%" not in page and "a table" in page
    assert page.index("## overhead") < page.index("## pruning")
    assert "| **miss** |" not in page and page.count("| **pass** |") == 2


def test_keep_without_a_record_of_the_same_mode_is_refused(tmp_path, capsys):
    benchmarks = [run_all.Benchmark("overhead", "x.py", "speed")]
    out = tmp_path / "page.md"
    args = ["--out", str(out), "--plot", "none", "--only", "overhead", "--keep"]
    assert run_all.main(["--full", *args], benchmarks=benchmarks) == 2
    assert f"--keep: no record of a previous run at {tmp_path / 'page.json'}" in capsys.readouterr().err
    (tmp_path / "page.json").write_text(json.dumps({"mode": "fast", "runs": []}))
    assert run_all.main(["--full", *args], benchmarks=benchmarks) == 2
    assert "must hold runs of mode 'full'; got mode 'fast'" in capsys.readouterr().err
    assert not out.exists()


def test_the_commit_is_marked_by_changes_to_tracked_files_other_than_the_outputs(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    for path in ("docs/benchmarks.md", "docs/img/benchmarks.png", "a.py", "docs/ünïcode page.md"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("1")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    monkeypatch.setattr(run_all, "ROOT", str(tmp_path))
    outputs = [str(tmp_path / "docs" / "benchmarks.md"), str(tmp_path / "docs" / "benchmarks.json")]
    clean = run_all.commit_of_tree(outputs)
    assert re.fullmatch(r"[0-9a-f]{7,}", clean)
    (tmp_path / "docs" / "benchmarks.md").write_text("2")  # the page, rewritten as the run goes
    (tmp_path / "docs" / "benchmarks.json").write_text("{}")  # untracked
    assert run_all.commit_of_tree(outputs) == clean
    assert run_all.commit_of_tree() == f"{clean} (with uncommitted changes)"
    (tmp_path / "docs" / "img" / "benchmarks.png").unlink()  # the plot is not among these outputs
    assert run_all.commit_of_tree(outputs) == f"{clean} (with uncommitted changes)"
    outputs.append(str(tmp_path / "docs" / "img" / "benchmarks.png"))
    assert run_all.commit_of_tree(outputs) == clean
    (tmp_path / "docs" / "ünïcode page.md").write_text("2")  # quoted by git status
    assert run_all.commit_of_tree(outputs) == f"{clean} (with uncommitted changes)"
    git("checkout", "--", "docs/ünïcode page.md")
    git("mv", "a.py", "docs/b.py")  # a rename is a change
    assert run_all.commit_of_tree(outputs) == f"{clean} (with uncommitted changes)"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--full", "--keep"],
            "--keep keeps the runs of the benchmarks not named by --only: give --only NAMES",
        ),
        (["--full", "--out", "page.json"], "--out must name a Markdown page ending in .md; got 'page.json'"),
        (["--full", "--only", " , "], "--only must list some of"),
    ],
)
def test_inconsistent_options_are_refused(args, message, capsys):
    with pytest.raises(SystemExit):
        run_all.parse_args(args, run_all.BENCHMARKS)
    assert message in capsys.readouterr().err


def test_only_names_may_be_spaced(tmp_path):
    good = write_script(tmp_path / "good.py", f"print({OVERHEAD.format('+0.5%')!r})\n")
    benchmarks = [run_all.Benchmark("one", good, "1"), run_all.Benchmark("two", good, "2")]
    out = tmp_path / "page.md"
    assert (
        run_all.main(["--fast", "--out", str(out), "--plot", "none", "--only", "one, two"], benchmarks) == 0
    )
    assert [r["benchmark"] for r in json.loads((tmp_path / "page.json").read_text())["runs"]] == [
        "one",
        "two",
    ]


@pytest.mark.parametrize(
    "runs",
    [[{"benchmark": "overhead"}], ["overhead"], [{"benchmark": ["x"]}], "runs", None],
)
def test_a_malformed_record_is_refused_with_kept_runs_untouched(tmp_path, capsys, runs):
    (tmp_path / "page.json").write_text(json.dumps({"mode": "full", "runs": runs}))
    benchmarks = [run_all.Benchmark("overhead", "x.py", "speed")]
    args = ["--full", "--out", str(tmp_path / "page.md"), "--plot", "none", "--only", "overhead", "--keep"]
    assert run_all.main(args, benchmarks=benchmarks) == 2
    assert "must hold a list of runs as written by run_all.py" in capsys.readouterr().err
    assert json.loads((tmp_path / "page.json").read_text())["runs"] == runs


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_an_ignored_sighup_stays_ignored(tmp_path):
    # as under `nohup`: a hang-up must not stop the run
    hangup = write_script(
        tmp_path / "hangup.py",
        f"import os, signal\nos.kill(os.getppid(), signal.SIGHUP)\nprint({OVERHEAD.format('+0.5%')!r})\n",
    )
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        out = tmp_path / "page.md"
        args = ["--fast", "--out", str(out), "--plot", "none"]
        assert run_all.main(args, benchmarks=[run_all.Benchmark("hangup", hangup, "sends SIGHUP")]) == 0
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)
    assert "| **pass** |" in out.read_text()


def test_a_stopped_keep_run_keeps_the_previous_runs_of_what_it_did_not_run(tmp_path):
    first = write_script(tmp_path / "first.py", f"print({OVERHEAD.format('+0.5%')!r})\n")
    benchmarks = [run_all.Benchmark("one", first, "1"), run_all.Benchmark("two", first, "2")]
    args = ["--full", "--out", str(tmp_path / "page.md"), "--plot", "none"]
    assert run_all.main(args, benchmarks=benchmarks) == 0
    before = json.loads((tmp_path / "page.json").read_text())["runs"]
    stopper = write_script(
        tmp_path / "stopper.py",
        "import os, signal, time\nos.kill(os.getppid(), signal.SIGTERM)\ntime.sleep(30)\n",
    )
    benchmarks = [run_all.Benchmark("one", stopper, "1"), run_all.Benchmark("two", first, "2")]
    assert run_all.main([*args, "--only", "one,two", "--keep"], benchmarks=benchmarks) == 1
    assert json.loads((tmp_path / "page.json").read_text())["runs"] == before  # neither ran again
    assert "| [one](#one) | 1 | - | - | **not run** | - |" in (tmp_path / "page.md").read_text()


@pytest.mark.parametrize(
    "line, passed, value",
    [
        (
            "headline: epoch_cost=0.62x from epochs 10-60 to 450-500 against plain model.fit, "
            "1.71x plain model.fit at epochs "
            "450-500 (goal: flat from epoch 10 to 500, within 1.1x of plain model.fit)",
            False,
            1.71,
        ),
        (
            "headline: epoch_cost=1.02x from epochs 10-60 to 450-500 against plain model.fit, "
            "1.05x plain model.fit at epochs "
            "450-500 (goal: flat from epoch 10 to 500, within 1.1x of plain model.fit)",
            True,
            1.05,
        ),
        (  # within 1.1x of plain, but growing
            "headline: epoch_cost=1.30x from epochs 10-60 to 450-500 against plain model.fit, "
            "1.05x plain model.fit at epochs "
            "450-500 (goal: flat from epoch 10 to 500, within 1.1x of plain model.fit)",
            False,
            1.05,
        ),
        (
            "headline: trial_cost=5.20x cheaper per trial than keras-tuner at 400 trials, 1.04x plain "
            "model.fit per epoch at epochs 450-500, 1.02x from epochs 10-60 to 450-500 against plain model.fit (goal: 5x cheaper "
            "per trial, per epoch within 1.1x of plain model.fit and flat)",
            True,
            5.2,
        ),
        (
            "headline: trial_cost=5.20x cheaper per trial than keras-tuner at 400 trials, 1.40x plain "
            "model.fit per epoch at epochs 450-500, 1.02x from epochs 10-60 to 450-500 against plain model.fit (goal: 5x cheaper "
            "per trial, per epoch within 1.1x of plain model.fit and flat)",
            False,
            5.2,
        ),
        (  # within 1.1x of plain, but growing
            "headline: trial_cost=5.20x cheaper per trial than keras-tuner at 400 trials, 1.04x plain "
            "model.fit per epoch at epochs 450-500, 1.25x from epochs 10-60 to 450-500 against plain model.fit (goal: 5x cheaper "
            "per trial, per epoch within 1.1x of plain model.fit and flat)",
            False,
            5.2,
        ),
        (
            "headline: trial_cost=1.07x cheaper per trial than keras-tuner at 10 trials "
            "(goal: 5x cheaper per trial)",
            False,
            1.07,
        ),
    ],
)
def test_the_cost_benchmarks_are_judged_on_both_of_their_goals(line, passed, value):
    verdict = run_all.judge(run_all.parse_headline(line), "")
    assert (verdict.passed, verdict.value) == (passed, value)


@pytest.mark.parametrize(
    "line, passed, value",
    [
        (
            "headline: search_quality=4/9 searched ratios within 1.0 of the analytic ones "
            "(goal: all, in at most 30 trials)",
            False,
            4 / 9,
        ),
        (
            "headline: search_quality=9/9 searched ratios within 1.0 of the analytic ones "
            "(goal: all, in at most 30 trials)",
            True,
            1.0,
        ),
    ],
)
def test_search_quality_passes_when_every_ratio_is_within_one(line, passed, value):
    verdict = run_all.judge(run_all.parse_headline(line), "")
    assert (verdict.passed, verdict.value) == (passed, pytest.approx(value))


def test_the_ratio_landscape_is_not_judged():
    line = "headline: ratio_landscape=lowest test MSE at offsets src2 +0.00, src3 -2.30 (goal: none, a measurement; 0 is the analytic ratio)"
    assert run_all.judge(run_all.parse_headline(line), "").passed is None
