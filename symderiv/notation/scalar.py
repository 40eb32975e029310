"""Plain scalar LaTeX through latex2sympy2: the exact cross-check of forward-pass arithmetic.

latex2sympy2 reads plain scalar arithmetic well (20 \\times 0 + 20 \\times 1 - 10,
\\frac{1}{1+e^{-10}}), so for a number claimed in a forward pass it gives an
independent exact value. It is not used for anything else: it reads z^{(3)} as a
power, drops transposes and primes, treats matrices as commuting scalars and does
not know \\odot, cases or \\mathbb{1} (see README).

>>> exact_scalar(r"20 \\times 0 + 20 \\times 1 - 10")
10
>>> exact_scalar(r"\\sigma(z^{(2)})") is None
True
"""

from __future__ import annotations

import re

PLAIN = re.compile(r"^(?:[\d\s.+\-*/()]|\\times|\\cdot|\\frac|\\left|\\right|[{}]|e\^)+$")
MAX_LENGTH = 200


def exact_scalar(latex: str):
    """The exact SymPy value of plain numeric LaTeX, or None when it is not plain arithmetic."""
    text = latex.strip()
    if not text or len(text) > MAX_LENGTH or not PLAIN.match(text) or re.search(r"\^\{?-?\d{3,}", text):
        return None
    try:
        from latex2sympy2 import latex2sympy  # heavy (ANTLR runtime): loaded only for forward-pass values

        value = latex2sympy(text).doit()
    except Exception:  # latex2sympy2 raises bare Exceptions on what it cannot read
        return None
    return value if getattr(value, "is_number", False) else None
