"""Named mistakes, verified: a mistake is named only if applying its fix makes the claim right.

Each candidate edit of the claim (drop an extra factor, the derivative where the activation is,
the right activation's derivative, the bias inside an indicator, the regulariser outside the
bracket, …) is re-checked in full (every reading, every point, both sides of every kink); the
first edit under which the claim holds names the mistake. Nothing is assumed from its shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from symderiv.answerkey.problem import Problem, Quantity, layer_brackets
from symderiv.core.errors import SymderivError
from symderiv.core.tree import (
    Add,
    Call,
    Compare,
    Div,
    Indicator,
    Neg,
    Node,
    Num,
    Piecewise,
    Product,
    Sym,
    Transpose,
    map_children,
)
from symderiv.evaluation.interpret import Interpreter
from symderiv.judging.matcher import Checker
from symderiv.notation.latex import latex_style, to_latex
from symderiv.notation.parse import parse
from symderiv.truth.mutants import regulariser_gradient, regulariser_hyperparameters, regulariser_terms
from symderiv.truth.reference import layer_bindings, target

MAX_EDITS = 60
FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


@dataclass(frozen=True)
class Edit:
    tree: Node
    code: str
    message: str


def _paths(node: Node, path: tuple = ()) -> Iterator[tuple[tuple, Node]]:
    yield path, node
    for k, child in enumerate(_child_list(node)):
        yield from _paths(child, path + (k,))


def _child_list(node: Node) -> list[Node]:
    out = []
    for value in node.__dict__.values():
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, tuple) and value and all(isinstance(v, Node) for v in value):
            out.extend(value)
        elif isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
            out.extend(x for v in value for x in v if isinstance(x, Node))
    return out


def _put(node: Node, path: tuple, new: Node) -> Node:
    """The tree with the node at `path` (child positions as _child_list numbers them) replaced."""
    if not path:
        return new
    counter = iter(range(10_000))
    target = path[0]

    def swap(child):
        return _put(child, path[1:], new) if next(counter) == target else child

    return map_children(node, swap)


def _is_derivative_like(node: Node) -> bool:
    while isinstance(node, Transpose):
        node = node.operand
    return isinstance(node, (Indicator, Piecewise)) or (isinstance(node, Call) and node.primes > 0)


@dataclass(frozen=True)
class Stage:
    """An equation t = f(u) of the model with f applied entrywise (a = ReLU(z), ŷ = σ(z), h = tanh(u))."""

    t: str
    u: str
    f: str
    output: bool  # the last such equation: what the loss is taken of


def stages(problem: Problem) -> list[Stage]:
    model = problem.model
    found = []
    for e in model.equations:
        pair = model.activation(e.target)
        if pair is not None:
            found.append((e.target, pair[1], pair[0]))
    return [Stage(t, u, f, k == len(found) - 1) for k, (t, u, f) in enumerate(found)]


class FixFinder:
    def __init__(self, problem: Problem, quantity: Quantity, tree: Node):
        self.problem, self.quantity, self.tree = problem, quantity, tree
        self.interp = Interpreter(problem, dict(layer_bindings(quantity)[0]))
        self.brackets = layer_brackets(problem)
        self.stages = stages(problem)

    def tex(self, node: Node) -> str:
        with latex_style(layer_brackets=self.brackets):
            return to_latex(node)

    def holds(self, tree: Node) -> str | None:
        """ "strict" when the edited claim is right as written, "layout" when only up to layout."""
        try:
            checker = Checker(self.problem, self.quantity, tree)
            if not checker.could_hold():
                return None
            strict, layout, _ = checker.find()
        except (SymderivError, RecursionError, ValueError, ZeroDivisionError, OverflowError):
            return None
        return "strict" if strict is not None else "layout" if layout is not None else None

    def find(self, late: bool = False) -> tuple[str | None, str]:
        """The first edit under which the claim is right, else the first under which it is right up
        to layout; `late`: the edits tried after every other diagnosis (a term added or taken away
        says least about the mistake)."""
        tried, layout_only = 0, None
        for edit in self.late_edits() if late else self.edits():
            tried += 1
            if tried > MAX_EDITS:
                break
            held = self.holds(edit.tree)
            if held == "strict":
                return edit.code, edit.message
            if held == "layout" and layout_only is None:
                layout_only = edit
        return (layout_only.code, layout_only.message) if layout_only else (None, "")

    # ---- the catalogue, in order ------------------------------------------------------------
    def edits(self) -> Iterator[Edit]:
        yield from self.regulariser_edits()
        yield from self.one_over_n_edits()
        yield from self.transposed_factors()
        yield from self.indicator_edits()
        yield from self.activation_edits()
        yield from self.pattern_edits()
        yield from self.dropped_factors()
        yield from self.missing_derivative()
        yield from self.term_signs()
        yield from self.missing_weight()

    def late_edits(self) -> Iterator[Edit]:
        yield from self.extra_terms()
        yield from self.missing_terms()

    # ---- the model's stages, as the student writes them ---------------------------------------
    def resolve(self, node: Node) -> str | None:
        if not isinstance(node, Sym):
            return None
        try:
            return self.interp.resolve(Sym(node.name, node.layer, (), node.decor)).kind
        except SymderivError:
            return None

    def stage_of(self, node: Node) -> Stage | None:
        """The stage a written symbol (or a call on one) belongs to: its u or its t."""
        while isinstance(node, (Call, Transpose)):
            node = node.args[0] if isinstance(node, Call) and node.args else getattr(node, "operand", None)
            if node is None:
                return None
        if node is None:
            return None
        if not isinstance(node, Sym):  # σ(U^T v_c) written out: the stage whose u is computed as that
            try:
                written = self.interp.normalize(node)
            except SymderivError:
                return None
            model = self.problem.model
            return next((s for s in self.stages if model.defined(s.u) and model.equation(s.u).rhs == written), None)
        sid = self.resolve(node)
        return next((s for s in self.stages if sid in (s.t, s.u)), None)

    def written(self, sid: str, like: Sym | None) -> Sym:
        """The model's symbol in the student's letter case, with the student's entry subscripts."""
        form = self.problem.model.form_table[sid]
        name = form.name
        if like is not None and len(name) == 1 and like.name.isupper() != name.isupper():
            name = name.swapcase()
        return Sym(name, form.layer, like.indices if like is not None else (), form.decor)

    def pre_activation(self, stage: Stage, like: Sym | None = None) -> Sym:
        return self.written(stage.u, like)

    def activation(self, stage: Stage, like: Sym | None = None) -> Sym:
        return self.written(stage.t, like)

    def right_derivative(self, stage: Stage | None, z: Node) -> Node | None:
        if stage is None:
            return None
        if stage.f == "relu":
            return Indicator(Compare(z, ">", Num(0)))
        if stage.f in ("sigmoid", "tanh"):
            return Call("sigma" if stage.f == "sigmoid" else "tanh", (z,), 1)
        return None

    def regularising(self, node: Node) -> bool:
        """The term holds a hyperparameter that weighs a regulariser (λ)."""
        hypers = regulariser_hyperparameters(self.problem)
        return any(isinstance(n, Sym) and self.resolve(n) in hypers for n in node.walk())

    def regulariser_edits(self) -> Iterator[Edit]:
        q = self.quantity
        if q.kind != "gradient" or not q.wrt:
            return
        for path, node in _paths(self.tree):
            if not isinstance(node, Product) or not any(isinstance(f, Add) for f in node.factors):
                continue
            for k, factor in enumerate(node.factors):
                if not isinstance(factor, Add):
                    continue
                reg = [t for t in factor.terms if self.regularising(t)]
                rest = [t for t in factor.terms if t not in reg]
                if len(reg) == 1 and rest:
                    inner = rest[0] if len(rest) == 1 else Add(tuple(rest))
                    scaled = replace(node, factors=node.factors[:k] + (inner,) + node.factors[k + 1 :])
                    yield Edit(
                        _put(self.tree, path, Add((scaled, reg[0]))),
                        "regularisation-inside-bracket",
                        f"The regularisation term {self.tex(reg[0])} is inside the bracket, so it is scaled "
                        f"too; it belongs outside: … + {self.tex(reg[0])}.",
                    )
        right = self.right_regulariser()
        batch = self.problem.model.batch
        terms = self.tree.terms if isinstance(self.tree, Add) else ()
        for k, term in enumerate(terms):
            if right is not None and batch and self.regularising(term):
                fixed = Add(terms[:k] + (right,) + terms[k + 1 :])
                if any(isinstance(n, Sym) and n.name == batch for n in term.walk()):
                    yield Edit(
                        fixed,
                        "regularisation-over-N",
                        f"The regularisation term is divided by {batch} ({self.tex(term)}): the regulariser is "
                        f"not averaged over the samples, so its gradient is {self.tex(right)}.",
                    )

    def right_regulariser(self) -> Node | None:
        """The regulariser's gradient with respect to the quantity's parameter (2λW^{(2)})."""
        bindings = dict(layer_bindings(self.quantity)[0])
        try:
            of, wrt = (
                target(self.problem, self.quantity.of, bindings),
                target(self.problem, self.quantity.wrt, bindings),
            )
        except SymderivError:
            return None
        for eq, _, term in regulariser_terms(self.problem, of):
            if wrt in self.problem.model.ids_in(term):
                return regulariser_gradient(self.problem, of, wrt, eq, term)
        return None

    def square(self, node: Node) -> bool:
        """A declared matrix with as many rows as columns (W of a recurrence, H×H)."""
        found = self.problem.model.symbol_table.get(self.resolve(node) or "")
        if found is None or len(found.shape) != 2:
            return False
        sizes = dict(self.problem.numeric_sizes)
        rows, cols = (sizes.get(e, e) for e in found.shape)
        return rows == cols and rows != 1

    def transposed_factors(self) -> Iterator[Edit]:
        """A square factor transposed (W where Wᵀ belongs): the claim typechecks either way, so this
        is a mistake, not a matter of layout; named when transposing it back makes the claim right."""
        for path, node in _paths(self.tree):
            if isinstance(node, Transpose) and isinstance(node.operand, Sym) and self.square(node.operand):
                fixed: Node = node.operand
            elif isinstance(node, Sym) and not node.indices and self.square(node):
                fixed = Transpose(node)
            else:
                continue
            yield Edit(
                _put(self.tree, path, fixed),
                "transposed-factor",
                f"{self.tex(node)} should be {self.tex(fixed)} here (the claim typechecks either way, since "
                f"{self.tex(fixed.operand if isinstance(fixed, Transpose) else fixed)} is square).",
            )

    def one_over_n_edits(self) -> Iterator[Edit]:
        tree, batch = self.tree, self.problem.model.batch
        if not isinstance(tree, Add) or not batch:
            return
        one_over_n = Div(Num(1), Sym(batch))
        for k, term in enumerate(tree.terms):
            if isinstance(term, Product) and isinstance(term.factors[0], Div) and term.factors[0] == one_over_n:
                rest = term.factors[1:]
                inner = rest[0] if len(rest) == 1 else Product(rest, term.ops[1:])
                whole = Product((term.factors[0], Add(tree.terms[:k] + (inner,) + tree.terms[k + 1 :])), ("juxt",))
                yield Edit(
                    whole,
                    "1/N-on-one-term",
                    f"The 1/{batch} applies to the whole bracket, not only to {self.tex(inner)}.",
                )
        yield from self.missing_one_over_n()

    def missing_one_over_n(self) -> Iterator[Edit]:
        """The data term without its 1/N beside a regulariser (X^T(ŷ − y) + λw): the whole claim
        off by a factor N is named by the numeric comparison, one term of a sum only here."""
        batch = self.problem.model.batch
        if not isinstance(self.tree, Add) or not batch:
            return
        one_over_n = Div(Num(1), Sym(batch))
        for k, term in enumerate(self.tree.terms):
            if any(n == Sym(batch) for n in term.walk()):
                continue
            negated = isinstance(term, Neg)
            inner = term.operand if negated else term
            scaled = Product((one_over_n, inner), ("juxt",))
            edited = Add(self.tree.terms[:k] + (Neg(scaled) if negated else scaled,) + self.tree.terms[k + 1 :])
            yield Edit(edited, "missing-1/N", f"The factor 1/{batch} is missing on {self.tex(inner)}.")

    def indicator_edits(self) -> Iterator[Edit]:
        relu = [s for s in self.stages if s.f == "relu"]
        model = self.problem.model
        for path, node in _paths(self.tree):
            if not isinstance(node, Indicator) or node.condition.op not in FLIP:
                continue
            cond = node.condition
            flipped = Indicator(Compare(cond.lhs, FLIP[cond.op], cond.rhs))
            yield Edit(
                _put(self.tree, path, flipped),
                "reversed-indicator",
                f"The indicator is reversed: {self.tex(node)} should be {self.tex(flipped)}.",
            )
            if (isinstance(cond.lhs, Sym) and any(self.resolve(cond.lhs) == s.u for s in relu)) or not relu:
                continue
            like = next((n for n in cond.lhs.walk() if isinstance(n, Sym) and self.resolve(n) is not None), None)
            for stage in relu:
                z = self.pre_activation(stage, Sym("Z" if like is not None and like.name.isupper() else "z"))
                right = Indicator(Compare(z, cond.op, Num(0)))
                has_bias = any(
                    isinstance(n, Sym)
                    and (found := model.symbol_table.get(self.resolve(n) or "")) is not None
                    and found.role == "parameter"
                    and len(found.shape) == 2
                    and 1 in found.shape
                    for n in cond.lhs.walk()
                )
                other_stage = any(self.resolve(n) in {s.u for s in self.stages} for n in cond.lhs.walk())
                what = (
                    "the bias is missing inside the indicator"
                    if not (has_bias or other_stage)
                    else "the indicator's argument is wrong"
                )
                yield Edit(
                    _put(self.tree, path, right),
                    "indicator-argument" if has_bias or other_stage else "bias-missing-in-indicator",
                    f"In {self.tex(node)} {what}: it should be {self.tex(right)}.",
                )

    def output_names(self) -> tuple[str, ...]:
        """The names a claim may call the output's softmax by (ψ, Ψ, softmax)."""
        own = [f.name for f in self.problem.model.functions if f.builtin == "softmax" and f.index is None]
        return tuple(own) + ("softmax",)

    def activation_edits(self) -> Iterator[Edit]:
        in_indicator = {
            id(n) for ind in self.tree.walk() if isinstance(ind, (Indicator, Piecewise)) for n in ind.walk()
        }
        model = self.problem.model
        inputs = {s.id for s in model.free() if s.role == "input"}
        first = self.stages[0] if len(self.stages) > 1 else None
        for path, node in _paths(self.tree):
            base = node.operand if isinstance(node, Transpose) else node
            stage = self.stage_of(base) if isinstance(base, Sym) else None
            sid = self.resolve(base)
            if stage is not None and sid == stage.u and base.layer is not None and id(base) not in in_indicator:
                act = self.activation(stage, base)
                fixed = Transpose(act) if isinstance(node, Transpose) else act
                yield Edit(
                    _put(self.tree, path, fixed),
                    "pre-activation-for-activation",
                    f"{self.tex(base)} is the pre-activation where the activation {self.tex(act)} belongs.",
                )
            if stage is not None and sid == stage.t and base.layer is not None and not stage.output:
                deriv = self.right_derivative(stage, self.pre_activation(stage, base))
                if deriv is not None:
                    yield Edit(
                        _put(self.tree, path, deriv),
                        "activation-for-derivative",
                        f"{self.tex(base)} is the activation where its derivative {self.tex(deriv)} belongs.",
                    )
            if isinstance(base, Sym) and base.layer is None and sid in inputs and first is not None:
                act = self.activation(first, Sym("A" if base.name.isupper() else "a", None, base.indices))
                fixed = Transpose(act) if isinstance(node, Transpose) else act
                yield Edit(
                    _put(self.tree, path, fixed),
                    "input-for-activation",
                    f"{self.tex(base)} is the input where the hidden activation {self.tex(act)} belongs.",
                )
            if isinstance(node, Call) and node.args and node.primes == 0 and node.func not in ("exp", "log", "diag"):
                stage = self.stage_of(node.args[0])
                if stage is not None and (not stage.output or self.quantity.kind == "jacobian"):
                    deriv = self.right_derivative(stage, node.args[0])
                    if deriv is not None:
                        yield Edit(
                            _put(self.tree, path, deriv),
                            "activation-for-derivative",
                            f"{self.tex(node)} is the activation where its derivative {self.tex(deriv)} belongs.",
                        )
                names = self.output_names()
                if stage is not None and stage.output and stage.f == "softmax" and node.func not in names:
                    fixed = Call(names[0], node.args)
                    yield Edit(
                        _put(self.tree, path, fixed),
                        "wrong-activation",
                        f"{self.tex(node)} is not the output activation: it should be {self.tex(fixed)}.",
                    )
                if stage is not None and node.indices:  # g_L(z) where g_L'(z) belongs
                    fixed = replace(node, primes=1)
                    yield Edit(
                        _put(self.tree, path, fixed),
                        "activation-for-derivative",
                        f"{self.tex(node)} is the activation where its derivative {self.tex(fixed)} belongs.",
                    )
            if _is_derivative_like(node) or _sigmoid_derivative_pattern(node):
                stage = self.stage_of(_argument(node)) if _argument(node) is not None else None
                if stage is not None and not stage.output:
                    z = _argument(node)
                    z = self.pre_activation(stage, z) if isinstance(z, Sym) else z
                    right = self.right_derivative(stage, z)
                    if right is not None and right != node:
                        yield Edit(
                            _put(self.tree, path, right),
                            "wrong-activation-derivative",
                            f"{self.tex(node)} is not the derivative of this layer's activation ({stage.f}): "
                            f"it should be {self.tex(right)}.",
                        )

    def pattern_edits(self) -> Iterator[Edit]:
        """a(1 − a) among a product's factors on a layer whose activation is not the sigmoid; Δ_ij for δ_ij."""
        model = self.problem.model
        for path, node in _paths(self.tree):
            if isinstance(node, Sym) and len(node.indices) == 2 and node.name != "delta":
                found = model.symbol_table.get(self.resolve(node) or "")
                if found is not None and found.role == "label" and node.name in ("Delta", "delta"):
                    fixed = Sym("delta", None, node.indices)
                    yield Edit(
                        _put(self.tree, path, fixed),
                        "labels-for-kronecker",
                        f"{self.tex(node)} is the label matrix Δ; the Kronecker delta is {self.tex(fixed)}.",
                    )
            if not isinstance(node, Product):
                continue
            for k in range(len(node.factors) - 1):
                pair = Product(node.factors[k : k + 2], node.ops[k : k + 1])
                if not _sigmoid_derivative_pattern(pair):
                    continue
                stage = self.stage_of(_argument(pair))
                if stage is None or stage.output:
                    continue
                right = self.right_derivative(stage, self.pre_activation(stage, _as_sym(_argument(pair))))
                if right is None:
                    continue
                factors = node.factors[:k] + (right,) + node.factors[k + 2 :]
                ops = node.ops[:k] + node.ops[k + 1 :]
                fixed = factors[0] if len(factors) == 1 else Product(factors, ops)
                yield Edit(
                    _put(self.tree, path, fixed),
                    "wrong-activation-derivative",
                    f"{self.tex(pair)} is the sigmoid's derivative, but this layer's activation is the {stage.f}: "
                    f"its derivative is {self.tex(right)}.",
                )

    def missing_derivative(self) -> Iterator[Edit]:
        """g_l'(z_j^{(l)}) missing, for a quantity with respect to a pre-activation (index notation)."""
        q = self.quantity
        if not q.wrt or not q.indices:
            return
        try:
            z = parse(q.wrt)
        except SymderivError:
            return
        stage = self.stage_of(z) if isinstance(z, Sym) else None
        if stage is None or self.resolve(z) != stage.u or z.layer is None:
            return
        model = self.problem.model
        family = next((f.name for f in model.functions if f.index is not None and f.generic), None)
        deriv = Call(family, (z,), 1, (z.layer,)) if family else Call(stage.f, (z,), 1)
        yield Edit(
            Product((self.tree, deriv), ("juxt",)),
            "missing-activation-derivative",
            f"The activation derivative {self.tex(deriv)} is missing.",
        )

    def other_quantity(self) -> str | None:
        """The id of another quantity of the problem the claim is right for (dJ/db2 given for dJ/db1)."""
        q = self.quantity
        for other in self.problem.quantities:
            if other.id == q.id or other.kind != q.kind or other.of != q.of or other.indices != q.indices:
                continue
            try:
                strict, layout, _ = Checker(self.problem, other, self.tree).find()
            except (SymderivError, RecursionError, ValueError, ZeroDivisionError, OverflowError):
                continue
            if strict is not None or layout is not None:
                return other.id
        return None

    def dropped_factors(self) -> Iterator[Edit]:
        for path, node in _paths(self.tree):
            if not isinstance(node, Product):
                continue
            n = len(node.factors)
            spans = [(k, k + 1) for k in range(n)] + [(k, k + 2) for k in range(n - 1)]
            for lo, hi in spans:
                if hi - lo == n:
                    continue
                kept = node.factors[:lo] + node.factors[hi:]
                ops = (node.ops[: lo - 1] + node.ops[hi - 1 :]) if lo > 0 else node.ops[hi:]
                fixed = kept[0] if len(kept) == 1 else Product(kept, ops[: len(kept) - 1])
                dropped = node.factors[lo:hi]
                shown = self.tex(dropped[0] if len(dropped) == 1 else Product(dropped, node.ops[lo : hi - 1]))
                if all(isinstance(f, (Num, Div)) and not any(isinstance(x, Sym) for x in f.walk()) for f in dropped):
                    continue  # a stray number is a coefficient, named elsewhere
                derivative = any(_is_derivative_like(f) for f in dropped) or _sigmoid_derivative_pattern(
                    Product(dropped, node.ops[lo : hi - 1]) if len(dropped) > 1 else dropped[0]
                )
                code = "extra-activation-derivative" if derivative else "extra-factor"
                what = "an activation derivative" if derivative else "a factor"
                yield Edit(
                    _put(self.tree, path, fixed),
                    code,
                    f"There is an extra factor: {shown} ({what} that does not belong here; without it the "
                    "claim is right).",
                )

    def weights(self) -> list[Sym]:
        """The problem's weight matrices as its own keys write them (W^{[1]}, w^{[2]})."""
        out = []
        model = self.problem.model
        for q in self.problem.quantities:
            try:
                node = parse(q.wrt) if q.wrt else None
            except SymderivError:
                continue
            found = model.symbol_table.get(self.resolve(node) or "") if isinstance(node, Sym) else None
            if (
                found is not None
                and found.role == "parameter"
                and len(found.shape) == 2
                and found.shape[1] != 1
                and not node.indices
                and node not in out
            ):
                out.append(node)
        return out

    def key_factors(self) -> list[Sym]:
        """The given masks the key's own closed form multiplies by (inverted dropout's m)."""
        try:
            tree = parse(self.quantity.claim)
        except SymderivError:
            return []
        model, out = self.problem.model, []
        for n in tree.walk():
            if isinstance(n, Sym) and not n.indices and n not in out:
                found = model.symbol_table.get(self.resolve(n) or "")
                if found is not None and found.role == "mask":
                    out.append(n)
        return out

    def missing_weight(self) -> Iterator[Edit]:
        """A weight (or its transpose) left out of a product: w^{[2]T} missing from (a^{[2]} − y) 1[z^{[1]} > 0]."""
        if self.quantity.indices:
            return
        for path, node in _paths(self.tree):
            if not isinstance(node, Product):
                continue
            for k in range(len(node.factors) + 1):
                for weight in self.weights() + self.key_factors():
                    for factor in (Transpose(weight), weight) if weight in self.weights() else (weight,):
                        factors = node.factors[:k] + (factor,) + node.factors[k:]
                        ops = node.ops[:k] + ("juxt",) + node.ops[k:]
                        yield Edit(
                            _put(self.tree, path, Product(factors, ops[: len(factors) - 1])),
                            "missing-factor",
                            f"A factor is missing: {self.tex(factor)} (with it the claim is right).",
                        )

    def extra_terms(self) -> Iterator[Edit]:
        """A term that does not belong (an extra recurrent term): the claim is right without it."""
        for path, node in _paths(self.tree):
            if isinstance(node, Add) and 1 < len(node.terms) <= 6:
                for k, term in enumerate(node.terms):
                    rest = node.terms[:k] + node.terms[k + 1 :]
                    fixed = rest[0] if len(rest) == 1 else Add(rest)
                    shown = term.operand if isinstance(term, Neg) else term
                    yield Edit(
                        _put(self.tree, path, fixed),
                        "extra-term",
                        f"The term {self.tex(shown)} does not belong here (without it the claim is right).",
                    )

    def missing_terms(self) -> Iterator[Edit]:
        """A term of the answer left out (word2vec's −u_o, BCE's (1 − y) term): the key's own closed
        form, its products spread over its sums, gives the terms; one of them added makes it right."""
        for term in key_terms(self.problem, self.quantity):
            negated = isinstance(term, Neg)
            shown = term.operand if negated else term
            yield Edit(
                Add((self.tree, term)),
                "missing-term",
                f"A term is missing: {'−' if negated else '+'} {self.tex(shown)} (with it the claim is right).",
            )

    def term_signs(self) -> Iterator[Edit]:
        for path, node in _paths(self.tree):
            if isinstance(node, Add) and len(node.terms) > 1:
                for k, term in enumerate(node.terms):
                    flipped = term.operand if isinstance(term, Neg) else Neg(term)
                    yield Edit(
                        _put(self.tree, path, replace(node, terms=node.terms[:k] + (flipped,) + node.terms[k + 1 :])),
                        "sign-of-term",
                        f"The sign of the term {self.tex(flipped if isinstance(term, Neg) else term)} is wrong.",
                    )


MAX_TERMS = 8


def key_terms(problem: Problem, quantity: Quantity) -> list[Node]:
    """The additive terms of the key's closed form for the quantity, products spread over sums:
    U(ŷ − y) gives Uŷ and −Uy."""
    try:
        tree = parse(quantity.claim)
    except SymderivError:
        return []
    terms = spread(tree)
    return terms if 1 < len(terms) <= MAX_TERMS else []


def spread(node: Node) -> list[Node]:
    """Additive terms of a tree with products (and quotients) spread over the sums they hold."""
    if isinstance(node, Add):
        return [t for term in node.terms for t in spread(term)]
    if isinstance(node, Neg):
        return [t.operand if isinstance(t, Neg) else Neg(t) for t in spread(node.operand)]
    if isinstance(node, Product):
        for k, factor in enumerate(node.factors):
            inner = spread(factor)
            if len(inner) > 1:
                out = []
                for t in inner:
                    negated = isinstance(t, Neg)
                    factors = node.factors[:k] + (t.operand if negated else t,) + node.factors[k + 1 :]
                    for part in spread(Product(factors, node.ops)):
                        out.append(
                            part.operand if negated and isinstance(part, Neg) else Neg(part) if negated else part
                        )
                return out
    if isinstance(node, Div):
        inner = spread(node.numerator)
        if len(inner) > 1:
            return [
                Neg(Div(t.operand, node.denominator)) if isinstance(t, Neg) else Div(t, node.denominator) for t in inner
            ]
    return [node]


def _argument(node: Node) -> Node | None:
    """The z (or a) a derivative-like factor is taken at."""
    while isinstance(node, Transpose):
        node = node.operand
    if isinstance(node, Call) and node.args:
        return node.args[0]
    if isinstance(node, Indicator):
        return node.condition.lhs
    if isinstance(node, Product) and node.factors:
        return _argument(node.factors[0]) if isinstance(node.factors[0], Call) else node.factors[0]
    return None


def _as_sym(node: Node) -> Sym | None:
    while isinstance(node, (Call, Transpose)):
        node = node.args[0] if isinstance(node, Call) else node.operand
    return node if isinstance(node, Sym) else None


def _sigmoid_derivative_pattern(node: Node) -> bool:
    """a(1 − a), σ(z)(1 − σ(z)): the sigmoid's derivative written out."""
    if not isinstance(node, Product) or len(node.factors) != 2:
        return False
    first, second = node.factors
    return (
        isinstance(second, Add)
        and len(second.terms) == 2
        and second.terms[0] == Num(1)
        and second.terms[1] == Neg(first)
    )


def verified_fix(problem: Problem, quantity: Quantity, tree: Node, late: bool = False) -> tuple[str | None, str]:
    return FixFinder(problem, quantity, tree).find(late)


def other_quantity(problem: Problem, quantity: Quantity, tree: Node) -> tuple[str | None, str]:
    other = FixFinder(problem, quantity, tree).other_quantity()
    return ("other-quantity", f"This is {other}, not {quantity.id}.") if other else (None, "")
