"""Deciding claim − truth where kinks make it piecewise: by real points and by the sign patterns
that can occur.

Every kink (a ReLU, a leaky ReLU, |u|, max, min, an indicator, a `cases` condition) is a 0/1
symbol standing for [u > 0] of its argument u: the truth's own kinks in ``masks``, the claim's
other ones in ``cases``. Such a symbol is not free: at a real point it is whatever the point's
values make it. So:

- **a refutation is a real point**: rationals for the inputs, parameters and labels (positive
  where a symbol is positive, 0/1 for binary labels), every 0/1 symbol set from the sign its own
  argument takes there (nested kinks in order), claim − truth nonzero there at 30 digits, and the
  difference confirmed in floating point at the same point;
- **equality by cases**: claim − truth is 0 for every assignment of the 0/1 symbols it holds, or
  for every assignment that can occur. An assignment cannot occur when one of its conditions is
  impossible (u > 0 for u = −2δ with δ > 0) or two of them contradict each other (r − δ > 0 and
  −r − δ > 0, since their sum −2δ is not positive);
- failing both, the check is **undecided**, and says which sign patterns it could not decide.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from symderiv.truth.symbolic import evaluate_at, is_zero

MAX_FLAGS = 10  # 0/1 symbols in one decision by cases (2^10 assignments)
WITNESS_TRIES = 60  # real points tried for a refutation
KINK_GAP = 1e-9  # a kink argument this close to 0 at a point: the point sits on the kink, not used
NONZERO = 1e-9


@dataclass(frozen=True)
class Witness:
    entry: int
    value: float  # claim − truth at the point (exact, 30 digits)
    flags: tuple[tuple[str, int], ...]  # the 0/1 symbols as the point sets them
    point: tuple[tuple[str, float], ...] = ()  # every symbol's value there


def flag_symbols(masks: dict, cases: dict) -> set:
    return set(masks.values()) | set(cases.values())


def _value_for(rng: random.Random, s: sp.Symbol, scale: int):
    if s.is_integer and s.is_nonnegative:  # a binary label
        return sp.Integer(rng.randint(0, 1))
    magnitude = sp.Rational(rng.randint(1, 9 * scale), rng.randint(1, 7))
    if s.is_positive:
        return magnitude
    return magnitude * rng.choice((-1, 1))


def real_point(rng: random.Random, symbols, kinks: dict, scale: int = 1) -> dict | None:
    """A point: the free symbols drawn, then every 0/1 symbol set from its argument's sign there
    (in dependency order); None when the point falls on a kink."""
    point = {s: _value_for(rng, s, scale) for s in symbols}
    pending = dict(kinks)
    while pending:
        progress = False
        for expr, flag in list(pending.items()):
            if not expr.free_symbols <= point.keys():
                continue
            try:
                number = evaluate_at(expr, point)
            except (TypeError, ValueError, ZeroDivisionError, KeyError, NameError, RecursionError):
                return None
            if abs(number.real) < KINK_GAP:
                return None
            point[flag] = sp.Integer(1 if number.real > 0 else 0)
            del pending[expr]
            progress = True
        if not progress:
            return None
    return point


def confirmed(difference, point: dict, exact: complex) -> bool:
    """The difference at the point, again at the precision of float64 (the point's values rounded
    to doubles): nonzero there too, and close to the exact value."""
    rounded = {s: float(v) for s, v in point.items()}
    try:
        value = evaluate_at(difference, rounded, digits=15)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError, NameError, SyntaxError, RecursionError):
        return False
    if not np.isfinite(value.real):
        return False
    return abs(value.real) > NONZERO and abs(value.real - exact.real) <= 1e-6 * (abs(exact.real) + 1.0)


def _symbols(differences, kinks: dict, flags: set) -> list:
    found = set().union(*(d.free_symbols for d in differences), *(e.free_symbols for e in kinks))
    return sorted(found - flags, key=str)


def refute(differences: list, masks: dict, cases: dict, tries: int = WITNESS_TRIES, seed: int = 11, want=None):
    """A real point where some entry of claim − truth is nonzero (confirmed in floating point),
    or None. ``want``: only points whose 0/1 symbols take these values."""
    kinks = dict(masks) | dict(cases)
    flags = flag_symbols(masks, cases)
    symbols = _symbols(differences, kinks, flags)
    rng = random.Random(seed)
    for attempt in range(tries):
        point = real_point(rng, symbols, kinks, scale=1 + attempt % 3)
        if point is None or (want and any(point.get(f) != v for f, v in want.items())):
            continue
        for k, d in enumerate(differences):
            try:
                value = evaluate_at(d, point)
            except (TypeError, ValueError, ZeroDivisionError, KeyError, NameError, RecursionError):
                continue
            if abs(value) > NONZERO and confirmed(d, point, value):
                shown = tuple(
                    (str(f), int(point[f])) for f in sorted(flags & set(point), key=str) if f in d.free_symbols
                )
                return Witness(
                    k, value.real, shown, tuple((str(s), float(v)) for s, v in sorted(point.items(), key=str))
                )
    return None


# ---- the sign patterns that can occur ------------------------------------------------------


def _conditions(kinks: dict, assignment: dict) -> list:
    """Each 0/1 symbol's condition as `e > 0` under the assignment: u for a 1, −u for a 0."""
    out = []
    for expr, flag in kinks.items():
        if flag not in assignment:
            continue
        u = expr.xreplace(assignment)  # not expanded: a residual inside stays one subexpression
        out.append(u if assignment[flag] else -u)
    return out


def _never_positive(e) -> bool:
    """e ≤ 0 whatever its symbols (only asked of expressions in positive parameters: a sum of
    unknowns is never sign-definite here)."""
    if any(not s.is_positive for s in e.free_symbols):
        return False
    e = sp.expand(e)
    return bool(e.is_nonpositive) or (e.is_number and e <= 0)


def _plainly_impossible(kinks: dict, assignment: dict) -> bool:
    """A condition that cannot hold on its own (u > 0 for u = −2δ): the cheap test, first."""
    return any(_never_positive(c) for c in _conditions(kinks, assignment))


def impossible(kinks: dict, assignment: dict) -> bool:
    """The assignment asks for a sign its argument cannot have, for two that contradict, or for
    conditions on one quantity (a residual r) whose solution sets do not meet (r² < κ and |r| > √κ)."""
    conditions = [c for c in _conditions(kinks, assignment) if not c.free_symbols or len(c.free_symbols) < 40]
    if any(_never_positive(c) for c in conditions):
        return True
    for a, b in itertools.combinations(conditions, 2):
        if _never_positive_sum(a, b):
            return True
    return _no_common_value(kinks, conditions)


RHO = sp.Symbol("rho", real=True)


def _bases(kinks: dict) -> list:
    """The kinks' innermost arguments (no kink inside): the quantities other kinks' conditions are
    often conditions on (a residual r, inside |r|, r² − κ, r − δ)."""
    flags = set(kinks.values())
    return [expr for expr in kinks if expr.free_symbols and not expr.free_symbols & flags and expr.is_Add]


def _no_common_value(kinks: dict, conditions: list) -> bool:
    for base in _bases(kinks):
        on_base = []
        for c in conditions:
            replaced = _on(c, base)
            if replaced is not None:
                on_base.append(replaced)
        if len(on_base) >= 2 and _empty_meet(on_base):
            return True
    return False


@lru_cache(maxsize=8192)
def _on(condition, base):
    """The condition as one of ρ = base alone (its other symbols positive parameters), or None."""
    replaced = condition.subs(base, RHO)
    if RHO in replaced.free_symbols and all(s.is_positive for s in replaced.free_symbols - {RHO}):
        return replaced
    return None


def _empty_meet(conditions: list) -> bool:
    """The conditions e(ρ) > 0 (their parameters positive) hold for no common ρ."""
    region = [(-sp.oo, sp.oo)]
    for c in conditions:
        intervals = _solution(c)
        if intervals is None:
            return False
        region = [meet for a in region for b in intervals if (meet := _meet(a, b)) is not None]
        if not region:
            return True
    return False


@lru_cache(maxsize=4096)
def _solution(condition) -> list | None:
    """Where condition(ρ) > 0, as open intervals; None when it cannot be said. A polynomial of
    degree 1 or 2 in ρ (a kink on a residual) is solved by its roots; anything else by SymPy."""
    try:
        poly = sp.Poly(sp.expand(condition), RHO)
    except sp.PolynomialError:
        poly = None
    if poly is not None and poly.degree() in (1, 2):
        solved = _polynomial_solution(poly)
        if solved is not None:
            return solved
    try:
        return _as_intervals(sp.solveset(condition > 0, RHO, sp.S.Reals))
    except (NotImplementedError, TypeError, ValueError):
        return None


def _polynomial_solution(poly) -> list | None:
    coefficients = poly.all_coeffs()
    lead = coefficients[0]
    up = True if lead.is_positive else False if lead.is_negative else None
    if up is None:
        return None
    if poly.degree() == 1:
        root = -coefficients[1] / lead
        return [(root, sp.oo)] if up else [(-sp.oo, root)]
    a, b, c = coefficients
    discriminant = sp.expand(b * b - 4 * a * c)
    if discriminant.is_negative:
        return [(-sp.oo, sp.oo)] if up else []
    if not discriminant.is_nonnegative:
        return None
    root = sp.sqrt(discriminant)
    low, high = (-b - root) / (2 * a), (-b + root) / (2 * a)
    if not up:
        low, high = high, low
    if not (high - low).is_nonnegative:
        return None
    return [(-sp.oo, low), (high, sp.oo)] if up else [(low, high)]


@lru_cache(maxsize=8192)
def _never_positive_sum(a, b) -> bool:
    return _never_positive(a + b)


def _as_intervals(solution) -> list | None:
    if solution == sp.S.EmptySet or isinstance(solution, sp.FiniteSet):
        return []  # no interval (a finite set of points is a kink itself)
    if isinstance(solution, sp.Interval):
        return [(solution.start, solution.end)]
    if isinstance(solution, sp.Union):
        parts = [_as_intervals(part) for part in solution.args]
        return None if any(p is None for p in parts) else [i for p in parts for i in p]
    return None


def _meet(a: tuple, b: tuple) -> tuple | None:
    """The intersection of two open intervals, None when provably empty; unknown order keeps it."""
    lo = _larger(a[0], b[0])
    hi = _smaller(a[1], b[1])
    if lo is None or hi is None:
        return a  # cannot tell which bound binds: not provably empty
    gap = hi - lo
    return None if gap.is_nonpositive else (lo, hi)


def _larger(x, y):
    if x == -sp.oo:
        return y
    if y == -sp.oo:
        return x
    diff = x - y
    return x if diff.is_nonnegative else y if diff.is_nonpositive else None


def _smaller(x, y):
    if x == sp.oo:
        return y
    if y == sp.oo:
        return x
    diff = x - y
    return x if diff.is_nonpositive else y if diff.is_nonnegative else None


def decide_by_cases(differences: list, masks: dict, cases: dict, generic: bool) -> tuple[str, str, Witness | None]:
    """('equal' | 'different' | 'undecided', detail, the refuting point) for claim − truth entries with 0/1 symbols."""
    kinks = dict(masks) | dict(cases)
    used = set().union(*(d.free_symbols for d in differences)) & flag_symbols(masks, cases)
    witness = refute(differences, masks, cases, tries=12)
    if witness is not None:
        return "different", _witness_detail(witness), witness
    flags = sorted(_closure(used, kinks), key=str)
    if len(flags) > MAX_FLAGS:
        return "undecided", f"the claim depends on {len(flags)} signs: too many to decide by cases", None
    undecided = []
    for values in itertools.product((0, 1), repeat=len(flags)):
        assignment = dict(zip(flags, map(sp.Integer, values)))
        if _plainly_impossible(kinks, assignment):
            continue
        if all(is_zero(d.xreplace(assignment), generic) for d in differences):
            continue
        if impossible(kinks, assignment):
            continue
        witness = refute(differences, masks, cases, want=assignment)
        if witness is not None:
            return "different", _witness_detail(witness), witness
        undecided.append(", ".join(f"{f} = {v}" for f, v in assignment.items()))
    if undecided:
        return (
            "undecided",
            f"claim − truth is not 0 where {undecided[0]}, and no real point with those signs was found "
            f"({len(undecided)} sign pattern{'s' if len(undecided) > 1 else ''} left undecided)",
            None,
        )
    return (
        "equal",
        f"claim − truth is 0 in every entry for every sign pattern of its {len(flags)} kinks that can occur "
        "(decided by cases)",
        None,
    )


def _closure(used: set, kinks: dict) -> set:
    """The 0/1 symbols the entries use, and those their arguments use (a kink of a kink)."""
    by_flag = {flag: expr for expr, flag in kinks.items()}
    out, todo = set(), list(used)
    while todo:
        flag = todo.pop()
        if flag in out:
            continue
        out.add(flag)
        expr = by_flag.get(flag)
        if expr is not None:
            todo.extend(s for s in expr.free_symbols if s in by_flag)
    return out


def _witness_detail(w: Witness) -> str:
    signs = ", ".join(f"{f} = {v}" for f, v in w.flags)
    where = f" (signs there: {signs})" if signs else ""
    return f"entry {w.entry + 1} differs: at a real point{where} claim − truth = {w.value:.6g}, also in floating point"
