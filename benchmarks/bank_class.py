r"""A class for a bank key, graded, and its "most common mistakes" against what was planted:
``bank_class.py PROBLEM [--n 40] [--seed 0] [--out DIR]``.

Each submission answers every quantity of the key that the TA table (tests/test_bank_ta.py: claims
labelled by finite differences, wrong ones with the name a TA gives) has rows for, with one of the
table's claims: a wrong one with probability 0.35, so a mistake recurs across the class as it does
in a real one. The class is graded with ``symderiv grade --summary-json`` and the script prints, per
part, the class view's most common mistakes beside the planted ones, and the share of planted
mistakes whose part the class view names as the TA expects.

    python benchmarks/bank_class.py svm-hinge --n 40
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_bank_ta as table  # noqa: E402  (the FD-labelled claim table)

from symderiv.answerkey.problem import load_problem  # noqa: E402


def rows_by_part(pid: str) -> dict[str, tuple[list, list]]:
    """quantity id -> (right rows, wrong rows) whose left-hand side is the quantity id itself."""
    out: dict[str, tuple[list, list]] = {}
    for row in table.ROWS:
        if row.pid != pid or row.quantity != row.qid or row.one:
            continue
        right, wrong = out.setdefault(row.qid, ([], []))
        (right if row.right else wrong).append(row)
    return out


def write_class(pid: str, n: int, seed: int, outdir: Path) -> dict:
    problem = load_problem(pid)
    parts = rows_by_part(pid)
    rng = random.Random(seed)
    manifest = {}
    for i in range(n):
        lines, planted = [f"# {problem.title}: student {i:03d}", ""], {}
        for qid, (right, wrong) in parts.items():
            row = rng.choice(wrong) if wrong and rng.random() < 0.35 else rng.choice(right)
            if not row.right:
                planted[qid] = {"row": row.id, "expect": list(row.expect)}
            q = problem.quantity(qid)
            lhs = q.name or rf"\frac{{\partial {q.of}}}{{\partial {q.wrt}}}"
            lines += [f"Part {qid}:", "", f"$$ {lhs} = {row.tex} $$", ""]
        name = f"{pid}_{i:03d}.md"
        (outdir / name).write_text("\n".join(lines), encoding="utf-8")
        manifest[name] = planted
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("problem")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="keep the class here (default: a temporary directory)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        outdir = args.out or Path(tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        manifest = write_class(args.problem, args.n, args.seed, outdir)
        summary = outdir / "summary.json"
        files = sorted(str(p) for p in outdir.glob("*.md"))
        cmd = ["symderiv", "grade", "--key", args.problem, *files, "--summary-json", str(summary), "--csv"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        view = json.loads(summary.read_text(encoding="utf-8"))
    planted = Counter()
    for parts in manifest.values():
        for qid, found in parts.items():
            planted[(qid, tuple(found["expect"]))] += 1
    expected_codes = {qid: Counter() for qid in {q for q, _ in planted}}
    for (qid, expect), k in planted.items():
        for code in expect:
            expected_codes[qid][code] += k
    print(f"{args.problem}: {args.n} students")
    named = total = listed = 0
    for part in view["parts"]:
        qid = part["quantity"]
        for m in part["mistakes"]:
            total += m["students"]
            named += m["students"] if m["diagnosis"] else 0
            listed += m["students"] if m["diagnosis"] in expected_codes.get(qid, {}) else 0
    print(f"incorrect parts: {total}; with a named mistake: {named}; named as the TA table expects (✓): {listed}")
    for part in view["parts"]:
        qid = part["quantity"]
        wrong = sum(k for (q, _), k in planted.items() if q == qid)
        print(f"\n{part.get('name') or qid}: {wrong} wrong answers planted")
        for m in part["mistakes"][:6]:
            mark = "✓" if m["diagnosis"] in expected_codes.get(qid, {}) else " "
            print(f"  {mark} {m['students']:3d}  {m['name']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
