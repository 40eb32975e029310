"""Tokens for the grammar (grammar.lark): decides what context-dependent characters mean: whether
`(` opens a call or a layer like W(2), what a superscript is, how `|` pairs."""
from __future__ import annotations

import re

from lark import Token

from symderiv.notation.normalise import (
    BLACKBOARD,
    CONDITION_WORDS,
    CONSTANT_GREEK,
    DECORATIONS,
    ENGLISH_WORDS,
    ENV_NAME,
    FUNCTION_COMMANDS,
    FUNCTION_LETTERS,
    FUNCTION_WORDS,
    GREEK,
    INDEX_LETTERS,
    MATRIX_ENVS,
    MULOPS,
    ONE_ITEM,
    OTHERWISE_WORDS,
    RELATIONS,
    TEXT_COMMANDS,
    TEXT_FUNCTION_WORDS,
    Reject,
    describe_problem,
    scan_delimiters,
    skip_script,
)

# --------------------------------------------------------------------------- tokenizer

_MASTER = re.compile(r"(?P<ws>\s+)|(?P<rowsep>\\\\)|(?P<cmd>\\[A-Za-z]+)|(?P<esc>\\.)"
                     r"|(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<word>[A-Za-z]+)|(?P<rel><=|>=|!=|[<>=])"
                     r"|(?P<ch>.)", re.S)
_T_FORMS = {"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathsfT", "\\mathrm{T}", "\\mathrmT",
            "\\text{T}", "\\textT", "\\mathsf{\\top}", "\\rm{T}", "\\sf{T}"}
_LAYER_SUFFIXES = _T_FORMS | {"'", "\\prime"}
_PAREN_LAYER = re.compile(r"\s*(\d+|[lL]\s*(?:[+-]\s*\d+)?)\s*")
_CHAR_TOKENS = {"+": "PLUS", "-": "MINUS", "/": "_SLASH", ",": "_COMMA", "&": "_AMP",
                "'": "PRIME", '"': "_COND"}


class Tokenizer:
    def __init__(self, text: str):
        self.s = text
        matches, problems = scan_delimiters(text)
        if problems:
            raise Reject(describe_problem(problems[0]))
        self.match = matches
        self.tokens: list[Token] = []
        self.stack: list[str] = []          # open ( [ { \{ | \| and layer groups
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
                script_arg = s[self.skip_ws(i + 1):self.skip_ws(i + 1) + 1] != "{"
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
        if text == "1" and self.s[end:end + 1] in ("[", "_"):  # 1[z>0], 1_N, 1_{\{z>0\}}
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
        if not arg and self.s[end:end + 1] == "(" and end in self.match:
            close = self.match[end]
            if _PAREN_LAYER.fullmatch(self.s, end + 1, close):  # W(2), a(l-1)
                self.open_layer(end, end + 1, close, "LAYER_CLOSE", close + 1)
                return end + 1
        return end

    def greek(self, name: str, start: int, end: int, decor: str = "", arg: bool = False):
        value = f"{decor}:{name}" if decor else name
        if name in CONSTANT_GREEK or name not in GREEK:
            self.emit("GREEK", value, start, end)
        else:
            self.emit("FGREEK", value, start, end)
            if not arg:
                self.mark_call(end)

    def open_layer(self, start: int, content: int, close: int, close_type: str, resume: int):
        self.emit("_LAYER_OPEN", "(", start, content)
        self.stack.append("layer")
        self.layer_closes[close] = (close_type, resume)

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

    def braced(self, i: int) -> tuple[str, int]:
        """The argument of a command at i: the content of {...} or one char/command."""
        i = self.skip_ws(i)
        if i >= len(self.s):
            raise Reject("a command at the end is missing its argument")
        if self.s[i] == "{":
            close = self.match[i]
            return self.s[i + 1:close].strip(), close + 1
        m = ONE_ITEM.match(self.s, i)
        return m.group(), m.end()

    def superscript(self, i: int) -> tuple[int, bool]:
        s = self.s
        j = self.skip_ws(i + 1)
        if j < len(s) and s[j] == "{":
            close = self.match[j]
            key = re.sub(r"\s+", "", s[j + 1:close])
            if key in _T_FORMS:
                self.emit("SUP_T", "T", i, close + 1)
                return close + 1, False
            if key and (set(key) == {"'"} or key == "\\prime"):
                for _ in range(max(1, key.count("'"))):
                    self.emit("PRIME", "'", i, close + 1)
                return close + 1, False
            k = self.skip_ws(j + 1)
            if s[k:k + 1] in ("(", "[") and k in self.match:
                inner_close = self.match[k]
                suffix = re.sub(r"\s+", "", s[inner_close + 1:close])
                if suffix == "" or suffix in _LAYER_SUFFIXES:
                    self.open_layer(i, k + 1, inner_close,
                                    "LAYER_CLOSE_T" if suffix else "LAYER_CLOSE", close + 1)
                    return k + 1, False
        elif s[j:j + 1] in ("(", "[") and j in self.match:  # OCR: z^(3)
            self.open_layer(i, j + 1, self.match[j], "LAYER_CLOSE", self.match[j] + 1)
            return j + 1, False
        else:
            m = ONE_ITEM.match(s, j) if j < len(s) else None
            if m and m.group() in ("T", "\\top", "\\intercal"):
                self.emit("SUP_T", "T", i, m.end())
                return m.end(), False
            if m and m.group() in ("'", "\\prime"):
                self.emit("PRIME", "'", i, m.end())
                return m.end(), False
        self.emit("_CARET", "^", i, i + 1)
        return i + 1, not s[j:j + 1] == "{"

    def escape(self, text: str, i: int) -> int:
        c = text[1]
        if c == "{":
            self.emit(self.call_opens.get(i, "_LSET"), "\\{", i, i + 2)
            self.stack.append("\\{")
        elif c == "}":
            self.emit("_RSET", "\\}", i, i + 2)
            self.pop()
        elif c == "|":
            self.bar("‖", "_NORM_OPEN", "_NORM_CLOSE", i, i + 2)
        elif c == " ":
            if self.stack and self.stack[-1] == "[row" and self.tokens[-1].type != "_CELLSEP":
                self.emit("_CELLSEP", "\\ ", i, i + 2)
        else:
            raise Reject(f"unknown command '{text}'", i)
        return i + 2

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

    def command(self, name: str, i: int, end: int, arg: bool) -> int:
        if name in GREEK:
            self.greek(name, i, end, arg=arg)
        elif name in FUNCTION_COMMANDS:
            self.emit("NAMEDFUNC", FUNCTION_COMMANDS[name], i, end)
            self.mark_call(end)
        elif name in MULOPS:
            self.emit("MULOP", MULOPS[name], i, end)
        elif name in RELATIONS:
            self.emit("REL", RELATIONS[name], i, end)
        elif name in ("frac", "dfrac", "tfrac", "cfrac"):
            self.emit("_FRAC", name, i, end)
        elif name in ("partial", "sum", "sqrt", "in"):
            self.emit("_" + name.upper(), name, i, end)
        elif name == "infty":
            self.emit("GREEK", "infty", i, end)
        elif name in ("left", "right"):
            self.after_left = name == "left"
        elif name in ("lVert", "lvert"):
            self.emit("_NORM_OPEN" if name == "lVert" else "_BAR_OPEN", name, i, end)
            self.stack.append("‖" if name == "lVert" else "|")
        elif name in ("rVert", "rvert"):
            self.emit("_NORM_CLOSE" if name == "rVert" else "_BAR_CLOSE", name, i, end)
            self.pop()
        elif name == "Vert":
            self.bar("‖", "_NORM_OPEN", "_NORM_CLOSE", i, end)
        elif name == "vert":
            self.bar("|", "_BAR_OPEN", "_BAR_CLOSE", i, end)
        elif name in ("begin", "end"):
            return self.environment(name, i, end)
        elif name in DECORATIONS:
            return self.decoration(DECORATIONS[name], name, i, end, arg)
        elif name in TEXT_COMMANDS:
            return self.text(name, i, end, arg)
        elif name in ("top", "intercal", "prime"):
            raise Reject(f"'\\{name}' without a base to transpose", i)
        else:
            raise Reject(f"unknown or unsupported command '\\{name}'", i)
        return end

    def environment(self, which: str, i: int, end: int) -> int:
        m = ENV_NAME.match(self.s, end)
        if not m:
            raise Reject(f"'\\{which}' without an environment name", i)
        env = m.group(1)
        if env == "cases":
            self.emit("_BEGIN_CASES" if which == "begin" else "_END_CASES", env, i, m.end())
        elif env in MATRIX_ENVS:
            self.emit("_BEGIN_MATRIX" if which == "begin" else "_END_MATRIX", env, i, m.end())
        elif env in ("aligned", "align", "align*", "split", "gathered", "eqnarray"):
            raise Reject(f"an alignment environment '{env}' (pass one side of one equation)", i)
        else:
            raise Reject(f"unsupported environment '{env}'", i)
        return m.end()

    def decoration(self, decor: str, name: str, i: int, end: int, arg: bool) -> int:
        content, after = self.braced(end)
        if decor == "bold" and (content == "1" or (content == "I" and name in BLACKBOARD)):
            self.emit("ONE", "1", i, after)
            self.mark_call(after, ones=True)
        elif len(content) == 1 and content.isalpha():
            return self.letter(content, i, after, decor=decor, arg=arg)
        elif content.startswith("\\") and content[1:] in GREEK:
            self.greek(content[1:], i, after, decor=decor, arg=arg)
        elif self.s[self.skip_ws(end)] == "{":
            self.emit("DECOR", decor, i, end)  # a complex argument: \hat{y_i}
            return end
        else:
            raise Reject(f"cannot read the argument of '\\{name}'", i)
        return after

    def text(self, name: str, i: int, end: int, arg: bool) -> int:
        content, after = self.braced(end)
        key = content.lower().strip().rstrip(":,")
        if key in TEXT_FUNCTION_WORDS:
            self.emit("NAMEDFUNC", TEXT_FUNCTION_WORDS[key], i, after)
            self.mark_call(after)
        elif len(content) == 1 and content.isalpha():
            return self.letter(content, i, after, arg=arg)
        elif key in CONDITION_WORDS or (content and not content.strip("\"'`“” ")):
            self.emit("_COND", content, i, after)
        elif key in OTHERWISE_WORDS:
            self.emit("OTHERWISE", content, i, after)
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9 ]*", content.strip()):
            self.emit("TEXT", content.strip(), i, after)
        else:
            raise Reject(f"prose ('\\{name}{{{content}}}') where a formula was expected", i)
        return after
