#!/usr/bin/env python3
r"""Per-claim time of check_claim (numeric + symbolic, as `symderiv check` runs), cold and warm,
against Math-Verify on the same claims in the same run.

    python benchmarks/bench_claims.py [--math-verify-python PYTHON] [--limit N] [--json OUT]

Claims: the blind TA reviews in tests/data (real students' spellings, with the TA's label) and
systematic variants of every answer-key claim (notation spellings, transposes, sign flips,
missing 1/N, layout slips), each once.

Phases, each in a new process:
1. cold: an empty SYMDERIV_CACHE_DIR. The per-key set-up (judging/check.prepare_problem: the
   symbolic set-up of truth/prepared.py and the exact check of the key's own claims) is built
   first, once per key, and timed on its own; then every claim is checked once.
   Then "decision only" (check_claim(..., explain=False), `check --decide-only`), again from an
   empty cache: accepts are checked exactly as ever, a rejection is not explained. Math-Verify
   gives a decision, so this is the like-for-like figure; the explained one is shown next to it.
2. Math-Verify on the same claims: ``verify(parse(key claim), parse(claim))`` per claim, the
   key claim parsed once per quantity (its per-key work). Math-Verify needs another ANTLR than
   latex2sympy2, so it runs in its own interpreter:
   ``python -m venv /tmp/mathverify-venv && /tmp/mathverify-venv/bin/pip install "math-verify[antlr4_13_2]"``
   (never a dependency of symderiv).
3. warm: the cache the cold phase filled (the same claims seen again, e.g. a second class).

The load average is printed next to every phase: other processes slow the figures down.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from loadinfo import load, max_rss_mib, percentile, stamp  # noqa: E402

from symderiv import check_claim  # noqa: E402
from symderiv.answerkey.problem import derivation_files, load_problem, load_problem_file  # noqa: E402
from symderiv.judging.check import prepare_problem  # noqa: E402

VARIANTS = [
    lambda c: c.replace("^{(", "^{[").replace(")}", "]}") if "^{(" in c else c,
    lambda c: c.replace(r"\psi", r"\Psi"),
    lambda c: "-" + c if not c.startswith("-") else c[1:],
    lambda c: c.replace(r"\frac{1}{N}", ""),
    lambda c: c.replace("T}", "}"),
    lambda c: c.replace(r"2\lambda", r"\lambda"),
    lambda c: c.replace(r"\odot \mathbb{1}[Z^{(2)} > 0]", ""),
    lambda c: c.replace("W", "w"),
    lambda c: c.replace(r"\psi", "ψ").replace(r"\Delta", "Δ").replace(" - ", " − "),
    lambda c: r"\left(" + c + r"\right)",
    lambda c: c.replace("^{(", "^{").replace(")}", "}"),
    lambda c: c.replace(r"\frac{1}{N}", "1/N "),
    lambda c: c.replace(r"\odot", r"\circ").replace("T}", "}^T"),
    lambda c: c.replace(r"\frac{1}{N}", r"\frac{2}{N}"),
    lambda c: c + r" + \lambda W^{(1)}",
]

MATH_VERIFY = r'''
import json, sys, time
from math_verify import parse, verify
rows = json.load(open(sys.argv[1]))
gold = {}
out = []
for r in rows:
    key = (r["problem"], r["quantity"])
    if key not in gold:
        gold[key] = parse("$" + r["gold"] + "$")
    start = time.perf_counter()
    try:
        ok = bool(verify(gold[key], parse("$" + r["claim"] + "$")))
        error = None
    except Exception as exc:
        ok, error = False, type(exc).__name__
    out.append({"seconds": time.perf_counter() - start, "accepted": ok, "error": error})
json.dump(out, sys.stdout)
'''


def claims(limit: int | None = None) -> list[dict]:
    keys = {}
    for path in derivation_files():
        problem = load_problem_file(path)
        keys.update({(problem.id, q.id): q.claim for q in problem.quantities})
    rows, seen = [], set()
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows.append(
                    {
                        "problem": r["problem"],
                        "quantity": r["quantity"],
                        "claim": r["claim"],
                        "label": r.get("label"),
                        "source": path.stem,
                    }
                )
    for (problem, quantity), claim in keys.items():
        for variant in VARIANTS:
            rows.append(
                {
                    "problem": problem,
                    "quantity": quantity,
                    "claim": variant(claim),
                    "label": None,
                    "source": "key variants",
                }
            )
    out = []
    for r in rows:
        key = (r["problem"], r["quantity"], r["claim"])
        if key in seen or (r["problem"], r["quantity"]) not in keys:
            continue
        seen.add(key)
        out.append({**r, "gold": keys[(r["problem"], r["quantity"])]})
    return out[:limit] if limit else out


def measure(rows: list[dict], explain: bool = True) -> dict:
    """In this (new) process: the per-key set-up, then each claim once."""
    setups = {}
    for problem_id in dict.fromkeys(r["problem"] for r in rows):
        start = time.perf_counter()
        prepare_problem(load_problem(problem_id))
        setups[problem_id] = time.perf_counter() - start
    out = []
    for r in rows:
        start = time.perf_counter()
        v = check_claim(r["problem"], r["quantity"], r["claim"], explain=explain)
        out.append(
            {
                "seconds": time.perf_counter() - start,
                "verdict": v.verdict,
                "symbolic": v.symbolic.status if v.symbolic else None,
            }
        )
    return {"setups": setups, "claims": out, "max_rss_mib": max_rss_mib()}


def run_phase(rows_file: Path, cache_dir: Path, explain: bool = True) -> dict:
    env = {
        **os.environ,
        "SYMDERIV_CACHE_DIR": str(cache_dir),
        "SYMDERIV_CACHE": "1",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", str(rows_file)] + ([] if explain else ["--decide-only"]),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def run_math_verify(python: str, rows_file: Path) -> list[dict] | None:
    if not python or not Path(python).exists():
        return None
    proc = subprocess.run([python, "-c", MATH_VERIFY, str(rows_file)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"Math-Verify failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout)


def summary(times: list[float]) -> str:
    ms = [1000 * t for t in times]
    return (
        f"median {percentile(ms, 50):.1f} ms, p90 {percentile(ms, 90):.0f} ms, p99 {percentile(ms, 99):.0f} ms, "
        f"max {max(ms):.0f} ms, total {sum(times):.1f} s"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--math-verify-python",
        default="/tmp/mathverify-venv/bin/python",
        help="an interpreter with math-verify installed (default /tmp/mathverify-venv/bin/python)",
    )
    ap.add_argument("--limit", type=int, help="only the first N claims")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--decide-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        json.dump(measure(json.loads(args.measure.read_text()), explain=not args.decide_only), sys.stdout)
        return 0

    rows = claims(args.limit)
    report = {"date": stamp(), "claims": len(rows)}
    print(
        f"{stamp()}: {len(rows)} distinct claims "
        f"({sum(r['source'] != 'key variants' for r in rows)} from the blind TA reviews, the rest key variants)"
    )
    with tempfile.TemporaryDirectory(prefix="symderiv-claims-") as tmp:
        rows_file = Path(tmp) / "claims.json"
        rows_file.write_text(json.dumps(rows))
        cache = Path(tmp) / "cache"
        phases = {}
        print(f"cold ({load()}) ...", flush=True)
        phases["cold"] = (load(), run_phase(rows_file, cache))
        print(f"cold, decision only ({load()}) ...", flush=True)
        phases["decide"] = (load(), run_phase(rows_file, Path(tmp) / "cache-decide", explain=False))
        print(f"Math-Verify ({load()}) ...", flush=True)
        mv_load, mv = load(), run_math_verify(args.math_verify_python, rows_file)
        print(f"warm ({load()}) ...", flush=True)
        phases["warm"] = (load(), run_phase(rows_file, cache))

    print()
    for name, (at, result) in phases.items():
        times = [c["seconds"] for c in result["claims"]]
        timeouts = sum(c["symbolic"] == "timeout" for c in result["claims"])
        undecided = sum(c["symbolic"] in ("timeout", "error") for c in result["claims"])
        setup = ", ".join(f"{k} {v:.1f} s" for k, v in result["setups"].items())
        print(
            f"symderiv {name:6} ({at}): {summary(times)}; symbolic timeouts {timeouts}, undecided {undecided}; "
            f"peak memory {result['max_rss_mib']:.0f} MiB"
        )
        print(f"    per-key set-up before the claims ({'read from disk' if name == 'warm' else 'built'}): {setup}")
        report[name] = {
            "load": at,
            "median_ms": 1000 * percentile(times, 50),
            "p99_ms": 1000 * percentile(times, 99),
            "max_ms": 1000 * max(times),
            "total_s": sum(times),
            "timeouts": timeouts,
            "setups_s": result["setups"],
            "max_rss_mib": result["max_rss_mib"],
        }
    cold = phases["cold"][1]["claims"]
    slowest = sorted(range(len(rows)), key=lambda i: -cold[i]["seconds"])[:3]
    for i in slowest:
        print(
            f"    slowest cold: {1000 * cold[i]['seconds']:.0f} ms {rows[i]['problem']} {rows[i]['quantity']} "
            f"({cold[i]['verdict']}, symbolic {cold[i]['symbolic']}): {rows[i]['claim'][:70]}"
        )
    if mv is not None:
        times = [m["seconds"] for m in mv]
        print(f"Math-Verify   ({mv_load}): {summary(times)}")
        theirs = percentile(times, 50)
        for name, what in (("decide", "a decision (what Math-Verify gives)"), ("cold", "an explained verdict")):
            ours = percentile([c["seconds"] for c in phases[name][1]["claims"]], 50)
            print(
                f"median per claim, cold, to {what}: symderiv {1000 * ours:.1f} ms = {ours / theirs:.2f} x "
                f"Math-Verify's {1000 * theirs:.1f} ms (target: at most 0.5 x)"
            )
        report["math_verify"] = {
            "load": mv_load,
            "median_ms": 1000 * theirs,
            "p99_ms": 1000 * percentile(times, 99),
            "max_ms": 1000 * max(times),
        }
        labelled = [(r, c, m) for r, c, m in zip(rows, cold, mv) if r["label"]]
        accept = {"correct", "correct-up-to-layout"}
        ours_agree = sum((c["verdict"] in accept) == (r["label"] in accept) for r, c, _ in labelled)
        decided = phases["decide"][1]["claims"]
        same = sum((a["verdict"] in accept) == (b["verdict"] in accept) for a, b in zip(cold, decided))
        print(f"decisions the same with and without explanation: {same} of {len(cold)}")
        theirs_agree = sum(m["accepted"] == (r["label"] in accept) for r, _, m in labelled)
        print(
            f"accept/reject agreement with the TA labels ({len(labelled)} claims): symderiv {ours_agree}, "
            f"Math-Verify {theirs_agree}"
        )
    else:
        print("Math-Verify: not run (no interpreter with math-verify; see the docstring)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
