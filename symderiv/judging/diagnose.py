"""Naming the mistake in a claim that does not hold: structural checks first (regulariser terms),
then numeric comparisons with the usual mistakes (sign, 1/N, λ vs 2λ, missing activation
derivative, wrong layer, swapped indices, one case of a Jacobian, wrong size)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from symderiv.answerkey.problem import Problem, layer_brackets
from symderiv.core.errors import NotationError, ShapeError, SymderivError
from symderiv.core.tree import Add, Call, Neg, Node, Num, Sym, Transpose, map_children
from symderiv.evaluation.evaluate import Evaluator
from symderiv.evaluation.interpret import Interpreter, Ref
from symderiv.judging.fixes import other_quantity, verified_fix
from symderiv.judging.matcher import READING_NAMES, RTOL, ZERO_LEVEL, Checker, evaluate_at, rel_err
from symderiv.notation.latex import latex_style, to_latex
from symderiv.notation.unicode import to_unicode
from symderiv.truth.mutants import regulariser_gradient, regulariser_hyperparameters, regulariser_terms
from symderiv.truth.reference import is_averaged, layer_bindings, target


def diagnose_mistake(checker: Checker, typechecked) -> tuple[str | None, str]:
    """Name the mistake. A claim that is exactly a known multiple of the answer (−1, N, 1/N) or
    is named from the values already at hand; otherwise the verified edits are tried (they name
    the term at fault), then structural checks, then the other numeric comparisons."""
    found = _known_mistake(checker, typechecked, decisive_only=True)
    if found:
        return found
    code, message = verified_fix(checker.problem, checker.quantity, checker.raw_tree)
    if code:
        return code, message
    structural = _structural(checker)
    if structural:
        return structural
    code, message = _wrong_layer(checker)  # 1[z^{[2]} > 0] where 1[z^{[1]} > 0] belongs: say so
    if code:
        return code, message
    found = _known_mistake(checker, typechecked, decisive_only=False)
    if found:
        return found
    for diagnose in (_swapped_indices, _swapped_weight_indices):
        code, message = diagnose(checker)
        if code:
            return code, message
    code, message = other_quantity(checker.problem, checker.quantity, checker.raw_tree)
    if code:
        return code, message
    code, message = verified_fix(checker.problem, checker.quantity, checker.raw_tree, late=True)
    if code:
        return code, message
    return _size_mismatch(checker, typechecked)


def _known_mistake(checker: Checker, typechecked, *, decisive_only: bool) -> tuple[str, str] | None:
    """The claim's values against the answer's: a constant ratio (sign, 1/N, a coefficient),
    a mutant of the key (a missing activation derivative, ...), zero, or one case of a Jacobian.
    ``decisive_only``: only the names no edit could make more precise (a ratio of −1, N or 1/N
    at every point), the cheap test before the edit search."""
    for _reading, tree, points, index_mode in typechecked:
        try:
            values = [evaluate_at(tree, p, checker.quantity, index_mode) for p in points]
        except (ShapeError, NotationError, ValueError):
            continue
        refs = [p.reference for p in points]
        if any(np.shape(v) != r.shape for v, r in zip(values, refs)):
            if all(np.shape(v) == r.T.shape for v, r in zip(values, refs)):
                values = [v.T for v in values]
            else:
                continue
        if not decisive_only and all(
            rel_err(v, 0 * r) <= RTOL or np.max(np.abs(v)) < ZERO_LEVEL for v, r in zip(values, refs)
        ):
            return "zero", "The claim is zero at every test point; the quantity is not."
        # a point where the answer is 0 (a hinge off) says nothing of a ratio: the claim must be 0 there too
        informative = [k for k, r in enumerate(refs) if np.vdot(r, r) > 0]
        quiet = all(
            np.max(np.abs(values[k]), initial=0.0) < ZERO_LEVEL for k in range(len(refs)) if k not in informative
        )
        ratios = [float(np.vdot(values[k], refs[k]) / np.vdot(refs[k], refs[k])) for k in informative]
        if informative and quiet and all(rel_err(values[k], c * refs[k]) <= 1e-5 for k, c in zip(informative, ratios)):
            found = _ratio_mistake(checker, [points[k] for k in informative], ratios, decisive_only)
            if found:
                return found
        for k, (code, message, _) in enumerate(() if decisive_only else points[0].mutants):
            if all(len(p.mutants) > k and rel_err(v, p.mutants[k][2]) <= 1e-6 for v, p in zip(values, points)):
                return code, f"Wrong: {message}."
        if not decisive_only and index_mode and refs[0].ndim == 2 and refs[0].shape[0] == refs[0].shape[1] > 1:
            case = _case_match(values, refs)
            if case:
                return case
        if not decisive_only and index_mode and points[0].columns:
            case = _column_case(checker, values, points)
            if case:
                return case
    return None


def _column_case(checker: Checker, values, points):
    """u_w of word2vec: a formula right for every column but the label's (w ≠ o), or only for it (w = o)."""
    labels = points[0].env.index_labels
    if len(labels) != 1:
        return None
    name = next(iter(labels))
    letter = checker.quantity.indices[0]
    right = [np.isclose(v, p.reference, rtol=1e-6, atol=1e-9).all(axis=0) for v, p in zip(values, points)]
    cols = [p.env.index_labels[name] for p in points]
    if all(not r[c] and np.delete(r, c).all() for r, c in zip(right, cols)):
        return "only-one-case", (
            f"This holds only for {letter} ≠ {name}; for {letter} = {name} the answer differs "
            f"(the case {letter} = {name} is missing or wrong)."
        )
    if all(r[c] and not np.delete(r, c).any() for r, c in zip(right, cols)):
        return (
            "only-one-case",
            f"This holds only for {letter} = {name}; the case {letter} ≠ {name} is missing or wrong.",
        )
    return None


def _ratio_mistake(checker: Checker, points, ratios: list[float], decisive_only: bool) -> tuple[str, str] | None:
    Ns = [p.N for p in points]
    averaged = is_averaged(checker.problem, checker.quantity)
    if all(abs(c + 1) < 1e-6 for c in ratios):
        return "sign", "The sign is wrong: the claim is the negative of the right answer."
    if all(abs(c - N) < 1e-6 * N for c, N in zip(ratios, Ns)) and max(Ns) > 1:
        if averaged:
            return "missing-1/N", "The factor 1/N is missing (J averages the loss over the N samples)."
        return "extra-N", "There is an extra factor N: this quantity is for one sample, with no average."
    if all(abs(c - 1 / N) < 1e-6 for c, N in zip(ratios, Ns)) and max(Ns) > 1:
        if averaged:
            return "extra-1/N", "There is an extra factor 1/N."
        return "extra-1/N", (
            "There is an extra factor 1/N: this is the derivative of one sample's loss, which is not averaged."
        )
    if all(abs(c + N) < 1e-6 * N for c, N in zip(ratios, Ns)) and max(Ns) > 1 and averaged:
        return "sign", "The sign is wrong and the factor 1/N is missing."
    found = _hyperparameter_ratio(checker, points, ratios)
    if found:
        return found
    if not decisive_only and np.ptp(ratios) < 1e-6 and abs(ratios[0] - 1) > 1e-6:
        return "coefficient", f"The claim is {ratios[0]:.4g} times the right answer: a coefficient is wrong."
    return None


def _hyperparameter_ratio(checker: Checker, points, ratios: list[float]) -> tuple[str, str] | None:
    """The claim is h, 1/h, h² or 1/h² times the answer for a hyperparameter h of the key (the 1/p
    of inverted dropout missing, p where 1/p belongs), at every point, whose h differ."""
    model = checker.problem.model
    for symbol in model.free():
        if symbol.role != "hyperparameter":
            continue
        try:
            hs = [float(np.asarray(p.env.objects[Ref(symbol.id)], dtype=float).ravel()[0]) for p in points]
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if min(abs(h) for h in hs) < 1e-9 or np.ptp(hs) < 1e-6:
            continue
        name = to_unicode(model.show(symbol.id))
        for power, text in (
            (1, f"a factor {name} too many, or its reciprocal 1/{name} missing"),
            (-1, f"a factor 1/{name} too many, or a factor {name} missing"),
            (2, f"{name} where 1/{name} belongs"),
            (-2, f"1/{name} where {name} belongs"),
        ):
            if all(abs(c - h**power) <= 1e-6 * max(1.0, abs(h**power)) for c, h in zip(ratios, hs)):
                shown = (
                    name
                    if power == 1
                    else f"1/{name}"
                    if power == -1
                    else f"{name}^{power}"
                    if power > 0
                    else f"1/{name}^{-power}"
                )
                return "coefficient", f"The claim is {shown} times the right answer: {text}."
    return None


def _rename_indices(node: Node, mapping: dict[str, str]) -> Node:
    if isinstance(node, Sym) and not node.indices and node.layer is None and node.name in mapping:
        return Sym(mapping[node.name])
    return map_children(node, lambda child: _rename_indices(child, mapping))


def _swapped_weight_indices(checker: Checker) -> tuple[str | None, str]:
    """w_{kj} where w_{jk} belongs (z_j = Σ_i a_i w_ij fixes which index is which)."""
    bindings = dict(layer_bindings(checker.quantity)[0])
    interp = Interpreter(checker.problem, bindings)
    tree = interp.reader.layer_forms(checker.raw_tree)  # w^{l+1}_{jk} carries its layer, as written
    model = checker.problem.model
    weights = [n for n in tree.walk() if isinstance(n, Sym) and len(n.indices) == 2 and _is_parameter(interp, n)]
    for w in weights:
        fixed = replace(w, indices=w.indices[::-1])
        try:
            strict, _, _ = Checker(checker.problem, checker.quantity, _replace_node(tree, w, fixed)).find()
        except (SymderivError, RecursionError):
            continue
        if strict is not None:
            rule = (
                " (z_j = Σ_i a_i w_ij: the first index is the unit below)"
                if _used_transposed(model, interp.resolve(interp.normalize(replace(w, indices=()))).kind)
                else " (z_i = Σ_j W_ij a_j: the first index is the unit above)"
            )
            return (
                "swapped-indices",
                f"The weight's indices are swapped: {to_latex(w)} should be {to_latex(fixed)}{rule}.",
            )
    return None, ""


def _is_parameter(interp: Interpreter, sym: Sym) -> bool:
    try:
        bare = interp.normalize(replace(sym, indices=()))
        ref = interp.resolve(bare) if isinstance(bare, Sym) else None
        if ref is None:
            return False
    except SymderivError:
        return False
    found = interp.model.symbol_table.get(ref.kind)
    return found is not None and found.role == "parameter"


def _used_transposed(model, sid: str) -> bool:
    """The model multiplies by the parameter's transpose (z = Wᵀa: W's first index is the input's)."""
    return any(
        isinstance(n, Transpose) and isinstance(n.operand, Sym) and model.resolve_name(n.operand) == sid
        for e in model.equations
        for n in e.rhs.walk()
    )


def _swapped_indices(checker: Checker) -> tuple[str | None, str]:
    """a_j δ_i for ∂C/∂w_ij: right with the two indices exchanged."""
    if len(checker.quantity.indices) != 2:
        return None, ""
    i, j = checker.quantity.indices
    swapped = _rename_indices(checker.raw_tree, {i: j, j: i})
    try:
        strict, _, _ = Checker(checker.problem, checker.quantity, swapped).find()
    except (SymderivError, RecursionError):
        return None, ""
    if strict is None:
        return None, ""
    return "swapped-indices", f"The indices {i} and {j} are swapped (with {i} and {j} exchanged the claim is right)."


def _size_mismatch(checker: Checker, typechecked) -> tuple[str | None, str]:
    """A claim that typechecks but has the wrong size: say which sizes."""
    for reading, tree, points, index_mode in typechecked:
        if index_mode:
            continue
        try:
            value = Evaluator(points[0].env).value(tree)
        except (ShapeError, NotationError, ValueError):
            continue
        want = points[0].reference.shape
        if value.shape not in (want, want[::-1]):
            return "size", (
                f"The claim is a {value.shape[0]}x{value.shape[1]} matrix ({READING_NAMES[reading]}) "
                f"but {checker.quantity.id} is {want[0]}x{want[1]}: a factor is missing, extra or misplaced."
            )
    return None, ""


def _case_match(values, refs):
    """A formula that is right only on the diagonal (i = j) or only off it is one case of the answer."""
    n = refs[0].shape[0]
    if all(v.shape == r.T.shape and rel_err(v, r.T) <= 1e-6 for v, r in zip(values, refs)):
        # right everywhere once its two indices change places (and so on the diagonal too)
        return "swapped-indices", "The indices are swapped: this is the entry with row and column exchanged."
    diag = np.eye(n, dtype=bool)
    for mask, code, text in ((diag, "only-diagonal", "i = j"), (~diag, "only-off-diagonal", "i ≠ j")):
        if all(rel_err(v[mask], r[mask]) <= 1e-6 for v, r in zip(values, refs)):
            return code, (f"This holds only for {text}; the answer must cover both cases (e.g. with a Kronecker δ_ij).")
    return None


def _layer_slots(problem: Problem, tree: Node) -> list[Node]:
    """Nodes that carry a layer: Sym with a layer, Call with a layer subscript (g_l)."""
    model = problem.model
    return [
        n
        for n in tree.walk()
        if (isinstance(n, Sym) and n.layer is not None)
        or (isinstance(n, Call) and n.indices and model.function_family(n.func.removeprefix("bold:")))
    ]


def _replace_node(tree: Node, old: Node, new: Node) -> Node:
    return new if tree is old else map_children(tree, lambda child: _replace_node(child, old, new))


def _shift(node: Node, delta: int) -> Node:
    if isinstance(node, Sym):
        return replace(node, layer=_plus(node.layer, delta))
    return replace(node, indices=(_plus(node.indices[0], delta),) + node.indices[1:])


def _plus(layer: Node, delta: int) -> Node:
    """layer + delta, tidied: (l+1) - 1 is l, L + -1 is L - 1."""
    terms = list(layer.terms) if isinstance(layer, Add) else [layer]
    total, others = delta, []
    for t in terms:
        if isinstance(t, Num):
            total += int(t.value)
        elif isinstance(t, Neg) and isinstance(t.operand, Num):
            total -= int(t.operand.value)
        else:
            others.append(t)
    if not others:
        return Num(total)
    tail = [Num(total)] if total > 0 else [Neg(Num(-total))] if total < 0 else []
    return others[0] if len(others) == 1 and not tail else Add(tuple(others + tail))


def _wrong_layer_message(problem: Problem, written: Node, meant: Node) -> str:
    """In the problem's own notation: W^{[1]} with square brackets where the problem uses them, x for the input."""
    with latex_style(layer_brackets=layer_brackets(problem)):
        shown = to_latex(written)
        should = to_latex(meant)
        if isinstance(meant, Sym) and meant.layer is not None:
            try:
                ref = Interpreter(problem).resolve(Sym(meant.name, meant.layer, (), meant.decor))
                found = problem.model.symbol_table.get(ref.kind)
            except SymderivError:
                found = None
            form = problem.model.form_table.get(found.id) if found is not None else None
            if (
                found is not None
                and found.role == "input"
                and form.layer is None
                and form.name.lower() != meant.name.lower()
            ):
                # a^{(1)} is the input x: say x
                should = to_latex(Sym(form.name.lower() if meant.name.islower() else form.name, None, meant.indices))
    return f"Wrong layer: {shown} should be {should} (with that change the claim is right)."


def _wrong_layer(checker: Checker) -> tuple[str | None, str]:
    """A claim that becomes right when one layer index moves by one: name that index."""
    bindings = dict(layer_bindings(checker.quantity)[0])
    tree = Interpreter(checker.problem, bindings).reader.layer_forms(checker.raw_tree)  # w^{l+1} carries its layer
    slots = _layer_slots(checker.problem, tree)
    if not slots or len(slots) > 12:
        return None, ""
    for node in slots:
        for delta in (-1, 1):
            shifted = _shift(node, delta)
            try:
                strict, layout, _ = Checker(
                    checker.problem, checker.quantity, _replace_node(tree, node, shifted)
                ).find()
            except (SymderivError, RecursionError):
                continue
            if strict is not None or layout is not None:
                return "wrong-layer", _wrong_layer_message(checker.problem, node, shifted)
    return None, ""


def _structural(checker: Checker) -> tuple[str | None, str] | None:
    """The regulariser's gradient missing, on another layer's weight, or where the objective has none."""
    q, problem = checker.quantity, checker.problem
    if q.kind != "gradient":
        return None
    bindings = dict(layer_bindings(q)[0])
    tree = checker.tree_for(bindings)
    model = problem.model
    try:
        of, wrt = target(problem, q.of, bindings), target(problem, q.wrt, bindings)
    except SymderivError:
        return None
    interp = Interpreter(problem, bindings)
    regularising = regulariser_hyperparameters(problem)
    terms = tree.terms if isinstance(tree, Add) else (tree,)
    reg_terms = [t for t in terms if _ids(interp, t) & regularising]
    own = [(eq, term) for eq, _, term in regulariser_terms(problem, of) if wrt in model.ids_in(term)]
    with latex_style(layer_brackets=layer_brackets(problem)):
        if own and not reg_terms:
            eq, term = own[0]
            grad = regulariser_gradient(problem, of, wrt, eq, term)
            adds = (
                f"adds {to_latex(grad)}" if grad is not None else f"adds its gradient with respect to {model.show(wrt)}"
            )
            return "missing-regularisation", (
                f"The regularisation term is missing: the derivative of {to_latex(term)} {adds}."
            )
        if own:
            family = _family_of(model, wrt)
            for t in reg_terms:
                for n in t.walk():
                    if not isinstance(n, Sym):
                        continue
                    try:
                        sid = interp.resolve(replace(n, indices=())).kind
                    except SymderivError:
                        continue
                    if sid != wrt and family and sid in family.values():
                        eq, term = own[0]
                        grad = regulariser_gradient(problem, of, wrt, eq, term)
                        should = f": it should be {to_latex(grad)}" if grad is not None else ""
                        return "wrong-weight", (
                            f"The regularisation term uses {to_latex(n)}, a different layer's weight{should}."
                        )
        found = model.symbol_table.get(wrt)
        if reg_terms and not own and found is not None and found.role == "parameter":
            regs = list(regulariser_terms(problem, of))
            shown = ", ".join(sorted({to_unicode(model.show(h)) for h in _ids(interp, reg_terms[0]) & regularising}))
            if regs:
                return "extra-regularisation", (
                    f"{to_latex(regs[0][2])} does not depend on {model.show(wrt)}, so its gradient has no {shown} term "
                    "(biases are not regularised)."
                )
            return "extra-regularisation", (
                f"{model.show(of)} is the unregularised cost: its gradient has no {shown} term."
            )
    return None


def _ids(interp: Interpreter, node: Node) -> set[str]:
    out = set()
    for n in node.walk():
        if isinstance(n, Sym):
            try:
                out.add(interp.resolve(replace(n, indices=())).kind)
            except SymderivError:
                continue
    return out


def _family_of(model, sid: str) -> dict:
    for members in model.family_table.values():
        if sid in members.values():
            return members
    return {}
