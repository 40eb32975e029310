"""Issue 13: `grade --dask` gives a local run's results, with its isolation, on a Dask cluster.

One LocalCluster of two worker processes serves the module. The batch (the bundled examples,
the fixtures, files that cannot be graded and one that overruns a small --timeout) is graded
once locally and once on the cluster; each file's report must be the same, in the same order.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symderiv.grading import batch, cluster
from symderiv.grading.batch import Job, ProcessExecutor, run_batch
from symderiv.grading.cluster import ClusterError, DaskExecutor, grade_shipped, stop_grader
from symderiv.grading.results import GradeConfig

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "submissions"
FAST = GradeConfig(symbolic=False)
SMALL = 4.0  # the small --timeout of the batch in which slow.md overruns (its other file needs no grading)
GOOD = r"$$\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)$$" + "\n"
# 400 claims that take the numeric check about 60 ms each (some 20 s): far over SMALL, wherever it runs
SLOW = "\n\n".join(
    rf"$$\frac{{\partial J}}{{\partial z^{{(3)}}}} = \frac{{1}}{{N}}(\psi(z^{{(3)}}) - \Delta)"
    rf" + {i}\lambda W^{{(2)}} a^{{(2)T}}$$"
    for i in range(400)
)


def _without_timings(obj):
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    made = {
        "binary.md": b"\x00\x01\x02 not text \xff\xfe",
        "empty.md": b"",
        "latin1.md": GOOD.encode() + "caf\xe9\n".encode("latin-1"),
    }
    for name, data in made.items():
        (tmp / name).write_bytes(data)
    (tmp / "folder.md").mkdir()
    examples = sorted(str(p) for p in (ROOT / "examples").glob("softmax-*.md"))
    fixtures = sorted(str(p) for p in FIXTURES.glob("softmax_*.md"))
    (tmp / "slow.md").write_text(SLOW)
    return {
        "default": examples + fixtures + [str(tmp / n) for n in (*made, "folder.md", "absent.md")],
        "small": [str(tmp / "slow.md"), str(tmp / "gone.md")],
    }


@pytest.fixture(scope="module")
def both(files, scheduler):
    """Each batch graded locally and on the cluster: (local reports, cluster reports, indices as
    the cluster finished them, the files), by the batch's --timeout."""
    out = {}
    for timeout, batch_files in ((batch.DEFAULT_TIMEOUT, files["default"]), (SMALL, files["small"])):
        local = run_batch(batch_files, "softmax-2layer", FAST, timeout=timeout, executor=ProcessExecutor(2))
        finished = []
        remote = run_batch(
            batch_files,
            "softmax-2layer",
            FAST,
            timeout=timeout,
            executor=DaskExecutor(scheduler),
            on_result=lambda job, report, seen=finished: seen.append(job.index),
        )
        out[timeout] = local, remote, finished, batch_files
    return out


def _name(path: str) -> str:
    return Path(path).name


CASES = [
    # file, what its report must hold (on both runs)
    ("softmax-alice.md", "parts"),
    ("softmax-bob.md", "parts"),
    ("softmax_columns_correct.md", "parts"),
    ("softmax_missing_garbled.md", "parts"),
    ("softmax_rows_sign.md", "parts"),
    ("softmax_sample_unicode_ocr.md", "parts"),
    ("binary.md", "is binary"),
    ("empty.md", "is empty"),
    ("latin1.md", "parts"),
    ("folder.md", "is a directory"),
    ("absent.md", "no such file"),
    ("gone.md", "no such file", SMALL),
    ("slow.md", "grading took longer than 4 s (the --timeout limit); this file was not graded", SMALL),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_cluster_grades_each_file_as_a_local_run_does(both, case):
    name, holds = case[:2]
    local, remote, _, files = both[case[2] if len(case) > 2 else batch.DEFAULT_TIMEOUT]
    i = [_name(f) for f in files].index(name)
    a, b = local[i].to_dict(), remote[i].to_dict()
    assert _without_timings(a) == _without_timings(b)
    assert b["file"] == files[i]
    if holds == "parts":
        assert b["parts"] and "error" not in b
    else:
        assert holds in b["error"] and b["error"].startswith(files[i])


@pytest.mark.parametrize("timeout", [batch.DEFAULT_TIMEOUT, SMALL], ids=["default-timeout", "small-timeout"])
def test_every_file_is_reported_once_in_the_order_given(both, timeout):
    local, remote, finished, files = both[timeout]
    assert [r.file for r in remote] == [r.file for r in local] == files
    assert sorted(finished) == list(range(len(files)))


def test_grade_dask_prints_the_json_of_a_local_run(scheduler, tmp_path):
    examples = sorted(str(p) for p in (ROOT / "examples").glob("*.md") if p.name.startswith("softmax"))
    args = ["grade", "--key", "softmax-2layer", "--json", "--no-symbolic", *examples, str(tmp_path / "absent.md")]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = [_cli(args, env), _cli([*args[:1], "--dask", scheduler, *args[1:]], env)]
    assert runs[0].returncode == runs[1].returncode == 1
    assert "Traceback" not in runs[1].stderr
    one, two = (_without_timings(json.loads(r.stdout)) for r in runs)
    assert one == two and len(two) == len(examples) + 1


def _cli(args, env, timeout=240) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(
        [sys.executable, "-m", "symderiv", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"symderiv {' '.join(args[:4])} … did not exit within {timeout} s")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


BAD_ADDRESSES = [
    # address, what the one-line error says
    ("tcp://127.0.0.1:9", "no Dask scheduler answered within 2 s"),
    ("nonsense", "cannot use it as a Dask scheduler"),
]


@pytest.mark.parametrize("address, says", BAD_ADDRESSES, ids=["closed-port", "malformed"])
def test_an_unusable_address_is_one_error_naming_it(tmp_path, address, says):
    (tmp_path / "a.md").write_text(GOOD)
    with pytest.raises(ClusterError) as caught:
        run_batch([tmp_path / "a.md"], "softmax-2layer", FAST, executor=DaskExecutor(address, connect_timeout=2))
    message = str(caught.value)
    assert message.startswith(f"{address}: ") and says in message and "\n" not in message


def test_grade_dask_with_an_unusable_address_exits_with_one_line(tmp_path):
    (tmp_path / "a.md").write_text(GOOD)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = _cli(["grade", "--key", "softmax-2layer", "--dask", "nonsense", str(tmp_path / "a.md")], env, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "symderiv: nonsense: cannot use it as a Dask scheduler (missing port number in address 'nonsense')"
    ]


# ---------------------------------------------------------------------------- the worker's isolation


def _misbehaving(real):
    def grade(path, problem, config):
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        if text.startswith("hang"):
            while True:
                time.sleep(1)
        if text.startswith("crash"):
            os._exit(3)
        if text.startswith("segv"):
            os.kill(os.getpid(), signal.SIGKILL)
        if text.startswith("raise"):
            raise AttributeError("'NoneType' object has no attribute 'index'")
        return real(path, problem, config)

    return grade


WORKER_CASES = [
    # what the shipped file makes grading do, what its report says
    ("good", None),
    ("hang", "grading took longer than 2 s (the --timeout limit); this file was not graded"),
    ("crash", "the grading process died (exit code 3); this file was not graded"),
    ("segv", "the grading process died (signal 9); this file was not graded"),
    ("raise", "grading failed: AttributeError"),
]


def _ship_all(results) -> None:
    """In a daemonic process, as on a Dask worker: each case, then a good file after it."""
    for behaviour, _ in WORKER_CASES:
        data = GOOD.encode() if behaviour == "good" else f"{behaviour}\n{GOOD}".encode()
        # only the hanging file has a small limit: a fresh grading process's first file may be slow
        job = Job(0, f"{behaviour}.md", "softmax-2layer", FAST, 2.0 if behaviour == "hang" else 120.0)
        after = Job(1, "after.md", "softmax-2layer", FAST, 120.0)
        results.put((behaviour, grade_shipped(job, data).error, grade_shipped(after, GOOD.encode()).error))
    stop_grader()
    results.put(None)


def test_a_bad_file_costs_its_own_grade_only_in_a_daemonic_worker(monkeypatch):
    monkeypatch.setattr(batch, "grade_file", _misbehaving(batch.grade_file))
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    worker = context.Process(target=_ship_all, args=(results,), daemon=True)
    worker.start()
    got = {}
    while (item := results.get(timeout=600)) is not None:
        got[item[0]] = item[1:]
    worker.join(10)
    assert worker.exitcode == 0
    for behaviour, says in WORKER_CASES:
        error, after = got[behaviour]
        assert after is None, behaviour  # the next file is graded
        if says is None:
            assert error is None
        else:
            assert error.startswith(f"{behaviour}.md: ") and says in error, error


def test_the_grading_process_is_kept_between_jobs_and_stopped_on_request():
    job = Job(0, "a.md", "softmax-2layer", FAST, 30.0)
    assert grade_shipped(job, GOOD.encode()).error is None
    first = cluster.current_grader()
    assert grade_shipped(job, GOOD.encode()).error is None
    assert cluster.current_grader() is first and first.alive()
    stop_grader()
    assert cluster.current_grader() is None and not first.alive()


def test_the_exact_check_runs_on_the_cluster_as_locally(scheduler, tmp_path, monkeypatch):
    # symbolic on: the grading process on a worker forks SymPy workers of its own (it deadlocked once)
    monkeypatch.setenv("SYMDERIV_CACHE_DIR", str(tmp_path))
    files = [str(ROOT / "examples" / "softmax-bob.md")]
    local = run_batch(files, "softmax-2layer", GradeConfig(), timeout=60, executor=ProcessExecutor(1))
    remote = run_batch(files, "softmax-2layer", GradeConfig(), timeout=60, executor=DaskExecutor(scheduler))
    assert remote[0].error is None
    assert {p.check["symbolic"]["status"] for p in remote[0].parts if p.check} >= {"equal", "different"}
    assert _without_timings(local[0].to_dict()) == _without_timings(remote[0].to_dict())
