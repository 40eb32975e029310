"""What evaluation yields: a value with the layout fixes it needed and the tree that has them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symderiv.core.tree import Call, Indicator, Node, Piecewise, Transpose

MAX_CANDIDATES = 12
HADAMARD_OPS = ("odot", "circ")


@dataclass(frozen=True)
class Candidate:
    value: Any
    fixes: tuple[str, ...]
    tree: Node


def is_elementwise_natured(node: Node) -> bool:
    """An indicator, a cases block or an activation derivative: multiplies elementwise by juxtaposition."""
    while isinstance(node, Transpose):
        node = node.operand
    return isinstance(node, (Indicator, Piecewise)) or (isinstance(node, Call) and node.primes > 0)
