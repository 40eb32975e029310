"""Generated and mutated claims for the fuzz property test and benchmarks/fuzz_claims.py (issue 10).

Claims start from every answer key's own formulas and from hostile fragments (huge and empty
sums, big integers, deep nesting, forbidden commands, control characters), and are mutated by
inserting, deleting, duplicating and splicing pieces, so most of them are almost-LaTeX.
"""

from __future__ import annotations

from hypothesis import strategies as st

from symderiv.answerkey.problem import derivation_files, load_problem_file

KEYS = [load_problem_file(f) for f in derivation_files()]
TARGETS = [(p.id, q.id) for p in KEYS for q in p.quantities]
SEEDS = sorted({q.claim for p in KEYS for q in p.quantities if q.claim}) + [
    r"\sum_{k=1}^{10^{9}} \frac{1}{N}(\psi(z^{(3)}) - \Delta)",
    r"\sum_{k=1}^{0} 1",
    r"\sum_{k=5}^{2} w_{jk}",
    r"\sum_{i=1}^{N}\sum_{j=1}^{N}\sum_{k=1}^{N} a_i a_j a_k",
    r"\sum_k w_{jk}^{(l+1)}\delta_k^{(l+1)} g_l'(z_j^{(l)})" * 4,
    "1" * 400,
    r"\psi(z^{" + "1" * 400 + "})",
    r"10^{10^{10}}",
    r"2^{2^{2^{2^{2}}}}",
    r"(\Delta)^{-1}",
    r"\frac{1}{0}",
    r"0^{0}",
    r"\input{^^2fetc^^2fhostname}",
    r"\def\x{\x}\x",
    "\x1b[31m\x07",
    r"\begin{cases} 1 & i=j \\ 0 \end{cases}",
    r"\frac{\partial J}{\partial z^{(3)}}",
    r"\delta_{ij}",
    r"W^{(99)}",
    r"z^{(-1)}",
    r"a^{(0.5)}",
    r"\left(" * 30 + "x" + r"\right)" * 30,
    "{" * 70,
    r"\mathbf{1}_{10^{9}}",
    r"\|W\|_F^{2}",
]
PIECES = [
    "+",
    "-",
    "(",
    ")",
    "{",
    "}",
    "^",
    "_",
    "^{T}",
    "'",
    r"\frac{1}{N}",
    r"\sum_k",
    r"\sum_{i=1}^{N}",
    r"\odot",
    r"\cdot",
    r"\psi",
    r"\Delta",
    r"\delta",
    "z^{(3)}",
    "a^{(2)}",
    "W^{(2)}",
    "w_{jk}",
    "x",
    "N",
    r"\lambda",
    "10^{9}",
    "0",
    "1" * 40,
    r"\left",
    r"\right",
    "&",
    r"\\",
    "=",
    r"\partial",
    r"\mathbb{1}[",
    "]",
    ">",
    "ψ",
    "−",
    "\x00",
    "\n",
    r"^^5c",
    "%",
    "#",
    "$",
    r"\text{",
    r"\begin{bmatrix}",
    r"\end{bmatrix}",
    r"\sqrt{",
    r"\log",
    r"\exp",
    r"\sigma",
    r"g_l'",
    r"\max",
    r"\infty",
    "e^{",
    "10^{-20}",
    "2^{64}",
    "7.5",
    ",",
    "|",
]


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3, 6]))):  # mostly near-LaTeX
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "splice", "wrap"]))
        at = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif op == "duplicate":
            end = min(len(text), at + draw(st.integers(1, 40)))
            text = text[:end] + text[at:end] * draw(st.integers(1, 4)) + text[end:]
        elif op == "splice":
            other = draw(st.sampled_from(SEEDS))
            text = text[:at] + other[draw(st.integers(0, len(other))) :]
        else:
            text = draw(st.sampled_from([r"\sum_k ", r"\frac{1}{N}", "-", r"\left(", "2"])) + "(" + text + ")"
    return text


CLAIMS = st.one_of(
    mutated(),
    mutated(),
    mutated(),
    st.lists(st.sampled_from(PIECES + list("abijk0123456789 ")), max_size=25).map("".join),
    st.text(max_size=30),
)
