"""The small matrix-aware expression tree that the parser produces.

The tree keeps what raw LaTeX-to-SymPy conversion loses: the order of products,
transposes, Hadamard products, indicators, sums with indices, piecewise blocks,
layer indices (never powers) and primes. It is problem-agnostic: deciding that
``a^2`` on a layer variable is a layer index, or that ``W`` and ``w`` are the same
object, is the interpreter's job (``interpret.py``).

>>> from symderiv.core.tree import Sym, Num, Product
>>> Product((Num(2), Sym("lambda"), Sym("W", layer=Num(2))), ("juxt", "juxt")).factors[2]
Sym('W', layer=Num(value=2))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction


class Node:
    """Base class of every tree node. Nodes are frozen dataclasses (hashable)."""

    def children(self) -> tuple[Node, ...]:
        return ()

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True)
class Num(Node):
    """A number literal. Integers and decimals are kept exact as Fraction/int."""

    value: int | Fraction | float


@dataclass(frozen=True, repr=False)
class Sym(Node):
    """A symbol as written.

    name:    canonical spelling: Latin letters as written ("W", "w", "z", "N"),
             Greek by name ("psi", "Psi", "Delta", "delta", "lambda", "phi",
             "varphi", "sigma", "theta"), Unicode mapped to the same names.
    layer:   the layer index written as ^{(3)}, ^{[3]}, (3) directly after the
             letter ("W(2)"), or None. A bare ^3 is NOT put here by the parser
             (it is a Pow); the interpreter decides.
    indices: subscripts, in order: z_{ij} -> (Sym i, Sym j); z_3 -> (Num 3,);
             a_{i}^{(l-1)} -> (Sym i,).
    decor:   accent or font: "hat" (\\hat y), "tilde" (\\tilde J), "bar",
             "bold" (\\mathbf, \\boldsymbol, \\bm) or "" for none.
    primes:  number of primes written on the symbol (a' is a transpose, see
             Transpose; primes are only kept here on function names).
    """

    name: str
    layer: Node | None = None
    indices: tuple[Node, ...] = ()
    decor: str = ""

    def children(self):
        return ((self.layer,) if self.layer is not None else ()) + self.indices

    def __repr__(self):
        parts = [repr(self.name)]
        if self.layer is not None:
            parts.append(f"layer={self.layer!r}")
        if self.indices:
            parts.append(f"indices={self.indices!r}")
        if self.decor:
            parts.append(f"decor={self.decor!r}")
        return f"Sym({', '.join(parts)})"


@dataclass(frozen=True)
class Ones(Node):
    """The all-ones vector 1_N (\\mathbf{1}_N, \\mathbb{1}_N, 1_N); size None for a bare \\mathbf{1}."""

    size: Node | None = None


@dataclass(frozen=True)
class Add(Node):
    """A sum of terms; subtraction is Add with a Neg term."""

    terms: tuple[Node, ...]

    def children(self):
        return self.terms


@dataclass(frozen=True)
class Neg(Node):
    operand: Node

    def children(self):
        return (self.operand,)


PRODUCT_OPS = ("juxt", "cdot", "times", "star", "odot", "circ")
"""How two factors were joined. juxt = written side by side; cdot = \\cdot;
times = \\times or ×; star = * ; odot = \\odot or ⊙; circ = \\circ or ∘.
odot/circ are Hadamard; the others are "multiply" whose meaning
(scalar, matrix or elementwise) the interpreter decides from the shapes."""


@dataclass(frozen=True)
class Product(Node):
    """A flat chain of factors in written order: factors[0] ops[0] factors[1] ...

    len(ops) == len(factors) - 1. Division is not a product (see Div).
    """

    factors: tuple[Node, ...]
    ops: tuple[str, ...]

    def children(self):
        return self.factors


@dataclass(frozen=True)
class Div(Node):
    """numerator / denominator, from \\frac, \\dfrac, \\tfrac or a slash."""

    numerator: Node
    denominator: Node

    def children(self):
        return (self.numerator, self.denominator)


@dataclass(frozen=True)
class Pow(Node):
    """base ^ exponent, when the superscript is not a layer index or transpose."""

    base: Node
    exponent: Node

    def children(self):
        return (self.base, self.exponent)


@dataclass(frozen=True)
class Transpose(Node):
    """x^T, x^\\top, x^{\\mathsf T}, x^{\\intercal}, x' (on a non-function)."""

    operand: Node

    def children(self):
        return (self.operand,)


ENTRY = "__entry__"  # Call(ENTRY, (expr,), indices=(i,)): entry, row or column i of a bracketed expression


@dataclass(frozen=True)
class Call(Node):
    """Function application.

    func:    canonical name: "psi", "Psi", "softmax", "sigma", "phi",
             "varphi", "relu", "exp", "log", "diag", "g", "f", "C", "L", "J",
             "tanh", "sum" is never a Call (see Sum).
    args:    the arguments in order.
    primes:  derivative order written with primes: \\phi'(z) -> 1.
    indices: subscripts on the function name: g_l(z) -> (Sym l,), g'_L -> (Sym L,).
    """

    func: str
    args: tuple[Node, ...]
    primes: int = 0
    indices: tuple[Node, ...] = ()

    def children(self):
        return self.args + self.indices


@dataclass(frozen=True)
class Compare(Node):
    """lhs op rhs with op in {">", ">=", "<", "<=", "=", "!="}."""

    lhs: Node
    op: str
    rhs: Node

    def children(self):
        return (self.lhs, self.rhs)


@dataclass(frozen=True)
class Indicator(Node):
    """1[cond], \\mathbb{1}\\{cond\\}, 1_{\\{cond\\}}, a bare (z>0) used as a factor."""

    condition: Compare

    def children(self):
        return (self.condition,)


def is_conjunction(node: Node) -> bool:
    """1[a \\le b] ⊙ 1[b \\le c]: how a chained condition a \\le b \\le c is kept (a cases row's condition)."""
    return (
        isinstance(node, Product) and all(isinstance(f, Indicator) for f in node.factors) and set(node.ops) == {"odot"}
    )


@dataclass(frozen=True)
class Piecewise(Node):
    """A cases block: ((value, condition-or-None), ...); None means otherwise. A condition is a
    Compare, or a conjunction of them (is_conjunction) where the student chained a \\le b \\le c."""

    pieces: tuple[tuple[Node, Node | None], ...]

    def children(self):
        out = []
        for value, cond in self.pieces:
            out.append(value)
            if cond is not None:
                out.append(cond)
        return tuple(out)


@dataclass(frozen=True)
class Sum(Node):
    """\\sum_{i=1}^{N} body, \\sum_k body, \\sum_{x \\in D} body or a bare \\sum body.

    index is the bound variable's name or None; lower/upper may be None;
    over is the set after \\in (Sym D) or None.
    """

    body: Node
    index: str | None = None
    lower: Node | None = None
    upper: Node | None = None
    over: Node | None = None

    def children(self):
        return tuple(n for n in (self.lower, self.upper, self.over) if n is not None) + (self.body,)


@dataclass(frozen=True)
class Matrix(Node):
    """A bmatrix/pmatrix literal or a bracketed row [20 \\ 20]: rows of entries."""

    rows: tuple[tuple[Node, ...], ...]

    def children(self):
        return tuple(e for row in self.rows for e in row)


@dataclass(frozen=True)
class Deriv(Node):
    """\\frac{\\partial num}{\\partial wrt}, \\partial J / \\partial w, or
    \\frac{\\partial}{\\partial wrt}(num): an unevaluated derivative."""

    num: Node
    wrt: Node

    def children(self):
        return (self.num, self.wrt)


@dataclass(frozen=True)
class Norm(Node):
    """\\|x\\|, \\|x\\|_F, \\|x\\|_2 (kind is the subscript as text, or "")."""

    operand: Node
    kind: str = ""

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class Abs(Node):
    operand: Node

    def children(self):
        return (self.operand,)


def _remember_hash(cls) -> None:
    """A tree is hashed again and again (the evaluator's memo, the exact check's): each node keeps
    its hash after the first time instead of hashing its whole subtree on every lookup. The cached
    value stays out of pickles: str hashes differ from one process to another."""
    by_fields = cls.__hash__

    def __hash__(self):
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = self.__dict__["_hash"] = by_fields(self)
            return value

    cls.__hash__ = __hash__


def _node_state(self) -> dict:
    return {k: v for k, v in self.__dict__.items() if k != "_hash"}


Node.__getstate__ = _node_state


def map_children(node: Node, fn) -> Node:
    """The node rebuilt with fn applied to each child node (fields that are nodes, tuples of nodes,
    or the (value, condition) pairs of a Piecewise); the node itself when nothing changes.

    >>> map_children(Neg(Num(1)), lambda n: Num(2))
    Neg(operand=Num(value=2))
    """
    fields = {}
    for name, value in node.__dict__.items():
        if isinstance(value, Node):
            fields[name] = fn(value)
        elif isinstance(value, tuple) and value and all(isinstance(v, Node) for v in value):
            fields[name] = tuple(fn(v) for v in value)
        elif isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
            fields[name] = tuple(tuple(fn(x) if isinstance(x, Node) else x for x in v) for v in value)
    return replace(node, **fields) if fields else node


def free_symbols(node: Node) -> set[str]:
    """Names of every Sym in the tree (including index symbols)."""
    return {n.name for n in node.walk() if isinstance(n, Sym)}


def _node_classes(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _node_classes(sub)


for _cls in list(_node_classes(Node)):
    _remember_hash(_cls)
