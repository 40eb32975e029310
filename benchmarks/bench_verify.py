#!/usr/bin/env python3
"""Wall time of `symderiv verify` on all shipped derivations, as a user runs it (a new process):

    python benchmarks/bench_verify.py [--repeat 1]

cold: an empty SYMDERIV_CACHE_DIR (a new machine, or a new version of symderiv or of a key:
the per-key set-up is built and every claim checked); warm: the directory the cold run filled.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loadinfo import load, stamp  # noqa: E402


def run(cache_dir: Path) -> tuple[float, int, str]:
    env = {
        **os.environ,
        "SYMDERIV_CACHE_DIR": str(cache_dir),
        "SYMDERIV_CACHE": "1",
        "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "symderiv.cli", "verify"], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()[-200:]
    return elapsed, proc.returncode, last


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=1, help="cold/warm pairs; each is printed")
    args = ap.parse_args(argv)
    print(f"{stamp()}: symderiv verify of every shipped key")
    worst = 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="symderiv-verify-") as tmp:
            for phase in ("cold", "warm"):
                at = load()
                elapsed, code, last = run(Path(tmp))
                worst = max(worst, code)
                print(f"  {phase}: {elapsed:.1f} s wall, exit {code} ({at}): {last}", flush=True)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
