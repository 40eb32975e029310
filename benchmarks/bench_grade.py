#!/usr/bin/env python3
"""Benchmark ``symderiv grade`` on a synthetic class: ``bench_grade.py [--n 100] [--jobs 1 2]``.

Generates N softmax-2layer submissions with make_class.py into a temporary directory, then
for each J runs

    symderiv grade --key softmax-2layer --json --jobs J <the N files>

with the default checks (symbolic on; ``--no-symbolic`` to compare), and prints a table:
wall time, time per submission, whether the JSON has one object per file, and how the
verdicts agree with the verdicts planted by make_class.py.

stderr is a pseudo-terminal, so symderiv draws its progress bar there; the benchmark reads
it to learn when the last submission was graded. A run that does not exit within
--timeout seconds is killed (its whole process group) and reported with that time.

symderiv keeps symbolic results in an on-disk cache (SYMDERIV_CACHE_DIR); every run here
starts from an empty one ("cold": a new class on a new machine), then reruns on the cache the
cold run filled ("warm": the same class graded again); the two are reported separately
(--cold-only skips the warm runs). The last line is a sentence to paste into the README.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loadinfo import load, stamp  # noqa: E402
from make_class import make_class  # noqa: E402

try:
    import psutil  # optional: per-process memory and CPU of the workers, sampled
except ImportError:
    psutil = None

ACCEPT = {"correct", "correct-up-to-layout"}
PROGRESS = re.compile(rb"(\d+)/(\d+)\s")


class Run:
    def __init__(self, jobs: int):
        self.jobs = jobs
        self.cache = "cold"
        self.wall = None  # seconds until the process exited
        self.graded_at = None  # seconds until the progress bar showed N/N
        self.status = "ok"
        self.stdout = ""
        self.stderr = b""
        self.returncode = None
        self.cpu = None  # user + system seconds of the CLI and all its descendants (sampled)
        self.load = ""  # the load average when the run started
        self.worker_rss = 0.0  # the largest resident memory of one process of the run, MiB
        self.total_rss = 0.0  # the largest sum over the run's processes, MiB
        self.processes = 0


class Sampler(threading.Thread):
    """Every 0.2 s: memory and CPU time of the process tree (psutil)."""

    def __init__(self, pid: int, run: Run):
        super().__init__(daemon=True)
        self.pid, self.report, self.stop = pid, run, threading.Event()
        self.cpu: dict[int, float] = {}

    def run(self):
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.wait(0.2):
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                return
            total = 0.0
            for proc in procs:
                try:
                    rss = proc.memory_info().rss / 2**20
                    times = proc.cpu_times()
                except psutil.Error:
                    continue
                total += rss
                self.report.worker_rss = max(self.report.worker_rss, rss)
                self.cpu[proc.pid] = times.user + times.system
            self.report.total_rss = max(self.report.total_rss, total)
            self.report.processes = max(self.report.processes, len(self.cpu))


def run_grade(
    files: list[str], jobs: int, timeout: float, symbolic: bool, cache_dir: Path, extra: tuple[str, ...] = ()
) -> Run:
    run = Run(jobs)
    run.load = load()
    env = {
        **os.environ,
        "SYMDERIV_CACHE_DIR": str(cache_dir),
        "SYMDERIV_CACHE": "1",
        "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    cmd = [
        sys.executable,
        "-m",
        "symderiv.cli",
        "grade",
        "--key",
        "softmax-2layer",
        "--json",
        "--jobs",
        str(jobs),
        *extra,
        *files,
    ]
    if not symbolic:
        cmd.append("--no-symbolic")
    master, slave = pty.openpty()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, start_new_session=True, env=env
    )
    os.close(slave)
    total = len(files)
    sampler = Sampler(proc.pid, run) if psutil else None
    if sampler:
        sampler.start()

    def read_progress():
        buf = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            run.stderr += chunk
            for m in PROGRESS.finditer(buf[-200:]):
                if int(m.group(1)) == int(m.group(2)) == total and run.graded_at is None:
                    run.graded_at = time.perf_counter() - start

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
        run.wall = time.perf_counter() - start
        run.stdout = out.decode("utf-8", "replace")
        run.returncode = proc.returncode
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        run.cpu = max(reaped, sum(sampler.cpu.values())) if sampler else reaped
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its pool workers
        proc.communicate()
        run.wall = timeout
        run.status = "timeout"
    finally:
        if sampler:
            sampler.stop.set()
            sampler.join(timeout=2)
        reader.join(timeout=2)
        os.close(master)
    return run


def check(run: Run, files: list[str], manifest: dict) -> dict:
    """One object per file, no errors, verdicts against the planted ones."""
    if run.status != "ok":
        return {"objects": 0, "errors": None, "agree": None, "exact": None, "steps": None}
    try:
        out = json.loads(run.stdout)
    except json.JSONDecodeError:
        run.status = f"no JSON (exit {run.returncode})"
        return {"objects": 0, "errors": None, "agree": None, "exact": None, "steps": None}
    names = [Path(o["file"]).name for o in out]
    if names != [Path(f).name for f in files]:
        run.status = "files out of order or missing"
    agree = exact = total = found = planted = 0
    for o in out:
        meta = manifest[Path(o["file"]).name]
        got = {p["quantity"]: p["verdict"] for p in o.get("parts", [])}
        for q, want in meta["expected"].items():
            total += 1
            exact += got.get(q) == want
            agree += (got.get(q) in ACCEPT) == (want in ACCEPT)
        bad = {s["line"] for s in o.get("steps", []) if not s["ok"]}
        planted += len(meta["wrong_step_lines"])
        found += sum(line in bad for line in meta["wrong_step_lines"])
    claims = {(p["quantity"], p.get("claim")) for o in out for p in o.get("parts", []) if p.get("claim")}
    return {
        "objects": len(out),
        "errors": sum("error" in o for o in out),
        "distinct": len(claims),
        "agree": f"{agree}/{total}",
        "exact": f"{exact}/{total}",
        "steps": f"{found}/{planted}",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="submissions in the class (default 100)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="values of --jobs to time (default 1 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is killed (default 300)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per --jobs value; the fastest is reported")
    ap.add_argument("--no-symbolic", action="store_true", help="time the numeric checks only")
    ap.add_argument(
        "--cold-only", action="store_true", help="skip the rerun of each --jobs value on the cache its cold run filled"
    )
    ap.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
    ap.add_argument("--keep", type=Path, help="write the class here instead of a temporary directory")
    ap.add_argument(
        "--extra",
        nargs="*",
        default=[],
        metavar="ARG",
        help="more arguments for symderiv grade, e.g. --extra=--dask=local",
    )
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="symderiv-bench-") as tmp:
        outdir = args.keep or Path(tmp)
        manifest = make_class(args.n, outdir, seed=args.seed)
        files = [str(outdir / name) for name in manifest]
        mode = "numeric only" if args.no_symbolic else "symbolic + numeric (default)"
        distinct = len({Path(f).read_bytes() for f in files})
        print(
            f"{stamp()}: class of {args.n} softmax-2layer submissions (seed {args.seed}, {distinct} distinct files), "
            f"checks: {mode}, {os.cpu_count()} CPUs"
        )
        print(f"before: {load()} (other processes on the machine slow the runs down)")
        rows = []
        for jobs in args.jobs:
            for cache in ("cold",) if args.cold_only else ("cold", "warm"):
                runs = []
                for k in range(args.repeat):
                    # symderiv keeps symbolic results on disk: cold = an empty cache directory,
                    # warm = the directory the cold run of the same repetition filled
                    cache_dir = Path(tmp) / f"cache-jobs{jobs}-{k}"
                    run = run_grade(files, jobs, args.timeout, not args.no_symbolic, cache_dir, tuple(args.extra))
                    run.cache = cache
                    runs.append(run)
                    cpu = "" if run.cpu is None else f", {run.cpu:.1f} s CPU"
                    print(
                        f"  --jobs {jobs} ({cache} cache): {run.status}, {run.wall:.1f} s wall{cpu} ({run.load})",
                        flush=True,
                    )
                best = min(runs, key=lambda r: (r.status != "ok", r.wall))
                rows.append((best, check(best, files, manifest)))
        print(f"after: {load()}")

    head = (
        "jobs",
        "cache",
        "status",
        "wall s",
        "ms/submission",
        "CPU s",
        "CPUs busy",
        "graded at s",
        "objects",
        "errors",
        "distinct claims",
        "accept/reject agree",
        "exact",
        "wrong steps flagged",
        "max MiB/process",
        "load at start",
    )
    table = [head]
    for run, c in rows:
        table.append(
            (
                str(run.jobs),
                run.cache,
                run.status,
                f"{run.wall:.1f}",
                f"{1000 * run.wall / args.n:.0f}",
                "-" if run.cpu is None else f"{run.cpu:.1f}",
                "-" if run.cpu is None else f"{run.cpu / run.wall:.2f}",
                "-" if run.graded_at is None else f"{run.graded_at:.1f}",
                str(c["objects"]),
                "-" if c["errors"] is None else str(c["errors"]),
                str(c.get("distinct", "-")),
                c["agree"] or "-",
                c["exact"] or "-",
                c["steps"] or "-",
                f"{run.worker_rss:.0f}" if run.worker_rss else "-",
                run.load.split(" on ")[0],
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    print()
    for i, r in enumerate(table):
        print("  ".join(cell.rjust(w) for cell, w in zip(r, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for cache in ("cold", "warm"):
        ok_runs = [r for r, _ in rows if r.status == "ok" and r.cache == cache]
        if len(ok_runs) >= 2 and ok_runs[0].jobs == 1:
            for r in ok_runs[1:]:
                print(f"speed-up with --jobs {r.jobs} ({cache} cache): {ok_runs[0].wall / r.wall:.2f}x")
    timed = {(r.jobs, r.cache): r for r, _ in rows if r.status == "ok"}
    figures = "; ".join(
        f"--jobs {jobs} "
        + ", ".join(f"{timed[jobs, c].wall:.1f} s {c}" for c in ("cold", "warm") if (jobs, c) in timed)
        for jobs in args.jobs
        if any((jobs, c) in timed for c in ("cold", "warm"))
    )
    print(
        f"\nREADME: a class of {args.n} distinct submissions ({stamp()}, {os.cpu_count()} CPUs, "
        f"{rows[0][0].load.split(' on ')[0] if rows else load()} at the start): {figures}."
    )
    hung = [r for r, _ in rows if r.status == "timeout"]
    for r in hung:
        when = f"graded all {args.n} after {r.graded_at:.1f} s, then " if r.graded_at else ""
        print(f"--jobs {r.jobs}: {when}did not exit within {args.timeout:.0f} s (killed)")
    bad = [r for r, c in rows if r.status != "ok" or c["objects"] != args.n or c["errors"]]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
