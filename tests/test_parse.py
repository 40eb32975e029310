"""The LaTeX parser: every notation of the grading policy, as (latex, expected tree) tables."""

from fractions import Fraction

import pytest

from symderiv.core.errors import ParseError
from symderiv.core.tree import (
    Abs,
    Add,
    Call,
    Compare,
    Deriv,
    Div,
    Indicator,
    Matrix,
    Neg,
    Norm,
    Num,
    Ones,
    Piecewise,
    Pow,
    Product,
    Sum,
    Sym,
    Transpose,
)
from symderiv.notation.parse import MAX_LENGTH, ParseResult, parse, parse_lenient


def _node(x):
    if isinstance(x, int):
        return Num(x)
    if isinstance(x, str):
        return Sym(x)
    return x


def S(name, layer=None, idx=(), decor=""):
    """Sym; layer and indices may be given as ints/strings: S("w", 2, "jk")."""
    return Sym(name, None if layer is None else _node(layer), tuple(_node(i) for i in idx), decor)


def P(*factors, ops=None):
    """Product, juxtaposition unless ops is given as one string per gap or a single op."""
    gaps = len(factors) - 1
    ops = ("juxt",) * gaps if ops is None else (ops,) * gaps if isinstance(ops, str) else ops
    return Product(tuple(_node(f) for f in factors), tuple(ops))


def A(*terms):
    return Add(tuple(_node(t) for t in terms))


def C(func, *args, primes=0, idx=()):
    return Call(func, tuple(_node(a) for a in args), primes, tuple(_node(i) for i in idx))


def D(num, den):
    return Div(_node(num), _node(den))


def T(x):
    return Transpose(_node(x))


def cmp(lhs, op, rhs):
    return Compare(_node(lhs), op, _node(rhs))


def ind(lhs, op, rhs):
    return Indicator(cmp(lhs, op, rhs))


ONE_OVER_N = D(1, "N")
PSI_Z3 = C("psi", S("z", 3))
Z2 = S("z", 2)
Z1 = S("z", 1)


def gap(latex, expected, reason):
    """A known gap: the row documents what the parser should do, and currently does not."""
    return pytest.param(latex, expected, marks=pytest.mark.xfail(reason=reason, strict=True), id=latex)


def table(rows):
    """pytest.param rows with the LaTeX as id (rows may already be pytest.param)."""
    return [r if hasattr(r, "marks") else pytest.param(*r, id=r[0]) for r in rows]


def check(latex, expected):
    assert parse(latex) == expected


LAYERS = [
    ("Na^{(3)}", P("N", S("a", 3))),
    ("a^{[3]}", S("a", 3)),
    ("W^{(2)}", S("W", 2)),
    ("z^{[l]}", S("z", "l")),
    ("a^{(l+1)}", S("a", A("l", 1))),
    ("a^{(L-1)}", S("a", A("L", Neg(Num(1))))),
    ("a^{[ 2 ]}", S("a", 2)),
    ("W(2)", S("W", 2)),
    ("a(1)", S("a", 1)),
    ("a(l)", S("a", "l")),
    ("a(L)", S("a", "L")),
    ("a(l+1)", S("a", A("l", 1))),
    ("a(l-1)", S("a", A("l", Neg(Num(1))))),
    ("W(1) a(1) + b(1)", A(P(S("W", 1), S("a", 1)), S("b", 1))),
    ("z^(3)", S("z", 3)),
    ("a_i(\\delta_{ij} - a_j)", P(S("a", None, "i"), A(S("delta", None, "ij"), Neg(S("a", None, "j"))))),
    ("a (1)", P("a", 1)),
    ("w_{ij}^{(l)}", S("w", "l", "ij")),
    ("a_{i}^{(l-1)}", S("a", A("l", Neg(Num(1))), "i")),
    ("z^{(3)}_i", S("z", 3, "i")),
    ("a^2", Pow(S("a"), Num(2))),
    ("a^{3}", Pow(S("a"), Num(3))),
    ("a^{l}", Pow(S("a"), S("l"))),
    ("W^{-1}", Pow(S("W"), Neg(Num(1)))),
    ("z^{999999999}", Pow(S("z"), Num(999999999))),
    ("x^23", P(Pow(S("x"), Num(2)), 3)),
    ("(a+b)^{(2)}", Pow(A("a", "b"), Num(2))),
]

TRANSPOSES = [
    ("W^T", T("W")),
    ("W^{T}", T("W")),
    ("W^\\top", T("W")),
    ("W^{\\top}", T("W")),
    ("W^{\\mathsf T}", T("W")),
    ("W^{\\mathsf{T}}", T("W")),
    ("W^{\\intercal}", T("W")),
    ("W'", T("W")),
    ("Wᵀ", T("W")),
    ("a^{(2)T}", T(S("a", 2))),
    ("W^{(2)\\top}", T(S("W", 2))),
    ("a^{(2)'}", T(S("a", 2))),
    ("w^{(2)'}", T(S("w", 2))),
    ("w_{kj}^{(L)T}", T(S("w", "L", "kj"))),
    ("W(2)^T", T(S("W", 2))),
    ("a(1)^T", T(S("a", 1))),
    ("(w^{(2)})'", T(S("w", 2))),
    ("\\mathbf{x}_i^T", T(S("x", None, "i", "bold"))),
    ("(\\psi(Z^{(3)}) - \\Delta)^{T}", T(A(C("psi", S("Z", 3)), Neg(S("Delta"))))),
    ("x^T y", P(T("x"), "y")),
]

PRODUCTS = [
    ("2\\lambda W^{(2)}", P(2, "lambda", S("W", 2))),
    ("a \\cdot b", P("a", "b", ops="cdot")),
    ("a \\times b", P("a", "b", ops="times")),
    ("a * b", P("a", "b", ops="star")),
    ("a \\odot b", P("a", "b", ops="odot")),
    ("a \\circ b", P("a", "b", ops="circ")),
    ("a ⊙ b", P("a", "b", ops="odot")),
    ("a ∘ b", P("a", "b", ops="circ")),
    ("a × b", P("a", "b", ops="times")),
    ("a · b", P("a", "b", ops="cdot")),
    ("a \\ast b", P("a", "b", ops="star")),
    ("a b \\odot c \\cdot d e", P("a", "b", "c", "d", "e", ops=("juxt", "odot", "cdot", "juxt"))),
    ("(a)(b)", P("a", "b")),
    ("ya^{[2]}", P("y", S("a", 2))),
    ("20 \\times 0 + 20 \\times 1 - 10", A(P(20, 0, ops="times"), P(20, 1, ops="times"), Neg(Num(10)))),
]

DIVISIONS = [
    ("\\frac{a}{b}", D("a", "b")),
    ("\\dfrac{a}{b}", D("a", "b")),
    ("\\tfrac{a}{b}", D("a", "b")),
    ("\\frac12", D(1, 2)),
    ("\\frac{1}{N}(x)", P(ONE_OVER_N, "x")),
    ("1/N (x)", P(ONE_OVER_N, "x")),
    ("y_i / a_3", D(S("y", None, "i"), S("a", None, (3,)))),
    ("-1/N \\cdot (y_i / a_3)", Neg(P(ONE_OVER_N, D(S("y", None, "i"), S("a", None, (3,))), ops="cdot"))),
    ("a/b/c", D(D("a", "b"), "c")),
    ("a b / c", P("a", D("b", "c"))),
    ("\\frac{1}{Na^{(3)}}", D(1, P("N", S("a", 3)))),
    ("\\frac{1}{1 + e^{-z^{[2]}}}", D(1, A(1, C("exp", Neg(S("z", 2)))))),
]

SUMS_AND_SIGNS = [
    ("a + b - c", A("a", "b", Neg(S("c")))),
    ("x + -30", A("x", Neg(Num(30)))),
    ("+a", S("a")),
    ("-a", Neg(S("a"))),
    ("- -a", Neg(Neg(S("a")))),
    ("-a b + c", A(Neg(P("a", "b")), "c")),
    ("a - (b + c)", A("a", Neg(A("b", "c")))),
    ("-\\frac{1}{N}x", Neg(P(ONE_OVER_N, "x"))),
]

NUMBERS = [
    ("42", Num(42)),
    ("0.5", Num(Fraction(1, 2))),
    ("1.25", Num(Fraction(5, 4))),
    ("2x", P(2, "x")),
    ("\\underline{\\underline{50}}", Num(50)),
]

GREEK = (
    [
        (f"\\{name}", S(name))
        for name in (
            "psi",
            "Psi",
            "Delta",
            "delta",
            "lambda",
            "sigma",
            "phi",
            "varphi",
            "theta",
            "alpha",
            "beta",
            "eta",
            "epsilon",
            "mu",
            "gamma",
            "omega",
            "Phi",
            "Sigma",
        )
    ]
    + [
        (ch, S(name))
        for ch, name in (
            ("ψ", "psi"),
            ("Ψ", "Psi"),
            ("Δ", "Delta"),
            ("δ", "delta"),
            ("λ", "lambda"),
            ("σ", "sigma"),
            ("φ", "phi"),
            ("ϕ", "phi"),
            ("θ", "theta"),
            ("η", "eta"),
        )
    ]
    + [
        ("\\delta_{ij}", S("delta", None, "ij")),
        ("\\Delta_i", S("Delta", None, "i")),
        ("\\lambda W", P("lambda", "W")),
        ("λW", P("lambda", "W")),
    ]
)

SUBSCRIPTS = [
    ("z_3", S("z", None, (3,))),
    ("z_{ij}", S("z", None, "ij")),
    ("w_{jk}", S("w", None, "jk")),
    ("z_{i,j}", S("z", None, "ij")),
    ("z_{12}", S("z", None, (12,))),
    ("z_12", P(S("z", None, (1,)), 2)),
    ("z_{l+1}", S("z", None, (A("l", 1),))),
    ("\\psi_{iy_i}", S("psi", None, ("i", S("y", None, "i")))),
    ("J_{\\text{data}}", S("J", None, ("data",))),
    ("J_{reg}", S("J", None, ("reg",))),
    ("n_{L}", S("n", None, "L")),
    ("w_{n_L}", S("w", None, (S("n", None, "L"),))),
    ("z^3_i", Pow(S("z", None, "i"), Num(3))),
    ("z_i^3", Pow(S("z", None, "i"), Num(3))),
    ("z_{ijk}", S("z", None, "ijk")),
    ("x_{1}^{(2)}", S("x", 2, (1,))),
    ("x_i^{(2)}{}^T", T(S("x", 2, "i"))),
    gap("x_{\\text{data}, i}", S("x", None, ("data", "i")), "\\text is only read as a whole subscript"),
]

DECORATIONS = [
    ("\\hat{y}", S("y", decor="hat")),
    ("\\hat y", S("y", decor="hat")),
    ("\\widehat{y}", S("y", decor="hat")),
    ("\\tilde{J}", S("J", decor="tilde")),
    ("\\tilde J", S("J", decor="tilde")),
    ("\\bar x", S("x", decor="bar")),
    ("\\bar{x}", S("x", decor="bar")),
    ("\\mathbf{W}", S("W", decor="bold")),
    ("\\boldsymbol{W}", S("W", decor="bold")),
    ("\\bm{W}", S("W", decor="bold")),
    ("\\boldsymbol{\\delta}", S("delta", decor="bold")),
    ("\\hat{y}_i", S("y", None, "i", "hat")),
    ("\\hat{y_i}", S("y", None, "i", "hat")),
    ("\\mathbf{W}^{(1)}", S("W", 1, decor="bold")),
    ("ŷ", S("y", decor="hat")),
    ("J̃", S("J", decor="tilde")),
    ("\\mathrm{x}", S("x")),
    ("\\mathit{x}", S("x")),
    ("\\log \\hat{y}", C("log", S("y", decor="hat"))),
]

FUNCTIONS = [
    ("\\psi(z^{(3)})", PSI_Z3),
    ("\\psi\\left(z^{(3)}\\right)", PSI_Z3),
    ("\\psi (z^{(3)})", PSI_Z3),
    ("\\Psi(Z^3)", C("Psi", Pow(S("Z"), Num(3)))),
    ("\\sigma(z)", C("sigma", "z")),
    ("\\phi(z)", C("phi", "z")),
    ("\\varphi(z^{(3)})", C("varphi", S("z", 3))),
    ("softmax(z)", C("softmax", "z")),
    ("Softmax(Z^3)", C("softmax", Pow(S("Z"), Num(3)))),
    ("SOFTMAX(z)", C("softmax", "z")),
    ("\\text{softmax}(z)", C("softmax", "z")),
    ("\\operatorname{softmax}(z)", C("softmax", "z")),
    ("ReLU(z)", C("relu", "z")),
    ("RELU(z)", C("relu", "z")),
    ("relu(z)", C("relu", "z")),
    ("\\mathrm{ReLU}(z)", C("relu", "z")),
    ("\\text{RELU}[z^{[1]}]", C("relu", S("z", 1))),
    ("sigmoid(x)", C("sigmoid", "x")),
    ("\\tanh(x)", C("tanh", "x")),
    ("tanh(x)", C("tanh", "x")),
    ("\\exp(z)", C("exp", "z")),
    ("exp(z)", C("exp", "z")),
    ("\\log(x)", C("log", "x")),
    ("log(x)", C("log", "x")),
    ("\\ln(x)", C("log", "x")),
    ("diag(a)", C("diag", "a")),
    ("\\operatorname{diag}(a) - a a^T", A(C("diag", "a"), Neg(P("a", T("a"))))),
    # a power of a diagonal matrix is the diagonal of its entries' powers (any power: -1, -1/2, 2)
    ("\\operatorname{diag}(a)^{-1}", C("diag", Pow(S("a"), Neg(Num(1))))),
    ("\\operatorname{diag}(a + b)^{-1/2}", C("diag", Pow(A("a", "b"), Neg(D(1, 2))))),
    ("\\left(\\operatorname{diag}(a)\\right)^2 x", P(C("diag", Pow(S("a"), Num(2))), "x")),
    ("\\operatorname{diag}(a)^T", T(C("diag", "a"))),
    ("\\max(0, z)", C("max", 0, "z")),
    ("e^{x}", C("exp", "x")),
    ("e^{-z^{[2]}}", C("exp", Neg(S("z", 2)))),
    ("e^{z^3_i}", C("exp", Pow(S("z", None, "i"), Num(3)))),
    ("\\log a^{(3)}", C("log", S("a", 3))),
    ("y \\log \\hat{y}", P("y", C("log", S("y", decor="hat")))),
    ("\\log (1-\\hat{y})", C("log", A(1, Neg(S("y", decor="hat"))))),
    ("\\log(x)^2", Pow(C("log", "x"), Num(2))),
    ("\\phi'(z)", C("phi", "z", primes=1)),
    ("\\sigma'(z)", C("sigma", "z", primes=1)),
    ("σ′(z)", C("sigma", "z", primes=1)),
    ("\\mathrm{ReLU}'(z)", C("relu", "z", primes=1)),
    ("g'(z)", C("g", "z", primes=1)),
    ("g''(z)", C("g", "z", primes=2)),
    ("g'_l(z)", C("g", "z", primes=1, idx="l")),
    ("g_l'(z)", C("g", "z", primes=1, idx="l")),
    ("g_{l}'(z_j^{(l)})", C("g", S("z", "l", "j"), primes=1, idx="l")),
    ("g'_{L-1}(z)", C("g", "z", primes=1, idx=(A("L", Neg(Num(1))),))),
    ("g_l(z_j^{(l)})", C("g", S("z", "l", "j"), idx="l")),
    ("\\psi(z^{(3)})_{ij}", C("psi", S("z", 3), idx="ij")),
    ("\\psi(z^{(3)})_{iy_i}", C("psi", S("z", 3), idx=("i", S("y", None, "i")))),
    ("J(\\theta)", C("J", "theta")),
    ("C(x)", C("C", "x")),
    ("L(a^{[2]}, y)", C("L", S("a", 2), "y")),
    ("f(x)", C("f", "x")),
    ("h(x)", C("h", "x")),
    ("\\tilde{J}(\\theta)", C("tilde:J", "theta")),
    ("\\psi", S("psi")),
    ("\\lambda(a + b)", P("lambda", A("a", "b"))),
    ("\\Delta(a + b)", P("Delta", A("a", "b"))),
    ("\\sigma(z)(1-\\sigma(z))", P(C("sigma", "z"), A(1, Neg(C("sigma", "z"))))),
    ("\\psi(\\psi(x))", C("psi", C("psi", "x"))),
    ("\\tanh^2(z)", Pow(C("tanh", "z"), Num(2))),
    ("\\operatorname{tanh}^{2}(z)", Pow(C("tanh", "z"), Num(2))),
    # sech u = (1 − tanh² u)^{1/2}: sech > 0 is the root's own sign
    ("\\operatorname{sech}(z)", Pow(A(1, Neg(Pow(C("tanh", "z"), Num(2)))), Num(Fraction(1, 2)))),
    ("\\mathrm{sech}^2(z)", Pow(Pow(A(1, Neg(Pow(C("tanh", "z"), Num(2)))), Num(Fraction(1, 2))), Num(2))),
    ("\\sech^{2}\\left(z\\right)", Pow(Pow(A(1, Neg(Pow(C("tanh", "z"), Num(2)))), Num(Fraction(1, 2))), Num(2))),
    gap(
        "\\psi^{(3)}(z)",
        C("psi", "z"),
        "a superscript on a function name stops the call lookahead: read as psi^{(3)} times (z)",
    ),
]

DERIVATIVES = [
    ("\\frac{\\partial J}{\\partial z^{(3)}}", Deriv(S("J"), S("z", 3))),
    ("\\frac{\\partial \\tilde{J}}{\\partial W^{(1)}}", Deriv(S("J", decor="tilde"), S("W", 1))),
    ("\\frac{\\partial \\tilde{J}(\\theta)}{\\partial w^{(1)}}", Deriv(C("tilde:J", "theta"), S("w", 1))),
    ("\\frac{\\partial J_{\\text{data}}}{\\partial z^{(3)}}", Deriv(S("J", None, ("data",)), S("z", 3))),
    ("\\frac{\\partial a^3_i}{\\partial z^3_j}", Deriv(Pow(S("a", None, "i"), Num(3)), Pow(S("z", None, "j"), Num(3)))),
    (
        "\\frac{\\partial (w^2 a^2 + b^2)}{\\partial w^2}",
        Deriv(A(P(Pow(S("w"), Num(2)), Pow(S("a"), Num(2))), Pow(S("b"), Num(2))), Pow(S("w"), Num(2))),
    ),
    ("\\frac{\\partial \\phi(z^{(2)})}{\\partial z^{(2)}}", Deriv(C("phi", Z2), Z2)),
    (
        "\\frac{\\partial \\frac{1}{N} \\log a^{(3)}}{\\partial a^{(3)}}",
        Deriv(P(ONE_OVER_N, C("log", S("a", 3))), S("a", 3)),
    ),
    (
        "\\frac{\\partial}{\\partial w^2}(w^2 a^2 + b^2)",
        Deriv(A(P(Pow(S("w"), Num(2)), Pow(S("a"), Num(2))), Pow(S("b"), Num(2))), Pow(S("w"), Num(2))),
    ),
    (
        "\\frac{\\partial}{\\partial w^{(2)}} (w^{(2)} a^{(2)} + b^{(2)})",
        Deriv(A(P(S("w", 2), S("a", 2)), S("b", 2)), S("w", 2)),
    ),
    (
        "\\frac{\\partial}{\\partial w_1} \\cdot N (\\|w_1\\|^2)",
        Deriv(P("N", Pow(Norm(S("w", None, (1,))), Num(2))), S("w", None, (1,))),
    ),
    ("a \\frac{\\partial}{\\partial x} x^2 + b", A(P("a", Deriv(Pow(S("x"), Num(2)), S("x"))), "b")),
    ("\\partial J / \\partial w", Deriv(S("J"), S("w"))),
    ("∂J/∂W", Deriv(S("J"), S("W"))),
    ("\\frac{d y}{d x}", Deriv(S("y"), S("x"))),
    ("\\frac{dL}{dz}", Deriv(S("L"), S("z"))),
    ("\\frac{d}{dx} x^2", Deriv(Pow(S("x"), Num(2)), S("x"))),
    (
        "\\frac{\\partial J}{\\partial a_3} \\cdot \\frac{\\partial a_3}{\\partial z_3}",
        P(Deriv(S("J"), S("a", None, (3,))), Deriv(S("a", None, (3,)), S("z", None, (3,))), ops="cdot"),
    ),
    (
        "\\frac{\\partial (-\\log(\\psi(z^{(3)})_{iy_i}))}{\\partial (z_{ij}^{(3)})}",
        Deriv(Neg(C("log", C("psi", S("z", 3), idx=("i", S("y", None, "i"))))), S("z", 3, "ij")),
    ),
    (
        "\\frac{\\partial \\lambda (\\|W^{(1)}\\|_2^2 + \\|W^{(2)}\\|_2^2)}{\\partial W^{(2)}}",
        Deriv(P("lambda", A(Pow(Norm(S("W", 1), "2"), Num(2)), Pow(Norm(S("W", 2), "2"), Num(2)))), S("W", 2)),
    ),
]
DERIVATIVES += [
    gap(
        "\\frac{\\partial^2 J}{\\partial w^2}", Deriv(Deriv(S("J"), S("w")), S("w")), "second derivatives are not read"
    ),
    ("\\nabla_W J", Deriv(S("J"), S("W"))),
    ("\\nabla_{W^{(2)}} \\tilde J", Deriv(Sym("J", decor="tilde"), S("W", layer=Num(2)))),
]

ROUNDING = [
    ("g_{\\lceil i/2 \\rceil}", S("g", None, (C("ceil", D("i", 2)),))),
    ("\\left\\lfloor \\frac{i+1}{2} \\right\\rfloor", C("floor", D(A("i", 1), 2))),
    ("\\lceil x \\rceil^2", Pow(C("ceil", "x"), Num(2))),
    ("p_{\\lceil i/2 \\rceil} x", P(S("p", None, (C("ceil", D("i", 2)),)), "x")),
]

IND_Z2 = ind(Z2, ">", 0)
IND_Z1 = ind(Z1, ">", 0)
INDICATORS = [
    ("\\mathbb{1}[z^{(2)}>0]", IND_Z2),
    ("\\mathbb{1}\\{z^{[1]}>0\\}", IND_Z1),
    ("\\mathbb{1}\\left\\{z^{[1]}>0\\right\\}", IND_Z1),
    ("\\mathbf{1}[z^{(2)} > 0]", IND_Z2),
    ("1[z^{(2)}>0]", IND_Z2),
    ("1_{\\{z^{[1]} > 0\\}}", IND_Z1),
    ("\\mathbb{1}_{z^{[1]}>0}", IND_Z1),
    ("\\mathbb{1}_{\\{z^{[1]}>0\\}}", IND_Z1),
    ("\\mathbb{I}(z^{(2)}>0)", IND_Z2),
    ("\\mathbb{1}(z^{(2)} > 0)", IND_Z2),
    ("𝟙[z^{(2)}>0]", IND_Z2),
    ("(z^{(2)} > 0)", IND_Z2),
    ("[z^{(2)} > 0]", IND_Z2),
    ("\\mathbb{1}[z \\geq 0]", ind("z", ">=", 0)),
    ("\\mathbb{1}[z \\ge 0]", ind("z", ">=", 0)),
    ("\\mathbb{1}[z ≥ 0]", ind("z", ">=", 0)),
    ("\\mathbb{1}[z >= 0]", ind("z", ">=", 0)),
    ("\\mathbb{1}[z \\leq 0]", ind("z", "<=", 0)),
    ("\\mathbb{1}[z \\le 0]", ind("z", "<=", 0)),
    ("\\mathbb{1}[z ≤ 0]", ind("z", "<=", 0)),
    ("\\mathbb{1}[z < 0]", ind("z", "<", 0)),
    ("\\mathbb{1}[i = j]", ind("i", "=", "j")),
    ("\\mathbb{1}[i \\neq j]", ind("i", "!=", "j")),
    ("\\mathbb{1}[i \\ne j]", ind("i", "!=", "j")),
    ("\\mathbb{1}[i ≠ j]", ind("i", "!=", "j")),
    ("\\mathbb{1}[i != j]", ind("i", "!=", "j")),
    # a chain of comparisons: the conjunction, one indicator per comparison
    (
        "\\mathbb{1}[1 \\le p-j+1 \\le m]",
        P(ind(1, "<=", A("p", Neg(S("j")), 1)), ind(A("p", Neg(S("j")), 1), "<=", "m"), ops="odot"),
    ),
    ("\\mathbb{1}\\{0 < x \\leq 1\\}", P(ind(0, "<", "x"), ind("x", "<=", 1), ops="odot")),
    ("1_{a > b \\geq c}", P(ind("a", ">", "b"), ind("b", ">=", "c"), ops="odot")),
    ("(a < b < c < d)", P(ind("a", "<", "b"), ind("b", "<", "c"), ind("c", "<", "d"), ops="odot")),
    ("w_j \\mathbb{1}[i \\ge j > 0]", P(S("w", None, "j"), P(ind("i", ">=", "j"), ind("j", ">", 0), ops="odot"))),
    (
        "(a^{[2]} - y) w^{[2]} \\times 1_{\\{z^{[1]} > 0\\}}",
        P(A(S("a", 2), Neg(S("y"))), S("w", 2), IND_Z1, ops=("juxt", "times")),
    ),
    (
        "\\frac{1}{N}W^{(2)T}(\\psi(z^{(3)}) - \\Delta)\\odot\\mathbb{1}[z^{(2)}>0]",
        P(ONE_OVER_N, T(S("W", 2)), A(PSI_Z3, Neg(S("Delta"))), IND_Z2, ops=("juxt", "juxt", "odot")),
    ),
]

ONES = [
    ("\\mathbf{1}_N", Ones(S("N"))),
    ("\\mathbb{1}_N", Ones(S("N"))),
    ("1_N", Ones(S("N"))),
    ("\\mathbf{1}_{N}", Ones(S("N"))),
    ("\\mathbf{1}", Ones()),
    ("\\mathbb{1}", Ones()),
    ("\\mathbf{1}_N^T", T(Ones(S("N")))),
    ("X \\mathbf{1}_N", P("X", Ones(S("N")))),
    ("\\mathbf{1} x", P(Ones(), "x")),
]

CASES = [
    (
        "\\begin{cases} 1 & \\text{if } z^{(2)} > 0 \\\\ 0 & \\text{\" } z^{(2)} \\leq 0 \\end{cases}",
        Piecewise(((Num(1), cmp(Z2, ">", 0)), (Num(0), cmp(Z2, "<=", 0)))),
    ),
    (
        "\\begin{cases} z^{[1]} & z^{[1]} > 0 \\\\ 0 & \\text{otherwise} \\end{cases}",
        Piecewise(((Z1, cmp(Z1, ">", 0)), (Num(0), None))),
    ),
    (
        "\\begin{cases} 0 & z^{(2)} < 0 \\\\ 1 & z^{(2)} \\ge 0 \\end{cases}",
        Piecewise(((Num(0), cmp(Z2, "<", 0)), (Num(1), cmp(Z2, ">=", 0)))),
    ),
    (
        "\\begin{cases} \\frac{1}{N} \\Psi(Z^3) - \\Delta \\cdot x \\cdot w^2 & \\text{if } (Z^2 > 0) "
        "\\\\ 0 & \\text{if } (Z^2 < 0) \\end{cases}",
        Piecewise(
            (
                (
                    A(
                        P(ONE_OVER_N, C("Psi", Pow(S("Z"), Num(3)))),
                        Neg(P("Delta", "x", Pow(S("w"), Num(2)), ops="cdot")),
                    ),
                    cmp(Pow(S("Z"), Num(2)), ">", 0),
                ),
                (Num(0), cmp(Pow(S("Z"), Num(2)), "<", 0)),
            )
        ),
    ),
    (
        "\\begin{cases} 1 & \\text{when } x > 0, \\\\ 0 & \\text{else} \\end{cases}",
        Piecewise(((Num(1), cmp("x", ">", 0)), (Num(0), None))),
    ),
    (
        "\\begin{cases} 1 & \\text{for } x > 0 \\\\ 0 & \\text{o.w.} \\\\ \\end{cases}",
        Piecewise(((Num(1), cmp("x", ">", 0)), (Num(0), None))),
    ),
    (
        "\\begin{cases} a & \\text{if } i = j \\\\ b & \\text{elsewhere} \\end{cases}",
        Piecewise(((S("a"), cmp("i", "=", "j")), (S("b"), None))),
    ),
    (
        "\\begin{cases} r & -\\delta \\le r \\le \\delta \\\\ 0 & \\text{otherwise} \\end{cases}",
        Piecewise(((S("r"), P(ind(Neg(S("delta")), "<=", "r"), ind("r", "<=", "delta"), ops="odot")), (Num(0), None))),
    ),
    (
        "\\left\\{ \\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases} \\right.",
        Piecewise(((Num(1), cmp("x", ">", 0)), (Num(0), cmp("x", "<=", 0)))),
    ),
]

SUMS = [
    ("\\sum_{i=1}^{N} (x_i)", Sum(S("x", None, "i"), "i", Num(1), S("N"))),
    ("\\sum_{i=1}^N x_i", Sum(S("x", None, "i"), "i", Num(1), S("N"))),
    ("\\sum^{N}_{i=1} x_i", Sum(S("x", None, "i"), "i", Num(1), S("N"))),
    ("\\sum\\limits_{i=1}^{N} x_i", Sum(S("x", None, "i"), "i", Num(1), S("N"))),
    (
        "\\sum_{k=1}^{n_L} w_{jk}\\delta_k",
        Sum(P(S("w", None, "jk"), S("delta", None, "k")), "k", Num(1), S("n", None, "L")),
    ),
    ("\\sum_k a_k b_k", Sum(P(S("a", None, "k"), S("b", None, "k")), "k")),
    ("\\sum_{x \\in D} C(x)", Sum(C("C", "x"), "x", over=S("D"))),
    ("\\sum (\\psi(z^{(3)}) - \\Delta_i)", Sum(A(PSI_Z3, Neg(S("Delta", None, "i"))))),
    (
        "\\sum_k w_{jk}\\delta_k g'(z_j) + b",
        A(Sum(P(S("w", None, "jk"), S("delta", None, "k"), C("g", S("z", None, "j"), primes=1)), "k"), "b"),
    ),
    (
        "\\sum_k w_{jk}^{(l+1)}\\delta_k^{(l+1)} g_l'(z_j^{(l)})",
        Sum(P(S("w", A("l", 1), "jk"), S("delta", A("l", 1), "k"), C("g", S("z", "l", "j"), primes=1, idx="l")), "k"),
    ),
    (
        "\\frac{1}{N}\\sum_{i=1}^{N}(\\psi(z^{(3)}_i) - \\Delta_i)",
        P(ONE_OVER_N, Sum(A(C("psi", S("z", 3, "i")), Neg(S("Delta", None, "i"))), "i", Num(1), S("N"))),
    ),
    ("\\frac{1}{N} \\cdot \\sum_i x_i", P(ONE_OVER_N, Sum(S("x", None, "i"), "i"), ops="cdot")),
    ("\\sum_i x_i - \\sum_j y_j", A(Sum(S("x", None, "i"), "i"), Neg(Sum(S("y", None, "j"), "j")))),
    ("\\sum_{i=1}^N -\\log a_i", Sum(Neg(C("log", S("a", None, "i"))), "i", Num(1), S("N"))),
    ("(\\sum_i x_i) y", P(Sum(S("x", None, "i"), "i"), "y")),
    ("Σ_i x_i", Sum(S("x", None, "i"), "i")),
    ("∑_i x_i", Sum(S("x", None, "i"), "i")),
    ("\\frac{1}{|D|} \\sum_{x \\in D} C(x)", P(D(1, Abs(S("D"))), Sum(C("C", "x"), "x", over=S("D")))),
]

NORMS = [
    ("\\|W\\|_F^2", Pow(Norm(S("W"), "F"), Num(2))),
    ("\\|W\\|^2_F", Pow(Norm(S("W"), "F"), Num(2))),
    ("\\|W^{(1)}\\|_2^2", Pow(Norm(S("W", 1), "2"), Num(2))),
    ("\\|w_1\\|^2", Pow(Norm(S("w", None, (1,))), Num(2))),
    ("\\lVert W \\rVert", Norm(S("W"))),
    ("\\left\\| W \\right\\|_F", Norm(S("W"), "F")),
    ("||W||", Norm(S("W"))),
    ("‖W‖_F", Norm(S("W"), "F")),
    ("\\|W\\|_{F}^{2}", Pow(Norm(S("W"), "F"), Num(2))),
    ("|x|", Abs(S("x"))),
    ("\\left| x \\right|", Abs(S("x"))),
    ("|a| |b|", P(Abs(S("a")), Abs(S("b")))),
    gap("|a||b|", P(Abs(S("a")), Abs(S("b"))), "'||' is taken for a norm bar before | pairing"),
    (
        "\\lambda (\\|W^{(1)}\\|_F^2 + \\|W^{(2)}\\|_F^2)",
        P("lambda", A(Pow(Norm(S("W", 1), "F"), Num(2)), Pow(Norm(S("W", 2), "F"), Num(2)))),
    ),
]

MATRICES = [
    ("\\begin{bmatrix} -1 \\\\ -1 \\end{bmatrix}", Matrix(((Neg(Num(1)),), (Neg(Num(1)),)))),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", Matrix(((Num(1), Num(2)), (Num(3), Num(4))))),
    ("\\begin{matrix} a & b \\end{matrix}", Matrix(((S("a"), S("b")),))),
    ("\\begin{vmatrix} a \\end{vmatrix}", Matrix(((S("a"),),))),
    ("[20 \\ 20]", Matrix(((Num(20), Num(20)),))),
    ("[-20 \\ -20]", Matrix(((Neg(Num(20)), Neg(Num(20))),))),
    ("[20, 20]", Matrix(((Num(20), Num(20)),))),
    ("[20 & 20]", Matrix(((Num(20), Num(20)),))),
    (
        "[20 \\ 20] \\begin{bmatrix} -1 \\\\ -1 \\end{bmatrix} + -30",
        A(P(Matrix(((Num(20), Num(20)),)), Matrix(((Neg(Num(1)),), (Neg(Num(1)),)))), Neg(Num(30))),
    ),
    ("\\left[ a \\ b \\right]", P("a", "b")),
]

OCR_BRACKETS = [
    ("[A^{[2]} - y] \\times A^{[1]}", P(A(S("A", 2), Neg(S("y"))), S("A", 1), ops="times")),
    ("\\{a + b\\} c", P(A("a", "b"), "c")),
    ("\\left[\\frac{1}{N} x\\right] y", P(P(ONE_OVER_N, "x"), "y")),
    ("{a + b}^2", Pow(A("a", "b"), Num(2))),
    (
        "-[y \\log \\hat{y} + (1-y) \\log (1-\\hat{y})]",
        Neg(A(P("y", C("log", S("y", decor="hat"))), P(A(1, Neg(S("y"))), C("log", A(1, Neg(S("y", decor="hat"))))))),
    ),
]

UNICODE = [
    ("ψ(z⁽³⁾) − Δ", A(PSI_Z3, Neg(S("Delta")))),
    ("x²", Pow(S("x"), Num(2))),
    ("x⁻¹", Pow(S("x"), Neg(Num(1)))),
    ("W⁽²⁾ᵀ", T(S("W", 2))),
    ("z₁", S("z", None, (1,))),
    ("a ⊙ 𝟙[z > 0]", P("a", ind("z", ">", 0), ops="odot")),
    ("‖W‖", Norm(S("W"))),
    ("W′", T("W")),
    ("x\u00a0y", P("x", "y")),
]

STRIPPED = [
    ("\\left( a \\right)", S("a")),
    ("\\big( a \\big)", S("a")),
    ("\\Big[ a \\Big] b", P("a", "b")),
    ("\\bigg( a \\bigg)", S("a")),
    ("\\Bigg( a \\Bigg)", S("a")),
    ("\\bigl( a \\bigr)", S("a")),
    ("a\\,b", P("a", "b")),
    ("a\\!b", P("a", "b")),
    ("a\\;b", P("a", "b")),
    ("a\\:b", P("a", "b")),
    ("a\\ b", P("a", "b")),
    ("a~b", P("a", "b")),
    ("a \\quad b", P("a", "b")),
    ("a \\qquad b", P("a", "b")),
    ("\\displaystyle \\frac{a}{b}", D("a", "b")),
    ("\\textstyle a", S("a")),
    ("\\left. a \\right.", S("a")),
    ("\\underline{a^{[2]} - y}", A(S("a", 2), Neg(S("y")))),
    ("\\underline{\\underline{1}}", Num(1)),
    ("\\cancel{a} b", P("a", "b")),
    ("\\boxed{a}", S("a")),
    ("\\underbrace{a + b}_{J_{\\text{data}}} + c", A(A("a", "b"), "c")),
    ("\\underbrace{a^{(2)'}}_{\\substack{\\text{transpose of} \\\\ a^{(2)}}}", T(S("a", 2))),
    ("\\overbrace{a}^{\\text{x}}", S("a")),
    ("x.", S("x")),
    ("x,", S("x")),
    ("x;", S("x")),
    (
        "\\frac{1}{N} (\\Psi(z^3) - \\Delta) \\cdot 1.",
        P(ONE_OVER_N, A(C("Psi", Pow(S("z"), Num(3))), Neg(S("Delta"))), 1, ops=("juxt", "cdot")),
    ),
    ("$x$", S("x")),
]

SEEN_IN_SUBMISSIONS = [
    (
        "\\frac{1}{N}(\\psi(z^{(3)}) - \\Delta)a^{(2)T} + 2\\lambda W^{(2)}",
        A(P(ONE_OVER_N, A(PSI_Z3, Neg(S("Delta"))), T(S("a", 2))), P(2, "lambda", S("W", 2))),
    ),
    (
        "\\left(\\frac{1}{N}W^{(2)T}(\\psi(z^{(3)}) - \\Delta)\\odot\\mathbb{1}[z^{(2)}>0]\\right)x^{T} + 2\\lambda W^{(1)}",
        A(
            P(P(ONE_OVER_N, T(S("W", 2)), A(PSI_Z3, Neg(S("Delta"))), IND_Z2, ops=("juxt", "juxt", "odot")), T("x")),
            P(2, "lambda", S("W", 1)),
        ),
    ),
    (
        "\\frac{e^{-z^{[2]}}}{(1+e^{-z^{[2]}})^2}",
        D(C("exp", Neg(S("z", 2))), Pow(A(1, C("exp", Neg(S("z", 2)))), Num(2))),
    ),
    ("a_i^{(l-1)}\\delta_j^{(l)}", P(S("a", A("l", Neg(Num(1))), "i"), S("delta", "l", "j"))),
    (
        "\\frac{1}{2} (\\varphi(z^{(3)}) - \\Delta) \\cdot w^{(2)'}",
        P(D(1, 2), A(C("varphi", S("z", 3)), Neg(S("Delta"))), T(S("w", 2)), ops=("juxt", "cdot")),
    ),
    (
        "\\frac{1}{N} \\sum_{i=1}^N -\\log \\left[\\frac{e^{z_{ij}^{(3)}}}{\\sum_k e^{z_{ik}^{(3)}}} \\right]",
        P(
            ONE_OVER_N,
            Sum(Neg(C("log", D(C("exp", S("z", 3, "ij")), Sum(C("exp", S("z", 3, "ik")), "k")))), "i", Num(1), S("N")),
        ),
    ),
    (
        "\\sum_{k=1}^{n_L} \\delta_k^{(L)} w_{kj}^{(L)T} g'_{L-1}(z_j^{(L-1)})",
        Sum(
            P(
                S("delta", "L", "k"),
                T(S("w", "L", "kj")),
                C("g", S("z", A("L", Neg(Num(1))), "j"), primes=1, idx=(A("L", Neg(Num(1))),)),
            ),
            "k",
            Num(1),
            S("n", None, "L"),
        ),
    ),
    (
        "\\left[\\frac{1}{N} \\sum (\\psi(z^{(3)}) - \\Delta_i)\\right] W(2)^T",
        P(P(ONE_OVER_N, Sum(A(PSI_Z3, Neg(S("Delta", None, "i"))))), T(S("W", 2))),
    ),
    (
        "f_j^{(l)} \\frac{\\partial}{\\partial b_j^{(l)}} \\left[\\sum_{i=1}^{n_{l-1}} a_i^{(l-1)} W_{ij}^{(l)} + b_j^{(l)} \\right]",
        P(
            S("f", "l", "j"),
            Deriv(
                A(
                    Sum(
                        P(S("a", A("l", Neg(Num(1))), "i"), S("W", "l", "ij")),
                        "i",
                        Num(1),
                        S("n", None, (A("l", Neg(Num(1))),)),
                    ),
                    S("b", "l", "j"),
                ),
                S("b", "l", "j"),
            ),
        ),
    ),
    ("= 1/N (\\psi(z_3) - \\Delta)"[2:], P(ONE_OVER_N, A(C("psi", S("z", None, (3,))), Neg(S("Delta"))))),
]


@pytest.mark.parametrize("latex, expected", table(LAYERS))
def test_layer_indices(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(TRANSPOSES))
def test_transposes(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(PRODUCTS))
def test_products_are_flat_in_written_order(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(DIVISIONS))
def test_division_and_slash(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(SUMS_AND_SIGNS))
def test_addition_and_signs(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(NUMBERS))
def test_numbers(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(GREEK))
def test_greek(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(SUBSCRIPTS))
def test_subscripts(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(DECORATIONS))
def test_decorations(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(FUNCTIONS))
def test_functions(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(DERIVATIVES))
def test_derivatives(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(INDICATORS))
def test_indicators(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(ROUNDING))
def test_ceiling_and_floor(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(ONES))
def test_ones(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(CASES))
def test_cases(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(SUMS))
def test_sums(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(NORMS))
def test_norms_and_abs(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(MATRICES))
def test_matrices(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(OCR_BRACKETS))
def test_brackets_group(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(UNICODE))
def test_unicode(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(STRIPPED))
def test_spacing_and_wrappers_are_ignored(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize("latex, expected", table(SEEN_IN_SUBMISSIONS))
def test_claims_seen_in_submissions(latex, expected):
    check(latex, expected)


@pytest.mark.parametrize(
    "a, b",
    [
        ("z^3_i", "z_i^3"),
        ("W(2)^T", "W^{(2)T}"),
        ("a(1)^T", "a^{[1]\\top}"),
        ("\\mathbb{1}[z>0]", "1_{\\{z>0\\}}"),
        ("ψ(z)", "\\psi(z)"),
        ("\\left(a+b\\right)c", "(a+b)c"),
    ],
)
def test_spellings_of_the_same_thing_give_the_same_tree(a, b):
    assert parse(a) == parse(b)


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("\\input{/etc/passwd}", "\\input"),
    ("\\include{x}", "\\include"),
    ("\\def\\x{1}", "\\def"),
    ("\\newcommand{\\x}{1}", "\\newcommand"),
    ("\\write18{rm -rf /}", "\\write"),
    ("\\catcode`\\^=11", "\\catcode"),
    ("\\immediate\\openout", "\\immediate"),
    ("\\openout", "\\openout"),
    ("\\foo{x}", "\\foo"),
    ("\\lceil x", "ends too early"),
    ("\\lceil x \\rfloor", "unexpected '\\\\rfloor'"),
    ("a < b < c", "a comparison"),
    ("x_{0 < i < n}", "a comparison as a subscript"),
    ("\\sum_{0 < i < n} x_i", "the index of a \\sum"),
    ("\\nabla J", "\\nabla"),
    ("import os; os.system(\"x\")", "Python"),
    ("def f(x): return x", "Python"),
    ("the derivative is positive", "prose"),
    ("\\text{so the answer is}", "prose"),
    ("x + \\text{Loss Fn}", "prose"),
    ("{{{{", "braces"),
    ("a}", "braces"),
    ("(a", "missing ')'"),
    ("a)", "unmatched ')'"),
    ("x" * (MAX_LENGTH + 1), str(MAX_LENGTH)),
    ("(" * 61 + "x" + ")" * 61, "nested deeper than 60"),
    ("a = b", "an equation, not an expression"),
    ("\\frac{\\partial J}{\\partial W} = \\frac{1}{N}", "an equation"),
    ("z > 0", "comparison"),
    ("\\frac{\\partial}{\\partial z_{ij}^{(3)}}", "derivative of nothing"),
    ("\\partial J", "\\partial"),
    ("\\frac{\\partial J}{W}", "denominator"),
    ("\\begin{cases} 1 & \\text{if we like} \\\\ 0 & \\text{otherwise} \\end{cases}", "condition"),
    ("\\begin{cases} 1 & w \\end{cases}", "unreadable condition"),
    ("\\begin{cases} 1 \\\\ 0 \\end{cases}", "without '&'"),
    ("\\begin{aligned} a &= b \\end{aligned}", "alignment"),
    ("\\begin{array}{c} a \\end{array}", "environment"),
    ("a & b", "'&'"),
    ("a \\\\ b", "row break"),
    ("a +", "ends too early"),
    ("\\frac{a}", "ends too early"),
    ("x ☃ y", "U+2603"),
    ("a \\Rightarrow b", "\\Rightarrow"),
    ("\\text{if } x", "condition word"),
    ("g_l(z)_j", "subscripts both"),
    ("\\begin{bmatrix} 1 & 2 \\\\ 3 \\end{bmatrix}", "rows have different lengths"),
    ("\\sum_{i,j} x", "index of a \\sum"),
    ("x \\in D", "\\in"),
    ("- " * 200 + "x", "nested too deeply"),
]


BAD_GAPS = [
    pytest.param(
        "(b) \\quad \\frac{\\partial J}{\\partial w}",
        "label",
        id="(b) part label",
        marks=pytest.mark.xfail(reason="a parenthesised part label is read as a factor b", strict=True),
    ),
]


@pytest.mark.parametrize("latex, fragment", [pytest.param(b, f, id=b[:40] or "empty") for b, f in BAD] + BAD_GAPS)
def test_unreadable_input_raises_parse_error_naming_the_problem(latex, fragment):
    with pytest.raises(ParseError) as info:
        parse(latex)
    assert fragment in info.value.reason
    assert info.value.latex == latex


def test_parse_error_position_points_into_the_input():
    with pytest.raises(ParseError) as info:
        parse("a + b)")
    assert info.value.position == 5


@pytest.mark.parametrize("bad", [None, 3, b"x"])
def test_non_strings_raise_parse_error(bad):
    with pytest.raises(ParseError):
        parse(bad)


# --------------------------------------------------------------------------- parse_lenient


def test_lenient_returns_no_repairs_when_parse_succeeds():
    assert parse_lenient("a^{(2)T}") == ParseResult(T(S("a", 2)), ())


LENIENT = [
    (
        "\\left(\\frac{1}{N}(\\psi(z^{(3)}) - \\Delta_i))a_i^2 + 2\\lambda W^{(2)}\\right)",
        A(
            P(P(ONE_OVER_N, A(PSI_Z3, Neg(S("Delta", None, "i")))), Pow(S("a", None, "i"), Num(2))),
            P(2, "lambda", S("W", 2)),
        ),
        ("removed an unmatched ')'",),
    ),
    ("(\\psi(z^{(3)})", PSI_Z3, ("added a missing ')'",)),
    ("\\psi(z^{(3)})(1 - \\psi(z^{(3)})", P(PSI_Z3, A(1, Neg(PSI_Z3))), ("added a missing ')'",)),
    (
        "\\left[\\frac{1}{N} \\sum (\\psi(z^{(3)}) - \\Delta_i\\right] W(2)^T",
        P(P(ONE_OVER_N, Sum(A(PSI_Z3, Neg(S("Delta", None, "i"))))), T(S("W", 2))),
        ("added a missing ')'",),
    ),
    ("((a + b", A("a", "b"), ("added a missing ')'", "added a missing ')'")),
    (
        "\\lambda (\\|W^{(1)}\\|_2^{2+} \\|W^{(2)}\\|_2^2)",
        P("lambda", A(Pow(Norm(S("W", 1), "2"), Num(2)), Pow(Norm(S("W", 2), "2"), Num(2)))),
        ("moved a '+' out of a superscript",),
    ),
    ("= 30", Num(30), ("removed a leading '='",)),
    ("\\Rightarrow x", S("x"), ("removed a leading '\\\\Rightarrow'",)),
    ("x :", S("x"), ("removed trailing ':'",)),
    (
        "a^{[2]}(1-a^{[2]}) \\quad \\text{--- (3)}",
        P(S("a", 2), A(1, Neg(S("a", 2)))),
        ("removed the trailing remark '\\\\quad \\\\text{--- (3)}'",),
    ),
    (
        "\\text{so } \\frac{\\partial J}{\\partial z}",
        Deriv(S("J"), S("z")),
        ("removed the leading remark '\\\\text{so }'",),
    ),
    ("a) \\delta_j", S("delta", None, "j"), ("removed the part label 'a)'",)),
]


@pytest.mark.parametrize("latex, expected, repairs", [pytest.param(*r, id=r[0]) for r in LENIENT])
def test_lenient_repairs_ocr_slips_and_says_so(latex, expected, repairs):
    with pytest.raises(ParseError):
        parse(latex)
    result = parse_lenient(latex)
    assert result.tree == expected
    assert result.repairs == repairs


@pytest.mark.parametrize(
    "latex",
    [
        "a = b",
        "\\input{x}",
        "",
        "a^3_i \\cdot (1 - a^3_i) \\text{ when } i",  # a condition is meaning, not a remark
    ],
)
def test_lenient_still_raises_when_no_repair_helps(latex):
    with pytest.raises(ParseError):
        parse_lenient(latex)


def test_lenient_error_names_the_original_problem_and_the_repairs_tried():
    with pytest.raises(ParseError) as info:
        parse_lenient("(\\foo x")
    assert info.value.reason.startswith("a missing ')'")
    assert "after trying: added a missing ')'" in info.value.reason
    assert "\\foo" in info.value.reason
