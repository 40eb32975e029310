"""Deciding an exact check whose claim has a sign SymPy cannot decide: by cases, then a witness.

An indicator on something that is not a ReLU pre-activation (1[z^{[2]} > 0] on a sigmoid
output, 1[max(z, 0) > 0]) gets a 0/1 case symbol c_k (truth/evaluate.py, Env.cases). The claim
equals the truth if claim − truth is 0 under every assignment of the c_k: each sign pattern,
reachable or not, so that is sound. Otherwise a witness is sought: a rational point of the
network's symbols with every ReLU mask and case symbol set from the signs it gives; a nonzero
claim − truth there proves the claim wrong. With neither, the check is undecided (and says so).
"""

from __future__ import annotations

import itertools
import random

import sympy as sp

from symderiv.truth.symbolic import is_zero

MAX_CASES = 6
WITNESS_TRIES = 40


def _sign_point(rng: random.Random, symbols, masks: dict, cases: dict) -> dict | None:
    """Signed rationals for the free symbols, then masks and cases from the signs they give."""
    point = {}
    for s in symbols:
        point[s] = (
            sp.Integer(rng.randint(0, 1))
            if s.name.startswith("y")
            else sp.Rational(rng.choice((-1, 1)) * rng.randint(1, 9), rng.randint(1, 7))
        )
    pending = dict(masks) | {expr: c for expr, c in cases.items()}
    for _ in range(len(pending) + 1):
        progress = False
        for expr, flag in list(pending.items()):
            value = expr.xreplace(point)
            if value.free_symbols:
                continue
            number = complex(value.evalf(30))
            if abs(number.real) < 1e-12:
                return None  # on a kink: not a usable witness
            point[flag] = sp.Integer(1 if number.real > 0 else 0)
            del pending[expr]
            progress = True
        if not pending or not progress:
            break
    return None if pending else point


def decide_by_cases(differences: list, masks: dict, cases: dict, generic: bool) -> tuple[str, str]:
    """('equal' | 'different' | 'undecided', detail) for claim − truth entries with case symbols."""
    flags = list(cases.values())
    shown = ", ".join(f"[{expr} > 0]" for expr in list(cases)[:2]) + (" …" if len(cases) > 2 else "")
    if len(flags) <= MAX_CASES:
        failing = None
        for values in itertools.product((0, 1), repeat=len(flags)):
            assignment = dict(zip(flags, map(sp.Integer, values)))
            if not all(is_zero(d.xreplace(assignment), generic) for d in differences):
                failing = assignment
                break
        if failing is None:
            return "equal", f"claim − truth is 0 in every entry, for each sign of {shown} (decided by cases)"
    flag_set = set(flags) | set(masks.values())
    symbols = sorted(
        set().union(*(d.free_symbols for d in differences), *(e.free_symbols for e in list(masks) + list(cases)))
        - flag_set,
        key=str,
    )
    rng = random.Random(11)
    for _ in range(WITNESS_TRIES):
        point = _sign_point(rng, symbols, masks, cases)
        if point is None:
            continue
        for k, d in enumerate(differences):
            try:
                value = complex(d.xreplace(point).evalf(30))
            except (TypeError, ValueError, ZeroDivisionError):
                continue
            if abs(value) > 1e-9:
                signs = ", ".join(f"{c} = {point[c]}" for c in flags)
                return "different", (
                    f"entry {k + 1} differs where the sign SymPy could not decide "
                    f"changes ({signs}): claim − truth = {value.real:.6g} at a rational point"
                )
    return "undecided", f"cannot decide the sign of {shown}: neither every case holds nor a witness was found"
