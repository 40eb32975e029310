"""A key's own functions (`[model.functions]`, such as '\\phi(u)' = 'LeakyReLU_α(u)', or a family
'g_1(u)' = '\\tanh(u)', 'g_2(u)' = ...): read from the key, applied by inlining the body wherever
an equation or a claim calls them (model_notation.py), differentiated where a claim writes φ'(z):
the derivative of the built-in the body applies, or of the body written out (u σ(u)) by the rules of
`derivative_of`. A generic function (`generic = ["g"]`) is kept
undefined by the exact check; its body is the numeric stand-in."""

from __future__ import annotations

from fractions import Fraction

from symderiv.answerkey.model import Function
from symderiv.answerkey.schema import line_of
from symderiv.core.errors import DerivationFileError, ParseError
from symderiv.core.tree import Add, Call, Div, Neg, Node, Num, Pow, Product, Sym, map_children
from symderiv.notation.parse import parse


def read_functions(functions: dict[str, str], generic, path: str, text: str) -> tuple[Function, ...]:
    out = []
    for head, body in functions.items():
        try:
            call, tree = parse(head), parse(body)
        except ParseError as exc:
            raise DerivationFileError(path, f"model.functions: {exc}", line_of(text, head)) from None
        if not isinstance(call, Call) or not all(isinstance(a, Sym) for a in call.args):
            raise DerivationFileError(path, f"model.functions: {head!r} is not 'name(parameters)'", line_of(text, head))
        index = None
        if call.indices:
            first = call.indices[0]
            if len(call.indices) != 1 or not isinstance(first, Num) or Fraction(first.value).denominator != 1:
                raise DerivationFileError(
                    path,
                    f"model.functions: {head!r}: a function's subscript is the layer of a family member, a whole number",
                    line_of(text, head),
                )
            index = int(first.value)
        out.append((Function(call.func, index, tuple(a.name for a in call.args), tree, call.func in generic), head))
    names = {f.name for f, _ in out}
    for f, head in out:
        if any(isinstance(n, Call) and n.func in names for n in f.body.walk()):  # no recursion when inlining
            raise DerivationFileError(
                path,
                f"model.functions: the body of {f.name} applies a function of the key; write it out",
                line_of(text, head),
            )
    unknown = [g for g in generic if g not in names]
    if unknown:
        raise DerivationFileError(
            path, f"model.generic: {unknown[0]!r} is not a function of [model.functions]", line_of(text, "generic")
        )
    return tuple(f for f, _ in out)


def substitute(body: Node, mapping: dict[str, Node]) -> Node:
    if isinstance(body, Sym) and not body.indices and body.layer is None and body.name in mapping:
        return mapping[body.name]
    return map_children(body, lambda child: substitute(child, mapping))


def derivative_of(body: Node, param: str) -> Node | None:
    """d body / d param as a tree, for an elementwise body of one parameter (u σ(u), u² + tanh(u),
    1/(1 + e^{−u})): sums, products (each factor elementwise, so ⊙), quotients, powers with a
    constant exponent and calls of one argument (the call with one more prime, by the chain rule).
    None for anything else (a matrix product or transpose has no elementwise derivative here)."""

    def d(node: Node) -> Node | None:
        if not any(isinstance(n, Sym) and n.name == param and not n.indices and n.layer is None for n in node.walk()):
            return Num(0)
        if isinstance(node, Sym):
            return Num(1) if not node.indices and node.layer is None and not node.decor else None
        if isinstance(node, Neg):
            inner = d(node.operand)
            return None if inner is None else Neg(inner)
        if isinstance(node, Add):
            terms = [d(t) for t in node.terms]
            return None if any(t is None for t in terms) else Add(tuple(terms))
        if isinstance(node, Product):
            if any(op not in ("juxt", "odot", "circ", "cdot", "times") for op in node.ops):
                return None
            terms = []
            for k, factor in enumerate(node.factors):
                df = d(factor)
                if df is None:
                    return None
                others = node.factors[:k] + node.factors[k + 1 :]
                terms.append(_odot((*others, df)))
            return Add(tuple(terms))
        if isinstance(node, Div):
            dn, dd = d(node.numerator), d(node.denominator)
            if dn is None or dd is None:
                return None
            top = Add((_odot((dn, node.denominator)), Neg(_odot((node.numerator, dd)))))
            return Div(top, Pow(node.denominator, Num(2)))
        if isinstance(node, Pow):
            if not isinstance(node.exponent, Num):
                return None
            db = d(node.base)
            if db is None:
                return None
            lower = Pow(node.base, Num(node.exponent.value - 1))
            return _odot((node.exponent, lower, db))
        if isinstance(node, Call) and len(node.args) == 1 and not node.indices:
            inner = d(node.args[0])
            if inner is None:
                return None
            return _odot((Call(node.func, node.args, node.primes + 1), inner))
        return None

    return d(body)


def _odot(factors: tuple) -> Node:
    return factors[0] if len(factors) == 1 else Product(tuple(factors), ("odot",) * (len(factors) - 1))
