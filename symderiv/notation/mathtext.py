r"""Feedback text with LaTeX math in it, split into prose and math, rendered for where it is shown.

The checker's feedback is one or two sentences in which formulas appear as LaTeX without
delimiters ("reorder the product as W^{(2)\top} \left(\psi\left(Z^{(3)}\right) - \Delta\right)."),
so a JSON consumer gets what the checker said, unchanged. Outputs render it:

>>> feedback_unicode(r"Right up to layout: transpose A^{(2)}.")
'Right up to layout: transpose A⁽²⁾.'
>>> split_math(r"Wrong layer: W^{(1)} should be W^{(2)} (with that change the claim is right).")[:2]
[('text', 'Wrong layer: '), ('math', 'W^{(1)}')]

A math span is a run of words with LaTeX in it (a command, a script, a brace), with the
operators, single letters and numbers between them, kept whole while its braces or
\left/\right are open; trailing punctuation and unmatched brackets stay prose. Quoted words
('\fra') are prose: they name what the student wrote. Every output renders the same spans,
so a formula is never shown as source.
"""

from __future__ import annotations

import re

from symderiv.notation.unicode import to_unicode

__all__ = ["split_math", "feedback_unicode", "MATH", "TEXT"]

MATH, TEXT = "math", "text"
_WORD = re.compile(r"\S+|\s+")
_MARKED = re.compile(r"\\[A-Za-z]|[\^_{}]")
_JOINER = re.compile(r"[-+−=<>≠≤≥⊙×·∘*/|‖]+|\d+(\.\d+)?|[A-Za-zΑ-Ωα-ω]|[A-Za-zΑ-Ωα-ω]?[()\[\]][,.;:]?|\\[A-Za-z]+.*")
_INFORMAL_SCRIPT = re.compile(r"(?<=[A-Za-zΑ-Ωα-ω])_([a-z]{2})(?![\w{])")
_TRAILING = ".,;:"


def split_math(text: str) -> list[tuple[str, str]]:
    """[(MATH | TEXT, piece), …] whose pieces concatenate back to `text`."""
    words = _WORD.findall(text or "")
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        start = _span_start(words, i)
        if start is None:
            _add(out, TEXT, words[i])
            i += 1
            continue
        end, depth = i, 0
        j = i
        while j < len(words):
            word = words[j]
            if word.isspace():
                j += 1
                continue
            inside = depth > 0
            if not (inside or _MARKED.search(word) or _JOINER.fullmatch(word)) or _quoted(word):
                break
            depth = max(depth + _depth(word), 0)
            end = j + 1
            j += 1
            if depth == 0 and word[-1] in _TRAILING:  # "W^{(2)}, a different …": the comma ends it
                break
        span = "".join(words[i:end])
        lead, body, tail = _trim(span)
        if not _MARKED.search(body):
            _add(out, TEXT, span)
        else:
            _add(out, TEXT, lead)
            out.append((MATH, body))
            _add(out, TEXT, tail)
        i = end
    return [piece for piece in out if piece[1]]


def _span_start(words: list[str], i: int) -> int | None:
    word = words[i]
    if word.isspace() or _quoted(word):
        return None
    if _MARKED.search(word):
        return i
    if _JOINER.fullmatch(word):  # "2 \lambda W": a number or letter joins the math that follows
        nxt = next((w for w in words[i + 1 :] if not w.isspace()), "")
        if _MARKED.search(nxt) and not _quoted(nxt):
            return i
    return None


def _quoted(word: str) -> bool:
    return word[:1] in "'\"‘“`" or word.rstrip(_TRAILING)[-1:] in "'\"’”`"


def _depth(word: str) -> int:
    return (
        word.count("{")
        - word.count("}")
        + 2 * (len(re.findall(r"\\left\b", word)) - len(re.findall(r"\\right\b", word)))
    )


def _trim(span: str) -> tuple[str, str, str]:
    """(leading prose, math, trailing prose): punctuation and unmatched brackets are prose."""
    body, tail = span.rstrip(), span[len(span.rstrip()) :]
    changed = True
    while changed and body:
        changed = False
        if body[-1] in _TRAILING:
            body, tail = body[:-1], body[-1] + tail
            changed = True
        elif body[-1] in ")]" and _unmatched_close(body):
            body, tail = body[:-1], body[-1] + tail
            changed = True
    lead = ""
    while body and body[0] in "([" and _unmatched_open(body):
        lead, body = lead + body[0], body[1:]
    return lead, body, tail


def _unmatched_close(body: str) -> bool:
    opener = "(" if body[-1] == ")" else "["
    return body.count(opener) < body.count(body[-1])


def _unmatched_open(body: str) -> bool:
    closer = ")" if body[0] == "(" else "]"
    return body.count(body[0]) > body.count(closer)


def _add(out: list[tuple[str, str]], kind: str, piece: str) -> None:
    if not piece:
        return
    if out and out[-1][0] == kind == TEXT:
        out[-1] = (TEXT, out[-1][1] + piece)
    else:
        out.append((kind, piece))


def informal_to_latex(span: str) -> str:
    """δ_ij (the feedback's informal two-index subscript; LaTeX from the tree always braces) as δ_{ij}."""
    return _INFORMAL_SCRIPT.sub(r"_{\1}", span)


def feedback_unicode(text: str) -> str:
    """The feedback with every formula as Unicode text (terminal, Markdown, plain JSON)."""
    return "".join(to_unicode(informal_to_latex(piece)) if kind == MATH else piece for kind, piece in split_math(text))
