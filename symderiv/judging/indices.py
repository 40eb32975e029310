"""Index letters as the student wrote them: the summation convention and the student's own letters.

- **Summation convention** (../shared/problems.md): an index repeated in a product, bound by no Σ
  and absent from the left-hand side, is summed: w_{jk} δ_k is Σ_k w_{jk} δ_k. The claim is read
  with the Σ written out, and the feedback says so.
- **Other letters**: a_k(δ_{kl} − a_l) for ∂a_i/∂z_j uses k, l where the key uses i, j; the free
  letters, in order of appearance, stand for the quantity's indices.
"""

from __future__ import annotations

from collections import Counter

from symderiv.core.tree import Add, Call, Div, Neg, Node, Product, Sum, Sym, map_children


def _index_letters(node: Node, bound: frozenset = frozenset()) -> list[str]:
    """Single-letter index names in subscripts, outside the sums that bind them (with repeats)."""
    if isinstance(node, Sum) and node.index:
        bound = bound | {node.index}
    out = []
    if isinstance(node, (Sym, Call)):
        out.extend(ix.name for ix in index_letters_in(getattr(node, "indices", ())) if ix.name not in bound)
    for child in node.children():
        out.extend(_index_letters(child, bound))
    return out


def index_letters_in(indices) -> list[Sym]:
    """The one-letter index names of subscripts, those inside index arithmetic too (x_{i+j-1}:
    i and j; g_{⌈i/2⌉}: i), in order, with repeats."""
    out = []
    for ix in indices:
        if isinstance(ix, Sym) and not ix.indices and ix.layer is None and len(ix.name) == 1:
            out.append(ix)
        elif isinstance(ix, (Add, Neg)):
            terms = ix.terms if isinstance(ix, Add) else (ix.operand,)
            out.extend(index_letters_in(terms))
        elif isinstance(ix, Div):  # g_{⌈i/2⌉}
            out.extend(index_letters_in((ix.numerator, ix.denominator)))
        elif isinstance(ix, Call):
            out.extend(index_letters_in(ix.args))
    return out


def _convention(node: Node, keep: frozenset, summed: list) -> Node:
    if isinstance(node, (Add, Neg)):
        return map_children(node, lambda child: _convention(child, keep, summed))
    if isinstance(node, Div):
        return Div(_convention(node.numerator, keep, summed), node.denominator)
    if isinstance(node, Sum) and node.index:
        return Sum(_convention(node.body, keep | {node.index}, summed), node.index, node.lower, node.upper, node.over)
    if isinstance(node, Product):
        # a bracketed sum among the factors is read term by term first: (γ_i g_i − γ_j g_j / D)
        # times a number sums j in its own term, never the whole bracket
        node = map_children(node, lambda child: _convention(child, keep, summed) if isinstance(child, Add) else child)
        counts = Counter(_index_letters(node))
        repeated = [name for name, n in counts.items() if n >= 2 and name not in keep]
        for name in repeated:
            node = Sum(node, name)
            summed.append(name)
    return node


def summation_convention(tree: Node, keep) -> tuple[Node, tuple[str, ...]]:
    """The tree with a Σ over each index repeated in a product (bound by no Σ, not in `keep`)."""
    summed: list[str] = []
    out = _convention(tree, frozenset(keep), summed)
    return out, tuple(dict.fromkeys(summed))


def rename_letters(node: Node, mapping: dict[str, str]) -> Node:
    if isinstance(node, Sym) and not node.indices and node.layer is None and node.name in mapping:
        return Sym(mapping[node.name])
    if isinstance(node, Sum) and node.index in mapping:
        node = Sum(node.body, mapping[node.index], node.lower, node.upper, node.over)
    return map_children(node, lambda child: rename_letters(child, mapping))


def own_letters(tree: Node, wanted: tuple[str, ...], reserved) -> dict[str, str]:
    """{student's letter: quantity's letter} when the claim uses none of `wanted` but as many other
    free letters (each once per product), in order of appearance; else {}."""
    letters = _index_letters(tree)
    if not wanted or set(letters) & set(wanted):
        return {}
    free = [n for n in dict.fromkeys(letters) if n not in reserved]
    if len(free) != len(wanted):
        return {}
    return dict(zip(free, wanted))
