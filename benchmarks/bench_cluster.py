#!/usr/bin/env python3
"""Throughput of ``grade --dask`` per worker: ``bench_cluster.py [--n 100] [--workers 1 2]``.

For each W, starts a Dask LocalCluster of W worker processes (one thread each, as
``grade --dask local --jobs W`` does) with an empty symbolic cache (SYMDERIV_CACHE_DIR: a new
temporary directory, inherited by the workers), grades a class of N distinct generated
submissions (make_class.py) on it with the default checks, and reports the cluster's start-up,
the grading wall time and submissions per second per worker. From the best rate per worker it
projects 10^5 submissions on W workers (start-up left out; a cold cache for every worker, so
repeated claims across a course's students, which a real run finds in the cache, are not
counted: the projection is conservative for that and optimistic for a scheduler far away).

The last lines are a Markdown table and a sentence to paste into the README.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import distributed  # noqa: E402
from loadinfo import load, stamp  # noqa: E402
from make_class import make_class  # noqa: E402

from symderiv.answerkey.problem import load_problem  # noqa: E402
from symderiv.grading.batch import run_batch  # noqa: E402
from symderiv.grading.cluster import DaskExecutor  # noqa: E402

ACCEPT = {"correct", "correct-up-to-layout"}


def grade_on(workers: int, files: list[str], timeout: float, cache_dir: Path) -> dict:
    # the cache directory is set before the cluster starts: its worker processes inherit it
    os.environ["SYMDERIV_CACHE_DIR"] = str(cache_dir)
    os.environ["SYMDERIV_CACHE"] = "1"
    problem = load_problem("softmax-2layer")
    at_start = load()
    start = time.perf_counter()
    with distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        started = time.perf_counter() - start
        begin = time.perf_counter()
        reports = run_batch(files, problem, timeout=timeout, executor=DaskExecutor(cluster.scheduler_address))
        wall = time.perf_counter() - begin
    return {
        "workers": workers,
        "startup": started,
        "wall": wall,
        "reports": [r.to_dict() for r in reports],
        "load": at_start,
    }


def agreement(reports: list[dict], manifest: dict) -> str:
    agree = total = 0
    for o in reports:
        got = {p["quantity"]: p["verdict"] for p in o.get("parts", [])}
        for q, want in manifest[Path(o["file"]).name]["expected"].items():
            total += 1
            agree += (got.get(q) in ACCEPT) == (want in ACCEPT)
    return f"{agree}/{total}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="submissions in the class (default 100)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="cluster sizes to time (default 1 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="grade --timeout per submission (default 60)")
    ap.add_argument(
        "--project", type=int, nargs="+", default=[1, 2, 10, 50, 100], help="worker counts for the 10^5 projection"
    )
    args = ap.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory(prefix="symderiv-bench-cluster-") as tmp:
        outdir = Path(tmp) / "class"
        manifest = make_class(args.n, outdir, seed=args.seed)
        files = [str(outdir / name) for name in manifest]
        distinct = len({Path(f).read_bytes() for f in files})
        print(
            f"{stamp()}: class of {args.n} softmax-2layer submissions (seed {args.seed}, {distinct} distinct), "
            f"grade --dask on a LocalCluster, cold cache, symbolic + numeric, {os.cpu_count()} CPUs"
        )
        print(f"before: {load()} (other processes on the machine slow the runs down)")
        for w in args.workers:
            run = grade_on(w, files, args.timeout, Path(tmp) / f"cache-{w}")
            errors = sum("error" in o for o in run["reports"])
            order = [o["file"] for o in run["reports"]] == files
            run.update(errors=errors, order=order, agree=agreement(run["reports"], manifest))
            run["rate"] = args.n / run["wall"] / w
            rows.append(run)
            print(
                f"  {w} worker(s): start-up {run['startup']:.1f} s, grading {run['wall']:.1f} s, "
                f"{run['rate']:.2f} submissions/s/worker, {errors} errors, in order: {order} ({run['load']})",
                flush=True,
            )
        print(f"after: {load()}")

    best = max(r["rate"] for r in rows)
    print()
    print(
        "| workers | cluster start-up s | grading s | submissions/s/worker | errors | accept/reject agree | load at start |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workers']} | {r['startup']:.1f} | {r['wall']:.1f} | {r['rate']:.2f} | {r['errors']} "
            f"| {r['agree']} | {r['load'].split(' on ')[0]} |"
        )
    print()
    print(f"Projection for 10^5 submissions at {best:.2f} submissions/s/worker (cold cache on every worker):")
    print("| workers | hours |")
    print("|---|---|")
    for w in args.project:
        print(f"| {w} | {1e5 / (best * w) / 3600:.1f} |")
    print()
    print(f"{json.dumps({'rate_per_worker': round(best, 3), 'n': args.n, 'workers': args.workers})}")
    bad = [r for r in rows if r["errors"] or not r["order"]]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
