"""Where a claim written like the key's closed form differs from it: the one or two parts (a
variable, a factor, a term, a power, a sign) whose replacement by the key's gives the key's form.

A TA reads a wrong answer against the model answer the same way: "X where X̂ belongs", "a factor
γ is missing". The difference is only a candidate; judging/fixes.py names it only when the claim
with the key's part put in is verified right.

>>> from symderiv.notation.latex import to_latex
>>> from symderiv.notation.parse import parse
>>> found = differences(parse(r"X (z - y)^T"), parse(r"X (\\hat y - y)^T"), lambda a, b: a == b)
>>> [(to_latex(d.claim), to_latex(d.key), d.kind) for d in found]
[('z', '\\\\hat{y}', 'replaced')]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from symderiv.core.tree import Add, Neg, Node, Ones, Pow, Product, Sym
from symderiv.judging.edits import child_nodes, derivative_form

MAX_DIFFERENCES = 3
SMALL = 8  # nodes: a replaced part larger than this is a different answer, not a slip
PRODUCT_OPS = {"juxt": "mul", "cdot": "mul", "star": "mul", "times": "mul", "odot": "odot", "circ": "odot"}

Same = Callable[[Node, Node], bool]


@dataclass(frozen=True)
class Difference:
    """The claim's node at `path` where the key has `key`; `kind`: replaced, missing-factor,
    extra-factor, missing-term, extra-term, sign; `part`: the factor or term missing or extra."""

    path: tuple
    claim: Node
    key: Node
    kind: str
    part: Node | None = None


def differences(claim: Node, key: Node, same: Same, limit: int = MAX_DIFFERENCES) -> list[Difference] | None:
    """The parts where the claim differs from the key (at most MAX_DIFFERENCES), or None when
    they differ in more places, or in a part too large to be one slip (a replaced part is at most
    half of the claim: more is a different answer, and naming it would only give the answer away)."""
    found = parts(claim, key, same, (), limit)
    whole = size(claim)
    if found is None or any(d.kind == "replaced" and not narrow(d) and 2 * size(d.claim) > whole for d in found):
        return None
    return found


def narrow(d: Difference) -> bool:
    """A variable for another, or a power changed: one slip however much of the claim it is."""
    if isinstance(d.claim, Sym):
        return True
    return isinstance(d.claim, Pow) and isinstance(d.key, Pow) and d.claim.base == d.key.base


def parts(
    claim: Node, key: Node, same: Same, path: tuple = (), limit: int = MAX_DIFFERENCES
) -> list[Difference] | None:
    if same(claim, key):
        return []
    if comparable(claim, key):
        out: list[Difference] = []
        for k, (mine, theirs) in enumerate(zip(child_nodes(claim), child_nodes(key))):
            found = parts(mine, theirs, same, path + (k,), limit)
            if found is None:
                return None
            out += found
            if len(out) > limit:
                return None
        return out
    one = one_part(claim, key, same, path)
    return [one] if one is not None else None


def one_part(claim: Node, key: Node, same: Same, path: tuple) -> Difference | None:
    """The claim's node and the key's differ as a whole: a factor or term more or less, a sign, or a small part replaced."""
    for kind, outer, inner in (("missing", key, claim), ("extra", claim, key)):
        for cls, what in ((Product, "factor"), (Add, "term")):
            part = one_more(outer, inner, cls, same)
            if part is not None:
                return Difference(path, claim, key, f"{kind}-{what}", part)
    if isinstance(claim, Neg) and same(claim.operand, key) or isinstance(key, Neg) and same(key.operand, claim):
        return Difference(path, claim, key, "sign")
    if path and size(claim) <= SMALL and (size(key) <= 2 * SMALL or derivative_form(key)):
        return Difference(path, claim, key, "replaced")
    return None


def one_more(outer: Node, inner: Node, cls: type, same: Same) -> Node | None:
    """The one factor (or term) of `outer` that `inner` lacks, all others the same and in order."""
    if not isinstance(outer, cls):
        return None
    items = outer.factors if cls is Product else outer.terms
    inner_items = (inner.factors if cls is Product else inner.terms) if isinstance(inner, cls) else (inner,)
    if len(items) != len(inner_items) + 1:
        return None
    for k, item in enumerate(items):
        rest = items[:k] + items[k + 1 :]
        if all(same(a, b) for a, b in zip(rest, inner_items)) and (cls is not Product or same_ops(outer, k, inner)):
            return item
    return None


def same_ops(outer: Product, k: int, inner: Node) -> bool:
    ops = outer.ops[: k - 1] + outer.ops[k:] if k > 0 else outer.ops[1:]
    inner_ops = inner.ops if isinstance(inner, Product) else ()
    return [PRODUCT_OPS.get(o, o) for o in ops] == [PRODUCT_OPS.get(o, o) for o in inner_ops]


def comparable(a: Node, b: Node) -> bool:
    """Same kind of node with the same non-tree attributes: their children can be compared in
    pairs. A symbol or a ones vector is a whole (h_1 and h_0 differ as symbols, not as numbers)."""
    if type(a) is not type(b) or isinstance(a, (Sym, Ones)):
        return False
    if isinstance(a, Pow) and a.exponent != b.exponent:  # a power changed is one slip, not a number's
        return False
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "ops":
            x, y = [PRODUCT_OPS.get(o, o) for o in x], [PRODUCT_OPS.get(o, o) for o in y]
        if not isinstance(x, (Node, tuple)) and x != y:
            return False
        if isinstance(x, tuple) and shape_of(x) != shape_of(y):
            return False
    return len(child_nodes(a)) == len(child_nodes(b))


def shape_of(value) -> object:
    """A field's layout with its nodes blanked: the cases of two Piecewise compare piece by piece."""
    if isinstance(value, Node):
        return "node"
    if isinstance(value, tuple):
        return tuple(shape_of(v) for v in value)
    return value


def size(node: Node) -> int:
    return sum(1 for _ in node.walk())
