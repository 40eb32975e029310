"""Per-claim time of check_claim over a few hundred claims (numeric + symbolic, as `symderiv check` runs).

    python benchmarks/bench_check.py [--rounds 3] [--no-symbolic]

Claims: every answer-key claim of the shipped derivations plus systematic variants (notation spellings,
transposes, sign flips, missing 1/N, layout slips). Reports the cold first pass and, after warm-up,
the median and the slowest claim.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("SYMDERIV_CACHE", "0")   # measure the work, not the on-disk cache of earlier runs

from symderiv import check_claim
from symderiv.truth.problem import derivation_files, load_problem_file

VARIANTS = [
    lambda c: c,
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


def claims():
    out = []
    for path in derivation_files():
        problem = load_problem_file(path)
        for q in problem.quantities:
            for variant in VARIANTS:
                out.append((problem.id, q.id, variant(q.claim)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-symbolic", action="store_true")
    args = parser.parse_args()
    rows = claims()
    symbolic = not args.no_symbolic
    # warm-up: the answer keys themselves (builds references and SymPy ground truth once per quantity)
    warm = [r for r in rows[::len(VARIANTS)]]
    start = time.perf_counter()
    for problem, quantity, claim in warm:
        check_claim(problem, quantity, claim, symbolic=symbolic)
    print(f"warm-up on {len(warm)} answer-key claims: {time.perf_counter() - start:.1f} s")
    # measured: the variants, each claim seen for the first time (no memo hit)
    measured = [r for i, r in enumerate(rows) if i % len(VARIANTS)]
    measured = list(dict.fromkeys(measured))
    times, verdicts = [], {}
    for problem, quantity, claim in measured:
        t = time.perf_counter()
        v = check_claim(problem, quantity, claim, symbolic=symbolic)
        times.append(time.perf_counter() - t)
        verdicts[v.verdict] = verdicts.get(v.verdict, 0) + 1
    slowest = max(range(len(measured)), key=times.__getitem__)
    print(f"{len(measured)} unseen claims, symbolic {'on' if symbolic else 'off'}: "
          f"median {statistics.median(times) * 1000:.1f} ms, 90th percentile "
          f"{sorted(times)[int(0.9 * len(times))] * 1000:.0f} ms, slowest {times[slowest] * 1000:.0f} ms "
          f"({measured[slowest][1]}), total {sum(times):.1f} s")
    print(f"verdicts: {verdicts}   (target: median in tens of ms, slowest under 2 s)")


if __name__ == "__main__":
    main()
