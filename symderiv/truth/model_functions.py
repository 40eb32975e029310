"""A `[model]` key's own functions (`[model.functions]`, such as '\\phi(u)' = 'LeakyReLU_α(u)'):
read from the key, applied by inlining the body wherever an equation or a claim calls them, and
differentiated where a claim writes φ'(z): the derivative of the built-in the body applies."""

from __future__ import annotations

from dataclasses import replace

from symderiv.core.errors import DerivationFileError, NotationError, ParseError
from symderiv.core.tree import Call, Node, Sym, map_children
from symderiv.notation.parse import parse
from symderiv.truth.schema import line_of

Function = tuple[str, tuple[str, ...], Node]  # (name, parameters, body)


def read_functions(functions: dict[str, str], path: str, text: str) -> tuple[Function, ...]:
    out = []
    for head, body in functions.items():
        try:
            call, tree = parse(head), parse(body)
        except ParseError as exc:
            raise DerivationFileError(path, f"model.functions: {exc}", line_of(text, head)) from None
        if not isinstance(call, Call) or not all(isinstance(a, Sym) for a in call.args):
            raise DerivationFileError(path, f"model.functions: {head!r} is not 'name(parameters)'", line_of(text, head))
        out.append((call.func, tuple(a.name for a in call.args), tree, head))
    names = {name for name, *_ in out}
    for name, _, body, head in out:
        if any(isinstance(n, Call) and n.func in names for n in body.walk()):  # no recursion when inlining
            raise DerivationFileError(
                path,
                f"model.functions: the body of {name} applies a function of the key; write it out",
                line_of(text, head),
            )
    return tuple(f[:3] for f in out)


def substitute(body: Node, mapping: dict[str, Node]) -> Node:
    if isinstance(body, Sym) and not body.indices and body.name in mapping:
        return mapping[body.name]
    return map_children(body, lambda child: substitute(child, mapping))


def _is_parameter(node: Node, name: str) -> bool:
    return isinstance(node, Sym) and node.name == name and not node.indices and node.layer is None


def apply_function(functions: tuple[Function, ...], name: str, call: Call) -> Node | None:
    """The key function `name` applied as `call` is (its body with the arguments put in, not yet
    normalised), or None when the key defines no such function. φ'(z) of φ(u) = f(u), a built-in
    f applied to the parameter, is f'(z); any other body has no derivative here."""
    for fname, params, body in functions:
        if fname != name or len(params) != len(call.args):
            continue
        if not call.primes:
            return substitute(body, dict(zip(params, call.args)))
        if (
            len(params) == 1
            and isinstance(body, Call)
            and len(body.args) == 1
            and _is_parameter(body.args[0], params[0])
        ):
            return replace(body, args=call.args, primes=body.primes + call.primes)
        raise NotationError(
            f"the derivative of {name} is not known here: its body is not one built-in function of {params[0]}"
        )
    return None
