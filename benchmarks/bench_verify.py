"""Wall time of `symderiv verify` on all shipped derivations (a fresh process, as a user runs it).

    python benchmarks/bench_verify.py
"""
import os
import subprocess
import sys
import time


def main() -> None:
    start = time.perf_counter()
    env = dict(os.environ, SYMDERIV_CACHE="0")      # cold: no results from earlier runs
    proc = subprocess.run([sys.executable, "-m", "symderiv.cli", "verify"], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()
    print(f"symderiv verify: {elapsed:.1f} s wall, exit {proc.returncode}: {last}")


if __name__ == "__main__":
    main()
