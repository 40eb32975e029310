r"""Read one side of a student's claim (OCR'd LaTeX) into a ``symderiv.core.tree`` expression.

>>> from symderiv.notation.parse import parse
>>> parse(r"W^{(2)\top}")
Transpose(operand=Sym('W', layer=Num(value=2)))

Three stages: ``normalise_latex`` rewrites the text (Unicode to LaTeX, spacing commands
dropped, ``\underline{..}`` and friends unwrapped, ``\frac{dy}{dx}`` to ``\partial``);
``Tokenizer`` turns it into tokens, deciding what context-dependent characters mean
(whether a ``(`` opens a function's arguments or a layer index ``W(2)``, whether a ``|``
opens or closes); the LALR grammar ``grammar.lark`` and ``TreeBuilder`` make the tree.
The parser is problem-agnostic: it never knows which letters are layer variables.

Decisions on ambiguous notation:

* Every Latin letter is a symbol; juxtaposition is a product. Products are flat
  in written order. A run of 4+ plain letters that is not a function name
  (softmax, ReLU, sigmoid, tanh, exp, log, diag, max, min) is prose: ParseError.
* ``a / b`` binds the two adjacent factors, left to right: ``1/N (x)`` is
  ``Product(Div(1, N), x)``, ``a/b/c`` is ``Div(Div(a, b), c)``.
* ``\sum`` and ``\frac{\partial}{\partial x}`` take the rest of the product chain
  they start (up to the next top-level ``+``, ``-``, relation or closing bracket):
  ``\sum_k w_{jk}\delta_k g'(z_j) + b`` is ``Add(Sum(w δ g'), b)``.
* Subscripts always go into the symbol, whatever the order: ``z^3_i`` is
  ``Pow(Sym(z, indices=(i,)), 3)``. ``^{(3)}``, ``^{[3]}`` and ``W(2)`` (a letter
  immediately followed by an integer, l, L or l±k in parentheses; not f g h C L J,
  whose parentheses are a call) are layers; ``^T``,
  ``^\top``, ``^{\mathsf T}``, ``^{\intercal}`` and ``'`` transposes; any other
  superscript is a Pow. ``e^{x}`` is ``Call("exp", (x,))``.
* Subscript groups: ``_{ij}`` -> (i, j); ``_{i,j}`` -> (i, j); ``_{12}`` -> (12,);
  ``_{l+1}`` -> (l + 1,); a word of 3+ letters that are not all index letters
  (``_{reg}``, ``_{\text{data}}``) is one Sym named by the word.
* Function names: \log \exp \tanh ... and words (softmax ...), the letters
  f g h C L J, and Greek letters other than the constants (lambda, delta, Delta,
  alpha, beta, gamma, eta, epsilon, theta, mu, ...). They are calls only when
  followed by ``(`` or ``[`` (after optional subscripts and primes); ``\log x``
  applies log to the next factor, with its scripts. ``\lambda(...)`` is a product.
* A subscript written after a call's arguments, ``\psi(z)_{ij}``, becomes the
  Call's ``indices`` (the element ij of ψ(z)), the same field that holds a
  subscript on the function name (``g_l(z)``); writing both is a ParseError.
* A decorated function name keeps its decoration as a prefix: ``\tilde{J}(\theta)``
  is ``Call("tilde:J", (Sym theta,))``.
* A parenthesised comparison used as a factor, ``(z > 0)``, is an Indicator.
* Relations (``=``, ``>``, ...) at the top level are a ParseError: the caller splits
  equation chains and passes one side.

``parse_lenient`` retries after OCR repairs, in this order, each reported in
``ParseResult.repairs``: trailing punctuation, a leading ``=`` or arrow, a part label
``a)``; a leading ``\text{so}`` or trailing ``\quad \text{...}`` remark (not when it
starts with if/when/for: that is a condition, not a remark); ``^{2+}`` to ``^{2} +``;
unmatched closing delimiters removed and missing closing ones added (before the
enclosing group's closer, else at the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import LarkError, UnexpectedInput
from lark.lexer import Lexer

from symderiv.core.errors import ParseError
from symderiv.core.tree import (
    Node,
)
from symderiv.notation.build import LEFTOVERS, TreeBuilder
from symderiv.notation.lexer import Tokenizer
from symderiv.notation.normalise import (  # noqa: F401  (MAX_LENGTH and MAX_NESTING are part of the API)
    MAX_LENGTH,
    MAX_NESTING,
    MAX_TREE_DEPTH,
    Reject,
    check_input,
    describe_problem,
    normalise_latex,
    scan_delimiters,
)
from symderiv.notation.repair import (
    repair_delimiters,
    repair_ends,
    repair_remarks,
    repair_superscript_plus,
    repair_tuple,
)

__all__ = ["parse", "parse_lenient", "ParseResult", "MAX_LENGTH", "MAX_NESTING"]


@dataclass(frozen=True)
class ParseResult:
    tree: Node
    repairs: tuple[str, ...]


class _TokenList(Lexer):
    """Lark's lexer slot: the tokens are already made by Tokenizer."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, data):
        return iter(data)


@cache
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer=_TokenList, transformer=TreeBuilder())


# --------------------------------------------------------------------------- checks

_OPENING = {
    "_LPAR",
    "_LBRACK",
    "_LBRACE",
    "_LSET",
    "_CALL_LPAR",
    "_CALL_LBRACK",
    "_CALL_LSET",
    "_LAYER_OPEN",
    "_NORM_OPEN",
    "_BAR_OPEN",
    "_BEGIN_CASES",
    "_BEGIN_MATRIX",
    "_LCEIL",
    "_LFLOOR",
}
_CLOSING = {
    "_RPAR",
    "_RBRACK",
    "_RBRACE",
    "_RSET",
    "LAYER_CLOSE",
    "LAYER_CLOSE_T",
    "_NORM_CLOSE",
    "_BAR_CLOSE",
    "_END_CASES",
    "_END_MATRIX",
    "_RCEIL",
    "_RFLOOR",
}
_UNEXPECTED = {
    "TEXT": "prose {!r} where a formula was expected",
    "_COND": "a condition word {!r} outside a cases block",
    "OTHERWISE": "{!r} outside a cases block",
    "_AMP": "'&' outside a matrix or cases block",
    "_ROWSEP": "a row break '\\\\' outside a matrix or cases block",
    "_IN": "'\\in' outside the range of a \\sum",
}


def _check_relations(tokens: list[Token]):
    depth = 0
    for tok in tokens:
        depth += (tok.type in _OPENING) - (tok.type in _CLOSING)
        if depth == 0 and tok.type == "REL":
            if tok.value == "=":
                raise Reject("an equation, not an expression (pass one side)", tok.start_pos)
            raise Reject(f"a comparison '{tok.value}', not an expression", tok.start_pos)


def _check_tree(tree: Node):
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise Reject("nested too deeply")
        if type(node) in LEFTOVERS:
            raise Reject(LEFTOVERS[type(node)])
        stack.extend((child, depth + 1) for child in node.children())


def _unexpected(exc: UnexpectedInput, text: str, tokens: list[Token]) -> Reject:
    tok = getattr(exc, "token", None)
    if tok is None or tok.type == "$END":
        return Reject("the formula ends too early (an argument or operand is missing)")
    shown = text[tok.start_pos : tok.end_pos] if tok.start_pos is not None else str(tok)
    reason = _UNEXPECTED.get(tok.type, "unexpected {!r}").format(shown)
    open_cases = sum(
        (t.type == "_BEGIN_CASES") - (t.type == "_END_CASES") for t in tokens if t.start_pos < tok.start_pos
    )
    if open_cases and tok.type in ("TEXT", "_COND", "OTHERWISE"):
        reason = f"unreadable condition in a cases block: {reason}"
    elif open_cases and tok.type in ("_ROWSEP", "_END_CASES"):
        reason = "a cases row without '&' between its value and its condition"
    return Reject(reason)


# --------------------------------------------------------------------------- API


MEMO_MAX_CHARS = 2000  # a claim up to this long is parsed once per process (trees are immutable)


def parse(latex: str) -> Node:
    """The tree of one LaTeX expression; ParseError (only) for what cannot be read."""
    if isinstance(latex, str) and len(latex) <= MEMO_MAX_CHARS:
        return _parse_remembered(latex)
    return _parse(latex)


@lru_cache(maxsize=8192)
def _parse_remembered(latex: str) -> Node:
    return _parse(latex)


def _parse(latex: str) -> Node:
    try:
        text = check_input(latex)
        _, problems = scan_delimiters(text)
        if problems:
            raise Reject(describe_problem(problems[0]), problems[0][1])
        text = normalise_latex(text)
        tokens = Tokenizer(text).run()
        _check_relations(tokens)
        try:
            tree = _parser().parse(tokens)
        except UnexpectedInput as exc:
            raise _unexpected(exc, text, tokens) from None
        _check_tree(tree)
        return tree
    except Reject as exc:
        raise ParseError(str(latex), exc.reason, exc.position) from None
    except RecursionError:
        raise ParseError(str(latex), "nested too deeply") from None
    except (LarkError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        # a bug in this module; the contract is still a ParseError, with a telling reason
        raise ParseError(str(latex), f"internal parser error ({type(exc).__name__}: {exc})") from None


def parse_lenient(latex: str) -> ParseResult:
    """parse(), and when that fails, parse() after OCR repairs, which are reported."""
    try:
        return ParseResult(parse(latex), ())
    except ParseError as first:
        failure = first
    if not isinstance(latex, str):
        raise failure
    text, repairs = latex, []
    for repair in (repair_tuple, repair_ends, repair_remarks, repair_superscript_plus, repair_delimiters):
        text, notes = repair(text)
        if not notes:
            continue
        repairs.extend(notes)
        try:
            return ParseResult(parse(text), tuple(repairs))
        except ParseError as exc:
            last = exc
    if not repairs:
        raise failure
    still = "" if last.reason == failure.reason else f": {last.reason}"
    raise ParseError(latex, f"{failure.reason} (after trying: {'; '.join(repairs)}{still})", failure.position)
