"""Run every benchmark and write a page of results: tables, headlines against their goals, a plot.

Each benchmark script runs in its own process, one after the other, in its
fast mode (``--fast``: a smoke run of a few minutes in all, for CI) or in its
full configuration (``--full``: the record). Its standard output is kept
verbatim; its last line, ``headline: <name>=<value> (goal: ...)``, is parsed
and judged against the goal. A script that exits with an error, or prints no
headline, is reported as failed with the end of its standard error, and this
script then exits with status 1.

The page (Markdown) gives the date, the commit, the machine and the
software, the mode, a summary table, a plot of every headline value against
its goal (``--plot``; matplotlib, skipped without it), and per benchmark its
command, wall time and output. ``--full`` writes ``docs/benchmarks.md`` and
``docs/img/benchmarks.png``; ``--fast`` writes
``benchmarks/results/fast.md`` and ``benchmarks/results/fast.png``
(``benchmarks/results/`` is ignored by git), and never ``docs/`` unless
``--out`` names it.

Examples::

    python benchmarks/run_all.py --fast
    python benchmarks/run_all.py --full
    python benchmarks/run_all.py --fast --only class_weight_d,overhead --out /tmp/benchmarks.md
    python benchmarks/run_all.py --full --only overhead --keep

The runs are also saved as JSON next to the page (``docs/benchmarks.json``);
``--keep`` runs the ``--only`` benchmarks again and keeps the others' runs
from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STDERR_LINES = 30
HEADLINE = re.compile(r"^headline: (?P<name>[^=\s]+)=(?P<value>.*?) \(goal: (?P<goal>.*)\)\s*$")
NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf"


@dataclasses.dataclass(frozen=True)
class Headline:
    """A parsed headline line: ``headline: <name>=<value> (goal: <goal>)``."""

    name: str
    value: str
    goal: str

    @property
    def text(self) -> str:
        return f"{self.name}={self.value}"


def parse_headline(line: str) -> Headline | None:
    """The headline of a line, or None when it is not one.

    Example:
        >>> parse_headline("headline: overhead=+0.5% (goal: within 3% of plain model.fit)")
        Headline(name='overhead', value='+0.5%', goal='within 3% of plain model.fit')
        >>> parse_headline("total wall time: 35 s") is None
        True
    """
    match = HEADLINE.match(line.strip())
    return Headline(match["name"], match["value"], match["goal"]) if match else None


def numbers(text: str) -> list[float]:
    """The numbers in `text`, in order.

    Example:
        >>> numbers("+0.0123 test MSE (+3.1 SE, paired)")
        [0.0123, 3.1]
    """
    return [float(n) for n in re.findall(NUMBER, text)]


# -- judging a headline against its goal ---------------------------------------------
@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether a headline meets its goal, and what to plot.

    Attributes:
        passed: True (goal met), False (missed) or None (not judged).
        value: The plotted number, or None.
        relation: ``"<="``, ``"<"``, ``">="``, ``">"`` or ``"within"``.
        target: The threshold, or ``(low, high)`` with ``"within"``.
        label: What `value` is, for the plot's axis.
        log: Whether to plot on a log scale.
    """

    passed: bool | None
    value: float | None = None
    relation: str = ""
    target: float | tuple[float, float] | None = None
    label: str = ""
    log: bool = False


def compare(value: float, relation: str, target: float | tuple[float, float]) -> bool:
    """Whether `value` satisfies `relation` with `target`.

    Example:
        >>> compare(0.5, "<=", 3.0), compare(21.1, ">", 3.0), compare(40.0, "within", (9.5, 38.0))
        (True, True, False)
    """
    if relation == "within":
        low, high = target  # type: ignore[misc]
        return low <= value <= high
    bound = float(target)  # type: ignore[arg-type]
    return {"<=": value <= bound, "<": value < bound, ">=": value >= bound, ">": value > bound}[relation]


def verdict_of(
    value: float, relation: str, target: float | tuple[float, float], label: str, log: bool = False
) -> Verdict:
    return Verdict(compare(value, relation, target), value, relation, target, label, log)


def in_se(text: str) -> float | None:
    """The ``(x SE`` count of a headline value, or None.

    Example:
        >>> in_se("+0.0123 test MSE (+3.1 SE, paired)"), in_se("-0.001 (n/a SE)")
        (3.1, None)
    """
    match = re.search(rf"\(({NUMBER}) SE", text)
    return float(match[1]) if match else None


def judge_overhead(headline: Headline, output: str) -> Verdict:
    return verdict_of(numbers(headline.value)[0], "<=", 3.0, "overhead of tuneweights-fixed (%)")


def judge_schedule_gap(headline: Headline, output: str) -> Verdict:
    return verdict_of(numbers(headline.value)[0], ">", 3.0, "constant - schedule (standard errors)")


def judge_pruning(headline: Headline, output: str) -> Verdict:
    saving = numbers(headline.value)[0]
    within = re.search(r"^best results within noise \(.*\): (yes|no)$", output, re.M)
    passed = saving >= 40.0 and bool(within) and within[1] == "yes"  # type: ignore[index]
    return Verdict(passed, saving, ">=", 40.0, "epochs saved by median stopping (%)")


def judge_a2(headline: Headline, output: str) -> Verdict:
    count = in_se(headline.value)
    if count is None:
        return Verdict(None)
    return verdict_of(count, ">", 2.0, "uncertainty - searched static (standard errors)")


def judge_a_regret(headline: Headline, output: str) -> Verdict:
    count = in_se(headline.value)
    if count is None:
        return Verdict(None)
    return verdict_of(count, "<", 2.0, "regret of searched static (standard errors)")


def judge_c(headline: Headline, output: str) -> Verdict:
    return verdict_of(numbers(headline.value)[0], ">=", 0.0, "searched static - best adaptive (delta_m %)")


def judge_d(headline: Headline, output: str) -> Verdict:
    found = re.search(r"^goal met: (yes|no)$", output, re.M)
    theory = re.search(rf"within a factor of ({NUMBER}) of theory, ({NUMBER})", headline.goal)
    value = numbers(headline.value)[0]
    factor, target = (float(theory[1]), float(theory[2])) if theory else (2.0, 19.0)
    return Verdict(
        None if found is None else found[1] == "yes",
        value,
        "within",
        (target / factor, target * factor),
        "searched w_pos for balanced accuracy",
        log=True,
    )


def judge_units(headline: Headline, output: str) -> Verdict:
    """The script's own ``goal met`` line (searched weights within 2 SE in raw units, equal worse by more)."""
    searched = in_se(headline.value)
    found = re.search(r"^goal met: (yes|no)$", output, re.M)
    if searched is None or found is None:
        return Verdict(None)
    return Verdict(
        found[1] == "yes", searched, "within", (-2.0, 2.0), "change of searched weights' delta_m (SE)"
    )


def judge_epoch_cost(headline: Headline, output: str) -> Verdict:
    """Flat per-epoch cost (last window within 1.1x of the first) and within 1.1x of plain model.fit."""
    growth = numbers(headline.value)[0]
    against_plain = re.search(rf"({NUMBER})x plain model\.fit", headline.value)
    if against_plain is None:
        return Verdict(None)
    verdict = verdict_of(float(against_plain[1]), "<=", 1.1, "tuneweights epoch / plain model.fit epoch")
    return dataclasses.replace(verdict, passed=bool(verdict.passed) and growth <= 1.1)


def judge_trial_cost(headline: Headline, output: str) -> Verdict:
    """A trial 5x cheaper than keras-tuner's; with a per-epoch table, epochs within 1.1x of plain and flat."""
    values = numbers(headline.value)
    verdict = verdict_of(values[0], ">=", 5.0, "keras-tuner trial / tuneweights trial", log=True)
    per_epoch = re.search(rf"({NUMBER})x plain model\.fit per epoch at epochs", headline.value)
    growth = re.search(rf"({NUMBER})x from epochs", headline.value)
    if per_epoch is None or growth is None:
        return verdict
    flat = float(per_epoch[1]) <= 1.1 and float(growth[1]) <= 1.1
    return dataclasses.replace(verdict, passed=bool(verdict.passed) and flat)


def judge_search_quality(headline: Headline, output: str) -> Verdict:
    """Every searched ratio within 1.0 natural-log unit of the analytic one."""
    found = re.match(r"(\d+)/(\d+) ", headline.value)
    if found is None or int(found[2]) == 0:
        return Verdict(None)
    share = int(found[1]) / int(found[2])
    return verdict_of(share, ">=", 1.0, "share of searched ratios within 1.0 of the analytic ones")


JUDGES: dict[str, Callable[[Headline, str], Verdict]] = {
    "overhead": judge_overhead,
    "schedule_gap": judge_schedule_gap,
    "pruning_epoch_saving": judge_pruning,
    "a2_uncertainty_minus_static": judge_a2,
    "a_static_regret": judge_a_regret,
    "c_static_minus_best_adaptive": judge_c,
    "d_searched_w_pos": judge_d,
    "c_units_searched_change": judge_units,
    "epoch_cost": judge_epoch_cost,
    "trial_cost": judge_trial_cost,
    "search_quality": judge_search_quality,
}


def judge(headline: Headline, output: str) -> Verdict:
    """The verdict of a headline; not judged when its name is unknown or its value unreadable."""
    rule = JUDGES.get(headline.name)
    if rule is None:
        return Verdict(None)
    try:
        return rule(headline, output)
    except (IndexError, ValueError):
        return Verdict(None)


# -- the benchmarks ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A benchmark script and how to run it.

    Attributes:
        name: Short name (the script's file name without ``.py``).
        script: Path of the script, relative to the repository root or absolute.
        problem: What it measures (the problems of BENCHMARKS.md).
        fast: Arguments of the fast mode.
        full: Arguments of the full mode.
    """

    name: str
    script: str
    problem: str
    fast: tuple[str, ...] = ("--fast",)
    full: tuple[str, ...] = ()

    def command(self, mode: str) -> list[str]:
        return [os.path.join(ROOT, self.script), *(self.fast if mode == "fast" else self.full)]


BENCHMARKS = (
    Benchmark(
        "overhead", "benchmarks/overhead.py", "Speed: per-epoch cost against model.fit", fast=("--quick",)
    ),
    Benchmark("schedule_b", "benchmarks/schedule_b.py", "B: an auxiliary loss that helps only early"),
    Benchmark("pruning", "benchmarks/pruning.py", "A: random search with and without pruning"),
    Benchmark(
        "strategies", "benchmarks/strategies.py", "A, A2, C: adaptive strategies against searched weights"
    ),
    Benchmark("class_weight_d", "benchmarks/class_weight_d.py", "D: the weight of the positive class"),
    Benchmark("units_c", "benchmarks/units_c.py", "C in raw 0-16 units: searched against equal weights"),
    Benchmark(
        "backends",
        "benchmarks/backends.py",
        "Speed: the same search on each Keras backend against its model.fit",
        fast=("--quick",),
    ),
    Benchmark(
        "epoch_cost",
        "benchmarks/epoch_cost.py",
        "Speed: per-epoch cost over 500 epochs against model.fit and keras-tuner",
        fast=("--quick",),
    ),
    Benchmark(
        "trial_cost",
        "benchmarks/trial_cost.py",
        "Speed: per-trial cost against keras-tuner on the same build(hp)",
        fast=("--quick",),
    ),
    Benchmark(
        "ratio_landscape",
        "benchmarks/ratio_landscape.py",
        "A: the objective and the test error around the analytic weights",
        fast=("--quick",),
    ),
    Benchmark(
        "search_quality",
        "benchmarks/search_quality.py",
        "A, A4, A5: searched ratios against the analytic ones",
        fast=("--quick",),
    ),
)


@dataclasses.dataclass
class Run:
    """One benchmark's run.

    Attributes:
        benchmark: What ran.
        command: The command line, as shown on the page.
        returncode: The exit status (None: killed after the timeout).
        stdout, stderr: What it printed.
        wall: Wall time in seconds.
        started: When it started (``YYYY-mm-dd HH:MM UTC``).
        commit: The commit it ran at (as on the page's header).
        load: Load averages (1, 5, 15 min) when it started and ended.
    """

    benchmark: Benchmark
    command: str
    returncode: int | None
    stdout: str
    stderr: str
    wall: float
    started: str = ""
    commit: str = ""
    load: str = ""

    def to_json(self) -> dict:
        """The run as JSON (the benchmark by name)."""
        fields = dataclasses.asdict(self)
        fields["benchmark"] = self.benchmark.name
        return fields

    @classmethod
    def from_json(cls, fields: dict, benchmarks: Sequence[Benchmark]) -> Run | None:
        """The run of `to_json`; None when its benchmark is not among `benchmarks`."""
        by_name = {b.name: b for b in benchmarks}
        if fields.get("benchmark") not in by_name:
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(
            **{**{k: v for k, v in fields.items() if k in names}, "benchmark": by_name[fields["benchmark"]]}
        )

    @property
    def headline(self) -> Headline | None:
        lines = self.stdout.strip().splitlines()
        return parse_headline(lines[-1]) if lines else None

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or self.headline is None

    @property
    def body(self) -> str:
        """The output without the headline line."""
        lines = self.stdout.rstrip().splitlines()
        return "\n".join(lines[:-1] if self.headline is not None else lines)

    @property
    def verdict(self) -> Verdict:
        headline = self.headline
        return Verdict(None) if self.failed or headline is None else judge(headline, self.stdout)

    @property
    def mark(self) -> str:
        if self.failed:
            return "FAILED"
        return {True: "pass", False: "miss", None: "not judged"}[self.verdict.passed]


def end_process(process: subprocess.Popen, grace: float = 10.0) -> tuple[str, str]:
    """Ask a benchmark to stop (SIGTERM: it can delete its temporary files), kill it after `grace` seconds.

    Returns:
        What it printed on standard output and standard error.
    """
    process.terminate()
    try:
        return process.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def display_command(benchmark: Benchmark, mode: str) -> str:
    args = benchmark.fast if mode == "fast" else benchmark.full
    return " ".join(["python", benchmark.script, *args])


def run_benchmark(
    benchmark: Benchmark, mode: str, timeout: float | None = None, outputs: Sequence[str] = ()
) -> Run:
    """Run one benchmark script in a subprocess from the repository root; never raises on its failure.

    `outputs` are the files of the page, left out of the commit's uncommitted changes.
    """
    started, commit, load = now(), commit_of_tree(outputs), load_average()
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *benchmark.command(mode)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        returncode: int | None = process.returncode
    except subprocess.TimeoutExpired:
        stdout, stderr = end_process(process)
        returncode = None
        stderr += f"\nkilled after the timeout of {timeout:g} s"
    except BaseException:  # stopped by a signal (`Stopped`) or Ctrl-C
        end_process(process)
        raise
    wall = time.perf_counter() - began
    return Run(
        benchmark,
        display_command(benchmark, mode),
        returncode,
        stdout,
        stderr,
        wall,
        started=started,
        commit=commit,
        load=f"{load} at the start, {load_average()} at the end",
    )


# -- the machine ----------------------------------------------------------------
def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def commit_of_tree(outputs: Sequence[str] = ()) -> str:
    """The short commit hash, marked when tracked files other than `outputs` have uncommitted changes.

    The page, its record and its plot (`outputs`) are left out: they change as the run goes.
    """
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    excluded = [
        f":(exclude,literal){os.path.relpath(path, ROOT)}"
        for path in outputs
        if not os.path.relpath(os.path.abspath(path), ROOT).startswith("..")
    ]
    if git("status", "--porcelain", "--untracked-files=no", "--", ".", *excluded):
        commit += " (with uncommitted changes)"
    return commit


def machine(outputs: Sequence[str] = ()) -> dict[str, str]:
    """Date, commit (see `commit_of_tree`), machine and software, as shown at the top of the page."""
    commit = commit_of_tree(outputs)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": now(),
        "commit": commit,
        "machine": f"{cpus} CPU cores available ({os.cpu_count()} in the machine, {cpu_model()}), "
        f"{platform.platform()}",
        "software": f"Python {platform.python_version()}, TensorFlow {version('tensorflow')}, Keras "
        f"{version('keras')}, keras-tuner {version('keras-tuner')}, tuneweights {version('tuneweights')}",
        "load": load_average(),
    }


# -- the page ----------------------------------------------------------------------
MODES = {
    "fast": (
        "**fast** (`--fast`): every benchmark in its smoke configuration (one or two seeds, a few "
        "trials and epochs, small data). The numbers and the pass/miss marks only show that the "
        "scripts run end to end; they say nothing about how tuneweights performs. The record is "
        "written by `--full`."
    ),
    "full": "**full** (`--full`): every benchmark in its full configuration (the record).",
}


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def fence(text: str) -> str:
    """`text` in a fenced code block (longer fences when it holds backticks)."""
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def tail(text: str, count: int = STDERR_LINES) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(lines[-count:]) if lines else "(nothing on standard error)"


def anchor(name: str) -> str:
    return re.sub(r"[^a-z0-9_ -]", "", name.lower()).replace(" ", "-")


def other_commits(runs: Sequence[Run], commit: str) -> str:
    """``"; <benchmark> ran at <commit>, ..."`` for the runs at another commit than the page's."""
    others = [
        f"{run.benchmark.name} ran at {run.commit}" for run in runs if run.commit and run.commit != commit
    ]
    return "; " + ", ".join(others) if others else ""


def render(
    runs: Sequence[Run],
    info: dict[str, str],
    mode: str,
    plot: str | None = None,
    pending: Sequence[Benchmark] = (),
    stopped: str = "",
) -> str:
    """The Markdown page of a set of runs.

    Args:
        runs: The benchmarks' runs, in the order to show.
        info: `machine()` (``date``, ``commit``, ``machine``, ``software``,
            ``load``; more keys are ignored, ``load_end`` is shown when given).
        mode: ``"fast"`` or ``"full"``.
        plot: Path of the summary plot relative to the page, or None.
        pending: Benchmarks not run (yet), shown after the runs.
        stopped: Why they were not run, e.g. ``"the run was stopped by SIGTERM"``;
            empty while the run is in progress.

    Returns:
        The page.
    """
    total = sum(run.wall for run in runs)
    failed = [run.benchmark.name for run in runs if run.failed]
    not_run = ", ".join(b.name for b in pending)
    why = stopped or "the run is in progress"
    load = info.get("load", "unknown")
    if "load_end" in info:
        load = f"{load} at the start, {info['load_end']} at the end"
    lines = [
        "# Benchmark results",
        "",
        "Written by `python benchmarks/run_all.py"
        + (" --full" if mode == "full" else " --fast")
        + "`; the benchmarks are described in `benchmarks/README.md` of the repository. Each script "
        "ran in its own process, one after the other; its output is shown verbatim below, and its last "
        "line (the headline) is judged against its goal: **pass**, **miss**, **not judged** (a headline "
        "this page cannot read) or **FAILED** (the script exited with an error or printed no headline).",
        "",
        f"- Mode: {MODES[mode]}",
        f"- Date: {info.get('date', 'unknown')}",
        f"- Commit: {info.get('commit', 'unknown')}" + other_commits(runs, info.get("commit", "")),
        f"- Machine: {info.get('machine', 'unknown')}; load average (1, 5, 15 min) {load}",
        f"- Software: {info.get('software', 'unknown')}",
        f"- Wall time: {total:.0f} s in all"
        + (f"; failed: {', '.join(failed)}" if failed else "; every script run succeeded")
        + (f"; not run: {not_run} ({why})" if pending else ""),
        "",
        "## Summary",
        "",
        "| benchmark | problem | headline | goal | result | wall time |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        headline = run.headline
        shown = f"`{cell(headline.text)}`" if headline and not run.failed else "-"
        goal = cell(headline.goal) if headline else "-"
        lines.append(
            f"| [{run.benchmark.name}](#{anchor(run.benchmark.name)}) | {cell(run.benchmark.problem)} | "
            f"{shown} | {goal} | **{run.mark}** | {run.wall:.0f} s |"
        )
    for benchmark in pending:
        lines.append(
            f"| [{benchmark.name}](#{anchor(benchmark.name)}) | {cell(benchmark.problem)} | - | - | "
            "**not run** | - |"
        )
    if plot:
        lines += ["", f"![Each headline value against its goal]({plot})"]
    for run in runs:
        lines += ["", f"## {run.benchmark.name}", "", f"{run.benchmark.problem}.", ""]
        status = "exit status " + ("none (timed out)" if run.returncode is None else str(run.returncode))
        lines += [f"Command: `{run.command}`; wall time {run.wall:.0f} s; {status}; **{run.mark}**.", ""]
        if run.started:
            lines += [
                f"Ran {run.started} at commit {run.commit}; load average (1, 5, 15 min) {run.load}.",
                "",
            ]
        headline = run.headline
        if run.failed:
            reason = (
                "no headline line at the end of its output"
                if run.returncode == 0
                else "it exited with an error"
            )
            lines += [
                f"Failed: {reason}. The last lines of its standard error:",
                "",
                fence(tail(run.stderr)),
                "",
            ]
            if run.stdout.strip():
                lines += ["Its standard output:", "", fence(run.stdout.rstrip()), ""]
            continue
        assert headline is not None
        lines += [fence(run.body), ""]
        lines.append(f"Headline: `{headline.text}`; goal: {headline.goal}; **{run.mark}**.")
    for benchmark in pending:
        lines += ["", f"## {benchmark.name}", "", f"{benchmark.problem}.", "", f"Not run: {why}."]
    return "\n".join(lines).rstrip() + "\n"


# -- the plot ----------------------------------------------------------------------
def write_plot(runs: Sequence[Run], path: str) -> bool:
    """One panel per judged headline with a finite value: the value (a dot), the goal's region (shaded).

    Returns:
        False when there was nothing to plot or matplotlib is missing.
    """
    shown = [run for run in runs if run.verdict.value is not None and math.isfinite(run.verdict.value)]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    if not shown:
        return False
    figure, axes = plt.subplots(len(shown), 1, figsize=(7.5, 1.25 * len(shown) + 0.6), squeeze=False)
    for axis, run in zip(axes[:, 0], shown, strict=True):
        verdict = run.verdict
        value = float(verdict.value)  # type: ignore[arg-type]
        bounds = verdict.target if isinstance(verdict.target, tuple) else (verdict.target,)
        points = [value, *(float(b) for b in bounds if b is not None)]
        if verdict.log:
            low, high = min(points) / 3, max(points) * 3
        else:
            span = max(max(points) - min(points), 1.0)
            low, high = min(points) - 0.3 * span, max(points) + 0.3 * span
        if verdict.relation == "within":
            region = bounds
        elif verdict.relation in ("<", "<="):
            region = (low, bounds[0])
        else:
            region = (bounds[0], high)
        axis.axvspan(*region, color="tab:green", alpha=0.15, lw=0)
        for bound in bounds:
            axis.axvline(bound, color="tab:green", lw=1, ls="--")
        color = {True: "tab:green", False: "tab:red", None: "tab:gray"}[verdict.passed]
        axis.plot([value], [0], "o", color=color, ms=9)
        axis.set_xlim(low, high)
        if verdict.log:
            axis.set_xscale("log")
        axis.set_yticks([])
        title = f"{run.benchmark.name}: {run.headline.text}"  # type: ignore[union-attr]
        title = title if len(title) <= 90 else title[:89] + "..."
        axis.set_title(f"{title} ({run.mark})", fontsize=9, loc="left")
        axis.set_xlabel(verdict.label, fontsize=8)
        axis.tick_params(labelsize=8)
    figure.suptitle("Headline values (dots) against their goals (shaded)", fontsize=10)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


# -- command line ---------------------------------------------------------------------
def default_paths(mode: str) -> tuple[str, str]:
    """Where the page and the plot go by default: docs/ for the record, benchmarks/results/ for fast runs."""
    if mode == "full":
        return os.path.join(ROOT, "docs", "benchmarks.md"), os.path.join(
            ROOT, "docs", "img", "benchmarks.png"
        )
    results = os.path.join(HERE, "results")
    return os.path.join(results, "fast.md"), os.path.join(results, "fast.png")


def parse_args(argv: Sequence[str] | None, benchmarks: Sequence[Benchmark]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--fast", action="store_true", help="smoke run of every benchmark (a few minutes)")
    mode.add_argument("--full", action="store_true", help="the full benchmarks (the record; over an hour)")
    parser.add_argument("--out", help="the page (default: docs/benchmarks.md, or benchmarks/results/fast.md)")
    parser.add_argument(
        "--plot",
        help="the summary plot (default: docs/img/benchmarks.png, or next to a fast page); 'none': no plot",
    )
    names = ", ".join(b.name for b in benchmarks)
    parser.add_argument("--only", help=f"comma-separated benchmarks to run, among {names}")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with --only: keep the other benchmarks' runs from the record of the previous run "
        "(the page's .json), so that one benchmark can be run again without the others",
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds per script (default: 900 with --fast, none with --full)"
    )
    args = parser.parse_args(argv)
    args.names = None
    if args.only is not None:
        args.names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in args.names if n not in {b.name for b in benchmarks}]
        if unknown or not args.names:
            parser.error(f"--only must list some of {names}; got {args.only!r}")
    if args.keep and args.names is None:
        parser.error("--keep keeps the runs of the benchmarks not named by --only: give --only NAMES")
    if args.out and not args.out.endswith(".md"):
        parser.error(f"--out must name a Markdown page ending in .md; got {args.out!r}")
    return args


# The signals that stop a run (SIGHUP where the platform has it).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT) + ((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())


class Stopped(Exception):
    """A signal asked the run to stop."""


def _stop(signum: int, frame: object) -> None:
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)  # a second signal must not interrupt writing the page
    raise Stopped(signal.Signals(signum).name)


def record_path(out: str) -> str:
    """The record of a page's runs (JSON): the page's path with ``.json`` for ``.md``."""
    return os.path.splitext(out)[0] + ".json"


def read_record(path: str, mode: str, benchmarks: Sequence[Benchmark]) -> list[Run]:
    """The runs of a record written by `write_page` in the same mode.

    Raises:
        ValueError: No record, an unreadable one, or one of the other mode.
    """
    try:
        with open(path, encoding="utf-8") as file:
            record = json.load(file)
    except FileNotFoundError:
        raise ValueError(f"--keep: no record of a previous run at {path}; run without --keep first") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"--keep: cannot read the record {path}: {error}") from None
    if not isinstance(record, dict) or record.get("mode") != mode:
        got = record.get("mode") if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"--keep: the record {path} must hold runs of mode {mode!r}; got mode {got!r}")
    entries = record.get("runs")
    if not isinstance(entries, list) or not all(_is_run(entry) for entry in entries):
        raise ValueError(
            f"--keep: the record {path} must hold a list of runs as written by run_all.py; "
            f"got {str(entries)[:200]!r}"
        )
    runs = (Run.from_json(fields, benchmarks) for fields in entries)
    return [run for run in runs if run is not None]


def _is_run(entry: Any) -> bool:
    """Whether `entry` has the fields and types of `Run.to_json`."""
    if not isinstance(entry, dict):
        return False
    texts = ("benchmark", "command", "stdout", "stderr", "started", "commit", "load")
    return (
        all(isinstance(entry.get(key, ""), str) for key in texts)
        and all(key in entry for key in ("benchmark", "command", "returncode", "stdout", "stderr", "wall"))
        and (entry["returncode"] is None or type(entry["returncode"]) is int)
        and isinstance(entry["wall"], (int, float))
        and not isinstance(entry["wall"], bool)
    )


def write_page(
    runs: Sequence[Run],
    info: dict[str, str],
    mode: str,
    out: str,
    plot: str | None,
    pending: Sequence[Benchmark] = (),
    stopped: str = "",
    recorded: Sequence[Run] | None = None,
) -> str | None:
    """Write the page, its record (`record_path`) and the plot.

    Args:
        recorded: The runs of the record, when other than those of the page
            (with ``--keep``, the previous runs of the benchmarks not run yet).

    Returns:
        The plot's path relative to the page, if one was written.
    """
    relative = None
    if plot and write_plot(runs, plot):
        relative = os.path.relpath(plot, os.path.dirname(out)).replace(os.sep, "/")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as page:
        page.write(render(runs, info, mode, relative, pending, stopped))
    with open(record_path(out), "w", encoding="utf-8") as file:
        json.dump({"mode": mode, "runs": [run.to_json() for run in (recorded or runs)]}, file, indent=1)
        file.write("\n")
    return relative


def main(argv: Sequence[str] | None = None, benchmarks: Sequence[Benchmark] = BENCHMARKS) -> int:
    """Run the benchmarks and write the page (and the plot).

    The page is written again after every benchmark, so that a run stopped
    halfway leaves the results so far. SIGTERM, SIGHUP and SIGINT stop the run:
    the script running is killed, the page says which were not run, and the
    exit status is 1.

    Returns:
        0 when every script succeeded, else 1.
    """
    args = parse_args(argv, benchmarks)
    mode = "fast" if args.fast else "full"
    out, plot = default_paths(mode)
    if args.out and os.path.abspath(args.out) != out:
        out = os.path.abspath(args.out)
        plot = os.path.splitext(out)[0] + ".png"
    if args.plot:
        plot = None if args.plot == "none" else os.path.abspath(args.plot)
    timeout = args.timeout if args.timeout is not None else (900.0 if mode == "fast" else None)
    chosen = [b for b in benchmarks if args.names is None or b.name in args.names]
    kept: dict[str, Run] = {}  # the previous runs of the benchmarks not chosen
    previous_runs: list[Run] = []
    if args.keep:
        try:
            previous_runs = read_record(record_path(out), mode, benchmarks)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        kept = {run.benchmark.name: run for run in previous_runs if run.benchmark not in chosen}
    outputs = [out, record_path(out), *([plot] if plot else [])]
    info = machine(outputs)
    done: dict[str, Run] = {}

    def ordered(before: dict[str, Run]) -> list[Run]:
        """The runs of this invocation, else those in `before`, in the benchmarks' order."""
        return [r for b in benchmarks for r in [done.get(b.name) or before.get(b.name)] if r is not None]

    # with --keep, a benchmark not run yet keeps its previous run in the record until it has run
    last = {run.benchmark.name: run for run in previous_runs}

    stopped = ""
    # a signal ignored already (SIGHUP under nohup, SIGINT in a background job) stays ignored
    previous = {
        signum: signal.signal(signum, _stop)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) != signal.SIG_IGN
    }
    try:
        for index, benchmark in enumerate(chosen):
            print(f"{benchmark.name}: {display_command(benchmark, mode)}", file=sys.stderr, flush=True)
            run = run_benchmark(benchmark, mode, timeout, outputs)
            done[benchmark.name] = run
            headline = run.headline
            print(
                f"  {run.wall:.0f} s, {run.mark}"
                + (f": {headline.text}" if headline and not run.failed else ""),
                file=sys.stderr,
                flush=True,
            )
            if index + 1 < len(chosen):
                info["load_end"] = load_average()
                write_page(ordered(kept), info, mode, out, plot, chosen[index + 1 :], "", ordered(last))
    except Stopped as error:
        stopped = f"the run was stopped by {error}"
        if len(done) < len(chosen):
            stopped += f" during {chosen[len(done)].name}"
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    info["load_end"] = load_average()
    pending = chosen[len(done) :]
    runs = ordered(kept)
    relative = write_page(runs, info, mode, out, plot, pending, stopped, ordered(last))
    failed = [run.benchmark.name for run in runs if run.failed]
    print(
        f"wrote {out}"
        + (f" and {plot}" if relative else "")
        + f"; {sum(r.wall for r in done.values()):.0f} s in all"
        + (f" (kept from the previous run: {', '.join(kept)})" if kept else "")
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
        + (f"; {stopped}" if stopped else ""),
        file=sys.stderr,
    )
    return 1 if failed or pending else 0


if __name__ == "__main__":
    sys.exit(main())
