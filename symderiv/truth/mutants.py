"""The usual mistakes of a quantity, computed from the key's own model: the same automatic
differentiation that gives the truth, run on altered equations (a derivative dropped, a
regulariser's coefficient changed). Each is a (name, value) pair the diagnosis compares a
rejected claim with."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from symderiv.answerkey.model import BUILTINS, ELEMENTWISE
from symderiv.core.tree import Add, Call, Compare, Div, Indicator, Neg, Node, Num, Pow, Product, Sym, map_children
from symderiv.notation.latex import to_latex
from symderiv.truth import forward
from symderiv.truth.forward import declared_layout


def regulariser_terms(problem, of: str):
    """(equation, term index, term) for each term of the equations `of` depends on that holds a
    hyperparameter and a parameter: the regularisers, whose coefficient students get wrong."""
    model = problem.model
    hyper = {s.id for s in model.free() if s.role == "hyperparameter"}
    params = {s.id for s in model.free() if s.role == "parameter"}
    for eq in model.equations:
        if not model.depends_on(of, eq.target) or not isinstance(eq.rhs, Add):
            continue
        for i, term in enumerate(eq.rhs.terms):
            names = model.ids_in(term)
            if names & hyper and names & params:
                yield eq, i, term


def regulariser_hyperparameters(problem) -> set[str]:
    """The hyperparameters that weigh a regulariser (λ), not those of the model itself (a slope α)."""
    model = problem.model
    hyper = {s.id for s in model.free() if s.role == "hyperparameter"}
    out = set()
    for eq in model.equations:
        for _e, _i, term in regulariser_terms(problem, eq.target):
            out |= model.ids_in(term) & hyper
    return out


def regulariser_coefficient(problem, wrt: str, eq, term) -> tuple[Fraction, str] | None:
    """(k, hyperparameter) when the term's gradient with respect to the parameter is k·λ·W (a squared
    norm), else None: worked out numerically at one instance, whatever the key's spelling."""
    model = problem.model
    hyper = sorted(model.ids_in(term) & {s.id for s in model.free() if s.role == "hyperparameter"})
    if len(hyper) != 1 or wrt not in model.ids_in(term):
        return None
    n = 1 if declared_layout(model) == "single" else int(dict(problem.numeric_sizes).get(model.batch, 3))
    try:
        s = forward.sample(problem, np.random.default_rng(5), n, float(max(n, 3)), 0, tries=5)
        g = forward.gradient(problem, s, eq.target, wrt, scaled={eq.target: term})
    except Exception:  # noqa: BLE001 - no formula then: the message says it in words
        return None
    W = np.asarray(s.free.get(wrt), dtype=float)
    h = float(np.asarray(s.free[hyper[0]]).ravel()[0])
    if W.shape != g.shape or not np.all(np.abs(W) > 1e-9) or h == 0:
        return None
    ratios = (g / W).ravel() / h
    if np.ptp(ratios) > 1e-8:
        return None
    k = Fraction(float(ratios[0])).limit_denominator(12)
    if abs(float(k) - ratios[0]) > 1e-8 or k == 0:
        return None
    return k, hyper[0]


def scaled_parameter(problem, k: Fraction, hyper: str, wrt: str) -> Node:
    """k λ W as the key writes it: 2λW^{(2)}, λW, \frac{λ}{2}W."""
    forms = problem.model.form_table
    h, W = forms[hyper], forms[wrt]
    if k == 1:
        factors: tuple = (h, W)
    elif k.denominator == 1:
        factors = (Num(int(k)), h, W) if k > 0 else (Num(int(k)), h, W)
    else:
        top = h if k.numerator == 1 else Product((Num(k.numerator), h), ("juxt",))
        factors = (Div(top, Num(k.denominator)), W)
    return Product(factors, ("juxt",) * (len(factors) - 1))


def regulariser_gradient(problem, of: str, wrt: str, eq, term) -> Node | None:
    """The gradient of a regulariser term with respect to a parameter, as the key writes it (2λW^{(2)}),
    when it is a number times a hyperparameter times the parameter (a squared norm); else None."""
    found = regulariser_coefficient(problem, wrt, eq, term)
    return scaled_parameter(problem, *found, wrt) if found is not None else None


def activation_equations(problem, of: str, wrt: str):
    """The equations t = f(u) with an elementwise nonlinearity f on the way from wrt to of: a
    student may leave out f′ (tanh′, σ′, the leaky ReLU′) in the chain rule."""
    model = problem.model
    for eq in model.equations:
        rhs = eq.rhs
        if not (isinstance(rhs, Call) and len(rhs.args) == 1):
            continue
        func = BUILTINS.get(rhs.func, rhs.func)
        if func not in ELEMENTWISE and not func.startswith(("leaky_relu:", "generic:")):
            continue
        if func in ("exp", "log", "abs", "identity", "sign"):
            continue
        if eq.target != wrt and model.depends_on(of, eq.target) and model.depends_on(eq.target, wrt):
            yield eq


DERIVATIVES = {  # f'(u) as a student writes it, for the message naming a missing one
    "relu": r"\mathbb{{1}}[{u} > 0]",
    "sigmoid": r"\sigma({u})(1 - \sigma({u}))",
    "tanh": r"1 - \tanh^2({u})",
    "softplus": r"\sigma({u})",
}


def derivative_tex(problem, eq) -> str:
    """f'(u) of an equation t = f(u), in the key's notation (1[z^{(2)} > 0], g_2'(z^{(2)}))."""
    rhs = eq.rhs
    u = to_latex(rhs.args[0])
    func = BUILTINS.get(rhs.func, rhs.func)
    if func in DERIVATIVES:
        return DERIVATIVES[func].format(u=u)
    if rhs.func.startswith("leaky_relu:"):
        slope = problem.model.show(rhs.func.split(":", 1)[1])
        return rf"\mathbb{{1}}[{u} > 0] + {slope}\,\mathbb{{1}}[{u} \le 0]"
    if rhs.func.startswith("generic:"):
        _, name, index = rhs.func.split(":", 2)
        return f"{name}_{{{index}}}'({u})" if index else f"{name}'({u})"
    return f"{rhs.func}'({u})"


def stop(node: Node) -> Node:
    return Call("stop", (node,))


def with_derivative(rhs: Call, u: Node, derivative: Node) -> Node:
    """f(u) with its value kept and `derivative` in place of f′(u): stop(f(u)) + u ⊙ stop(G) − stop(u ⊙ G)."""
    product = Product((u, derivative), ("odot",))
    return Add((stop(rhs), Product((u, stop(derivative)), ("odot",)), Neg(stop(product))))


def derivative_swaps(problem, eq):
    """(written derivative, its tree) for the derivatives students put in place of f′(u): another
    function's (ReLU′ for the leaky ReLU′, σ′ for tanh′, 1 − h for 1 − h²), f′ taken at the
    activation instead of the pre-activation, the leaky slope on the wrong side."""
    model = problem.model
    rhs = eq.rhs
    u = rhs.args[0]
    t = rhs  # the activation, as its equation computes it (the target has no value while it is computed)
    func = BUILTINS.get(rhs.func, rhs.func)
    one = Num(1)
    if func.startswith("leaky_relu:"):
        slope = model.form_table[func.split(":", 1)[1]]
        above, below = Indicator(Compare(u, ">", Num(0))), Indicator(Compare(u, "<=", Num(0)))
        yield above
        yield Add((Product((slope, above), ("juxt",)), below))
    if func == "tanh":
        yield Add((one, Neg(t)))
        yield Product((t, Add((one, Neg(t)))), ("odot",))
        yield Call("sigma", (u,), 1)
        yield Call("tanh", (t,), 1)
    if func == "sigmoid":
        yield Add((one, Neg(Pow(t, Num(2)))))
        yield Call("sigma", (t,), 1)
        yield t
    if func == "softplus":
        yield Call("softplus", (u,))
    if func == "relu":
        yield t


def paths_through(problem, of: str, wrt: str):
    """(message, replaced equations) for each path from wrt to of a student may leave out: one
    term of an equation, every use of one variable in an equation (batch norm's mean), one use of
    a parameter used in several equations (a time step of BPTT, one use of a tied weight)."""
    model = problem.model
    forms = model.form_table
    on_path = [e for e in model.equations if model.depends_on(of, e.target) and model.depends_on(e.target, wrt)]
    hyper = {s.id for s in model.free() if s.role == "hyperparameter"}
    uses = [e for e in model.equations if wrt in model.ids_in(e.rhs)]
    if len(uses) >= 2 and not model.defined(wrt):
        for eq in uses:
            yield (
                f"the contribution of {to_latex(forms[wrt])} through {eq.latex} is missing "
                f"({to_latex(forms[wrt])} is used in {len(uses)} equations: each use adds a term)",
                {eq.target: replace_symbol(model, eq.rhs, wrt, stop(forms[wrt]))},
            )
    for eq in on_path:
        rhs = eq.rhs
        inner = sorted(v for v in model.ids_in(rhs) if v != wrt and model.defined(v) and model.depends_on(v, wrt))
        if len(inner) >= 2 and wrt in model.ids_in(rhs):
            cut = rhs
            for v in inner:
                cut = replace_symbol(model, cut, v, stop(forms[v]))
            shown = " and ".join(to_latex(forms[v]) for v in inner)
            yield (
                f"the paths through {shown} are missing (they depend on {to_latex(forms[wrt])} too, in {eq.latex})",
                {eq.target: cut},
            )
        for v in inner:
            yield (
                f"the path through {to_latex(forms[v])} is missing ({to_latex(forms[v])} depends on "
                f"{to_latex(forms[wrt])} too, in {eq.latex})",
                {eq.target: replace_symbol(model, rhs, v, stop(forms[v]))},
            )
        if isinstance(rhs, Add) and 2 <= len(rhs.terms) <= 6:
            for i, term in enumerate(rhs.terms):
                ids = model.ids_in(term)
                if ids & hyper or not any(model.depends_on(v, wrt) for v in ids):
                    continue
                terms = list(rhs.terms)
                terms[i] = stop(term)
                yield (
                    f"the part of the gradient through the term {to_latex(term)} of {eq.latex} is missing",
                    {eq.target: Add(tuple(terms))},
                )


def replace_node(tree: Node, old: Node, new: Node) -> Node:
    """The tree with every occurrence of `old` put as `new` (an activation shown by its name)."""
    if tree == old:
        return new
    return map_children(tree, lambda child: replace_node(child, old, new))


def replace_symbol(model, tree: Node, sid: str, new: Node) -> Node:
    if isinstance(tree, Sym) and not tree.indices and model.resolve_name(tree) == sid:
        return new
    return map_children(tree, lambda child: replace_symbol(model, child, sid, new))


def mutants(problem, s, of: str, wrt: str):
    """(code, message, value) for each usual mistake of ∂of/∂wrt at the instance s, computed from
    the key's own equations by the automatic differentiation that gives the truth."""

    truth = forward.gradient(problem, s, of, wrt)
    scale = max(float(np.max(np.abs(truth))), 1e-12) if truth.size else 1.0
    seen = [truth]

    def grad(**changes):
        """The mutant's gradient, or None: not built, zero (named elsewhere), or the value of the
        truth or of a mutant named before it (the first, most specific name stands)."""
        try:
            g = forward.gradient(problem, s, of, wrt, **changes)
        except Exception:  # noqa: BLE001 - a mutant that cannot be built is simply not offered
            return None
        if np.max(np.abs(g)) <= 1e-12 or any(np.max(np.abs(g - v)) <= 1e-9 * scale for v in seen):
            return None
        seen.append(g)
        return g

    for eq in activation_equations(problem, of, wrt):
        right = derivative_tex(problem, eq)
        g = grad(straight=frozenset((eq.target,)))
        if g is not None:
            yield "missing-activation-derivative", f"the activation derivative {right} is missing (from {eq.latex})", g
        for swapped in derivative_swaps(problem, eq):
            g = grad(scaled={eq.target: with_derivative(eq.rhs, eq.rhs.args[0], swapped)})
            if g is not None:
                shown = to_latex(replace_node(swapped, eq.rhs, problem.model.form_table[eq.target]))
                yield "wrong-activation-derivative", f"{shown} is not the derivative of {eq.latex}: it is {right}", g
    yield from _regulariser_mutants(problem, of, wrt, grad)
    for message, scaled in itertools.islice(paths_through(problem, of, wrt), 16):
        g = grad(scaled=scaled)
        if g is not None:
            yield "missing-path", message, g


def _regulariser_mutants(problem, of: str, wrt: str, grad):
    for eq, i, term in regulariser_terms(problem, of):
        found = regulariser_coefficient(problem, wrt, eq, term)
        shown = to_latex(term)
        for factor, code in (
            (0, "missing-regularisation"),
            (2, "regularisation-coefficient"),
            (Fraction(1, 2), "regularisation-coefficient"),
            (-1, "regularisation-sign"),
        ):
            terms = list(eq.rhs.terms)
            terms[i] = Product((Num(factor), term), ("juxt",)) if factor else Num(0)
            g = grad(scaled={eq.target: Add(tuple(terms))})
            if g is not None:
                yield code, _regulariser_message(problem, factor, found, wrt, shown), g


def _regulariser_message(problem, factor, found, wrt: str, shown: str) -> str:
    if found is None:
        words = {0: "is missing", 2: "has its coefficient doubled", -1: "has the wrong sign"}
        return f"the gradient of the regularisation term {shown} {words.get(factor, 'has its coefficient halved')}"
    k, hyper = found
    right = to_latex(scaled_parameter(problem, k, hyper, wrt))
    if factor == 0:
        return f"the regularisation term is missing: the derivative of {shown} adds {right}"
    if factor == -1:
        return f"the regularisation term has the wrong sign: the derivative of {shown} is +{right}"
    wrong = to_latex(scaled_parameter(problem, k * factor, hyper, wrt))
    return f"the regularisation term should be {right}, not {wrong} (the derivative of {shown})"
