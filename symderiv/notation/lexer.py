"""Tokens for the grammar (grammar.lark): decides what context-dependent characters mean: whether
`(` opens a call or a layer like W(2), what a superscript is, how `|` pairs."""

from __future__ import annotations

import re

from lark import Token

# --------------------------------------------------------------------------- tokenizer
from symderiv.notation.lexer_rules import CommandTokens, ScriptTokens
from symderiv.notation.normalise import (
    ENGLISH_WORDS,
    FUNCTION_LETTERS,
    FUNCTION_WORDS,
    INDEX_LETTERS,
    RELATIONS,
    Reject,
    describe_problem,
    scan_delimiters,
    skip_script,
)

_MASTER = re.compile(
    r"(?P<ws>\s+)|(?P<rowsep>\\\\)|(?P<cmd>\\[A-Za-z]+)|(?P<esc>\\.)"
    r"|(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<word>[A-Za-z]+)|(?P<rel><=|>=|!=|[<>=])"
    r"|(?P<ch>.)",
    re.S,
)
_PAREN_LAYER = re.compile(r"\s*(\d+|[lL]\s*(?:[+-]\s*\d+)?)\s*")
_CHAR_TOKENS = {"+": "PLUS", "-": "MINUS", "/": "_SLASH", ",": "_COMMA", "&": "_AMP", "'": "PRIME", '"': "_COND"}


class Tokenizer(CommandTokens, ScriptTokens):
    def __init__(self, text: str):
        self.s = text
        matches, problems = scan_delimiters(text)
        if problems:
            raise Reject(describe_problem(problems[0]))
        self.match = matches
        self.tokens: list[Token] = []
        self.stack: list[str] = []  # open ( [ { \{ | \| and layer groups
        self.call_opens: dict[int, str] = {}  # position of a bracket -> its call token type
        self.layer_closes: dict[int, tuple[str, int]] = {}  # closer position -> (type, resume)
        self.after_left = False

    def emit(self, type_: str, value: str, start: int, end: int):
        self.tokens.append(Token(type_, value, start_pos=start, end_pos=end))

    def skip_ws(self, i: int) -> int:
        while i < len(self.s) and self.s[i] == " ":
            i += 1
        return i

    def run(self) -> list[Token]:
        s, i, script_arg = self.s, 0, False
        while i < len(s):
            m = _MASTER.match(s, i)
            kind, text = m.lastgroup, m.group()
            if kind == "ws":
                i = m.end()
                continue
            arg, script_arg = script_arg, False
            after_left, self.after_left = self.after_left, False
            if kind == "num":
                i = self.number(text, i, arg)
            elif kind == "word":
                i = self.word(text, i, arg)
            elif kind == "cmd":
                i = self.command(text[1:], i, m.end(), arg)
            elif kind == "rel":
                self.emit("REL", RELATIONS[text], i, m.end())
                i = m.end()
            elif kind == "rowsep":
                self.emit("_ROWSEP", text, i, m.end())
                i = m.end()
            elif kind == "esc":
                i = self.escape(text, i)
            elif text == "^":
                i, script_arg = self.superscript(i)
            elif text == "_":
                self.emit("_SUB", "_", i, i + 1)
                script_arg = s[self.skip_ws(i + 1) : self.skip_ws(i + 1) + 1] != "{"
                i += 1
            else:
                i = self.char(text, i, after_left)
        return self.tokens

    # -- pieces

    def number(self, text: str, i: int, arg: bool) -> int:
        if arg:  # LaTeX: x_12 is x_1 2
            self.emit("NUMBER", text[0], i, i + 1)
            return i + 1
        end = i + len(text)
        if text == "1" and self.s[end : end + 1] in ("[", "_"):  # 1[z>0], 1_N, 1_{\{z>0\}}
            self.emit("ONE", "1", i, end)
            self.mark_call(end, ones=True)
        else:
            self.emit("NUMBER", text, i, end)
        return end

    def word(self, text: str, i: int, arg: bool) -> int:
        if arg:
            text = text[0]
        elif len(text) > 1:
            key = text.lower()
            if key in FUNCTION_WORDS:
                self.emit("NAMEDFUNC", FUNCTION_WORDS[key], i, i + len(text))
                self.mark_call(i + len(text))
                return i + len(text)
            if self.stack and self.stack[-1] == "sub{" and len(text) >= 3 and not set(text) <= INDEX_LETTERS:
                self.emit("TEXT", text, i, i + len(text))
                return i + len(text)
            if len(text) >= 4 or key in ENGLISH_WORDS:
                raise Reject(f"prose ('{text}') where a formula was expected", i)
        for k, ch in enumerate(text):
            end = self.letter(ch, i + k, i + k + 1, arg=arg)
        return end

    def letter(self, ch: str, start: int, end: int, decor: str = "", arg: bool = False) -> int:
        """Emit a letter; returns where tokenizing goes on (after a W(2) layer's '(')."""
        value = f"{decor}:{ch}" if decor else ch
        if ch in FUNCTION_LETTERS:
            self.emit("FLETTER", value, start, end)
            if not arg:
                self.mark_call(end)
            return end
        self.emit("LETTER", value, start, end)
        if not arg and self.s[end : end + 1] == "(" and end in self.match:
            close = self.match[end]
            if _PAREN_LAYER.fullmatch(self.s, end + 1, close):  # W(2), a(l-1)
                self.open_layer(end, end + 1, close, "LAYER_CLOSE", close + 1)
                return end + 1
        return end

    def mark_call(self, i: int, ones: bool = False):
        r"""Mark the bracket that opens a function's arguments, if one follows at i.

        A function name may carry subscripts and primes first (g'_l(z)); the all-ones
        \mathbb{1} takes none, but its condition may be in \{...\}.
        """
        s = self.s
        while not ones:
            i = self.skip_ws(i)
            if s.startswith("'", i):
                i += 1
            elif s.startswith("_", i):
                i = skip_script(s, i + 1)
            elif s.startswith(("^{\\prime}", "^\\prime", "^'", "^{'}"), i):
                i = skip_script(s, i + 1)
            else:
                break
        i = self.skip_ws(i)
        if s.startswith("\\left", i):
            i = self.skip_ws(i + 5)
        if s.startswith("(", i):
            self.call_opens[i] = "_CALL_LPAR"
        elif s.startswith("[", i):
            self.call_opens[i] = "_CALL_LBRACK"
        elif ones and s.startswith("\\{", i):
            self.call_opens[i] = "_CALL_LSET"

    def bar(self, kind: str, open_type: str, close_type: str, start: int, end: int):
        if self.stack and self.stack[-1] == kind:
            self.emit(close_type, kind, start, end)
            self.stack.pop()
        else:
            self.emit(open_type, kind, start, end)
            self.stack.append(kind)

    def pop(self):
        if self.stack:
            self.stack.pop()

    def char(self, c: str, i: int, after_left: bool) -> int:
        if c in "([":
            call = self.call_opens.get(i)
            self.emit(call or ("_LPAR" if c == "(" else "_LBRACK"), c, i, i + 1)
            self.stack.append("[row" if c == "[" and not call and not after_left else c)
        elif c in ")]":
            self.pop()
            if i in self.layer_closes:
                type_, resume = self.layer_closes.pop(i)
                self.emit(type_, c, i, resume)
                return resume
            self.emit("_RPAR" if c == ")" else "_RBRACK", c, i, i + 1)
        elif c == "{":
            sub = bool(self.tokens) and self.tokens[-1].type == "_SUB"
            self.emit("_LBRACE", c, i, i + 1)
            self.stack.append("sub{" if sub else "{")
        elif c == "}":
            self.emit("_RBRACE", c, i, i + 1)
            self.pop()
        elif c == "|":
            self.bar("|", "_BAR_OPEN", "_BAR_CLOSE", i, i + 1)
        elif c == "*":
            self.emit("MULOP", "star", i, i + 1)
        elif c in _CHAR_TOKENS:
            self.emit(_CHAR_TOKENS[c], c, i, i + 1)
        else:
            raise Reject(f"unexpected character '{c}'", i)
        return i + 1
