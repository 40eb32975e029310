"""Check one claim: is it the quantity, under some reading, and if not, why not.

>>> v = check_claim("softmax-2layer", "dJ/dz3", r"\\frac{1}{N}(\\Delta - \\psi(z^{(3)}))", symbolic=False)
>>> v.verdict, v.diagnosis
('incorrect', 'sign')
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np

from symderiv.answerkey.model import spelling_keys
from symderiv.answerkey.problem import Problem, Quantity, layer_brackets, load_problem
from symderiv.core.errors import NotationError, ParseError, ShapeError, SymderivError, UnknownQuantityError
from symderiv.core.tree import Call, Compare, Deriv, Indicator, Node, Sum, Sym, map_children
from symderiv.evaluation.evaluate import Evaluator
from symderiv.evaluation.interpret import Interpreter
from symderiv.judging.diagnose import diagnose_mistake
from symderiv.judging.exact import start_symbolic_check, value_check
from symderiv.judging.identify import identify_quantity
from symderiv.judging.indices import index_letters_in, own_letters, rename_letters, summation_convention
from symderiv.judging.matcher import (  # noqa: F401
    READING_NAMES,
    RTOL,
    ZERO_LEVEL,
    Checker,
    evaluate_at,
    rel_err,
    uses_quantity_indices,
)
from symderiv.judging.sizes import in_problem_sizes
from symderiv.judging.verdict import Match, NumericResult, SymbolicResult, Verdict  # noqa: F401
from symderiv.notation.latex import latex_style, to_latex
from symderiv.notation.parse import parse_lenient
from symderiv.truth.prepared import ensure_prepared
from symderiv.truth.reference import build_points, layer_bindings, readings_for, target_ref


def resolve_quantity(problem: Problem, quantity: str) -> Quantity:
    """A quantity id, or the student's LaTeX left-hand side (\\frac{\\partial \\tilde J}{\\partial W^{(2)}})."""
    ids = {q.id: q for q in problem.quantities}
    if quantity in ids:
        return ids[quantity]
    found = identify_quantity(problem, quantity)
    if found is None:
        raise UnknownQuantityError(
            f"problem {problem.id!r} has no quantity {quantity!r} "
            f"(ids: {', '.join(ids)}; or give the left-hand side in LaTeX)"
        )
    q = ids[found]
    letters = _entry_letters(problem, q, quantity)
    if len(letters) == 2 and not q.indices and 2 in _entry_ranks(problem, q):
        return replace(q, indices=letters)  # ∂J/∂W_{jk}: j is the row, as the left side says (a vector has one)
    return q


def _entry_letters(problem: Problem, q: Quantity, latex: str) -> tuple[str, ...]:
    """The entry letters of a left-hand side's ∂/∂W_{jk} or ∂/∂(W_h)_{jk} (j, k: the label h set
    apart), or ()."""
    try:
        tree = parse_lenient(latex).tree
    except ParseError:
        return ()
    deriv = next((n for n in tree.walk() if isinstance(n, Deriv)), None)
    wrt = deriv.wrt if deriv is not None else None
    if isinstance(wrt, Sym):
        wrt = _label_apart(Interpreter(problem, dict(layer_bindings(q)[0])).reader, wrt)
    if not isinstance(wrt, Sym) or not wrt.indices:
        return ()
    letters = tuple(i.name for i in wrt.indices if isinstance(i, Sym) and not i.indices and len(i.name) == 1)
    return letters if len(letters) == len(wrt.indices) else ()


def prepare_problem(problem: str | Problem, *, timeout: float = 60.0) -> int:
    """Per-key work done once, before any student's claim: the key's symbolic set-up
    (truth/prepared.py), the random points of every reading with their reference values, then
    the exact check of the key's own claims. Those results are memoised like any claim's
    (judging/exact.py, in memory and on disk), so a student's claim that normalises to the key's
    closed form under the same reading is decided by that proof instead of a SymPy run of its
    own. ``timeout`` bounds the set-up's CPU time; a key whose set-up does not finish in it gets
    no proofs here (each claim's check then works as without this). Returns how many of the
    key's claims were proven equal.
    """
    problem = load_problem(problem) if isinstance(problem, str) else problem
    if not ensure_prepared(problem, timeout=timeout):
        return 0
    proven = 0
    for q in problem.quantities:
        if q.kind != "value":
            for reading in readings_for(problem, q):  # the random points and their references
                for bindings in layer_bindings(q):
                    build_points(problem, q, reading, bindings)
            verdict = check_claim(problem, q.id, q.claim, timeout=min(timeout, 20.0))
            proven += verdict.symbolic is not None and verdict.symbolic.status == "equal"
    return proven


def check_claim(
    problem: str | Problem,
    quantity: str,
    claim: str,
    *,
    symbolic: bool = True,
    timeout: float = 5.0,
    explain: bool = True,
) -> Verdict:
    """Check a student's claim for a quantity of a problem. Never raises for any claim string:
    unreadable LaTeX is an `unparseable` verdict, an internal failure an `undecided` one that
    names the reason (flagged for review). An unknown problem or quantity raises a
    SymderivError naming it.

    ``explain=False`` decides only: an accepted claim is checked exactly as always, but a
    rejected one is not explained (no named mistake, no exact check of the difference, which
    never changes a rejection): the cheap path for a pass/fail answer."""
    start = time.perf_counter()
    problem = load_problem(problem) if isinstance(problem, str) else problem
    q = resolve_quantity(problem, quantity)
    base = dict(problem=problem.id, quantity=q.id, claim=claim)
    try:
        parsed = parse_lenient(claim)
    except ParseError as exc:
        return Verdict(
            **base,
            verdict="unparseable",
            feedback=f"The claim cannot be read: {exc.reason}.",
            numeric=NumericResult("error", detail=str(exc)),
            symbolic=SymbolicResult("skipped", "unparseable"),
            seconds=time.perf_counter() - start,
        )
    except RecursionError:
        return Verdict(
            **base,
            verdict="unparseable",
            feedback="The claim is nested too deeply to read.",
            seconds=time.perf_counter() - start,
        )
    except Exception as exc:  # never raises for a claim: an internal failure is named in the verdict
        return _internal_error(base, "reading", exc, start)
    try:
        verdict = judge(problem, q, parsed.tree, symbolic=symbolic, timeout=timeout, explain=explain)
    except RecursionError:
        return Verdict(
            **base,
            verdict="unparseable",
            feedback="The claim is nested too deeply to evaluate.",
            seconds=time.perf_counter() - start,
        )
    except Exception as exc:
        return _internal_error(base, "checking", exc, start)
    repaired = f" (read after repair: {'; '.join(parsed.repairs)})" if parsed.repairs else ""
    return replace(
        verdict,
        claim=claim,
        repairs=parsed.repairs,
        feedback=verdict.feedback + repaired,
        seconds=time.perf_counter() - start,
    )


def _internal_error(base: dict, stage: str, exc: Exception, start: float) -> Verdict:
    reason = f"{type(exc).__name__}: {exc}"[:300]
    return Verdict(
        **base,
        verdict="undecided",
        review=f"internal error while {stage} the claim: {reason}",
        feedback=f"The claim could not be checked (internal error while {stage} it: {reason}); flagged for review.",
        seconds=time.perf_counter() - start,
    )


def free_index_names(tree: Node, bound: frozenset = frozenset()) -> list[str]:
    """Index letters a claim leaves free (in order of appearance), outside the sums that bind them."""
    if isinstance(tree, Sum) and tree.index:
        bound = bound | {tree.index}
    out = []
    if isinstance(tree, (Sym, Call)):
        for ix in index_letters_in(getattr(tree, "indices", ())):
            if ix.name not in bound and ix.name not in out:
                out.append(ix.name)
    for child in tree.children():
        out.extend(n for n in free_index_names(child, bound) if n not in out)
    return out


def judge(
    problem: Problem, q: Quantity, tree: Node, *, symbolic: bool = True, timeout: float = 5.0, explain: bool = True
) -> Verdict:
    """The verdict for a parsed claim; an entrywise claim (∂J/∂W_ij = ... with free i, j) is judged
    entry by entry first, then as a whole."""
    with latex_style(layer_brackets=layer_brackets(problem)):  # feedback in the problem's own brackets
        tree = _labels_apart(problem, q, tree)
        if q.indices:
            return _judge_indexed(problem, q, tree, q.indices, symbolic=symbolic, timeout=timeout, explain=explain)
        entrywise = _entrywise(problem, q, tree, symbolic=symbolic, timeout=timeout, explain=explain)
        return entrywise or _judge(problem, q, tree, symbolic=symbolic, timeout=timeout, explain=explain)


def _labels_apart(problem: Problem, q: Quantity, tree: Node) -> Node:
    """(o_t)_i, (W_h)_{ij}, (c_{t-1})_i, v_c: the subscripts that name a declared symbol (o_t, v_c)
    set apart from the entry's indices (i), so that a label (t, c) is never taken for a free index
    or summed by the convention; every other subscript stays as written."""
    reader = Interpreter(problem, dict(layer_bindings(q)[0])).reader

    def visit(node: Node) -> Node:
        return _label_apart(reader, map_children(node, visit))

    return visit(tree)


def _label_apart(reader, node: Node) -> Node:
    """(o_t)_i as o with the label t and the one index i, v_c (a declared name) as v with the label c;
    any other node as it is."""
    if isinstance(node, Sym) and node.indices and node.layer is None:
        try:
            form = reader.canonical(node)
        except SymderivError:
            return node
        if form is not None and form.layer is not None and len(form.indices) < len(node.indices):
            return form
    return node


def _entrywise(
    problem: Problem, q: Quantity, tree: Node, *, symbolic: bool, timeout: float, explain: bool = True
) -> Verdict | None:
    """Free letters that name an entry (W_ij, z_kn, b_j): the claim judged entry by entry, or None."""
    if q.kind != "gradient":
        return None
    free = free_index_names(tree)
    free += [name for name in _compared_letters(problem, tree) if name not in free]
    if not free:
        return None
    ranks = _entry_ranks(problem, q)
    if not ranks:
        return None
    typed = None  # an entrywise reading that typechecks: the one to explain a wrong entrywise claim by
    undecided = None  # an entrywise reading numerically right whose exact check could not decide
    for rank in ranks:
        if len(free) < rank:
            continue
        # which letter is the row is the student's choice; a letter beyond the entry's is summed, and
        # so are more of them when each is repeated (the summation convention sums them)
        for names in itertools.permutations(free, rank):
            rest = set(free) - set(names)
            if len(rest) > 1 and not rest <= set(summation_convention(tree, set(names))[1]):
                continue
            verdict = _judge_indexed(  # only an acceptance is used: a rejection here needs no explanation
                problem,
                replace(q, indices=tuple(names)),
                tree,
                tuple(names),
                symbolic=symbolic,
                timeout=timeout,
                explain=False,
            )
            if verdict.accepted:
                return replace(
                    verdict,
                    quantity=q.id,
                    feedback=verdict.feedback.replace(
                        "Correct (",
                        f"Correct {'row by row' if isinstance(rank, RowAtATime) else 'entry by entry'} "
                        f"over {', '.join(names)} (",
                    ),
                )
            if typed is None and verdict.numeric is not None and verdict.numeric.status == "different":
                typed = names
            if undecided is None and verdict.verdict == "undecided" and verdict.numeric is not None:
                undecided = verdict if verdict.numeric.status == "equal" else None
    if undecided is not None:
        # numerically right entry by entry, the exact check undecided: that says more than a whole-matrix
        # reading that does not typecheck (a right claim is never called wrong for it)
        return replace(undecided, quantity=q.id)
    if typed is not None and explain:
        # well typed entry by entry and wrong: explained entry by entry, never as a matrix that does not typecheck
        verdict = _judge_indexed(
            problem, replace(q, indices=typed), tree, typed, symbolic=symbolic, timeout=timeout, explain=True
        )
        return replace(verdict, quantity=q.id)
    return None


def _compared_letters(problem: Problem, tree: Node, bound: frozenset = frozenset()) -> list[str]:
    """Letters only compared in an indicator (j in 1[j = y_i]), bound by no Σ and naming no symbol
    of the key: free indices like a subscript's."""
    if isinstance(tree, Sum) and tree.index:
        bound = bound | {tree.index}
    out = []
    if isinstance(tree, Indicator) and isinstance(tree.condition, Compare) and tree.condition.op in ("=", "!="):
        interp = Interpreter(problem)
        for side in (tree.condition.lhs, tree.condition.rhs):
            if (
                isinstance(side, Sym)
                and not side.indices
                and side.layer is None
                and len(side.name) == 1
                and side.name not in bound
                and not _names_symbol(interp, side)
            ):
                out.append(side.name)
    for child in tree.children():
        out.extend(n for n in _compared_letters(problem, child, bound) if n not in out)
    return out


def _names_symbol(interp: Interpreter, node: Sym) -> bool:
    """Whether the letter is a symbol of the key as spelt (j is no J)."""
    table = interp.model.spelling_table
    return any(key in table for key in spelling_keys(node, with_indices=False, swap=False))


class RowAtATime(int):
    """Rank 1 of a matrix quantity: the claim is one row (or column) w_j, for each j."""


ROW_AT_A_TIME = RowAtATime(1)


def _entry_ranks(problem: Problem, q: Quantity) -> tuple[int, ...]:
    """How many free letters an entry of the quantity takes: a matrix 2, a vector 1, an object
    that carries the batch either (a batch matrix, or one sample's vector)."""
    try:
        bindings = dict(layer_bindings(q)[0])
        target = target_ref(problem, q, bindings)
        reading = readings_for(problem, q)[0]
        point = build_points(problem, q, reading, bindings)[0]
    except (SymderivError, ValueError):
        return ()
    if target.kind in point.env.batch_kinds:
        return (2, 1)
    rows, cols = point.reference.shape
    if rows > 1 and cols > 1:
        return (2, ROW_AT_A_TIME)  # an entry W_ij, or a row w_j at a time
    return (1,) if max(rows, cols) > 1 else ()


def _judge_indexed(
    problem: Problem,
    q: Quantity,
    tree: Node,
    names: tuple[str, ...],
    *,
    symbolic: bool,
    timeout: float,
    explain: bool = True,
) -> Verdict:
    """Index notation: the student's own letters for the quantity's, and the summation convention."""
    reserved = {name for name, _ in q.layers} | {"L"}
    notes = []
    mapping = own_letters(tree, names, reserved)
    one_way = False
    if mapping and len(mapping) == 2:
        # which of the student's letters is the row cannot be told without their left side:
        # the claim must hold both ways (a_k(δ_kl − a_l) does) to be accepted
        swapped = dict(zip(mapping, reversed(mapping.values())))
        other = _judge_indexed(
            problem, q, rename_letters(tree, swapped), names, symbolic=False, timeout=timeout, explain=False
        )
        one_way = not other.accepted
    if mapping:
        tree = rename_letters(tree, mapping)
        notes.append("read with " + ", ".join(f"{k} for {v}" for k, v in mapping.items()))
    tree, summed = summation_convention(tree, set(names) | reserved)
    if summed:
        notes.append(
            "read with the summation convention: the repeated "
            + ("index " if len(summed) == 1 else "indices ")
            + ", ".join(summed)
            + (" is" if len(summed) == 1 else " are")
            + " summed"
        )
    verdict = _judge(problem, q, tree, symbolic=symbolic, timeout=timeout, explain=explain)
    if one_way and verdict.accepted:
        letters = ", ".join(f"{k} for {v}" for k, v in mapping.items())
        return replace(
            verdict,
            verdict="undecided",
            feedback=(
                f"The claim holds with {letters} but not the other way round, and which of your letters "
                "is the row only your left-hand side says; flagged for review."
            ),
            review=f"holds entry by entry with {letters} only",
        )
    if not notes:
        return verdict
    return replace(verdict, feedback=f"{verdict.feedback} ({'; '.join(notes).capitalize()}.)")


def _judge(
    problem: Problem, q: Quantity, tree: Node, *, symbolic: bool = True, timeout: float = 5.0, explain: bool = True
) -> Verdict:
    base = dict(problem=problem.id, quantity=q.id, claim=to_latex(tree))
    if q.kind == "value":
        return _judge_value(problem, q, tree, base, symbolic, timeout)
    checker = Checker(problem, q, tree)
    try:
        strict, layout, typechecked = checker.find()
    except RecursionError:
        return Verdict(**base, verdict="unparseable", feedback="The claim is nested too deeply to evaluate.")
    match = strict or layout
    if match is not None:
        sym = _symbolic(problem, q, match, symbolic, timeout)
        numeric = NumericResult("equal", match.reading, match.points, match.max_rel_err)
        reading = READING_NAMES[match.reading]
        if strict:
            feedback = f"Correct ({reading}).{match.note}"
            verdict = "correct"
        else:
            verdict = "correct-up-to-layout"
            feedback = f"Right up to layout ({reading}): {'; '.join(dict.fromkeys(match.fixes))}."
        if sym.status in ("error", "timeout"):
            # numerically right, but only the exact check sees a tiny difference: never accept unchecked
            return Verdict(
                **base,
                verdict="undecided",
                reading=match.reading,
                fixes=match.fixes,
                feedback=(
                    f"{feedback} But the exact symbolic check could not decide "
                    f"({sym.detail}), so this is flagged for review."
                ),
                review=f"the exact check could not decide: {sym.detail}",
                numeric=numeric,
                symbolic=sym,
                normalized=to_latex(match.tree),
            )
        review = None
        if sym.status == "undecided":  # SymPy finished but could not decide a sign: accepted, a TA should look
            review = f"the exact check could not decide: {sym.detail}"
            feedback += f" (The symbolic check could not decide: {sym.detail}; flagged for review.)"
        if sym.status == "different":
            # the exact check sees what the random points missed: trust it, and say so
            return Verdict(
                **base,
                verdict="incorrect",
                diagnosis="symbolic-difference",
                reading=match.reading,
                feedback=(
                    f"Numerically equal at the test points ({reading}), but the exact symbolic "
                    f"check finds a difference ({sym.detail}): the two checks disagree, and "
                    "the exact one decides."
                ),
                fixes=match.fixes,
                numeric=numeric,
                symbolic=sym,
                normalized=to_latex(match.tree),
            )
        return Verdict(
            **base,
            verdict=verdict,
            feedback=feedback,
            reading=match.reading,
            fixes=match.fixes,
            numeric=numeric,
            symbolic=sym,
            normalized=to_latex(match.tree),
            review=review,
        )
    # the exact check of the difference runs in its worker while the mistake is being named
    finish_symbolic = _start_symbolic_for_incorrect(problem, q, typechecked, symbolic, timeout) if explain else None
    try:
        code, message = diagnose_mistake(checker, typechecked) if explain else (None, "")
    finally:
        sym = finish_symbolic() if finish_symbolic else None
    if not typechecked and checker.unbound and code is None:
        # no reading could bind the claim's index letters: not a mistake of the student's, a TA decides
        return Verdict(
            **base,
            verdict="undecided",
            feedback=(
                f"The claim could not be evaluated as written: {checker.unbound[0]}; flagged for review "
                "(write the sums with their bounds, or the answer as a whole matrix)."
            ),
            review=f"index letters bound by nothing symderiv reads: {checker.unbound[0]}",
            numeric=NumericResult("no-typecheck", detail="; ".join(dict.fromkeys(checker.errors))),
            symbolic=sym or SymbolicResult("skipped", "nothing to compare"),
        )
    if not typechecked and checker.errors:
        reason = (checker.notation_errors or [checker.errors[0].split(": ", 1)[-1]])[0]
        feedback = message or f"The claim does not hold: {reason}."
        numeric = NumericResult("no-typecheck", detail="; ".join(dict.fromkeys(checker.errors)))
    else:
        tried = ", ".join(READING_NAMES[r] for r in readings_for(problem, q))
        feedback = message or f"The claim differs from the right answer under every reading tried ({tried})."
        numeric = NumericResult(
            "different",
            typechecked[0][0] if typechecked else None,
            points=len(typechecked[0][2]) if typechecked else 0,
            detail="; ".join(dict.fromkeys(checker.errors)),
        )
    feedback = in_problem_sizes(problem, feedback)
    if sym is None:
        sym = SymbolicResult("skipped", "a rejection is not explained when only a decision is asked for")
        feedback += " (Only a decision was asked for: the mistake is not named.)"
    if sym.status == "equal":
        feedback += " But the symbolic check finds the claim equal to the truth: the two checks disagree."
    return Verdict(**base, verdict="incorrect", feedback=feedback, diagnosis=code, numeric=numeric, symbolic=sym)


def _start_symbolic_for_incorrect(problem, q, typechecked, enabled: bool, timeout: float):
    """The symbolic side of a rejection, under the first reading where the claim has the right
    size, started; the function returned gives its result."""
    if not enabled:
        skipped = SymbolicResult("skipped", "symbolic check not requested")
        return lambda: skipped
    for reading, tree, points, index_mode in typechecked:
        try:
            value = evaluate_at(tree, points[0], q, index_mode)
        except (ShapeError, NotationError, ValueError):
            continue
        if np.shape(value) == points[0].reference.shape:
            return start_symbolic_check(problem, q, tree, reading, timeout=min(timeout, 3.0), rejected=True)
    wrong_size = SymbolicResult(
        "skipped", "the claim has the wrong size under every reading: nothing to compare entrywise"
    )
    return lambda: wrong_size


def _symbolic(problem, q, match: Match, enabled: bool, timeout: float) -> SymbolicResult:
    if not enabled:
        return SymbolicResult("skipped", "symbolic check not requested")
    finish = start_symbolic_check(
        problem,
        q,
        match.tree,
        match.reading,
        final_transpose="transpose the whole result" in match.fixes,
        timeout=timeout,
    )
    return finish()


def _judge_value(
    problem: Problem, q: Quantity, tree: Node, base: dict, symbolic: bool = True, timeout: float = 5.0
) -> Verdict:
    points = build_points(problem, q, "single", {})
    point = points[0]
    tol = problem.value_tolerance
    try:
        value = Evaluator(point.env).value(tree)
    except (ShapeError, NotationError, ValueError, ZeroDivisionError) as exc:
        return Verdict(
            **base,
            verdict="incorrect",
            feedback=f"The claim cannot be evaluated: {exc}.",
            numeric=NumericResult("no-typecheck", detail=str(exc)),
        )
    ref = point.reference
    value = np.asarray(value, dtype=float)
    if value.shape != ref.shape and value.shape[::-1] == ref.shape:
        value = value.T
    if value.shape != ref.shape:
        return Verdict(
            **base,
            verdict="incorrect",
            feedback=f"The claim has {value.size} entries; {q.id} has {ref.size}.",
            numeric=NumericResult("different", "single", 1, detail="size"),
        )
    diff = np.abs(value - ref)
    ok = bool(np.all((diff <= tol) | (diff <= tol * np.abs(ref))))
    shown = ", ".join(f"{x:.6g}" for x in ref.ravel())
    numeric = NumericResult("equal" if ok else "different", "single", 1, float(np.max(diff)))
    if symbolic:
        symbolic = value_check(problem, q, Interpreter(problem).normalize(tree), timeout)
    else:
        symbolic = SymbolicResult("skipped", "symbolic check not requested")
    if symbolic.status == "different" and ok:
        return Verdict(
            **base,
            verdict="correct",
            reading="single",
            numeric=numeric,
            symbolic=symbolic,
            feedback=f"Correct numerically ({q.id} = {shown}), but the exact check disagrees: {symbolic.detail}.",
        )
    if ok:
        return Verdict(
            **base,
            verdict="correct",
            feedback=f"Correct ({q.id} = {shown}).",
            reading="single",
            numeric=numeric,
            symbolic=symbolic,
        )
    got = ", ".join(f"{x:.6g}" for x in value.ravel())
    return Verdict(
        **base,
        verdict="incorrect",
        feedback=f"{q.id} is {shown}, not {got}.",
        diagnosis="arithmetic",
        numeric=numeric,
        symbolic=symbolic,
    )
