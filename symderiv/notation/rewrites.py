r"""Text rewrites for spellings the grammar would misread, applied after normalise_latex's.

- a power on a function name: \tanh^2(z) is (\tanh z)^2, not \tanh^2 times z (so are \sigma^{2}(z)
  and \operatorname{sech}^2(z));
- Ng's layer, sample and transpose in one superscript: a^{[1](i)T} is (a^{[1](i)})^T;
- a condition under a sum: \sum_{j \neq y_i}, \sum_{k: k \ne c} and \sum_{j=1, j \neq y_i}^{C} sum
  over j with the indicator of the condition: \sum_{j} \mathbb{1}[j \neq y_i] (…).
"""

from __future__ import annotations

import re

_FUNC_POWER = re.compile(
    r"(?P<head>\\(?:tanh|sigma|sigmoid|exp|log|ln|phi|psi|cosh|sinh|sech)"
    r"|\\(?:operatorname|mathrm|text|textrm)\s*\{\s*(?:tanh|sigmoid|sech)\s*\})"
    r"\s*\^\s*(?:\{\s*(?P<p>\d)\s*\}|(?P<q>\d))\s*(\\left\s*)?\("
)
_SAMPLE_T = re.compile(r"\^\{\s*([\[(]\s*[^{}\[\]()]+?\s*[\])])\s*(\(\s*[a-z]\s*\))\s*(T|\\top|\\intercal|')\s*\}")


def _closing(text: str, open_pos: int) -> int | None:
    depth = 0
    for k in range(open_pos, len(text)):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return None


def _function_powers(text: str) -> str:
    start = 0
    while (m := _FUNC_POWER.search(text, start)) is not None:
        open_pos = m.end() - 1
        close = _closing(text, open_pos)
        if close is None:
            return text
        right = text.rfind("\\right", open_pos, close)
        end_arg = right if right != -1 and not text[right + 6 : close].strip() else close
        power = m.group("p") or m.group("q")
        new = f"\\left({m.group('head')}({text[open_pos + 1 : end_arg]})\\right)^{{{power}}}"
        text = text[: m.start()] + new + text[close + 1 :]
        start = m.start() + len(new)
    return text


_SUM_SUB = re.compile(r"\\sum\s*_\s*\{")
_CONDITION = re.compile(r"(\\neq|\\ne\b|\\not=|!=|\\leq?\b|\\geq?\b|<|>)")


def _group_end(text: str, open_pos: int) -> int | None:
    depth = 0
    for k in range(open_pos, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return None


def _conditional_sums(text: str) -> str:
    r"""\sum_{j \neq y_i} x → \sum_{j} \mathbb{1}[j \neq y_i] x (also `k: k \ne c` and `j=1, j \ne y_i`)."""
    start = 0
    while (m := _SUM_SUB.search(text, start)) is not None:
        open_pos = m.end() - 1
        close = _group_end(text, open_pos)
        if close is None:
            return text
        sub = text[open_pos + 1 : close]
        parts = [p.strip() for p in re.split(r"[:,]", sub)]
        conditions = [p for p in parts if _CONDITION.search(p)]
        kept = [p for p in parts if p not in conditions]
        if not conditions or len(parts) > 3:
            start = close
            continue
        index = kept[0] if kept else _CONDITION.split(conditions[0])[0].strip()
        script = "{" + index + "}"
        after = close + 1
        sup = re.match(r"\s*\^\s*(\{[^{}]*\}|\w)", text[after:])
        if sup:
            script += "^" + sup.group(1)
            after += sup.end()
        guards = " ".join(rf"\mathbb{{1}}[{c}]" for c in conditions)
        text = text[: m.start()] + rf"\sum_{script} {guards} " + text[after:]
        start = m.start() + 5
    return text


def rewrite(text: str) -> str:
    text = _SAMPLE_T.sub(r"^{\1\2}{}^{T}", text)
    text = _conditional_sums(text)
    return _function_powers(text)
