"""The tokenizer's rules for commands (\\frac, \\mathbb, environments, Greek letters, escapes) and
for scripts (superscripts, layer brackets): mixins of ``Tokenizer`` (notation/lexer.py)."""

from __future__ import annotations

import re

from symderiv.notation.normalise import (
    BLACKBOARD,
    CONDITION_WORDS,
    CONSTANT_GREEK,
    DECORATIONS,
    ENV_NAME,
    FUNCTION_COMMANDS,
    GREEK,
    MATRIX_ENVS,
    MULOPS,
    ONE_ITEM,
    OTHERWISE_WORDS,
    RELATIONS,
    TEXT_COMMANDS,
    TEXT_FUNCTION_WORDS,
    Reject,
)

# --------------------------------------------------------------------------- tokenizer


T_FORMS = {
    "T",
    "\\top",
    "\\intercal",
    "\\mathsf{T}",
    "\\mathsfT",
    "\\mathrm{T}",
    "\\mathrmT",
    "\\text{T}",
    "\\textT",
    "\\mathsf{\\top}",
    "\\rm{T}",
    "\\sf{T}",
}
LAYER_SUFFIXES = T_FORMS | {"'", "\\prime"}


class CommandTokens:
    def greek(self, name: str, start: int, end: int, decor: str = "", arg: bool = False):
        value = f"{decor}:{name}" if decor else name
        if name in CONSTANT_GREEK or name not in GREEK:
            self.emit("GREEK", value, start, end)
        else:
            self.emit("FGREEK", value, start, end)
            if not arg:
                self.mark_call(end)

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
        elif name in ("lceil", "rceil", "lfloor", "rfloor"):
            self.emit("_" + name.upper(), name, i, end)  # \lceil i/2 \rceil: the grammar pairs them
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
        key = content.lower().strip().rstrip(":,").replace("\\_", "_").replace("-", "")
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


class ScriptTokens:
    def open_layer(self, start: int, content: int, close: int, close_type: str, resume: int):
        self.emit("_LAYER_OPEN", "(", start, content)
        self.stack.append("layer")
        self.layer_closes[close] = (close_type, resume)

    def braced(self, i: int) -> tuple[str, int]:
        """The argument of a command at i: the content of {...} or one char/command."""
        i = self.skip_ws(i)
        if i >= len(self.s):
            raise Reject("a command at the end is missing its argument")
        if self.s[i] == "{":
            close = self.match[i]
            return self.s[i + 1 : close].strip(), close + 1
        m = ONE_ITEM.match(self.s, i)
        return m.group(), m.end()

    def superscript(self, i: int) -> tuple[int, bool]:
        s = self.s
        j = self.skip_ws(i + 1)
        if j < len(s) and s[j] == "{":
            close = self.match[j]
            key = re.sub(r"\s+", "", s[j + 1 : close])
            if key in T_FORMS:
                self.emit("SUP_T", "T", i, close + 1)
                return close + 1, False
            if key and (set(key) == {"'"} or key == "\\prime"):
                for _ in range(max(1, key.count("'"))):
                    self.emit("PRIME", "'", i, close + 1)
                return close + 1, False
            k = self.skip_ws(j + 1)
            if s[k : k + 1] in ("(", "[") and k in self.match:
                inner_close = self.match[k]
                suffix = re.sub(r"\s+", "", s[inner_close + 1 : close])
                if suffix == "" or suffix in LAYER_SUFFIXES:
                    self.open_layer(i, k + 1, inner_close, "LAYER_CLOSE_T" if suffix else "LAYER_CLOSE", close + 1)
                    return k + 1, False
        elif s[j : j + 1] in ("(", "[") and j in self.match:  # OCR: z^(3)
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
        return i + 1, not s[j : j + 1] == "{"
