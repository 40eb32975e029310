"""A key's own functions (`[model.functions]`, such as '\\phi(u)' = 'LeakyReLU_α(u)', or a family
'g_1(u)' = '\\tanh(u)', 'g_2(u)' = ...): read from the key, applied by inlining the body wherever
an equation or a claim calls them (model_notation.py), differentiated where a claim writes φ'(z):
the derivative of the built-in the body applies. A generic function (`generic = ["g"]`) is kept
undefined by the exact check; its body is the numeric stand-in."""

from __future__ import annotations

from fractions import Fraction

from symderiv.answerkey.model import Function
from symderiv.answerkey.schema import line_of
from symderiv.core.errors import DerivationFileError, ParseError
from symderiv.core.tree import Call, Node, Num, Sym, map_children
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
