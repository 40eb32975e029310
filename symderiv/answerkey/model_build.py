"""Building a Model from a key's `[model]` table (or from an expanded `[network]`), with every
declaration checked: a symbol that names two things, an equation that uses a symbol neither
declared nor defined before it, a quantity whose derivative does not exist are each a one-line
DerivationFileError naming the file, the line and the symbol at fault."""

from __future__ import annotations

from dataclasses import replace

from symderiv.answerkey.model import Equation, Model, Symbol, form_of, key_of
from symderiv.answerkey.model_functions import read_functions
from symderiv.answerkey.model_notation import ModelReader
from symderiv.answerkey.schema import ModelSpec, find_line, line_of
from symderiv.core.errors import DerivationFileError, NotationError, ParseError
from symderiv.core.tree import Node, Num, Pow, Product, Sym
from symderiv.notation.latex import to_latex
from symderiv.notation.normalise import GREEK
from symderiv.notation.parse import parse


def written_name(text: str) -> str:
    """A bare Greek name (lambda, alpha) as LaTeX (\\lambda), as key files may write symbol names."""
    return "\\" + text if text in GREEK else text


def word_alias(alias: str) -> tuple | None:
    """An alias the parser reads as juxtaposed letters (dY, dW): the spelling keys of its letters."""
    try:
        node = parse(alias)
    except ParseError:
        return None
    if (
        isinstance(node, Product)
        and all(isinstance(f, Sym) for f in node.factors)
        and all(op == "juxt" for op in node.ops)
    ):
        return tuple(key_of(f) for f in node.factors)
    return None


def parse_symbol(spelling: str, path: str, text: str) -> Sym:
    written = written_name(spelling)
    try:
        node = parse(written)
    except ParseError as exc:
        raise DerivationFileError(
            path, f"model.symbols: cannot read the symbol {spelling!r}: {exc.reason}", line_of(text, spelling)
        ) from None
    if not isinstance(node, Sym):
        raise DerivationFileError(path, f"model.symbols: {spelling!r} is not one symbol", line_of(text, spelling))
    return node


def power_alias(spelling: str) -> Pow | None:
    """\\sigma^2 as an alias: a letter (no layer, no subscript) to a whole-number power."""
    try:
        node = parse(spelling)
    except ParseError:
        return None
    if (
        isinstance(node, Pow)
        and isinstance(node.base, Sym)
        and node.base.layer is None
        and not node.base.indices
        and isinstance(node.exponent, Num)
    ):
        return node
    return None


def split_equation(eq: str, path: str, line: int | None) -> tuple[str, str]:
    depth = 0
    for i, c in enumerate(eq):
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == "=" and depth == 0 and eq[i - 1 : i] not in ("<", ">", "!", "\\"):
            return eq[:i].strip(), eq[i + 1 :].strip()
    raise DerivationFileError(path, f"model.equations: {eq!r} is not an equation 'symbol = expression'", line)


class ModelBuilder:
    def __init__(self, spec: ModelSpec, path: str, text: str, sizes: set[str]):
        self.spec, self.path, self.text, self.sizes = spec, path, text, sizes
        self.spellings: dict = {}
        self.forms: dict = {}
        self.words: dict = {}
        self.powers: dict = {}
        self.symbols: list[Symbol] = []
        self.declared: dict = {}

    def fail(self, reason: str, line: int | None):
        raise DerivationFileError(self.path, reason, line)

    def add_spelling(self, sym: Sym, sid: str, spelling: str):
        key = key_of(sym)
        if self.spellings.get(key, sid) != sid:
            self.fail(
                f"model.symbols: {spelling!r} names two symbols ({self.spellings[key]} and {sid})",
                line_of(self.text, spelling),
            )
        self.spellings[key] = sid

    def declare(self):
        for spelling, s in self.spec.symbols.items():
            sym = parse_symbol(spelling, self.path, self.text)
            sid = to_latex(sym)
            self.declared[sid] = (spelling, s, sym)
            self.forms[sid] = form_of(sym)
            self.add_spelling(sym, sid, spelling)
            self.add_spelling(self.forms[sid], sid, spelling)

    def read_equations(self) -> list:
        equations = []
        for eq in self.spec.equations:
            line = find_line(self.text, eq[:40], self.text.find("[model]"))
            lhs, rhs = split_equation(eq, self.path, line)
            try:
                target, body = parse(lhs), parse(rhs)
            except ParseError as exc:
                self.fail(f"model.equations: {exc}", line)
            if not isinstance(target, Sym):
                self.fail(f"model.equations: the left side of {eq!r} is not one symbol", line)
            entry = ()
            bare = replace(target, indices=())
            if (
                target.indices
                and key_of(target) not in self.spellings
                and key_of(bare) in self.spellings
                and all(isinstance(i, Sym) and len(i.name) == 1 and not i.indices for i in target.indices)
            ):
                entry, target = tuple(i.name for i in target.indices), bare  # y_i = …: y entry by entry
                if len(self.declared.get(self.spellings[key_of(bare)], ("", None))[1].shape or ()) == 0:
                    self.fail(f"model.equations: {lhs} defines entries: declare the shape of {to_latex(bare)}", line)
            tid = to_latex(target)
            key = key_of(target)
            if key in self.spellings and self.spellings[key] != tid:
                tid = self.spellings[key]
            if any(e[0] == tid for e in equations):
                self.fail(f"model.equations: {lhs} is defined twice", line)
            self.spellings.setdefault(key, tid)
            self.forms.setdefault(tid, form_of(target))
            self.spellings.setdefault(key_of(self.forms[tid]), tid)
            equations.append((tid, body, eq, line, entry))
        return equations

    def check_symbols(self, equations: list):
        for sid, (spelling, s, _sym) in self.declared.items():
            defined = any(e[0] == sid for e in equations)
            line = line_of(self.text, spelling)
            if not defined and s.role is None:
                self.fail(
                    f"model.symbols.{spelling}: role required (input, parameter, label, hyperparameter or mask): "
                    "no equation defines it",
                    line,
                )
            if defined and s.role is not None:
                self.fail(f"model.symbols.{spelling}: has a role but an equation also defines it", line)
            if s.labels is not None and s.role != "label":
                self.fail(f"model.symbols.{spelling}: labels is only for role = \"label\"", line)
            if s.role == "hyperparameter" and s.shape:
                self.fail(f"model.symbols.{spelling}: a hyperparameter is a number (no shape)", line)
            if len(s.shape) > 2:
                self.fail(f"model.symbols.{spelling}: shape has at most two axes", line)
            shape = tuple(s.shape) if len(s.shape) != 1 else (s.shape[0], 1)
            column_id = None
            if s.columns:
                column_sym = parse_symbol(s.columns, self.path, self.text)
                column_id = to_latex(column_sym) + ":columns"
                self.forms[column_id] = form_of(column_sym)
                self.add_spelling(column_sym, column_id, s.columns)
                self.symbols.append(Symbol(column_id, role="columns"))
            if s.labels == "index" and len(s.shape) != 1:
                self.fail(f"model.symbols.{spelling}: an index label has shape = [size]: the number of classes", line)
            self.symbols.append(
                Symbol(
                    sid,
                    shape,
                    s.role,
                    s.labels if s.role == "label" else None,
                    tuple(s.range) if s.range else (0.1, 0.9),
                    s.value,
                    line,
                    column_id,
                )
            )
            for alias in s.aliases:
                word = word_alias(alias)
                if word is not None:
                    self.words[word] = sid
                    continue
                power = power_alias(alias)
                if power is not None:  # \sigma^2 for a variance: the power written is the symbol
                    self.powers[power] = sid
                    continue
                self.add_spelling(parse_symbol(alias, self.path, self.text), sid, alias)
        for tid, *_ in equations:
            if tid not in self.declared:
                self.symbols.append(Symbol(tid))

    def named(self, model: Model, spelling: str, field: str) -> str:
        sid = model.resolve_name(parse_symbol(spelling, self.path, self.text))
        if sid is None:
            self.fail(f"model.{field}: {spelling!r} is not a declared or defined symbol", line_of(self.text, field))
        return sid

    def build(self) -> Model:
        spec = self.spec
        self.declare()
        equations = self.read_equations()
        self.check_symbols(equations)
        functions = read_functions(spec.functions, set(spec.generic), self.path, self.text)
        model = Model(
            batch=spec.batch,
            symbols=tuple(self.symbols),
            equations=(),
            spellings=tuple(self.spellings.items()),
            forms=tuple(self.forms.items()),
            words=tuple(self.words.items()),
            powers=tuple(self.powers.items()),
            sizes=tuple(sorted(self.sizes)),
            functions=functions,
            values=tuple(spec.values.items()),
            deltas=tuple(
                (parse_symbol(name, self.path, self.text).name, letter) for name, letter in spec.deltas.items()
            ),
            layer_symbols=tuple(spec.layer_symbols.items()),
        )
        reader = ModelReader(model)
        try:
            normalized = tuple(
                Equation(tid, reader.normalize(body), eq, line, entry) for tid, body, eq, line, entry in equations
            )
        except NotationError as exc:
            self.fail(f"model.equations: {exc}", None)
        model = model.with_equations(normalized)
        model = replace(
            model,
            values=given_values(model, spec.values, self.path, self.text),
            per_sample=tuple(self.named(model, s, "per_sample") for s in spec.per_sample),
            open_derivatives=tuple(self.named(model, s, "open_derivatives") for s in spec.open_derivatives),
        )
        check_defined(model, self.path, self.sizes)
        return model


def build_model(spec: ModelSpec, path: str, text: str, sizes: set[str] = frozenset()) -> Model:
    return ModelBuilder(spec, path, text, set(sizes)).build()


def index_names(node: Node) -> set[str]:
    out = set()
    for n in node.walk():
        if isinstance(n, Sym):
            out |= {m.name for i in n.indices for m in i.walk() if isinstance(m, Sym)}  # x_{i+k-1}
            if n.layer is not None:
                out |= {m.name for m in n.layer.walk() if isinstance(m, Sym)}
        index = getattr(n, "index", None)
        if isinstance(index, str):
            out.add(index)
    return out


def check_quantity(
    model: Model, qid: str, kind: str, of: str, wrt: str | None, path: str, line: int | None, bindings=None
):
    """A quantity's `of` and `wrt` name declared symbols, and `of` depends on `wrt`: else its
    derivative does not exist (a one-line error naming the quantity)."""

    def named(field: str, text: str) -> str:
        try:
            reader = ModelReader(model, bindings)
            node = reader.normalize(parse(written_name(text)))
            node = reader.evaluated(node) if isinstance(node, Sym) else node
        except (ParseError, NotationError) as exc:
            raise DerivationFileError(path, f"quantity {qid!r}: {field}: cannot read {text!r} ({exc})", line) from None
        sid = model.resolve_name(node) if isinstance(node, Sym) else None
        if sid is None:
            raise DerivationFileError(
                path,
                f"quantity {qid!r}: {field}: {text!r} is not a declared symbol "
                f"(declared: {', '.join(s.id for s in model.symbols if s.role != 'columns')})",
                line,
            )
        return sid

    of_id = named("of", of)
    if kind == "value":
        return
    if not wrt:
        raise DerivationFileError(path, f"quantity {qid!r}: wrt: required for a {kind}", line)
    wrt_id = named("wrt", wrt)
    wrt_id = model.column_family(wrt_id) or wrt_id
    if not model.depends_on(of_id, wrt_id):
        raise DerivationFileError(
            path,
            f"quantity {qid!r}: {of} does not depend on {wrt}, so the derivative is not a quantity of this model",
            line,
        )


def given_values(model: Model, values: dict, path: str, text: str) -> tuple:
    """[model.values]: numbers for the free symbols, for forward-value quantities (kind = "value")."""
    out = []
    for spelling, value in values.items():
        sid = model.resolve_name(parse_symbol(spelling, path, text))
        if sid is None or model.defined(sid):
            raise DerivationFileError(
                path,
                f"model.values.{spelling}: not an input, parameter, label or hyperparameter of the model",
                line_of(text, spelling),
            )
        rows = (
            value
            if isinstance(value, list) and value and isinstance(value[0], list)
            else [[v] for v in value]
            if isinstance(value, list)
            else [[value]]
        )
        out.append((sid, tuple(tuple(float(v) for v in row) for row in rows)))
    return tuple(out)


def check_defined(model: Model, path: str, sizes: set[str] = frozenset()):
    """Every symbol an equation uses is declared or defined before it (sizes and index letters aside)."""
    known = {s.id for s in model.free()}
    size_letters = {s.rstrip("0123456789") for s in sizes}
    for eq in model.equations:
        indices = index_names(eq.rhs) | set(eq.indices)
        for n in eq.rhs.walk():
            if (
                isinstance(n, Sym)
                and model.resolve_name(n) is None
                and n.name not in sizes
                and n.name not in size_letters
                and n.name != model.batch
                and n.name not in indices
                and n.name != "delta"
            ):
                raise DerivationFileError(
                    path,
                    f"model.equations: {eq.latex!r} uses {to_latex(n)}, which is not "
                    "declared in [model.symbols] nor defined by an equation",
                    eq.line,
                )
        for sid in model.ids_in(eq.rhs):
            if sid not in known:
                raise DerivationFileError(
                    path, f"model.equations: {eq.latex!r} uses {sid} before an equation defines it", eq.line
                )
        known.add(eq.target)
