r"""Tests of symderiv.reading.extract: math blocks, rows, chains and cleaning of OCR'd submissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv.core.errors import SubmissionError
from symderiv.reading.extract import MAX_BYTES, MathRow, extract, read_submission

SEEDS = Path(__file__).parent.parent.parent / "shared" / "seeds"


def rows_of(markdown: str) -> list[tuple[int, tuple[str, ...], str | None]]:
    return [(r.line, r.segments, r.lead) for r in extract(markdown)]


def xfail(*values, reason: str):
    """A known gap: (id, *values) that should pass one day."""
    return pytest.param(*values, marks=pytest.mark.xfail(reason=reason, strict=True))


def _params(table):
    """Tables are rows of (id, *values); known gaps are xfail(id, *values, reason=…)."""
    out = []
    for entry in table:
        if hasattr(entry, "marks"):  # a pytest.param from xfail()
            out.append(pytest.param(*entry.values[1:], marks=entry.marks, id=entry.values[0]))
        else:
            out.append(pytest.param(*entry[1:], id=entry[0]))
    return out


# ---------------------------------------------------------------- blocks: where math is found

BLOCKS = [
    ("display", "$$a = b$$", [(1, ("a", "b"), None)]),
    ("display-multiline", "text\n\n$$\n a = b \\\\\n &= c\n$$\n", [(4, ("a", "b"), None), (5, ("c",), "=")]),
    ("text-after-closing", "$$a = b$$ which is what we want, $c$\n", [(1, ("a", "b"), None), (1, ("c",), None)]),
    ("file-ends-with-$$", "x\n$$y = 1$$", [(2, ("y", "1"), None)]),
    ("brackets", r"\[ x = 1 \]", [(1, ("x", "1"), None)]),
    (
        "align-outside-$$",
        "\\begin{align}\n a &= b \\\\\n &= c\n\\end{align}",
        [(2, ("a", "b"), None), (3, ("c",), "=")],
    ),
    ("aligned-outside-$$", r"\begin{aligned} a &= b \end{aligned}", [(1, ("a", "b"), None)]),
    ("equation-outside-$$", r"\begin{equation} x = 1 \end{equation}", [(1, ("x", "1"), None)]),
    (
        "gather-outside-$$",
        r"\begin{gather*} x = 1 \\ y = 2 \end{gather*}",
        [(1, ("x", "1"), None), (1, ("y", "2"), None)],
    ),
    ("inline", "so $a = b$ holds", [(1, ("a", "b"), None)]),
    ("inline-paren", r"so \(a = b\) holds", [(1, ("a", "b"), None)]),
    ("inline-two-on-a-line", "$a = 1$ and $b = 2$", [(1, ("a", "1"), None), (1, ("b", "2"), None)]),
    ("$-never-pairs-across-$$", "costs $5 then $$a = b$$ done", [(1, ("a", "b"), None)]),
    ("escaped-dollar", r"costs \$5 and $x = 1$", [(1, ("x", "1"), None)]),
    (
        "unclosed-$$-stops-at-blank-line",
        "$$a = b\n\nprose\n\n$$c = d$$",
        [(1, ("a", "b"), None), (5, ("c", "d"), None)],
    ),
    ("lost-opening-$$", "$$a = b\n\nc = d$$\n\nprose", [(1, ("a", "b"), None), (3, ("c", "d"), None)]),
    ("unclosed-inline-$-is-literal", "pay $5 now\n\n$$y = 2$$", [(3, ("y", "2"), None)]),
    ("unclosed-brackets", "\\[ x = 1\n\nprose $y = 2$", [(1, ("x", "1"), None), (3, ("y", "2"), None)]),
    ("unclosed-env", "\\begin{align} x &= 1\n\n$y = 2$", [(1, ("x", "1"), None), (3, ("y", "2"), None)]),
    ("empty-display", "$$$$ and $$ $$", []),
    ("crlf", "a\r\n\r\n$$x = 1$$\r\n$$y = 2$$", [(3, ("x", "1"), None), (4, ("y", "2"), None)]),
    xfail(
        "math-without-delimiters",
        r"\frac{a}{b} = c",
        [(1, (r"\frac{a}{b}", "c"), None)],
        reason="LaTeX the OCR left outside $…$ is taken for prose",
    ),
    xfail(
        "unclosed-inline-$-to-end-of-line",
        "so $x = 1 holds\n",
        [(1, ("x", "1 holds"), None)],
        reason="an unclosed single $ is read as a literal dollar, not as math",
    ),
]


@pytest.mark.parametrize("markdown, expected", _params(BLOCKS))
def test_blocks(markdown, expected):
    assert rows_of(markdown) == expected


def test_inline_flag_and_block_index():
    rows = extract("$$a = b \\\\ c = d$$\nso $e = f$ and\n\\[g = h\\]")
    assert [(r.segments[0], r.inline, r.block) for r in rows] == [
        ("a", False, 0),
        ("c", False, 0),
        ("e", True, 1),
        ("g", False, 2),
    ]


def test_raw_is_the_row_as_written():
    rows = extract("$$\\begin{aligned} x &= 1 \\\\ &= \\underline{2}. \\end{aligned}$$")
    assert [r.raw for r in rows] == ["x &= 1", r"&= \underline{2}."]
    assert [r.raw for r in extract("so $a=b$.")] == ["a=b"]


# ---------------------------------------------------------------- rows: splitting a block

ROWS = [
    (
        "split-on-\\\\",
        r"$$a = 1 \\ b = 2 \\ c = 3$$",
        [(1, ("a", "1"), None), (1, ("b", "2"), None), (1, ("c", "3"), None)],
    ),
    (
        "aligned-wrapper-and-&-dropped",
        r"$$\begin{aligned} x &= y \\ &= z \end{aligned}$$",
        [(1, ("x", "y"), None), (1, ("z",), "=")],
    ),
    (
        "split-wrapper",
        r"$$\begin{split} x &= y \\ & w = z \end{split}$$",
        [(1, ("x", "y"), None), (1, ("w", "z"), None)],
    ),
    ("row-spacing-argument", r"$$x = 1 \\[4pt] &= 2$$", [(1, ("x", "1"), None), (1, ("2",), "=")]),
    ("\\\\-inside-braces-kept", r"$$x = \underbrace{a}_{\substack{p \\ q}} + b$$", [(1, ("x", "a + b"), None)]),
    (
        "cases-kept-intact",
        r"$$f = \begin{cases} 1 & i = j \\ 0 & i \neq j \end{cases}$$",
        [(1, ("f", r"\begin{cases} 1 & i = j \\ 0 & i \neq j \end{cases}"), None)],
    ),
    (
        "bmatrix-kept-intact",
        r"$$v = \begin{bmatrix} 1 \\ 2 \end{bmatrix}$$",
        [(1, ("v", r"\begin{bmatrix} 1 \\ 2 \end{bmatrix}"), None)],
    ),
    (
        "pmatrix-and-matrix",
        r"$$v = \begin{pmatrix} a & b \end{pmatrix} \begin{matrix} c \\ d \end{matrix}$$",
        [(1, ("v", r"\begin{pmatrix} a & b \end{pmatrix} \begin{matrix} c \\ d \end{matrix}"), None)],
    ),
    (
        "line-of-each-row",
        "$$\\begin{aligned}\n x &= 1 \\\\\n\n &= 2\n\\end{aligned}$$",
        [(2, ("x", "1"), None)],
    ),  # a blank line ends the block (TeX forbids one in math)
    (
        "two-statements-comma-quad",
        r"$$\frac{dz}{dw} = a, \quad \frac{dz}{db} = 1$$",
        [(1, (r"\frac{dz}{dw}", "a"), None), (1, (r"\frac{dz}{db}", "1"), None)],
    ),
    (
        "two-statements-therefore",
        r"$$a = \sigma(z) \quad \therefore a = \frac{1}{1+e^{-z}}$$",
        [(1, ("a", r"\sigma(z)"), None), (1, ("a", r"\frac{1}{1+e^{-z}}"), None)],
    ),
    ("two-statements-and", r"$$a = 1 \text{ and } b = 2$$", [(1, ("a", "1"), None), (1, ("b", "2"), None)]),
    (
        "continuation-row-joins-previous",
        "$$\\begin{aligned} x &= a \\\\ &\\quad + b \\end{aligned}$$",
        [(1, ("x", "a + b"), None)],
    ),
    ("continuation-minus", "$$x = a \\\\ - b$$", [(1, ("x", "a - b"), None)]),
    xfail(
        "comma-separated-statements",
        r"$$a = 1, b = 2$$",
        [(1, ("a", "1"), None), (1, ("b", "2"), None)],
        reason="a bare comma is not a statement separator (it is inside `For l=L, …`)",
    ),
]


@pytest.mark.parametrize("markdown, expected", _params(ROWS))
def test_rows(markdown, expected):
    assert rows_of(markdown) == expected


# ---------------------------------------------------------------- chains: relations in a row

CHAINS = [
    ("equals", r"$$a = b = c$$", ("a", "b", "c"), ("=", "="), None),
    ("Rightarrow", r"$$a \Rightarrow b$$", ("a", "b"), ("⇒",), None),
    ("implies", r"$$a \implies b$$", ("a", "b"), ("⇒",), None),
    ("Longrightarrow", r"$$a \Longrightarrow b$$", ("a", "b"), ("⇒",), None),
    ("unicode-arrow", "$$a ⇒ b$$", ("a", "b"), ("⇒",), None),
    ("rightarrow", r"$$a \rightarrow b$$", ("a", "b"), ("⇒",), None),
    ("to", r"$$a \to b$$", ("a", "b"), ("⇒",), None),
    ("top-is-not-to", r"$$a^\top = b^{\top}$$", (r"a^\top", r"b^{\top}"), ("=",), None),
    ("approx", r"$$\sigma(-70) \approx 0$$", (r"\sigma(-70)", "0"), ("≈",), None),
    ("unicode-approx", "$$y ≈ 1$$", ("y", "1"), ("≈",), None),
    ("mixed", r"$$a = b \Rightarrow c \approx d$$", ("a", "b", "c", "d"), ("=", "⇒", "≈"), None),
    ("not-in-braces", r"$$\sum_{i=1}^{N} x_i = s$$", (r"\sum_{i=1}^{N} x_i", "s"), ("=",), None),
    ("not-in-parens", r"$$f(x = 1) = 2$$", ("f(x = 1)", "2"), ("=",), None),
    ("not-in-brackets", r"$$1[i = j] = \delta_{ij}$$", ("1[i = j]", r"\delta_{ij}"), ("=",), None),
    ("not-in-set-braces", r"$$1_{\{z = 0\}} + \{a = b\} = c$$", (r"1_{\{z = 0\}} + \{a = b\}", "c"), ("=",), None),
    ("not-in-left-right", r"$$x = \left( a = b \right)$$", ("x", r"\left( a = b \right)"), ("=",), None),
    ("not-in-text", r"$$x = \text{a=b}$$", ("x", r"\text{a=b}"), ("=",), None),
    (
        "not-in-cases",
        r"$$\delta = \begin{cases} 1 & i = j \\ 0 & \text{else} \end{cases}$$",
        (r"\delta", r"\begin{cases} 1 & i = j \\ 0 & \text{else} \end{cases}"),
        ("=",),
        None,
    ),
    (
        "never-inequalities",
        r"$$a \leq b \geq c \neq d \le e \ge f \ne g < h > i$$",
        (r"a \leq b \geq c \neq d \le e \ge f \ne g < h > i",),
        (),
        None,
    ),
    ("never-ascii-inequalities", r"$$a <= b >= c != d$$", ("a <= b >= c != d",), (), None),
    (
        "unbalanced-paren-does-not-hide-relation",
        r"$$a = (\psi(z) = (1 - \psi(z)$$",
        ("a", r"(\psi(z)", r"(1 - \psi(z)"),
        ("=", "="),
        None,
    ),
    (
        "extra-closing-paren",
        r"$$\left(\frac{1}{N}(x - y))a\right) = b$$",
        (r"\left(\frac{1}{N}(x - y))a\right)", "b"),
        ("=",),
        None,
    ),
    ("lead-equals", r"$$= -40 - 30 = -70$$", ("-40 - 30", "-70"), ("=",), "="),
    ("lead-aligned-equals", r"$$&= x$$", ("x",), (), "="),
    ("lead-Rightarrow", r"$$\Rightarrow \psi(z) \cdot (1 - \psi(z))$$", (r"\psi(z) \cdot (1 - \psi(z))",), (), "⇒"),
    ("lead-unicode-arrow", "$$⇒ x$$", ("x",), (), "⇒"),
    ("lead-approx", r"$$\approx 0$$", ("0",), (), "≈"),
    (
        "empty-last-segment-kept",
        r"$$\frac{\partial \tilde{J}}{\partial W^{(2)}} =$$",
        (r"\frac{\partial \tilde{J}}{\partial W^{(2)}}", ""),
        ("=",),
        None,
    ),
    ("double-equals", r"$$a == b$$", ("a", "b"), ("=",), None),
    (
        "arrow-diagram-kept",
        r"$$x \xrightarrow[b]{w} z \xrightarrow{\text{RELU}} a$$",
        (r"x \xrightarrow[b]{w} z \xrightarrow{\text{RELU}} a",),
        (),
        None,
    ),
    xfail(
        "overset-equals",
        r"$$a \overset{\text{def}}{=} b$$",
        ("a", "b"),
        ("=",),
        None,
        reason=r"a relation decorated with \overset/\stackrel is inside braces",
    ),
]


@pytest.mark.parametrize("markdown, segments, relations, lead", _params(CHAINS))
def test_chains(markdown, segments, relations, lead):
    [row] = extract(markdown)
    assert (row.segments, row.relations, row.lead) == (segments, relations, lead)


# ---------------------------------------------------------------- cleaning: preface, condition

CLEANING = [
    # part labels go to the preface
    ("label-a)", r"$$a) x = 1$$", "a)", ("x", "1"), ""),
    ("label-(b)", r"$$(b) x = 1$$", "(b)", ("x", "1"), ""),
    ("label-b)-quad", r"$$b) \quad x = 1$$", "b)", ("x", "1"), ""),
    (
        "label-(c)",
        r"$$(c) \quad \frac{\partial J}{\partial b^1} = 1$$",
        "(c)",
        (r"\frac{\partial J}{\partial b^1}", "1"),
        "",
    ),
    ("label-2-b)", r"$$2 b) x = 1$$", "2 b)", ("x", "1"), ""),
    ("label-textcircled", r"$$\textcircled{a} \quad x = 1$$", "(a)", ("x", "1"), ""),
    ("label-i.", r"$$i. x = 1$$", "i.", ("x", "1"), ""),
    ("label-ii)", r"$$ii) x = 1$$", "ii)", ("x", "1"), ""),
    ("label-1.", r"$$1. x = 1$$", "1.", ("x", "1"), ""),
    ("label-in-aligned", "$$\\begin{aligned}\n b) \\quad x &= 1\n\\end{aligned}$$", "b)", ("x", "1"), ""),
    ("not-a-label", r"$$(a - y) x = 1$$", "", ("(a - y) x", "1"), ""),
    # leading prose goes to the preface
    ("text-So,", r"$$\text{So, } x = 1$$", "So", ("x", "1"), ""),
    ("text-so", r"$$\text{so } x = 1$$", "so", ("x", "1"), ""),
    ("text-For-condition", r"$$\text{For } l=L, \delta_j^{(L)} = g'(z)$$", "For l=L", (r"\delta_j^{(L)}", "g'(z)"), ""),
    (
        "text-If-for-condition",
        r"$$\text{If we back-propagate, for } l < L, \delta = 1$$",
        "If we back-propagate, for l < L",
        (r"\delta", "1"),
        "",
    ),
    (
        "text-where-long-math-not-condition",
        r"$$\text{where } \frac{a}{b} = \left[\sum_{j=1}^{n} a_j w_{jk} + b_k \right] = c$$",
        "where",
        (r"\frac{a}{b}", r"\left[\sum_{j=1}^{n} a_j w_{jk} + b_k \right]", "c"),
        "",
    ),
    ("therefore", r"$$\therefore a = b$$", "therefore", ("a", "b"), ""),
    ("label-then-text", r"$$b) \quad \text{so } x = 1$$", "b) so", ("x", "1"), ""),
    ("operator-name-is-math", r"$$\text{ReLU}(z) = z$$", "", (r"\text{ReLU}(z)", "z"), ""),
    ("operator-name-bracket", r"$$a = \text{RELU}[z]$$", "", ("a", r"\text{RELU}[z]"), ""),
    # trailing conditions go to the condition; justifications, comments and equation numbers are
    # dropped (a row with a condition is graded as a case, not as the answer)
    (
        "text-when",
        r"$$\Rightarrow a^3_i \cdot (1 - a^3_i) \text{ when } i = j$$",
        "",
        (r"a^3_i \cdot (1 - a^3_i)",),
        "when i = j",
    ),
    ("quad-text-if", r"$$x = \psi_{ij} - 1 \quad \text{if } j = y_i$$", "", ("x", r"\psi_{ij} - 1"), "if j = y_i"),
    ("quad-label-circled", r"$$x = 1 \quad \text{--- ①}$$", "", ("x", "1"), ""),
    ("quad-label-3", r"$$x = 1 \quad \text{--- (3)}$$", "", ("x", "1"), ""),
    ("text-label-3", r"$$x = 1 \text{(3)}$$", "", ("x", "1"), ""),
    ("bare-circled", "$$x = 1 ②$$", "", ("x", "1"), ""),
    ("quad-parenthetical-text", r"$$x = 1 \quad \text{(putting results in matrix form)}$$", "", ("x", "1"), ""),
    ("checkmark-since-dropped", r"$$x = y \quad \checkmark, \text{ since } a = \varphi(z)$$", "", ("x", "y"), ""),
    (
        "comma-so-dropped",
        r"$$x = \begin{cases} 1 & z > 0 \\ 0 & z \leq 0 \end{cases}, \text{ so}$$",
        "",
        ("x", r"\begin{cases} 1 & z > 0 \\ 0 & z \leq 0 \end{cases}"),
        "",
    ),
    ("quad-paren-when", r"$$x = a + b \quad (\text{when } z^{(2)} > 0)$$", "", ("x", "a + b"), "when z^{(2)} > 0"),
    ("paren-when-no-quad", r"$$x = a (\text{when } z > 0)$$", "", ("x", "a"), "when z > 0"),
    (
        "quad-left-paren-justification",
        r"$$x = 0 \quad \left(\frac{\partial J}{\partial a} = 0 \right)$$",
        "",
        ("x", "0"),
        "",
    ),
    ("quad-paren-comparison", r"$$x = a \quad (z > 0)$$", "", ("x", "a"), "z > 0"),
    ("quad-paren-number", r"$$x = a \quad (3)$$", "", ("x", "a"), ""),
    ("quad-paren-expression-stays-math", r"$$x = a \quad (y + 1)$$", "", ("x", r"a \quad (y + 1)"), ""),
    ("text-otherwise", r"$$x = 0 \text{ otherwise}$$", "", ("x", "0"), "otherwise"),
    ("text-for-all", r"$$x = 0 \text{ for all } i$$", "", ("x", "0"), "for all i"),
    ("text-where-dropped", r"$$\delta = g'(z) \text{ where } z = Wx$$", "", (r"\delta", "g'(z)"), ""),
    ("bare-because-dropped", r"$$x = y \because y = z$$", "", ("x", "y"), ""),
    ("tag-dropped", r"$$x = 1 \tag{3}$$", "", ("x", "1"), ""),
    # justifications are dropped anywhere
    (
        "because-left-bracket",
        r"$$a = \sigma(z)(1-\sigma(z)) \left[\because \sigma' = \sigma(1-\sigma) \right]$$",
        "",
        ("a", r"\sigma(z)(1-\sigma(z))"),
        "",
    ),
    ("because-bracket-middle", r"$$a = b [\because b = c] + d$$", "", ("a", "b + d"), ""),
    ("because-paren", r"$$a = b (\because b = c)$$", "", ("a", "b"), ""),
    # wrappers and punctuation
    ("underline", r"$$= \underline{a - y}$$", "", ("a - y",), ""),
    ("double-underline", r"$$= \underline{\underline{50}}$$", "", ("50",), ""),
    (
        "underbrace",
        r"$$x = c\, \underbrace{a^{(2)'}}_{\substack{\text{transpose} \\ \text{of } a}}$$",
        "",
        ("x", r"c\, a^{(2)'}"),
        "",
    ),
    ("underbrace-bare-subscript", r"$$x = \underbrace{a + b}_J + c$$", "", ("x", "a + b + c"), ""),
    ("boxed", r"$$x = \boxed{1}$$", "", ("x", "1"), ""),
    ("trailing-period", r"$$x = (\Psi(z^3) - \Delta) \cdot 1.$$", "", ("x", r"(\Psi(z^3) - \Delta) \cdot 1"), ""),
    ("trailing-comma", r"$$x = 1,$$", "", ("x", "1"), ""),
    ("right-dot-kept", r"$$x = \left. f \right.$$", "", ("x", r"\left. f \right."), ""),
    xfail(
        "where-with-comma",
        r"$$\text{where } x = a, y = b$$",
        "where",
        ("x", "a"),
        "",
        reason=r"`\text{where } x = a, y = b`: a short equation before a comma is read as a condition",
    ),
    (
        "left-right-frac-kept",
        r"$$x = \left[\frac{1}{N} \sum a \right]$$",
        "",
        ("x", r"\left[\frac{1}{N} \sum a \right]"),
        "",
    ),
]


@pytest.mark.parametrize("markdown, preface, segments, condition", _params(CLEANING))
def test_cleaning(markdown, preface, segments, condition):
    [row] = extract(markdown)
    assert (row.preface, row.segments, row.condition) == (preface, segments, condition)


# ---------------------------------------------------------------- debris: what is not math

DEBRIS = [
    ("prose", "Question 2 of Assignment 1\n\nOctober 2021\n", []),
    ("stray-paren-line", ")\n\n//\n\n①\n", []),
    ("strikethrough", "~~Finding the gradient: $x = 1$ (for just~~\n$y = 2$", [(2, ("y", "2"), None)]),
    ("unclosed-strikethrough", "~~ $x = 1$", [(1, ("x", "1"), None)]),
    ("labels-only-block", r"$$\mathbf{1} \quad \mathbf{a}$$", []),
    ("label-only-block-paren", r"$$(c)$$", []),
    ("label-only-remark-block", r"$$\quad \text{--- ①}$$", []),
    ("justification-only-block", r"$$\left[\because z = w a + b \right]$$", []),
    ("bold-one-is-math", r"$$\mathbf{1}$$", [(1, (r"\mathbf{1}",), None)]),
    ("inline-frac-is-math", r"so $\frac{e^{z_i}}{\sum e^{z_i}}$ here", [(1, (r"\frac{e^{z_i}}{\sum e^{z_i}}",), None)]),
    (
        "lead-without-relation-is-math",
        r"$$\Rightarrow \psi(z^3_i) \cdot (1 - \psi(z^3_i))$$",
        [(1, (r"\psi(z^3_i) \cdot (1 - \psi(z^3_i))",), "⇒")],
    ),
]


@pytest.mark.parametrize("markdown, expected", _params(DEBRIS))
def test_debris(markdown, expected):
    assert rows_of(markdown) == expected


# ---------------------------------------------------------------- the real submissions


def seed(prefix: str) -> list[MathRow]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed submissions not found at {SEEDS}")
    [path] = SEEDS.glob(prefix + "_*.txt")
    return extract(read_submission(path))


def at(rows: list[MathRow], line: int) -> list[MathRow]:
    return [r for r in rows if r.line == line]


def test_seed_000():
    rows = seed("000")
    assert not at(rows, 7) and not at(rows, 8)  # `$$\mathbf{1} \quad \mathbf{a}$$` and `)`
    split = at(rows, 25)
    assert len(split) == 4 and len({r.block for r in split}) == 1
    assert [r.segments[0] for r in split] == [
        r"\frac{\partial \tilde{J}}{\partial W^{(2)}}",
        r"\frac{\partial J}{\partial W^{(2)}}",
        r"\frac{\partial J}{\partial z^{(3)}}",
        r"\frac{\partial z^{(3)}}{\partial W^{(2)}}",
    ]
    assert split[3].segments == (r"\frac{\partial z^{(3)}}{\partial W^{(2)}}", "a_i^{(2)}")
    [open_chain] = at(rows, 27)
    assert open_chain.segments == (r"\frac{\partial \tilde{J}}{\partial W^{(2)}}", "")
    [rhs] = at(rows, 29)
    assert rhs.segments[0].endswith(r"2\lambda W^{(2)}\right)") and rhs.lead is None
    [cases] = at(rows, 37)
    assert cases.inline and cases.segments[0].startswith(r"\begin{cases}")
    assert len(at(rows, 35)) == 5
    [last] = at(rows, 57)  # the file ends with `$$`, no newline
    assert last.segments == (
        r"\frac{\partial \tilde{J}}{\partial b^{(2)}}",
        r"\left[\frac{1}{N} \sum (\psi(z^{(3)}) - \Delta_i)\right]",
    )


def test_seed_001():
    rows = seed("001")
    assert [(r.segments, r.lead) for r in at(rows, 26)] == [(("30",), "=")]
    assert [r.segments for r in at(rows, 24)] == [(r"20 \times 0 + 20 \times 1 + -10",)]
    assert [(r.segments, r.lead) for r in at(rows, 12)] == [(("-40 - 30", "-70"), "=")]
    assert [r.segments for r in at(rows, 16)] == [("50",)]
    assert at(rows, 28)[0].segments[-1] == "1"
    assert at(rows, 10)[0].segments[-1] == r"[20 \ 20] \begin{bmatrix} -1 \\ -1 \end{bmatrix} + -30"
    [diagram] = at(rows, 32)
    assert len(diagram.segments) == 1 and r"\xrightarrow" in diagram.segments[0]
    assert at(rows, 40)[0].preface == "therefore"
    assert [(r.segments, r.preface) for r in at(rows, 44)] == [
        (("a^{[2]}", r"\sigma(z^{[2]})"), ""),
        (("a^{[2]}", r"\frac{1}{1 + e^{-z^{[2]}}}"), "therefore"),
    ]
    first, second = at(rows, 50)
    assert len(first.segments) == 3 and second.lead == "=" and second.condition == ""
    because, _, third = at(rows, 56)
    assert because.segments[-1] == r"\sigma(z^{[2]})(1-\sigma(z^{[2]}))"
    assert third.segments == (r"a^{[2]}(1-a^{[2]})",) and third.condition == ""
    assert at(rows, 62)[1].segments == ("a^{[2]} - y",)
    assert not at(rows, 66)  # `$$\left[\because …\right]$$`
    assert not at(rows, 4) and not at(rows, 30)  # ① and ②. Model architecture


def test_seed_002():
    rows = seed("002")
    aligned = [r for r in rows if 35 <= r.line <= 40]
    assert [r.line for r in aligned] == [36, 37, 38, 39]
    assert [r.segments[0] for r in aligned] == [
        r"\frac{\partial c}{\partial W_{ij}^{(l)}}",
        r"f_j^{(l)} \frac{\partial}{\partial W_{ij}^{(l)}} \left[\sum_{i=1}^{n_{l-1}} a_i^{(l-1)} "
        r"W_{ij}^{(l)} + b_j^{(l)} \right]",
        "f_j^{(l)} a_i^{(l-1)}",
        "a_i^{(l-1)} f_j^{(l)}",
    ]
    assert [r.lead for r in aligned] == [None, "=", "=", "="]
    assert aligned[0].preface == "b)"
    [part_a] = at(rows, 17)
    assert part_a.preface == "a)" and len(part_a.segments) == 5
    assert part_a.segments[-1] == r"\frac{\partial C}{\partial a_j^{(l)}} g'_l(z_j^{(l)})"
    assert at(rows, 19)[0].preface == "For l=L"
    assert at(rows, 19)[0].segments[0] == r"\delta_j^{(L)}"
    assert at(rows, 21)[0].preface == "For l=L-1"
    assert at(rows, 23)[0].preface == "where"
    assert at(rows, 27)[0].preface == "So"
    assert at(rows, 31)[0].preface == "If we back-propagate, for l < L"
    assert [r.line for r in rows if 42 <= r.line <= 46] == [43, 44, 45]


def test_seed_003():
    rows = seed("003")
    [when] = at(rows, 21)
    assert (when.lead, when.segments, when.condition) == ("⇒", (r"a^3_i \cdot (1 - a^3_i)",), "when i = j")
    [psi] = at(rows, 19)
    assert psi.lead == "⇒" and psi.segments == (r"\psi(z^3_i) \cdot (1 - \psi(z^3_i))",)
    [inline] = at(rows, 17)
    assert inline.inline and inline.segments == (r"\frac{e^{z^3_i}}{\sum e^{z^3_i}}",)
    [arrow] = at(rows, 15)
    assert arrow.lead == "⇒" and arrow.relations == ("⇒",)
    assert at(rows, 35)[0].preface == "So"
    assert at(rows, 51)[0].preface == "(b)"
    assert at(rows, 67)[0].preface == "(a)"
    assert at(rows, 87)[0].segments == (r"\frac{1}{N} (\Psi(z^3) - \Delta) \cdot 1",)
    [cases] = at(rows, 73)
    assert cases.lead == "⇒" and cases.segments[0].startswith(r"\begin{cases}")
    assert [r.segments for r in at(rows, 9)] == [("i", "j")]
    assert not at(rows, 37)  # `\therefore Applying the chain rule` is prose


def test_seed_004():
    rows = seed("004")
    [transpose] = at(rows, 41)
    assert transpose.preface == "so" and transpose.segments[-1].endswith("a^{(2)'}")
    assert r"\underbrace" not in transpose.segments[-1]
    [loss] = at(rows, 5)
    assert r"\underbrace" not in loss.segments[1] and r"J_{\text{data}}" not in loss.segments[1]
    assert not at(rows, 13)  # struck out
    assert at(rows, 21)[0].condition == "if j = y_i"
    assert at(rows, 27)[0].condition == r"if j \neq y_i" and at(rows, 27)[0].lead == "="
    [matrix_form] = at(rows, 29)
    assert (matrix_form.preface, matrix_form.condition) == ("so", "")  # a comment, not a case
    assert matrix_form.segments[1] == r"\frac{1}{N} (\psi(z^{(3)}) - \Delta)"
    assert at(rows, 61)[0].condition == ""  # `\checkmark, \text{ since } …` justifies, not restricts
    [cases] = at(rows, 63)
    assert cases.condition == "" and cases.segments[1].endswith(r"\end{cases}")
    assert at(rows, 74)[0].condition == "when z^{(2)} > 0"
    assert [r.segments for r in at(rows, 69)] == [
        (r"\frac{\partial z^{(2)}}{\partial w^{(1)}}", "a^{(1)}"),
        (r"\frac{\partial z^{(2)}}{\partial b^{(1)}}", "1"),
    ]
    [continued] = at(rows, 57)  # `&\quad + 0 \quad \left(…= 0\right)` on line 58 joins it
    assert continued.segments[-1].endswith(r"w^{(2)'} + 0") and not at(rows, 58)
    assert continued.condition == ""  # `(\partial J_{reg}/\partial a^{(2)} = 0)` is a justification
    assert [r.line for r in rows if 53 <= r.line <= 59] == [54, 55, 56, 57]


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_rows_are_well_formed(prefix):
    rows = seed(prefix)
    assert rows
    for row in rows:
        assert len(row.relations) == len(row.segments) - 1
        assert set(row.relations) <= {"=", "⇒", "≈"} and row.lead in (None, "=", "⇒", "≈")
        assert not any(s.endswith((".", ",")) for s in row.segments)
        assert "&" not in row.segments[0] or r"\begin" in row.segments[0]


# ---------------------------------------------------------------- read_submission

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"

READ_ERRORS = [
    ("missing", None, "no such file"),
    ("directory", "dir", "is a directory"),
    ("empty", b"", "is empty"),
    ("whitespace", b" \n\t\r\n  \n", "only whitespace"),
    ("unicode-whitespace", "\u00a0\u2003\n".encode(), "only whitespace"),
    ("binary-png", PNG, "binary"),
    ("binary-without-nul", bytes(range(1, 256)) * 40, "binary"),
    ("too-large", b"x" * (MAX_BYTES + 1), "too large"),
]


@pytest.mark.parametrize("content, reason", _params(READ_ERRORS))
def test_read_submission_errors(tmp_path, content, reason):
    path = tmp_path / "sub.txt"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SubmissionError) as error:
        read_submission(path)
    assert str(error.value).startswith(f"{path}: ") and reason in str(error.value)


def test_read_submission_invalid_path():
    with pytest.raises(SubmissionError, match="not a valid path"):
        read_submission("bad\x00name.txt")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_read_submission_permission_denied(tmp_path):
    path = tmp_path / "sub.txt"
    path.write_text("$$x = 1$$")
    path.chmod(0)
    with pytest.raises(SubmissionError, match="permission denied"):
        read_submission(path)


READ_OK = [
    ("utf8", "$$\\psi(z) = ψ ⇒ Δ$$\n".encode(), "$$\\psi(z) = ψ ⇒ Δ$$\n"),
    ("utf8-bom", b"\xef\xbb\xbf$$x = 1$$", "$$x = 1$$"),
    ("latin1", "caf\u00e9 $$x = 1$$ na\u00efve".encode("latin-1"), "café $$x = 1$$ naïve"),
    ("cp1252-quotes", b"\x93quoted\x94 $$x = 1$$", "\u201cquoted\u201d $$x = 1$$"),
    ("crlf-normalised", b"a\r\n$$x = 1$$\r\n", "a\n$$x = 1$$\n"),
]


@pytest.mark.parametrize("content, text", _params(READ_OK))
def test_read_submission_ok(tmp_path, content, text):
    path = tmp_path / "sub.txt"
    path.write_bytes(content)
    assert read_submission(path) == text
    assert read_submission(str(path)) == text


# ---------------------------------------------------------------- never raises

LATEXISH = st.lists(
    st.sampled_from(
        [
            "$",
            "$$",
            "\\[",
            "\\]",
            "\\(",
            "\\)",
            "\\\\",
            "&",
            "=",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            "\\{",
            "\\}",
            "\\left(",
            "\\right)",
            "\\left.",
            "\\right",
            "\\begin{aligned}",
            "\\end{aligned}",
            "\\begin{cases}",
            "\\end{cases}",
            "\\begin{align}",
            "\\end{align}",
            "\\text{",
            "\\text{ when }",
            "\\text{--- ①}",
            "\\quad",
            "\\therefore",
            "\\because",
            "\\Rightarrow",
            "\\to",
            "\\top",
            "\\approx",
            "⇒",
            "≈",
            "\\underline{",
            "\\underbrace{",
            "}_{",
            "\\checkmark",
            "\\tag{",
            "a)",
            "(b)",
            "1.",
            "x",
            "y",
            "1",
            " ",
            "\n",
            "\n\n",
            ",",
            ".",
            "~~",
            "\\",
            "\\xrightarrow[",
            "\\frac{",
            "\\cancel{",
            "①",
        ]
    ),
    max_size=60,
).map("".join)


def check_rows(text: str) -> None:
    rows = extract(text)
    n_lines = len(text.splitlines())
    for row in rows:
        assert 1 <= row.line <= n_lines
        assert len(row.segments) >= 1 and len(row.relations) == len(row.segments) - 1
        assert row.lead in (None, "=", "⇒", "≈")
    assert [r.block for r in rows] == sorted(r.block for r in rows)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_extract_never_raises_on_any_text(text):
    check_rows(text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LATEXISH)
def test_extract_never_raises_on_latex_like_text(text):
    check_rows(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n",
        "$",
        "$$",
        "$$$",
        "\\",
        "\\[",
        "~~",
        "{" * 500,
        "}" * 500,
        "$$" + "\\left(" * 300 + "$$",
        "$" * 1001,
        "\\begin{aligned}" * 50,
        "$$a = b" * 200,
    ],
)
def test_extract_degenerate_inputs(text):
    check_rows(text)
