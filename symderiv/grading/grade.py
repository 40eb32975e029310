"""Grade a submission: which quantity each line claims, each part's final answer, each = step.

A part's final answer is the last closed form the student gave for it (no
unevaluated ∂ left; for a forward-pass value, a number). Each step of a chain
between two closed forms is checked numerically under the same readings as
check_claim; a step whose left side is the quantity itself is the claim check.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from symderiv.core.errors import NotationError, ParseError, ShapeError, SubmissionError, SymderivError
from symderiv.core.tree import Call, Deriv, Node, Num, Sym, map_children
from symderiv.judging.check import judge
from symderiv.judging.identify import LhsMatch, defines_delta, identify
from symderiv.judging.matcher import RTOL, evaluate_at, uses_quantity_indices
from symderiv.notation.parse import parse_lenient
from symderiv.reading.extract import MathRow, extract, read_submission
from symderiv.truth.evaluate import Evaluator
from symderiv.truth.interpret import Interpreter, Ref
from symderiv.truth.problem import Problem, Quantity, load_problem
from symderiv.truth.reference import build_points, layer_bindings, readings_for

STEP_ERRORS = (ShapeError, NotationError, ValueError, ZeroDivisionError, OverflowError, FloatingPointError,
               IndexError, KeyError, RecursionError)


@dataclass(frozen=True)
class GradeConfig:
    layout_credit: float = 0.75      # share of a part's points for correct-up-to-layout
    symbolic: bool = True
    timeout: float = 5.0


@dataclass(frozen=True)
class Step:
    line: int
    ok: bool
    message: str
    left: str = ""
    right: str = ""
    quantity: str | None = None


@dataclass(frozen=True)
class Part:
    quantity: str
    verdict: str                      # correct | correct-up-to-layout | incorrect | unparseable | missing
    claim: str
    line: int | None
    feedback: str
    points: float
    max_points: float
    first_wrong_line: int | None = None
    check: dict | None = None


@dataclass(frozen=True)
class Report:
    file: str
    problem: str
    score: float
    max_score: float
    parts: tuple[Part, ...] = ()
    steps: tuple[Step, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict:
        d = {"file": self.file, "problem": self.problem, "score": round(self.score, 4),
             "max_score": self.max_score,
             "parts": [{"quantity": p.quantity, "verdict": p.verdict, "claim": p.claim, "line": p.line,
                        "feedback": p.feedback, "points": round(p.points, 4), "max_points": p.max_points,
                        "first_wrong_line": p.first_wrong_line, "check": p.check} for p in self.parts],
             "steps": [{"line": s.line, "ok": s.ok, "message": s.message, "left": s.left, "right": s.right,
                        "quantity": s.quantity} for s in self.steps]}
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class _Claim:
    quantity: str
    latex: str
    line: int
    tree: Node | None
    component: int | None
    error: str = ""
    layers: tuple = ()           # the layer instance the left side pins down, if any


# ---- parsing helpers -------------------------------------------------------------

def _parse(latex: str):
    try:
        return parse_lenient(latex).tree, ""
    except ParseError as exc:
        return None, exc.reason
    except RecursionError:
        return None, "nested too deeply"


def _is_closed(problem: Problem, tree: Node, quantity: Quantity) -> bool:
    interp = Interpreter(problem, dict(layer_bindings(quantity)[0]))
    norm = interp.normalize(tree)
    if isinstance(norm, Sym) and norm.name == "delta" and norm.layer is not None and quantity.wrt:
        try:     # δ^(l) for ∂C/∂z^(l) restates the definition
            target = interp.normalize(_parse(quantity.wrt)[0])
            if interp.resolve(_bare(target)) == Ref("Z", interp.resolve(_bare(norm)).layer):
                return False
        except (SymderivError, AttributeError, TypeError):
            pass
    for n in norm.walk():
        if isinstance(n, Call) and n.primes:
            try:
                f = interp.function(n)
            except SymderivError:
                continue
            if f.name == "softmax" or (f.name == "act" and problem.layers[f.layer - 1][1] == "softmax"):
                return False      # ∂a/∂z of a softmax is a Jacobian: a step of working, not an answer
        if isinstance(n, Deriv):
            if problem.loss == "generic" and isinstance(n.num, Sym) and n.num.name in ("C", "c", "J"):
                wrt = n.wrt
                if isinstance(wrt, Sym) and wrt.name in ("a", "A") and _is_last_layer(problem, wrt):
                    continue
            return False
    if quantity.kind == "value":      # a forward-pass answer is a number, not a restated definition
        return not any(isinstance(n, Sym) for n in tree.walk())
    return True


def _is_last_layer(problem: Problem, sym: Sym) -> bool:
    layer = sym.layer
    if isinstance(layer, Sym) and layer.name == "L":
        return True
    try:
        return Interpreter(problem).resolve(Sym(sym.name, layer)).layer == problem.depth
    except SymderivError:
        return False


def _retarget(problem: Problem, match: LhsMatch, first_rhs: Node | None, latex_lhs: str) -> LhsMatch:
    """A student who writes ∂J̃/∂Z^3 = … ∂Z^3/∂w^2 + ∂/∂w^2(…) means ∂J̃/∂w^2: when every
    derivative on the right is with respect to one other object, the left side is a slip."""
    if first_rhs is None:
        return match
    q = problem.quantity(match.quantity)
    if q.kind != "gradient":
        return match
    interp = Interpreter(problem, dict(layer_bindings(q)[0]))
    try:
        own = interp.resolve(_bare(interp.normalize(_parse(q.wrt)[0])))
    except (SymderivError, AttributeError, TypeError):
        return match
    wrts = set()
    for n in first_rhs.walk():    # the raw tree: ∂a/∂z factors must still count as derivatives
        # only inner derivatives (∂z/∂w, ∂/∂w(...)) say what the working is about;
        # ∂L/∂z is a chain-rule factor that any quantity below z may use
        if isinstance(n, Deriv) and not _is_objective(n.num):
            try:
                wrts.add(interp.resolve(_bare(interp.normalize(n.wrt))))
            except SymderivError:
                return match
    if not wrts or own in wrts or len(wrts) != 1:
        return match
    (other,) = wrts
    objective = "Jt" if q.of in ("Jt", "J") and ("\\tilde" in latex_lhs or "J̃" in latex_lhs) else q.of
    for candidate in problem.quantities:
        if candidate.kind == "gradient" and candidate.of == objective:
            try:
                if interp.resolve(_bare(interp.normalize(_parse(candidate.wrt)[0]))) == other:
                    return LhsMatch(candidate.id, note=f"the left side says {q.wrt}, the working is about {candidate.wrt}")
            except (SymderivError, AttributeError, TypeError):
                continue
    return match


def _is_objective(node: Node) -> bool:
    name = node.name if isinstance(node, Sym) else node.func.rpartition(":")[2] if isinstance(node, Call) else None
    return name in ("J", "L", "C", "c", "E")


def _bare(node: Node) -> Sym:
    return Sym(node.name, node.layer, (), node.decor)


# ---- walking the rows --------------------------------------------------------------

INDEX_LETTERS = set("ijklmnpqrst")


def _definable(problem: Problem, node: Node | None) -> bool:
    """A bare symbol the student may define: one the problem does not define, or δ^(l) where the
    problem gives δ no meaning."""
    if not isinstance(node, Sym) or node.indices or node.name in INDEX_LETTERS:
        return False      # "i = j" in the prose is a case, not a definition
    if node.name == "delta" and not defines_delta(problem):
        return True
    try:
        Interpreter(problem).resolve(node)
        return False
    except SymderivError:
        return node.name not in ("J", "L", "C")


def _substitute(tree: Node | None, definitions: dict) -> Node | None:
    if tree is None or not definitions:
        return tree
    if isinstance(tree, Sym):          # subscripts and layers are never substituted into
        key = (tree.name, tree.layer, tree.decor)
        return definitions.get(key, tree) if not tree.indices else tree
    return map_children(tree, lambda child: _substitute(child, definitions))


class _Walker:
    def __init__(self, problem: Problem):
        self.problem = problem
        self.definitions: dict = {}          # the student's own: E = ψ(Z) − Δ, δ^(3) = …
        self.claims: list[_Claim] = []
        self.chains: list[list[tuple[int, str, Node | None, str]]] = []   # (line, latex, tree, relation)
        self.chain_quantity: list[LhsMatch | None] = []

    def run(self, rows: list[MathRow]) -> None:
        current: LhsMatch | None = None
        chain: list | None = None
        dangling = False
        for row in rows:
            if row.inline:
                self._inline(row)     # prose math never carries a display chain on
                continue
            segments = [s for s in row.segments]
            relations = list(row.relations)
            if not any(s.strip() for s in segments):
                continue
            first_tree, _ = _parse(segments[0]) if segments[0].strip() else (None, "")
            match = identify(self.problem, first_tree, segments[0]) if first_tree is not None else None
            if match is None and row.lead is None:
                self._define(first_tree, segments[1:])
            starts_new = (match is not None and len(segments) > 1) or (row.lead is None and not dangling)
            if starts_new:
                if match is not None and len(segments) > 1:
                    rhs_tree = _parse(segments[1])[0] if segments[1].strip() else None
                    match = _retarget(self.problem, match, rhs_tree, segments[0])
                current = match     # a left side alone on its line may be continued by `= …` rows
                chain = []
                self.chains.append(chain)
                self.chain_quantity.append(current)
                chain.append((row.line, segments[0], first_tree, ""))
                rest = list(zip(relations, segments[1:]))
            else:
                if chain is None:
                    chain = []
                    self.chains.append(chain)
                    self.chain_quantity.append(current)
                rest = [(row.lead or "=", segments[0])] + list(zip(relations, segments[1:]))
            for relation, latex in rest:
                if not latex.strip():
                    continue
                tree, error = _parse(latex)
                tree = _substitute(tree, self.definitions)
                # a row that holds only under a condition ("when i = j") is a case, not the answer
                chain.append((row.line, latex, tree, relation if not row.condition else "case"))
                if current is not None and not row.condition:
                    self.claims.append(_Claim(current.quantity, latex, row.line, tree, current.component, error,
                                              current.layers))
            dangling = not segments[-1].strip()

    def _define(self, lhs: Node | None, rhs_segments) -> None:
        if not _definable(self.problem, lhs):
            return
        for latex in rhs_segments:
            tree = _parse(latex)[0] if latex.strip() else None
            if tree is not None and not any(isinstance(n, Deriv) for n in tree.walk()):
                self.definitions[(lhs.name, lhs.layer, lhs.decor)] = _substitute(tree, self.definitions)
                return

    def _inline(self, row: MathRow) -> None:
        if not row.relations or not row.segments[0].strip():
            return
        first_tree, _ = _parse(row.segments[0])
        match = identify(self.problem, first_tree, row.segments[0]) if first_tree is not None else None
        if match is None:
            self._define(first_tree, row.segments[1:])
        if match is None or row.condition:
            return
        chain = [(row.line, row.segments[0], first_tree, "")]
        for relation, latex in zip(row.relations, row.segments[1:]):
            tree, error = _parse(latex)
            tree = _substitute(tree, self.definitions)
            chain.append((row.line, latex, tree, relation))
            self.claims.append(_Claim(match.quantity, latex, row.line, tree, match.component, error,
                                      match.layers))
        self.chains.append(chain)
        self.chain_quantity.append(match)


# ---- grading ---------------------------------------------------------------------

def grade_text(text: str, problem: Problem | str, file: str = "<text>",
               config: GradeConfig = GradeConfig()) -> Report:
    problem = load_problem(problem) if isinstance(problem, str) else problem
    walker = _Walker(problem)
    walker.run(extract(text))
    parts, first_wrong = [], {}
    steps = _check_steps(problem, walker)
    for step in steps:
        if not step.ok and step.quantity and step.quantity not in first_wrong:
            first_wrong[step.quantity] = step.line
    claimed = {c.quantity for c in walker.claims}
    ids = list(problem.parts) + [q for q in problem.optional if q in claimed and q not in problem.parts]
    ids += [q.id for q in problem.quantities if q.id in claimed and q.id not in ids]
    for qid in ids:
        q = problem.quantity(qid)
        max_points = 1.0 if qid in problem.parts else 0.0
        part = _grade_part(problem, q, [c for c in walker.claims if c.quantity == qid], config, max_points)
        parts.append(replace(part, first_wrong_line=first_wrong.get(qid)))
    score = sum(p.points for p in parts)
    return Report(file=file, problem=problem.id, score=score,
                  max_score=float(sum(1.0 for q in problem.parts)), parts=tuple(parts), steps=tuple(steps))


def _grade_part(problem: Problem, q: Quantity, claims: list[_Claim], config: GradeConfig,
                max_points: float) -> Part:
    if q.kind == "value":
        return _grade_value(problem, q, claims, max_points)
    final = None
    for c in claims:
        if c.tree is None:
            if "\\partial" not in c.latex and "∂" not in c.latex:
                final = c
        elif _is_closed(problem, c.tree, q):
            final = c
    if final is None:
        return Part(q.id, "missing", "", None, f"No closed form for {q.id} was found in the submission.",
                    0.0, max_points)
    if final.tree is None:
        return Part(q.id, "unparseable", final.latex, final.line,
                    f"Line {final.line} cannot be read: {final.error}.", 0.0, max_points)
    instance = replace(q, layers=final.layers) if final.layers else q
    verdict = judge(problem, instance, final.tree, symbolic=config.symbolic, timeout=config.timeout)
    feedback = verdict.feedback
    if final.layers and verdict.accepted:
        (name, (value,)), = final.layers
        feedback += f" (Only shown for {name} = {value}; the general formula is still open.)"
        verdict = replace(verdict, verdict="incorrect")
    points = max_points * (1.0 if verdict.verdict == "correct" else
                           config.layout_credit if verdict.verdict == "correct-up-to-layout" else 0.0)
    return Part(q.id, verdict.verdict, final.latex, final.line, feedback, points, max_points,
                check=verdict.to_dict())


def _grade_value(problem: Problem, q: Quantity, claims: list[_Claim], max_points: float) -> Part:
    finals: dict[int | None, _Claim] = {}
    for c in claims:
        if c.tree is not None and _is_closed(problem, c.tree, q):
            finals[c.component] = c
    if not finals:
        return Part(q.id, "missing", "", None, f"No value for {q.id} was found.", 0.0, max_points)
    point = build_points(problem, q, "single", {})[0]
    ref = point.reference.ravel()
    tol = problem.forward.tolerance if problem.forward else 1e-3
    wrong, shown, last = [], [], None
    for comp, c in sorted(finals.items(), key=lambda kv: kv[1].line):
        last = c
        try:
            value = np.asarray(Evaluator(point.env).value(c.tree), dtype=float).ravel()
        except STEP_ERRORS as exc:
            wrong.append(f"line {c.line}: {exc}")
            continue
        want = ref if comp is None or ref.size == 1 else ref[comp:comp + 1]
        if value.size != want.size:
            wrong.append(f"line {c.line}: {value.size} numbers where {want.size} belong")
            continue
        diff = np.abs(value - want)
        if not np.all((diff <= tol) | (diff <= tol * np.abs(want))):
            name = q.id if comp is None or ref.size == 1 else f"component {comp + 1} of {q.id}"
            wrong.append(f"line {c.line}: {name} is {', '.join(f'{x:.6g}' for x in want)}, "
                         f"not {', '.join(f'{x:.6g}' for x in value)}")
        shown.append(c.latex)
    if ref.size > 1 and None not in finals and len(finals) < ref.size:
        wrong.append(f"only {len(finals)} of the {ref.size} components of {q.id} are given")
    verdict = "incorrect" if wrong else "correct"
    feedback = "; ".join(wrong) + "." if wrong else \
        f"Correct ({q.id} = {', '.join(f'{x:.6g}' for x in ref)})."
    return Part(q.id, verdict, "; ".join(shown) or last.latex, min(c.line for c in finals.values()),
                feedback, max_points if not wrong else 0.0, max_points)


# ---- steps -------------------------------------------------------------------------

def _step_envs(problem: Problem, q: Quantity | None):
    """Families of points (one per reading) on which both sides of a step are compared."""
    families = []
    if problem.forward is not None and (q is None or q.kind == "value"):
        value_q = next(x for x in problem.quantities if x.kind == "value")
        families.append(("forward", build_points(problem, value_q, "single", {})[:1], True))
    base = q if q is not None and q.kind != "value" else next(
        (x for x in problem.quantities if x.kind == "gradient"), None)
    if base is not None:
        for bindings in layer_bindings(base)[:1]:
            for reading in readings_for(problem, base):
                families.append((reading, build_points(problem, base, reading, bindings), False))
    return families


def _values_equal(a, b, tolerance: float | None) -> bool:
    """Equal values; with a tolerance (forward-pass numbers) a vector may be written as a row."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        if tolerance is not None and a.shape[::-1] == b.shape:
            b = b.T
        else:
            return False
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    if tolerance is not None:
        diff = np.abs(a - b)
        return bool(np.all((diff <= tolerance) | (diff <= tolerance * np.abs(b))))
    scale = max(float(np.max(np.abs(b))), float(np.max(np.abs(a))), 1e-9)
    return float(np.max(np.abs(a - b))) <= RTOL * 10 * scale


def _evaluate_side(problem, tree, point, q, component):
    if q is not None and q.indices and uses_quantity_indices(tree, q):
        return evaluate_at(tree, point, q, True)
    value = Evaluator(point.env).value(tree)
    if component is not None and np.size(value) > 1:
        flat = np.asarray(value).ravel()
        if component < flat.size:
            return flat[component:component + 1].reshape(1, 1)
    return value


def _has_numeric_components(problem: Problem, tree: Node) -> bool:
    """Entries written out by number (e^{z_1} + e^{z_2} + e^{z_3}) assume the student's own sizes:
    such steps are not checked. z_3 read as layer 3 is no component."""
    try:
        tree = Interpreter(problem, {"l": 1}).normalize(tree)
    except SymderivError:
        pass
    return any(isinstance(n, Sym) and any(isinstance(i, Num) for i in n.indices) for n in tree.walk())


def _sides_agree(problem, left, right, q, component, families) -> bool | None:
    """True/False when both sides evaluate somewhere; None when they never do. A side that does not
    typecheck anywhere while the other evaluates makes the step wrong (w_kj = w_jk in a sum)."""
    evaluated = False
    ill_typed = {"left": 0, "right": 0, "tries": 0}
    for _family, points, is_forward in families:
        for subscript_layers in (True, False):
            try:
                interp = Interpreter(problem, dict(points[0].bindings), subscript_layers=subscript_layers,
                                     default_label=_context_label(problem, left, right))
                lt, rt = interp.normalize(left), interp.normalize(right)
                ok = True
                for point in points:
                    point = replace(point, env=replace(point.env, interp=interp))
                    ill_typed["tries"] += 1
                    lv = _typed_side(problem, lt, point, q, component, ill_typed, "left")
                    rv = _typed_side(problem, rt, point, q, component, ill_typed, "right")
                    if lv is None or rv is None:
                        raise ShapeError("one side does not typecheck")
                    evaluated = True
                    if not _values_equal(lv, rv, problem.forward.tolerance if is_forward else None):
                        ok = False
                        break
                if ok:
                    return True
            except STEP_ERRORS:
                continue
    if evaluated:
        return False
    if q is None or q.kind == "value":     # a definition with free indices is not evaluable as a whole
        return None
    one_sided = ill_typed["tries"] and (ill_typed["left"] == ill_typed["tries"]) != (ill_typed["right"] == ill_typed["tries"])
    return False if one_sided else None


def _typed_side(problem, tree, point, q, component, tally, side):
    """The side's value, or None when it does not typecheck (counted); other errors propagate."""
    try:
        return _evaluate_side(problem, tree, point, q, component)
    except ShapeError:
        tally[side] += 1
        return None


def _context_label(problem: Problem, *trees: Node) -> int | None:
    """The one layer label written on a step's layer variables (z_2^{[1]} = w_2^{[1]} x + b_2 -> 1)."""
    labels = set()
    interp = Interpreter(problem)
    for tree in trees:
        for n in tree.walk():
            if isinstance(n, Sym) and n.layer is not None and n.name in ("W", "w", "b", "z", "Z", "a", "A"):
                try:
                    labels.add(interp.layer_value(n.layer))
                except SymderivError:
                    return None
    return labels.pop() if len(labels) == 1 else None


def _check_steps(problem: Problem, walker: _Walker) -> list[Step]:
    steps = []
    cache = {}
    for chain, match in zip(walker.chains, walker.chain_quantity):
        q = problem.quantity(match.quantity) if match else None
        key = q.id if q else None
        if key not in cache:
            cache[key] = _step_envs(problem, q)
        families = cache[key]
        for (_, l_latex, l_tree, l_rel), (r_line, r_latex, r_tree, relation) in zip(chain, chain[1:]):
            if l_tree is None or r_tree is None or "case" in (l_rel, relation):
                continue
            if not _closed_expression(problem, l_tree, q) or not _closed_expression(problem, r_tree, q):
                continue      # an unevaluated ∂ on either side: the claim steps below cover the quantity
            if q is not None and q.kind != "value" and (_has_numeric_components(problem, l_tree)
                                                           or _has_numeric_components(problem, r_tree)):
                continue
            agree = _sides_agree(problem, l_tree, r_tree, q, match.component if match else None, families)
            if agree is None:
                continue
            message = "ok" if agree else f"{l_latex.strip()} ≠ {r_latex.strip()}"
            steps.append(Step(r_line, agree, message, l_latex, r_latex, q.id if q else None))
        if q is not None and q.kind != "value" and len(chain) > 1:
            steps.extend(_claim_steps(problem, replace(q, layers=match.layers) if match.layers else q, chain))
    steps.sort(key=lambda s: s.line)
    return steps


def _closed_expression(problem: Problem, tree: Node, q: Quantity | None) -> bool:
    if q is not None and q.kind != "value":
        return _is_closed(problem, tree, q)
    return not any(isinstance(n, Deriv) for n in tree.walk())


def _claim_steps(problem: Problem, q: Quantity, chain) -> list[Step]:
    """The step from the quantity's own left side to each closed form in its chain."""
    out = []
    for line, latex, tree, relation in chain[1:]:
        if tree is None or relation == "case" or not _is_closed(problem, tree, q) \
                or _has_numeric_components(problem, tree):
            continue
        try:
            verdict = judge(problem, q, tree, symbolic=False)
        except STEP_ERRORS:
            continue
        ok = verdict.verdict in ("correct", "correct-up-to-layout")
        if verdict.diagnosis in ("only-diagonal", "only-off-diagonal"):
            case = "i = j" if verdict.diagnosis == "only-diagonal" else "i ≠ j"
            out.append(Step(line, True, f"holds for the case {case}", chain[0][1], latex, q.id))
            continue
        out.append(Step(line, ok, "ok" if ok else f"{q.id}: {verdict.feedback}", chain[0][1], latex, q.id))
    return out


def grade_file(path: str | os.PathLike, problem: Problem | str, config: GradeConfig = GradeConfig()) -> Report:
    problem_id = problem if isinstance(problem, str) else problem.id
    try:
        text = read_submission(path)
    except SubmissionError as exc:
        return Report(file=str(path), problem=problem_id, score=0.0, max_score=0.0, error=str(exc))
    try:
        report = grade_text(text, problem, file=str(path), config=config)
    except RecursionError:
        return Report(file=str(path), problem=problem_id, score=0.0, max_score=0.0,
                      error=f"{path}: the submission is nested too deeply to grade")
    return report
