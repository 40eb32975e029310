"""The exact check of a claim: SymPy on explicit small matrices of symbols (truth/symbolic.py),
the claim evaluated on the same matrices, claim − truth simplified to 0 entry by entry. Runs in
a worker process under a time limit (truth/limits.py) and is memoised (truth/cache.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import sympy as sp

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import ShapeError, SymderivError
from symderiv.core.tree import ENTRY, Call, Node, Product, Sum, Sym, map_children
from symderiv.evaluation.evaluate import Evaluator
from symderiv.evaluation.interpret import Interpreter
from symderiv.judging.cases import decide_by_cases, flag_symbols
from symderiv.judging.matcher import Checker, uses_quantity_indices
from symderiv.judging.verdict import SymbolicResult
from symderiv.notation.latex import to_latex
from symderiv.notation.scalar import exact_scalar
from symderiv.runtime import cache
from symderiv.runtime.limits import TimedOut, WorkerLost, run_limited, start_limited
from symderiv.truth.model_symbolic import model_value
from symderiv.truth.prepared import ensure_prepared, fingerprint, setup
from symderiv.truth.reference import is_column_quantity, layer_bindings
from symderiv.truth.symbolic import is_zero, witness_at


def _worker(
    problem: Problem, quantity: Quantity, tree: Node, reading: str, final_transpose: bool, rejected: bool = False
):
    sizes = ", ".join(f"{k}={v}" for k, v in problem.symbolic_sizes)
    by_cases = ""
    usable = [b for b in layer_bindings(quantity) if Checker(problem, quantity, tree).layers_exist(b)]
    for bindings in usable or layer_bindings(quantity):
        truth, env, reference, flip = setup(problem, quantity, reading, tuple(sorted(bindings.items())))
        normalized = env.interp.normalize(tree)
        env.cases = {}
        try:
            if uses_quantity_indices(normalized, quantity):
                value = _indexed(env, normalized, quantity, reference, is_column_quantity(problem, quantity))
            else:
                value = Evaluator(env).value(normalized)
        finally:
            cases, env.cases = env.cases, None
        if final_transpose:
            value = value.T
        if value.shape != reference.shape:
            return (
                "different",
                f"the claim is {value.shape[0]}x{value.shape[1]}, the quantity {reference.shape[0]}x{reference.shape[1]}",
                sizes,
                (),
            )
        where = f" (layer {', '.join(f'{k} = {v}' for k, v in bindings.items())})" if bindings else ""
        flags = flag_symbols(env.masks, cases)
        piecewise = []
        for (i, j), (v, r) in zip(
            ((i, j) for i in range(reference.shape[0]) for j in range(reference.shape[1])),
            zip(list(value), list(reference)),
        ):
            d = v - r
            if d.free_symbols & flags:
                if not is_zero(d, truth.generic):  # identically 0 whatever the signs: equal; else by the signs
                    piecewise.append(d)
                continue
            # no kink in this entry: a rational point is a real one, and decides a rejection at once
            found = witness_at(d) if rejected and not truth.generic else None
            if found is not None or not is_zero(d, truth.generic):
                if found is None and not truth.generic:
                    found = witness_at(d)
                at = f"; at a rational point claim − truth = {found[0].real:.6g}" if found is not None else ""
                point = tuple((str(k), float(v)) for k, v in sorted(found[1].items(), key=str)) if found else ()
                return "different", f"entry ({i + 1},{j + 1}) differs{where}: claim − truth is not 0{at}", sizes, point
        if piecewise:
            status, detail, refuted = decide_by_cases(piecewise, env.masks, cases, truth.generic)
            if status != "equal":
                return status, detail + where, sizes, refuted.point if refuted is not None else ()
            by_cases = detail
    return "equal", by_cases or "claim − truth simplifies to 0 in every entry", sizes, ()


def _indexed(env, tree, quantity, reference, columns: bool = False):
    names = quantity.indices
    rows, cols = reference.shape
    if columns:  # u_w: the claim for column w, for every w, side by side
        values = [Evaluator(env, {names[0]: w}).value(tree) for w in range(cols)]
        if rows > 1 and all(v.shape == (1, rows) for v in values):
            return sp.Matrix.vstack(*values)  # a row (v_c^T) for each column: the whole transposed, as matcher.py
        return sp.Matrix.hstack(*values)
    if len(names) == 1 and min(rows, cols) > 1:  # one row (or column) at a time, as judging/matcher.py
        for count, length, by_rows in ((rows, cols, True), (cols, rows, False)):
            values = [Evaluator(env, {names[0]: k}).value(tree) for k in range(count)]
            if all(min(v.shape) == 1 and max(v.shape) == length for v in values):
                if by_rows:
                    return sp.Matrix.vstack(*[v.reshape(1, length) for v in values])
                return sp.Matrix.hstack(*[v.reshape(length, 1) for v in values])
        raise ShapeError(f"with {names[0]} bound, the claim is neither a row nor a column of the quantity")
    out = sp.zeros(rows, cols if len(names) == 2 else 1)
    for i in range(rows):
        for j in range(cols if len(names) == 2 else 1):
            binding = dict(zip(names, (i, j) if len(names) == 2 else (i,)))
            out[i, j] = Evaluator(env, binding).value(tree)[0, 0]
    return out


_MEMO: dict = {}
DEFINITIVE = ("equal", "different")  # the only results memoised and cached


def _canonical_ops(node: Node) -> Node:
    """\\cdot, \\times, * and juxtaposition multiply alike; \\circ is \\odot: one spelling for the memo."""
    node = map_children(node, _canonical_ops)
    if isinstance(node, Product):
        node = replace(node, ops=tuple("odot" if op in ("odot", "circ") else "juxt" for op in node.ops))
    return node


def memo_tree(problem: Problem, quantity: Quantity, tree: Node) -> Node:
    """The exact check's memo key for a normalised claim. Products are spelt one way; and in a
    matrix-form claim (no index, no sum) of a quantity with one layer binding, every declared
    object is spelt by what it resolves to (z^{(3)} and Z^{(3)} are one object): the exact check
    evaluates exactly that, so the result is the same. A tree for the memo only, never evaluated."""
    tree = _canonical_ops(tree)
    bindings = layer_bindings(quantity)
    if quantity.indices or len(bindings) != 1:
        return tree
    if any(isinstance(n, Sum) or getattr(n, "indices", ()) for n in tree.walk()):
        return tree
    interp = Interpreter(problem, dict(bindings[0]))

    def spell(node: Node) -> Node:
        node = map_children(node, spell)
        try:
            if isinstance(node, Sym):
                ref = interp.resolve(node)
                return Sym(f"@{ref.kind}") if ref.kind in problem.model.symbol_table else node
            if isinstance(node, Call) and len(node.args) == 1 and node.func not in ("max", "min", ENTRY):
                fref = interp.function(node)
                return Call(f"@{fref.name}:{fref.layer}:{fref.derivative}", node.args, node.primes)
        except SymderivError:
            pass
        return node

    return spell(tree)


def start_symbolic_check(
    problem: Problem,
    quantity: Quantity,
    tree: Node,
    reading: str,
    *,
    final_transpose: bool = False,
    timeout: float = 5.0,
    rejected: bool = False,
) -> Callable[[], SymbolicResult]:
    """The exact check of a claim, started: its worker runs while this process goes on; the
    function returned waits for the result (call it exactly once, also when what came between
    failed). Memoised on the normalized claim (in memory and on disk, see cache.py): a class
    writes the same claim many times, in many spellings, and `grade --jobs` runs several processes.
    ``rejected``: the numeric check rejected the claim, so each entry is tried at a rational
    point before it is expanded (the same result, sooner)."""
    try:
        tree = Interpreter(problem, dict(layer_bindings(quantity)[0])).normalize(tree)
    except Exception:  # normalisation problems surface in the check itself
        pass
    key = (problem, quantity, memo_tree(problem, quantity, tree), reading, final_transpose)
    if key in _MEMO:
        known = _MEMO[key]
        return lambda: known
    stored = cache.load(problem, key)
    if stored is not None:
        status, detail, sizes, seconds, point = stored
        _MEMO[key] = SymbolicResult(
            status, detail, sizes, seconds, tuple((str(k), float(v)) for k, v in point), reading
        )
        return lambda: _MEMO[key]
    finish = start_worker_check(problem, quantity, tree, reading, final_transpose, timeout, rejected)

    def result() -> SymbolicResult:
        outcome = finish()
        if outcome.status in DEFINITIVE:  # a timeout, a lost worker or an error may not recur
            cache.store(problem, key, (outcome.status, outcome.detail, outcome.sizes, outcome.seconds, outcome.witness))
            _MEMO[key] = outcome
        return outcome

    return result


def run_symbolic_check(problem, quantity, tree, reading, final_transpose, timeout) -> SymbolicResult:
    """The exact check of a normalised claim in a worker under the time limit (no memo)."""
    return start_worker_check(problem, quantity, tree, reading, final_transpose, timeout)()


def start_worker_check(
    problem, quantity, tree, reading, final_transpose, timeout, rejected: bool = False
) -> Callable[[], SymbolicResult]:
    ensure_prepared(problem)  # the key's set-up: built once, outside the claim's time limit
    start = time.perf_counter()
    sizes = ", ".join(f"{k}={v}" for k, v in problem.symbolic_sizes)
    try:
        pending = start_limited(_worker, (problem, quantity, tree, reading, final_transpose, rejected), timeout)
    except Exception as exc:  # e.g. a claim that cannot be sent: reported, never raised
        failed = SymbolicResult("error", f"{type(exc).__name__}: {exc}"[:300], sizes, time.perf_counter() - start)
        return lambda: failed

    def result() -> SymbolicResult:
        try:
            outcome = pending.result()
        except Exception as exc:  # a SymPy failure is reported, never raised
            return SymbolicResult("error", f"{type(exc).__name__}: {exc}"[:300], sizes, time.perf_counter() - start)
        if isinstance(outcome, (TimedOut, WorkerLost)):
            return _undecided(outcome, sizes, start)
        status, detail, sizes_used, point = outcome
        return SymbolicResult(status, detail, sizes_used, time.perf_counter() - start, point, reading)

    return result


def _undecided(outcome, sizes: str, start: float) -> SymbolicResult:
    if isinstance(outcome, TimedOut):
        return SymbolicResult("timeout", f"SymPy {outcome}", sizes, time.perf_counter() - start)
    return SymbolicResult("error", f"the exact check could not run: {outcome}", sizes, time.perf_counter() - start)


_VALUE_SETUPS: dict = {}  # (key fingerprint, quantity id) -> (env, exact truth, tolerance), per worker


def _value_worker(problem: Problem, quantity: Quantity, tree: Node):
    key = (fingerprint(problem), quantity.id)
    if key not in _VALUE_SETUPS:  # the key's numbers made exact once per worker, not per claim
        _VALUE_SETUPS[key] = _value_setup(problem, quantity)
    env, truth, tolerance = _VALUE_SETUPS[key]
    return _compare_value(env, truth, tree, quantity, tolerance)


def _value_setup(problem: Problem, quantity: Quantity):
    env, truth = model_value(problem.for_quantity(quantity), quantity)
    return env, truth, problem.value_tolerance


def _compare_value(env, truth, tree: Node, quantity: Quantity, tolerance: float):
    value = Evaluator(env).value(env.interp.normalize(tree))
    if value.shape != truth.shape and value.shape[::-1] == truth.shape:
        value = value.T
    if value.shape != truth.shape:
        return "different", f"the claim has {len(value)} entries, {quantity.id} has {len(truth)}"
    diffs = [abs(float(sp.N(v - t, 30))) for v, t in zip(list(value), list(truth))]
    ok = all(d <= tolerance * max(1.0, abs(float(sp.N(t, 30)))) for d, t in zip(diffs, list(truth)))
    shown = ", ".join(str(sp.nsimplify(t)) if t.is_Rational else str(t) for t in list(truth))
    detail = f"exact value {shown}; largest difference {max(diffs):.3g} (tolerance {tolerance:g})"
    plain = exact_scalar(to_latex(tree))
    if plain is not None and len(truth) == 1:
        agree = abs(float(sp.N(plain - truth[0], 30))) <= tolerance * max(1.0, abs(float(sp.N(truth[0], 30))))
        detail += f"; latex2sympy2 reads the claim as {plain}, which {'agrees' if agree else 'disagrees'}"
        ok = ok and agree
    return ("equal" if ok else "different"), detail


def value_check(problem: Problem, quantity: Quantity, tree: Node, timeout: float = 5.0) -> SymbolicResult:
    """A forward-pass number, exactly: SymPy on the given weights, plus latex2sympy2 for plain arithmetic."""
    start = time.perf_counter()
    try:
        result = run_limited(_value_worker, (problem, quantity, tree), timeout)
    except Exception as exc:
        return SymbolicResult("error", f"{type(exc).__name__}: {exc}"[:300], "", time.perf_counter() - start)
    if isinstance(result, (TimedOut, WorkerLost)):
        return _undecided(result, "", start)
    return SymbolicResult(result[0], result[1], "", time.perf_counter() - start)
