"""Issue 10: one bad file costs its own grade only; workers die with their parent; the symbolic
check works in threads and daemonic pools, measures CPU time, and never turns a verdict."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from symderiv import cli
from symderiv.grading import batch
from symderiv.grading.batch import InlineExecutor, ProcessExecutor, run_batch
from symderiv.grading.results import GradeConfig
from symderiv.judging import exact
from symderiv.judging.check import check_claim
from symderiv.runtime.limits import TimedOut, WorkerLost, fork_serving, run_limited

ROOT = Path(__file__).resolve().parent.parent
GOOD = r"$$\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)$$" + "\n"
TINY = r"\frac{1}{N}(\psi(z^{(3)}) - \Delta) + 10^{-20}"
FAST = GradeConfig(symbolic=False)


def _misbehaving_grade_file(real):
    """grade_file that hangs, crashes its process or raises, depending on the file's name."""

    def grade(path, problem, config):
        name = Path(path).name
        if name.startswith("hang"):
            while True:
                time.sleep(1)
        if name.startswith("crash"):
            os._exit(3)
        if name.startswith("segv"):
            os.kill(os.getpid(), signal.SIGKILL)
        if name.startswith("raise"):
            raise AttributeError("'NoneType' object has no attribute 'index'")
        return real(path, problem, config)

    return grade


@pytest.fixture
def misbehaving(monkeypatch, tmp_path):
    monkeypatch.setattr(batch, "grade_file", _misbehaving_grade_file(batch.grade_file))
    files = {}
    for name in ("good1.md", "hang.md", "crash.md", "segv.md", "raise.md", "good2.md"):
        (tmp_path / name).write_text(GOOD)
        files[name] = str(tmp_path / name)
    return files


REASONS = {
    "hang.md": "longer than",
    "crash.md": "died (exit code 3)",
    "segv.md": "died (signal 9)",
    "raise.md": "AttributeError",
}


@pytest.mark.parametrize("executor", [ProcessExecutor(1), ProcessExecutor(2)], ids=["jobs-1", "jobs-2"])
def test_a_bad_file_costs_its_own_grade_only(misbehaving, executor):
    seen = []
    reports = run_batch(
        list(misbehaving.values()),
        "softmax-2layer",
        FAST,
        timeout=3,
        executor=executor,
        on_result=lambda job, report: seen.append(job.path),
    )
    assert sorted(seen) == sorted(misbehaving.values())  # streamed, each exactly once
    by_name = {Path(r.file).name: r for r in reports}
    assert [Path(r.file).name for r in reports] == list(misbehaving)  # returned in the order given
    for name, report in by_name.items():
        if name.startswith("good"):
            assert report.error is None and report.score == 1.0
        else:
            assert REASONS[name] in report.error and name in report.error


def test_inline_executor_turns_exceptions_into_entries(misbehaving):
    files = [misbehaving["good1.md"], misbehaving["raise.md"]]
    reports = run_batch(files, "softmax-2layer", FAST, executor=InlineExecutor())
    assert reports[0].error is None and "AttributeError" in reports[1].error


@pytest.mark.parametrize(
    "flags",
    [["--json"], ["--jsonl"], ["--json", "--jobs", "2"], ["--csv", "--jobs", "2"]],
    ids=["json", "jsonl", "json-jobs-2", "csv-jobs-2"],
)
def test_grade_command_survives_an_exception(misbehaving, capsys, flags):
    files = [misbehaving["good1.md"], misbehaving["raise.md"], misbehaving["good2.md"]]
    code = cli.main(["grade", "--key", "softmax-2layer", "--no-symbolic", *flags, *files])
    out = capsys.readouterr().out
    assert code == 1
    if "--csv" in flags:
        rows = out.splitlines()
        assert len(rows) == 4 and "AttributeError" in rows[2]
        return
    entries = [json.loads(line) for line in out.splitlines()] if "--jsonl" in flags else json.loads(out)
    assert len(entries) == 3
    assert [bool(e.get("error")) for e in sorted(entries, key=lambda e: e["file"])] == [False, False, True]


def test_a_failing_part_costs_that_part_only(monkeypatch):
    from symderiv.grading import grade

    real = grade._grade_part

    def failing(problem, q, claims, config, max_points):
        if q.id == "dJt/dW2":
            raise OverflowError("int too large to convert to float")
        return real(problem, q, claims, config, max_points)

    monkeypatch.setattr(grade, "_grade_part", failing)
    text = (ROOT / "examples" / "softmax-alice.md").read_text()
    report = grade.grade_text(text, "softmax-2layer", config=FAST)
    parts = {p.quantity: p for p in report.parts}
    assert parts["dJt/dW2"].verdict == "undecided" and "OverflowError" in parts["dJt/dW2"].review
    assert parts["dJ/dz3"].verdict == "correct" and report.score == 4.0


# ---- the symbolic worker ------------------------------------------------------------------


def spin(seconds_of_cpu):
    end = time.process_time() + seconds_of_cpu
    while time.process_time() < end:
        pass
    return "spun"


def nap(seconds):
    time.sleep(seconds)
    return "rested"


def crash():
    os._exit(7)


@pytest.mark.parametrize(
    "fn, args, timeout, expected",
    [
        pytest.param(spin, (30,), 0.5, TimedOut, id="cpu-bound-over-the-limit"),
        pytest.param(nap, (1.5,), 0.5, "rested", id="waiting-costs-no-cpu-time"),
        pytest.param(crash, (), 5, WorkerLost, id="worker-dies"),
        pytest.param(pow, (2, 100), 5, 2**100, id="plain"),
    ],
)
def test_run_limited_measures_cpu_time(fn, args, timeout, expected):
    got = run_limited(fn, args, timeout)
    assert isinstance(got, expected) if isinstance(expected, type) else got == expected


def test_one_threads_timeout_does_not_break_anothers_check():
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(run_limited, spin, (1.0,), 20)
        fast = pool.submit(run_limited, spin, (30,), 0.3)
        assert isinstance(fast.result(), TimedOut)
        assert slow.result() == "spun"


def _check_in_pool(claim):
    v = check_claim("softmax-2layer", "dJ/dz3", claim)
    return v.verdict, v.symbolic.status


CLAIMS = [(TINY, ("incorrect", "different")), (r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)", ("correct", "equal"))]


def test_symbolic_check_in_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMDERIV_CACHE", "0")
    exact._MEMO.clear()
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(_check_in_pool, [c for c, _ in CLAIMS])) == [e for _, e in CLAIMS]


def _serve_a_limited_call(conn, parent):
    conn.send(run_limited(pow, (2, 5), 5))


def test_a_process_made_by_fork_serving_can_fork_workers_of_its_own():
    # a cluster's grading process is such a process, and its exact checks fork SymPy workers
    pid, conn = fork_serving(_serve_a_limited_call)
    try:
        assert conn.poll(20), "the forked process hung (a lock inherited held?)"
        assert conn.recv() == 32
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_symbolic_check_inside_a_daemonic_pool(monkeypatch):
    monkeypatch.setenv("SYMDERIV_CACHE", "0")
    exact._MEMO.clear()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_check_in_pool, [c for c, _ in CLAIMS]) == [e for _, e in CLAIMS]


@pytest.mark.parametrize(
    "outcome", [TimedOut(5.0), WorkerLost("the worker process was killed by signal 9")], ids=["timeout", "lost-worker"]
)
def test_an_undecided_exact_check_never_accepts_and_is_not_remembered(monkeypatch, tmp_path, outcome):
    monkeypatch.setenv("SYMDERIV_CACHE_DIR", str(tmp_path))
    exact._MEMO.clear()
    monkeypatch.setattr(exact, "start_limited", lambda fn, args, timeout: SimpleNamespace(result=lambda: outcome))
    v = check_claim("softmax-2layer", "dJ/dz3", TINY)
    assert (v.verdict, v.accepted, v.symbolic.status) == (
        "undecided",
        False,
        outcome.__class__ is TimedOut and "timeout" or "error",
    )
    assert "review" in v.feedback and v.review
    monkeypatch.undo()
    monkeypatch.setenv("SYMDERIV_CACHE_DIR", str(tmp_path))
    again = check_claim("softmax-2layer", "dJ/dz3", TINY)
    assert (again.verdict, again.symbolic.status) == ("incorrect", "different")


# ---- no orphans ------------------------------------------------------------------------------

psutil = pytest.importorskip("psutil")

GRADE_SCRIPT = """
import sys, time
from symderiv import cli
from symderiv.grading import batch
def hang(path, problem, config):
    while True:
        time.sleep(1)
batch.grade_file = hang
cli.main(["grade", "--key", "softmax-2layer", "--jobs", "2", "--timeout", "600", *sys.argv[1:]])
"""

CHECK_SCRIPT = """
import time
from types import SimpleNamespace
from symderiv.runtime.limits import run_limited
def spin():
    while True:
        pass
run_limited(spin, (), 600)
"""


def _children_of_killed_parent(script: str, args: list[str], expected: int) -> list:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc = psutil.Process(parent.pid)
        deadline = time.monotonic() + 60
        while len(proc.children(recursive=True)) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        children = proc.children(recursive=True)
        assert len(children) >= expected
    finally:
        parent.kill()
        parent.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    return alive


def test_killing_grade_jobs_2_leaves_no_children(tmp_path):
    files = []
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(GOOD)
        files.append(str(tmp_path / name))
    assert _children_of_killed_parent(GRADE_SCRIPT, files, 2) == []


def test_killing_check_mid_sympy_leaves_no_children():
    assert _children_of_killed_parent(CHECK_SCRIPT, [], 1) == []


def test_threads_that_created_workers_can_end():
    """PR_SET_PDEATHSIG fires when the creating thread ends: such an idle worker is replaced."""
    t = threading.Thread(target=run_limited, args=(pow, (2, 3), 5))
    t.start()
    t.join()
    assert run_limited(pow, (2, 4), 5) == 16
