"""Ground truth, symbolically: explicit small matrices of symbols, differentiated entry by entry.

Never MatrixSymbol.diff (it returns 0 for sums of traces and norms): the loss is
written out component by component (one-hot labels as real one-hot columns,
ReLU as z·s with a 0/1 symbol s per entry) and SymPy differentiates it with
respect to each entry. The claim is evaluated on the same matrices and the
difference is simplified to 0 entry by entry. Runs in a worker process under a
time limit (limits.py).
"""

from __future__ import annotations

import random
from functools import lru_cache

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.evaluation.evaluate import SympyBackend
from symderiv.evaluation.pointvalue import Unsupported, value_at
from symderiv.truth.model_symbolic import canonical, model_setup


@lru_cache(maxsize=1)
def sympy_backend() -> SympyBackend:
    return SympyBackend()


@lru_cache(maxsize=64)
def symbolic_setup(problem: Problem, quantity: Quantity, reading: str, bindings_items: tuple):
    """(truth marker, env for the claim, reference, flip): the key's model on symbol matrices."""
    return model_setup(problem, quantity, reading, bindings_items)


def _canonical_atoms(expr):
    """exp(u) -> E, exp(-u) -> 1/E, exp(2u) -> E², tanh(u) -> T, tanh(-u) -> -T: the difference
    becomes rational (an integer multiple of an exponent is a power of the same symbol)."""
    mapping, symbols = {}, {}
    for atom in sorted(atoms_of(expr, sp.exp, sp.tanh), key=sp.default_sort_key):
        arg = atom.args[0]
        coeff, base = arg.as_coeff_Mul() if atom.func == sp.exp else (sp.Integer(1), arg)
        if not coeff.is_Integer:
            coeff, base = sp.Integer(1), arg
        neg = base.could_extract_minus_sign()
        if neg:
            coeff, base = -coeff, -base
        key = (atom.func, base)
        if key not in symbols:
            symbols[key] = sp.Symbol(f"E{len(symbols)}", positive=True)
        s = symbols[key]
        if atom.func == sp.exp:
            mapping[atom] = s**coeff
        else:
            mapping[atom] = -s if neg else s
    return expr.xreplace(mapping)


NONZERO = 1e-12  # |claim − truth| at a rational point (30 digits) above this: not identically 0


def zero_one(s) -> bool:
    """A 0/1 symbol: a kink's mask or case, or a binary label (integer and nonnegative)."""
    return bool(s.is_integer) and bool(s.is_nonnegative)


def witness(expr, points: int = 4) -> complex | None:
    """The expression's value at the first of a few fixed random rational points where it is not
    0 (all symbols; 0/1 for the mask symbols, which stand for indicators), else at the last, or
    None. One point can hide a difference (a mask symbol 0 there zeroes the entry); a few rarely
    do. Evaluated in mpmath at 30 digits over the expression's DAG (pointvalue.py; lambdify,
    which prints the whole tree first, compiled once for what that does not know)."""
    rng = random.Random(7)
    free = sorted(expr.free_symbols, key=str)
    masks = [s for s in free if zero_one(s)]
    # the masks all 1, then all 0, then each one alone 0 (a mask factor the truth lacks is seen
    # only there), then at random: each sign pattern of the kinks is a case
    patterns = [{}, dict.fromkeys(masks, 0)] + [{m: 0} for m in masks[:8]]
    value, compiled = None, None
    try:
        for attempt in range(points + min(len(masks), 8)):
            pattern = patterns[attempt] if attempt < len(patterns) else {m: rng.randint(0, 1) for m in masks}
            point = [
                pattern.get(s, 1) if zero_one(s) else mpmath.mpf(rng.randint(1, 9)) / rng.randint(2, 11) for s in free
            ]
            with mpmath.workdps(30):
                try:
                    value = complex(value_at(expr, dict(zip(free, point))))
                except Unsupported:
                    compiled = compiled or sp.lambdify(free, expr, "mpmath")
                    value = complex(compiled(*point))
            if abs(value) > NONZERO:
                return value
    except (TypeError, ValueError, ZeroDivisionError, NameError, SyntaxError, RecursionError):
        return value
    return value


def evaluate_at(expr, point: dict, digits: int = 30) -> complex:
    """expr's value at a point, over its DAG (pointvalue.py), at `digits` significant digits
    (15: the precision of float64); lambdify only for what that evaluator does not know."""
    with mpmath.workdps(digits):
        point = {s: _mp(v) for s, v in point.items()}
        try:
            return complex(value_at(expr, point))
        except Unsupported:
            free = sorted(expr.free_symbols, key=str)
            return complex(sp.lambdify(free, expr, "mpmath")(*[point[s] for s in free]))


def _mp(value):
    """A point's value as an mpmath number at the working precision (a Rational exactly divided)."""
    if isinstance(value, sp.Rational):
        return mpmath.mpf(int(value.p)) / int(value.q)
    if isinstance(value, sp.Basic):
        return mpmath.mpf(str(sp.N(value, mpmath.mp.dps)))
    return mpmath.mpf(value)


def witness_at(expr, tries: int = 4) -> tuple[complex, dict] | None:
    """A real point (no kink symbol in expr: rationals, 0/1 for binary labels) where expr is not 0,
    with expr's value there; None when every point tried gives 0."""
    rng = random.Random(7)
    free = sorted(expr.free_symbols, key=str)
    for _ in range(tries):
        point = {
            s: sp.Integer(rng.randint(0, 1)) if zero_one(s) else sp.Rational(rng.randint(1, 9), rng.randint(2, 11))
            for s in free
        }
        try:
            value = evaluate_at(expr, point)
        except (TypeError, ValueError, ZeroDivisionError, KeyError, NameError, SyntaxError, RecursionError):
            return None
        if abs(value) > NONZERO:
            return value, point
    return None


def _nonzero_somewhere(expr) -> bool:
    """True when the expression is clearly non-zero at a rational point (so not identically 0)."""
    value = witness(expr)
    return value is not None and abs(value) > NONZERO


def atoms_of(expr, *types) -> set:
    """expr.atoms(*types), visiting a shared subexpression once: the truth of a deep network
    repeats the same subtrees many times, and a tree walk would visit each copy."""
    found, seen, stack = set(), set(), [expr]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, types):
            found.add(node)
        stack.extend(node.args)
    return found


def _idempotent_masks(expr):
    """s^k = s for the 0/1 symbols that stand for 1[z > 0]."""
    powers = {
        p: p.base
        for p in atoms_of(expr, sp.Pow)
        if p.base.is_Symbol and zero_one(p.base) and p.exp.is_Integer and p.exp > 0
    }
    return expr.xreplace(powers) if powers else expr


def is_zero(expr, generic: bool = False) -> bool:
    """Whether claim − truth is identically 0, by the cheapest decisive test first: expanding
    decides most equal entries in milliseconds (claim and truth are built on the same symbols),
    a rational point decides most different ones; cancelling and simplify are the last resort."""
    expr = _idempotent_masks(sp.sympify(expr))
    if expr == 0:
        return True
    if generic:
        # each application of an undefined function becomes one symbol: what is left is a polynomial
        if atoms_of(expr, sp.Subs, sp.Derivative):
            expr = canonical(expr)
        atoms = {a: sp.Dummy() for a in atoms_of(expr, AppliedUndef)}
        return sp.expand(expr.xreplace(atoms)) == 0
    rational = _canonical_atoms(expr)
    if _idempotent_masks(sp.expand(rational)) == 0:
        return True
    if _nonzero_somewhere(expr):  # milliseconds over the DAG; cancelling a wrong entry can take seconds
        return False
    if _cancels(expr):
        return True
    if sp.cancel(sp.together(rational)) == 0:
        return True
    return sp.simplify(expr) == 0


def _cancels(expr) -> bool:
    """claim − truth is 0 as a rational function once exp/tanh atoms are symbols; the 0/1 masks
    (s² = s) reduced in the expanded numerator."""
    for form in (expr, sp.expand_power_exp(expr)):  # SymPy writes exp(a)/exp(b) as exp(a − b): split it
        together = sp.together(_canonical_atoms(form))
        if sp.cancel(together) == 0:
            return True
        numerator = sp.expand(sp.fraction(together)[0])
        if sp.expand(_idempotent_masks(numerator)) == 0:
            return True
    return False
