"""Whatever it is given, parse() returns a tree or raises ParseError, quickly."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv.core.errors import ParseError
from symderiv.core.tree import Node
from symderiv.notation.parse import MAX_LENGTH, parse, parse_lenient

TOKENS = [
    "\\frac{",
    "}{",
    "}",
    "{",
    "^{(",
    "^{[",
    ")}",
    "]}",
    "^",
    "_",
    "_{",
    "(",
    ")",
    "[",
    "]",
    "\\{",
    "\\}",
    "\\psi",
    "\\Psi",
    "\\Delta",
    "\\delta",
    "\\lambda",
    "\\sigma",
    "\\phi",
    "\\odot",
    "\\circ",
    "\\cdot",
    "\\times",
    "*",
    "\\left(",
    "\\right)",
    "\\left[",
    "\\right]",
    "\\begin{cases}",
    "\\end{cases}",
    "\\begin{bmatrix}",
    "\\end{bmatrix}",
    "&",
    "\\\\",
    "\\ ",
    "\\partial",
    "\\sum",
    "\\sum_{i=1}^{N}",
    "\\log",
    "\\exp",
    "e^{",
    "\\mathbb{1}",
    "\\mathbf{1}",
    "\\text{if }",
    "\\le",
    "\\lceil",
    "\\rceil",
    "\\lfloor",
    "\\rfloor",
    "\\text{otherwise}",
    "\\text{softmax}",
    "\\mathrm{ReLU}",
    "\\operatorname{sech}^2(",
    "\\tanh^{2}",
    "\\operatorname{diag}(",
    "\\hat{y}",
    "\\tilde{J}",
    "\\|",
    "|",
    "'",
    "T",
    "^T",
    "^\\top",
    "=",
    ">",
    "<",
    "\\geq",
    "\\in",
    ",",
    "+",
    "-",
    "/",
    ".",
    " ",
    "W",
    "a",
    "z",
    "x",
    "y",
    "N",
    "g",
    "f",
    "J",
    "L",
    "i",
    "j",
    "l",
    "0",
    "1",
    "2",
    "3",
    "0.5",
    "W(2)",
    "a(1)",
    "1_{\\{",
    "1[",
    "ψ",
    "⊙",
    "−",
    "ᵀ",
    "²",
    "\\underline{",
    "\\underbrace{",
    "\\quad",
    "\\,",
    "\\input",
    "\\foo",
]
latexish = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_error(text: str):
    """The parse (or its ParseError). Speed is measured in benchmarks/, never asserted here."""
    try:
        result = parse(text)
    except ParseError as exc:
        assert not exc.reason.startswith("internal parser error"), exc.reason
        result = exc
    return result


def _is_tree_or_parse_error(result):
    assert isinstance(result, (Node, ParseError))


@FAST
@given(st.text(max_size=200))
def test_any_text_gives_a_tree_or_a_parse_error(text):
    _is_tree_or_parse_error(_parse_or_error(text))


@FAST
@given(latexish)
def test_latex_like_text_gives_a_tree_or_a_parse_error(text):
    _is_tree_or_parse_error(_parse_or_error(text))


@FAST
@given(latexish)
def test_lenient_gives_a_result_or_a_parse_error(text):
    try:
        result = parse_lenient(text)
    except ParseError:
        return
    assert isinstance(result.tree, Node)
    assert all(isinstance(note, str) and note for note in result.repairs)


@FAST
@given(latexish)
def test_parsing_is_deterministic(text):
    first, second = _parse_or_error(text), _parse_or_error(text)
    if isinstance(first, Node):
        assert first == second
    else:
        assert str(first) == str(second)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10000 + "x" + ")" * 10000,
        "(" * 1999 + "x" + ")" * 1999,
        "{" * 3000 + "}" * 3000,
        "\\frac{" * 1000,
        "-" * 3999 + "x",
        "x" + "'" * 3999,
        "\\sum " * 700 + "x",
        "z^{999999999}",
        "\\input{/etc/passwd}",
        'import os; os.system("x")',
        "{{{{",
        "||||" * 900,
        "a+" * 1999 + "a",
        "\\underline{" * 60 + "x" + "}" * 60,
    ],
)
def test_hostile_inputs_are_handled_quickly(text):
    result = _parse_or_error(text)
    _is_tree_or_parse_error(result)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("(" * 10000 + "x" + ")" * 10000, str(MAX_LENGTH)),
        ("(" * 1999 + "x" + ")" * 1999, "nested deeper than 60"),
        ("\\input{/etc/passwd}", "\\input"),
        ('import os; os.system("x")', "Python"),
        ("{{{{", "braces"),
    ],
)
def test_hostile_inputs_are_rejected_with_a_reason(text, fragment):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert fragment in info.value.reason


def test_huge_exponent_is_just_a_number():
    tree = parse("z^{999999999}")
    assert tree.exponent.value == 999999999
