"""Sizes in the problem's own symbols: "a C×N matrix times a H×N matrix", not the checker's 5x7 and 4x7.

The numeric check runs at concrete sizes that are all different (N = 7, D = 3, H = 4, C = 5 for
the softmax problem), so each number in a size message names exactly one of the problem's sizes.
"""

from __future__ import annotations

import re

from symderiv.answerkey.problem import Problem

_SHAPE = re.compile(r"\b(\d+)x(\d+)\b")


def size_names(problem: Problem) -> dict[int, str]:
    """{value: name} for the problem's declared sizes (only when every value is distinct)."""
    sizes = dict(problem.numeric_sizes)
    names = {}
    for name, value in sizes.items():
        if not name.isidentifier() or len(name) > 2 or not name[0].isalpha():
            return {}
        names.setdefault(value, []).append(name)
    if any(len(v) > 1 for v in names.values()) or 1 in names:
        return {}
    return {value: v[0] for value, v in names.items()}


def in_problem_sizes(problem: Problem, text: str) -> str:
    names = size_names(problem)
    if not names:
        return text

    def shown(value: str) -> str | None:
        n = int(value)
        return "1" if n == 1 else names.get(n)

    def swap(m: re.Match) -> str:
        rows, cols = shown(m.group(1)), shown(m.group(2))
        return m.group() if rows is None or cols is None else f"{rows}×{cols}"

    return _SHAPE.sub(swap, text)
