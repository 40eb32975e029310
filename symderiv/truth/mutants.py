"""The usual mistakes of a quantity, computed from the key's own model: the same automatic
differentiation that gives the truth, run on altered equations (a derivative dropped, a
regulariser's coefficient changed). Each is a (name, value) pair the diagnosis compares a
rejected claim with."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from symderiv.core.tree import Add, Call, Div, Node, Num, Product
from symderiv.notation.latex import to_latex
from symderiv.truth import forward
from symderiv.truth.forward import declared_layout
from symderiv.truth.model import ELEMENTWISE


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


def regulariser_gradient(problem, of: str, wrt: str, eq, term) -> Node | None:
    """The gradient of a regulariser term with respect to a parameter, as the key writes it (2λW^{(2)}),
    when it is a number times a hyperparameter times the parameter (a squared norm); else None."""
    model = problem.model
    hyper = sorted(model.ids_in(term) & {s.id for s in model.free() if s.role == "hyperparameter"})
    if len(hyper) != 1:
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
    forms = model.form_table
    factors: tuple = (forms[hyper[0]], forms[wrt])
    if k.denominator != 1:
        factors = (Div(Num(k.numerator) if k.numerator != 1 else forms[hyper[0]], Num(k.denominator)),) + (
            (forms[wrt],) if k.numerator == 1 else (forms[hyper[0]], forms[wrt])
        )
    elif k != 1:
        factors = (Num(int(k)),) + factors
    return Product(factors, ("juxt",) * (len(factors) - 1))


def activation_equations(problem, of: str, wrt: str):
    """The equations t = f(u) with an elementwise nonlinearity f on the way from wrt to of: a
    student may leave out f′ (tanh′, σ′, the leaky ReLU′) in the chain rule."""
    model = problem.model
    for eq in model.equations:
        rhs = eq.rhs
        if not (isinstance(rhs, Call) and len(rhs.args) == 1):
            continue
        if rhs.func not in ELEMENTWISE and not rhs.func.startswith(("leaky_relu:", "generic:")):
            continue
        if rhs.func in ("exp", "log", "abs", "identity"):
            continue
        if eq.target != wrt and model.depends_on(of, eq.target) and model.depends_on(eq.target, wrt):
            yield eq


def mutants(problem, s, of: str, wrt: str):
    for eq in activation_equations(problem, of, wrt):
        try:
            g = forward.gradient(problem, s, of, wrt, straight=frozenset((eq.target,)))
        except Exception:  # noqa: BLE001 - a mutant that cannot be built is simply not offered
            continue
        yield f"the activation derivative of {to_latex(eq.rhs)} (for {eq.target}) is missing", g
    for eq, i, term in regulariser_terms(problem, of):
        shown = to_latex(term)
        for factor, what in (
            (0, f"the regularisation term {shown} of {eq.target} is missing"),
            (
                2,
                f"the coefficient of the regularisation term {shown} of {eq.target} is doubled "
                "(the gradient of c‖w‖² is 2cw: for c = λ/2 it is λw)",
            ),
            (
                0.5,
                f"the coefficient of the regularisation term {shown} of {eq.target} is halved "
                "(the gradient of c‖w‖² is 2cw: for c = λ it is 2λw)",
            ),
            (-1, f"the regularisation term {shown} of {eq.target} has the wrong sign"),
        ):
            terms = list(eq.rhs.terms)
            terms[i] = Product((Num(factor), term), ("juxt",)) if factor else Num(0)
            try:
                g = forward.gradient(problem, s, of, wrt, scaled={eq.target: Add(tuple(terms))})
            except Exception:  # noqa: BLE001 - a mutant that cannot be built is simply not offered
                continue
            yield what, g
