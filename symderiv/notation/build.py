"""The tree builder: callbacks of grammar.lark's rules, run by the LALR parser as it reduces,
which turn tokens into the expression tree of core/tree.py (one node type per construct)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from lark import Token, Transformer

from symderiv.core.tree import (
    ENTRY,
    Abs,
    Add,
    Call,
    Compare,
    Deriv,
    Div,
    Indicator,
    Matrix,
    Neg,
    Node,
    Norm,
    Num,
    Ones,
    Piecewise,
    Pow,
    Product,
    Sum,
    Sym,
    Transpose,
    is_conjunction,
)
from symderiv.notation.normalise import (  # noqa: F401  (MAX_LENGTH and MAX_NESTING are part of the API)
    MAX_LENGTH,
    MAX_NESTING,
    MAX_TREE_DEPTH,
    Reject,
    check_input,
    describe_problem,
    normalise_latex,
    scan_delimiters,
)


@dataclass(frozen=True)
class _Partial(Node):
    """\\partial x before it meets its other half in a \\frac or a slash."""

    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class _Seq(Node):
    """A comma list inside a subscript."""

    items: tuple

    def children(self):
        return self.items


@dataclass(frozen=True)
class _Member(Node):
    """x \\in D inside a \\sum's subscript."""

    var: Node
    domain: Node

    def children(self):
        return (self.var, self.domain)


@dataclass(frozen=True)
class _Chain(Node):
    """a \\le b \\le c: comparisons chained, each sharing a side with the next; true when all are."""

    parts: tuple

    def children(self):
        return self.parts


@dataclass(frozen=True)
class _Head:
    """A name that may be a function (f, g_l', \\psi) and the scripts written on it."""

    name: str
    decor: str
    scripts: tuple


_OTHERWISE = object()


LEFTOVERS = {
    _Partial: "'\\partial' outside a derivative",
    _Seq: "a comma list where one expression was expected",
    _Member: "'\\in' outside the range of a \\sum",
    _Chain: "a chain of comparisons outside an indicator or a condition",
}


def _split_decor(value: str) -> tuple[str, str]:
    decor, _, name = value.rpartition(":")
    return name, decor


def _number(text: str) -> Num:
    return Num(Fraction(text) if "." in text else int(text))


def _indices(content: Node) -> tuple[Node, ...]:
    if isinstance(content, _Seq):
        return content.items
    if isinstance(content, Product) and set(content.ops) == {"juxt"}:
        return content.factors
    if isinstance(content, (Compare, Indicator, _Chain)):
        raise Reject("a comparison as a subscript")
    return (content,)


def _wrap(node: Node, script: tuple) -> Node:
    kind = script[0]
    if kind == "sup" and isinstance(node, Call) and node.func == "diag" and len(node.args) == 1:
        # a power of a diagonal matrix is the diagonal of the entries' powers: diag(v)^{-1/2} = diag(v^{-1/2})
        return Call("diag", (Pow(node.args[0], script[1]),), node.primes, node.indices)
    if kind == "sup":
        return Pow(node, script[1])
    if kind in ("T", "prime"):
        return Transpose(node)
    # a layer index on something that is not a symbol: a power
    node = Pow(node, script[1])
    return Transpose(node) if script[2] else node


def _apply_scripts(base: Node, scripts) -> Node:
    rest = []
    if isinstance(base, Sym):
        layer, indices = base.layer, list(base.indices)
        for script in scripts:
            if script[0] == "sub":
                indices.extend(_indices(script[1]))
            elif script[0] == "layer":
                if layer is not None:
                    raise Reject(f"two layer indices on '{base.name}'")
                layer = script[1]
                if script[2]:
                    rest.append(("T",))
            else:
                rest.append(script)
        base = Sym(base.name, layer, tuple(indices), base.decor)
        if base == Sym("e") and rest and rest[0][0] == "sup":
            base, rest = Call("exp", (rest[0][1],)), rest[1:]
    else:
        for script in scripts:
            if script[0] != "sub":
                rest.append(script)
            elif isinstance(base, Call) and not base.indices:
                base = Call(base.func, base.args, base.primes, _indices(script[1]))
            elif (
                isinstance(base, Call)
                and len(base.args) == 1
                and not base.primes
                and isinstance(base.args[0], Sym)
                and base.args[0].indices
            ):
                # g_i (z_t)_i: a subscripted symbol times an entry of a subscripted name in brackets
                # (g_l(z)_j, a function with a subscript applied and indexed again, stays refused)
                name, decor = _split_decor(base.func)
                entry = _apply_scripts(base.args[0], [script])
                base = Product((Sym(name, None, base.indices, decor), entry), ("juxt",))
            elif isinstance(base, Call):
                raise Reject(f"subscripts both on '{base.func}' and after its arguments")
            elif base == Ones():
                content = script[1]
                base = (
                    _indicator(content)
                    if isinstance(content, (Compare, _Chain))
                    else content
                    if isinstance(content, Indicator)
                    else Ones(content)
                )
            elif isinstance(base, Norm) and not base.kind and isinstance(script[1], (Sym, Num)):
                kind = script[1].name if isinstance(script[1], Sym) else str(script[1].value)
                base = Norm(base.operand, kind)
            elif isinstance(base, (Add, Product, Neg, Div)):
                base = Call(ENTRY, (base,), 0, _indices(script[1]))  # (ψ(Z) − Δ)_i: an entry, row or column
            else:
                raise Reject("a subscript on an expression that cannot take one")
    for script in rest:
        base = _wrap(base, script)
    return base


def _indicator(condition: Node) -> Node:
    """1[a < b], and 1[a \\le b \\le c] as its conjunction."""
    return _conjunction(condition) if isinstance(condition, _Chain) else Indicator(condition)


def _conjunction(chain: _Chain) -> Product:
    """a \\le b \\le c as the product of its comparisons' indicators: 1[a \\le b] ⊙ 1[b \\le c]."""
    return Product(tuple(Indicator(c) for c in chain.parts), ("odot",) * (len(chain.parts) - 1))


def _make_call(name: str, decor: str, scripts, args) -> Node:
    indices, primes = [], 0
    for script in scripts:
        if script[0] == "sub":
            indices.extend(_indices(script[1]))
        elif script[0] == "prime":
            primes += 1
        else:
            raise Reject(f"a superscript on the function name '{name}'")
    if name == "sech" and len(args) == 1 and not (decor or primes or indices):
        return _sech(args[0])
    return Call(f"{decor}:{name}" if decor else name, tuple(args), primes, tuple(indices))


def _sech(u: Node) -> Node:
    """sech u as the tanh it is written against: (1 − tanh² u)^{1/2}, the root being sech's own sign
    (sech > 0), so sech² u is 1 − tanh² u, the exact check's tanh atom."""
    return Pow(Add((Num(1), Neg(Pow(Call("tanh", (u,)), Num(2))))), Num(Fraction(1, 2)))


def _decorate(node: Node, decor: str) -> Node:
    if isinstance(node, Sym):
        return Sym(node.name, node.layer, node.indices, decor)
    if isinstance(node, Transpose):
        return Transpose(_decorate(node.operand, decor))
    if isinstance(node, Pow):
        return Pow(_decorate(node.base, decor), node.exponent)
    if decor == "bold":  # \mathbf{...} around a whole expression: just a font
        return node
    raise Reject(f"cannot put a {decor} on a whole expression")


def _strip_partial(node: Node) -> Node | None:
    """The numerator of a derivative without its leading \\partial, or None."""
    if isinstance(node, _Partial):
        return node.operand
    if isinstance(node, Product) and isinstance(node.factors[0], _Partial):
        return Product((node.factors[0].operand,) + node.factors[1:], node.ops)
    return None


class TreeBuilder(Transformer):
    """Callbacks of grammar.lark's rules (run by the LALR parser as it reduces)."""

    def start(self, c):
        return c[0]

    def expr(self, c):
        terms = [c[0]]
        for op, term in zip(c[1::2], c[2::2]):
            terms.append(Neg(term) if op.type == "MINUS" else term)
        return Add(tuple(terms))

    def neg(self, c):
        return Neg(c[-1])

    def pos(self, c):
        return c[-1]

    def product(self, c):
        factors, ops, op = [], [], "juxt"
        for x in c:
            if isinstance(x, Token):
                op = x.value
                continue
            if factors:
                ops.append(op)
            factors.append(x)
            op = "juxt"
        return Product(tuple(factors), tuple(ops))

    def sum(self, c):
        body, scripts = c[-1], (c[0] if len(c) == 2 else [])
        index = lower = upper = over = None
        for script in scripts:
            if script[0] == "sub" and index is None:
                index, lower, over = self._sum_range(script[1])
            elif script[0] in ("sup", "layer") and upper is None:
                upper = script[1]
            elif script[0] == "T" and upper is None:
                upper = Sym("T")
            else:
                raise Reject("cannot read the limits of a \\sum")
        return Sum(body, index, lower, upper, over)

    @staticmethod
    def _sum_range(content):
        def name(x):
            if isinstance(x, Sym) and x.layer is None and not x.indices:
                return x.name
            raise Reject("cannot read the index of a \\sum")

        if isinstance(content, Compare) and content.op == "=":
            return name(content.lhs), content.rhs, None
        if isinstance(content, _Member):
            return name(content.var), None, content.domain
        return name(content), None, None

    def deriv_head(self, c):
        if not isinstance(c[0], _Partial):
            raise Reject("the denominator of \\frac{\\partial}{...} must start with \\partial")
        return c[0].operand

    def deriv_nothing(self, c):
        raise Reject("derivative of nothing: \\frac{\\partial}{\\partial ...} is applied to nothing")

    def deriv_apply(self, c):
        return Deriv(c[-1], c[0])

    def slash(self, c):
        a, b = c
        if isinstance(a, _Partial) and isinstance(b, _Partial):
            return Deriv(a.operand, b.operand)
        if isinstance(a, _Partial) or isinstance(b, _Partial):
            raise Reject("'\\partial' on one side of a '/' only")
        return Div(a, b)

    def frac(self, c):
        num, den = c
        inner = _strip_partial(num)
        if inner is not None:
            if not isinstance(den, _Partial):
                raise Reject("a derivative whose denominator does not start with \\partial")
            return Deriv(inner, den.operand)
        if isinstance(den, _Partial):
            raise Reject("'\\partial' in the denominator only")
        return Div(num, den)

    def partial(self, c):
        return _Partial(c[0])

    def scripted(self, c):
        return _apply_scripts(c[0], c[1])

    def fpostfix(self, c):
        name, decor = _split_decor(c[0].value)
        return _Head(name, decor, tuple(c[1]) if len(c) > 1 else ())

    def head_symbol(self, c):
        head = c[0]
        return _apply_scripts(Sym(head.name, decor=head.decor), head.scripts)

    def call(self, c):
        head, args = c
        return _make_call(head.name, head.decor, head.scripts, args)

    def named_call(self, c):
        return _make_call(c[0].value, "", c[1] if len(c) == 3 else (), c[-1])

    def call_bare(self, c):
        return _make_call(c[0].value, "", c[1] if len(c) == 3 else (), (c[-1],))

    def args(self, c):
        return tuple(c)

    def symbol(self, c):
        name, decor = _split_decor(c[0].value)
        return Sym(name, decor=decor)

    def number(self, c):
        return _number(c[0].value)

    def ones(self, c):
        return Ones()

    def indicator(self, c):
        return _indicator(c[-1])

    def ind_group(self, c):
        return _indicator(c[0])

    def comparison(self, c):
        parts = tuple(Compare(a, op.value, b) for a, op, b in zip(c[0::2], c[1::2], c[2::2]))
        return parts[0] if len(parts) == 1 else _Chain(parts)

    def row(self, c):
        return Matrix((tuple(c),))

    def mrow(self, c):
        return tuple(c)

    def matrix(self, c):
        if len({len(row) for row in c}) > 1:
            raise Reject("a matrix whose rows have different lengths")
        return Matrix(tuple(c))

    def crow(self, c):
        value, cond = c
        if cond is _OTHERWISE:
            return (value, None)
        if isinstance(cond, Indicator):
            cond = cond.condition
        if isinstance(cond, _Chain):
            cond = _conjunction(cond)
        if not (isinstance(cond, Compare) or is_conjunction(cond)):
            raise Reject("unreadable condition in a cases block")
        return (value, cond)

    def otherwise(self, c):
        return _OTHERWISE

    def cases(self, c):
        return Piecewise(tuple(c))

    def sqrt(self, c):
        return Pow(c[0], Num(Fraction(1, 2)))

    def norm(self, c):
        return Norm(c[0])

    def abs(self, c):
        return Abs(c[0])

    def ceil(self, c):
        return Call("ceil", (c[0],))

    def floor(self, c):
        return Call("floor", (c[0],))

    def decorated(self, c):
        return _decorate(c[1], c[0].value)

    def scripts(self, c):
        return list(c)

    def sub(self, c):
        return ("sub", c[0])

    def sup(self, c):
        return ("sup", c[0])

    def sup_t(self, c):
        return ("T",)

    def prime(self, c):
        return ("prime",)

    def layer(self, c):
        return ("layer", c[0], c[1].type == "LAYER_CLOSE_T")

    def seq(self, c):
        return _Seq(tuple(c))

    def member(self, c):
        return _Member(c[0], c[1])

    def text_name(self, c):
        return Sym(c[0].value)
