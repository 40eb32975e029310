"""Fuzz check_claim with generated and mutated claims: every claim must get a verdict (0 exceptions)
within the limit (0 over it). Issue 10.

    python benchmarks/fuzz_claims.py [--claims 10000] [--workers 2] [--symbolic-every 20] [--limit 10]

Claims come from tests/claim_fuzz.py (the answer keys' formulas and hostile fragments, mutated),
spread over every problem and quantity of the shipped keys. Every --symbolic-every-th claim also
runs the exact (SymPy) check. The limit is CPU seconds of check_claim per claim, measured in
the process that runs it (plus its SymPy worker, which has its own 5 s CPU limit), so other
load on the machine does not count.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("SYMDERIV_CACHE", "0")  # every claim does its work

from claim_fuzz import CLAIMS, TARGETS  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from symderiv.judging.check import check_claim  # noqa: E402


def run_share(args) -> dict:
    worker, count, symbolic_every, limit, trace_dir = args
    stats = {"claims": 0, "exceptions": [], "over": [], "verdicts": {}, "slowest": (0.0, "")}

    @seed(1000 + worker)
    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(target=st.sampled_from(TARGETS), claim=CLAIMS)
    def one(target, claim):
        n = stats["claims"] = stats["claims"] + 1
        symbolic = symbolic_every > 0 and n % symbolic_every == 0
        if trace_dir:
            Path(trace_dir, f"worker-{worker}.txt").write_text(repr((target, claim)))
        start = time.process_time()
        try:
            v = check_claim(*target, claim, symbolic=symbolic)
            stats["verdicts"][v.verdict] = stats["verdicts"].get(v.verdict, 0) + 1
        except Exception:
            stats["exceptions"].append((target, claim, traceback.format_exc(limit=3)))
        used = time.process_time() - start
        if used > limit:
            stats["over"].append((target, claim, used))
        if used > stats["slowest"][0]:
            stats["slowest"] = (used, f"{target} {claim[:80]!r}")

    one()
    return stats


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--symbolic-every", type=int, default=20)
    parser.add_argument("--limit", type=float, default=10.0, help="CPU seconds per claim")
    parser.add_argument("--trace", metavar="DIR", help="write each worker's current claim here (to find a hang)")
    args = parser.parse_args()
    share = -(-args.claims // args.workers)
    start = time.perf_counter()
    with get_context("fork").Pool(args.workers) as pool:
        results = pool.map(
            run_share, [(w, share, args.symbolic_every, args.limit, args.trace) for w in range(args.workers)]
        )
    claims = sum(r["claims"] for r in results)
    exceptions = [e for r in results for e in r["exceptions"]]
    over = [o for r in results for o in r["over"]]
    verdicts: dict[str, int] = {}
    for r in results:
        for k, v in r["verdicts"].items():
            verdicts[k] = verdicts.get(k, 0) + v
    slowest = max(r["slowest"] for r in results)
    for target, claim, trace in exceptions[:5]:
        print(f"EXCEPTION {target} {claim!r}\n{trace}")
    for target, claim, used in over[:5]:
        print(f"OVER {used:.1f}s {target} {claim[:100]!r}")
    print(
        f"{claims} claims ({len(TARGETS)} quantities, symbolic every {args.symbolic_every}th) in "
        f"{time.perf_counter() - start:.0f} s: {len(exceptions)} exceptions, {len(over)} over "
        f"{args.limit:g} s CPU; slowest {slowest[0]:.2f} s ({slowest[1]}); verdicts "
        + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
    )
    return 1 if exceptions or over or claims < args.claims else 0


if __name__ == "__main__":
    sys.exit(main())
