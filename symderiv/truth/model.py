"""A `[model]` key: symbols with shapes and roles, functions, forward equations.

The model is what the ground truth is derived from (forward.py numerically with autograd,
model_symbolic.py with SymPy) and what the student's symbols are read against: a student's
symbol is a declared symbol when it is spelled as declared or as one of its aliases, then
ignoring bold (\\mathbf, \\vec), then in the other letter case when that case is not declared
itself. A subscript beyond the declared spelling is an entry (\\hat y_i, w_j, X_{ij}).

>>> m = build_model(ModelSpec.model_validate({"batch": "N", "equations": ["z = w^T X + b",
...     r"\\hat y = \\sigma(z)"], "symbols": {"X": {"shape": ["D", "N"], "role": "input"},
...     "w": {"shape": ["D", 1], "role": "parameter"}, "b": {"role": "parameter"}}}), "k.toml", "")
>>> [e.target for e in m.equations], m.resolve_name(Sym("y", decor="hat")), m.resolve_name(Sym("W"))
(['z', '\\\\hat{y}'], '\\\\hat{y}', 'w')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from symderiv.core.errors import DerivationFileError, NotationError, ParseError
from symderiv.core.tree import Add, Call, Deriv, Neg, Node, Num, Product, Sym, Transpose, map_children
from symderiv.notation.latex import to_latex
from symderiv.notation.normalise import GREEK
from symderiv.notation.parse import parse
from symderiv.truth.model_functions import apply_function, read_functions
from symderiv.truth.schema import ModelSpec, find_line, line_of

ROLES = ("input", "parameter", "label", "hyperparameter")
BUILTINS = {
    "sigma": "sigmoid",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "softplus": "softplus",
    "exp": "exp",
    "log": "log",
    "abs": "abs",
    "softmax": "softmax",
    "log_softmax": "log_softmax",
    "identity": "identity",
    "diag": "diag",
    "leaky_relu": "leaky_relu",
}
TYPOGRAPHY = ("bold",)


@dataclass(frozen=True)
class Symbol:
    id: str  # the canonical spelling (LaTeX), the Ref kind of the object
    shape: tuple = ()  # size names / ints; () = a scalar
    role: str | None = None  # input | parameter | label | hyperparameter; None = defined by an equation
    labels: str | None = None  # one-hot | binary | real
    range: tuple[float, float] = (0.1, 0.9)
    value: float | None = None
    line: int | None = None
    columns: str | None = None  # the id of the matrix's column family (u_w = column w of U), if named


@dataclass(frozen=True)
class Equation:
    target: str  # the id of the defined symbol
    rhs: Node  # normalised: every symbol in canonical spelling
    latex: str
    line: int | None = None


@dataclass(frozen=True)
class Model:
    batch: str | None
    symbols: tuple[Symbol, ...]
    equations: tuple[Equation, ...]
    spellings: tuple[tuple[tuple, str], ...]  # (spelling key, id)
    forms: tuple[tuple[str, Sym], ...] = ()  # id -> the canonical written form (\\hat y, h^{(1)} for h_1)
    words: tuple[tuple[tuple, str], ...] = ()  # aliases read as a product of letters (dY): keys -> id
    sizes: tuple[str, ...] = ()  # the size names (never read as a symbol of the other case)
    functions: tuple[tuple[str, tuple[str, ...], Node], ...] = ()  # (name, parameters, body)
    values: tuple[tuple[str, object], ...] = ()

    # ---- lookups ---------------------------------------------------------------
    @cached_property
    def spelling_table(self) -> dict:
        """spellings as a dict, built once (every symbol of every claim is looked up in it)."""
        return dict(self.spellings)

    @cached_property
    def form_table(self) -> dict:
        return dict(self.forms)

    def symbol(self, sid: str) -> Symbol:
        for s in self.symbols:
            if s.id == sid:
                return s
        raise KeyError(sid)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.symbols)

    def index_label_names(self) -> dict[str, str]:
        """id -> the written name of each class-index label (o in \\hat y_o)."""
        forms = self.form_table
        return {s.id: forms[s.id].name for s in self.symbols if s.labels == "index"}

    def column_family(self, sid: str) -> str | None:
        """The matrix whose columns the id names (u for U with columns = "u"), or None."""
        return next((s.id for s in self.symbols if s.columns == sid), None)

    def defined(self, sid: str) -> bool:
        return any(e.target == sid for e in self.equations)

    def equation(self, sid: str) -> Equation:
        return next(e for e in self.equations if e.target == sid)

    def free(self) -> tuple[Symbol, ...]:
        """The symbols no equation defines: inputs, parameters, labels, hyperparameters."""
        return tuple(s for s in self.symbols if not self.defined(s.id) and s.role != "columns")

    def depends_on(self, of: str, wrt: str) -> bool:
        if of == wrt:
            return True
        if not self.defined(of):
            return False
        return any(self.depends_on(u, wrt) for u in self.ids_in(self.equation(of).rhs))

    # ---- reading the student's symbols ------------------------------------------
    def resolve_name(self, sym: Sym, swap: bool = True) -> str | None:
        """The id a written (or canonical) symbol names, its remaining subscripts being entries; or None.
        swap: also in the other letter case."""
        table = self.spelling_table
        for full in (True, False):
            for key in _spelling_keys(sym, with_indices=full, swap=swap):
                if key in table:
                    return table[key]
        return None

    def canonical(self, sym: Sym) -> Sym | None:
        """The written symbol in the declared spelling, entry subscripts kept (a size name N, V is
        never read as a symbol in the other letter case)."""
        table = self.spelling_table
        forms = self.form_table
        swap = sym.name not in self.sizes and sym.name != self.batch
        for full in (True, False):
            for key in _spelling_keys(sym, with_indices=full, swap=swap):
                if key in table:
                    form = forms[table[key]]
                    return replace(form, indices=() if full else tuple(self.normalize(i) for i in sym.indices))
        return None

    def ids_in(self, node: Node) -> set[str]:
        """The ids of the declared symbols a (normalised) tree uses."""
        out = set()
        for n in node.walk():
            if isinstance(n, Sym):
                found = self.resolve_name(n)
                if found is not None:
                    out.add(found)
        return out

    def normalize(self, node: Node) -> Node:
        """Canonical spellings; key-defined functions inlined; max(a, b) = a + relu(b − a);
        LeakyReLU_α(z) a function of z with slope α; d f(u)/du is f'(u)."""
        if isinstance(node, Sym):
            found = self.canonical(node)
            if found is not None:
                return found
            return replace(node, indices=tuple(self.normalize(i) for i in node.indices)) if node.indices else node
        if isinstance(node, Transpose) and isinstance(node.operand, Call):
            factor = self._symbol_call(node.operand)  # h_2 (ŷ − y)^T: the transpose is the bracket's
            if factor is not None:
                return self.normalize(Product((factor, Transpose(node.operand.args[0])), ("juxt",)))
        if isinstance(node, Call):
            factor = self._symbol_call(node)
            if factor is not None:
                return self.normalize(Product((factor, node.args[0]), ("juxt",)))
            return self._call(node)
        if isinstance(node, Product) and self.words:
            node = self._join_words(node)
            if not isinstance(node, Product):
                return self.normalize(node)
        if isinstance(node, Deriv):
            num, wrt = self.normalize(node.num), self.normalize(node.wrt)
            if isinstance(num, Call) and len(num.args) == 1 and num.args[0] == wrt:
                return replace(num, primes=num.primes + 1)
            return Deriv(num, wrt)
        return map_children(node, self.normalize)

    def _join_words(self, node: Product) -> Node:
        """dY written as d times Y (dY^T: d times Y^T): the declared alias dY, wherever its letters
        are juxtaposed."""
        factors, ops = list(node.factors), list(node.ops)
        for keys, sid in self.words:
            n = len(keys)
            i = 0
            while i + n <= len(factors):
                run = factors[i : i + n]
                last = run[-1].operand if isinstance(run[-1], Transpose) else run[-1]
                if (
                    all(isinstance(f, Sym) for f in run[:-1])
                    and isinstance(last, Sym)
                    and all(o == "juxt" for o in ops[i : i + n - 1])
                    and tuple(_key_of(f) for f in run[:-1]) == keys[:-1]
                    and _key_of(replace(last, indices=(), layer=None)) == keys[-1]
                ):
                    joined = replace(self.form_table[sid], indices=last.indices)
                    factors[i : i + n] = [Transpose(joined) if isinstance(run[-1], Transpose) else joined]
                    ops[i : i + n - 1] = []
                i += 1
        if len(factors) == 1:
            return factors[0]
        return Product(tuple(factors), tuple(ops))

    def _symbol_call(self, node: Call) -> Sym | None:
        """h_2 (x), read by the parser as a function h (f, g, h are function letters) applied to x:
        the declared symbol h_2 times the bracket, when h_2 is declared and h is no function here."""
        name = node.func.removeprefix("bold:")
        if node.primes or len(node.args) != 1 or name in BUILTINS or any(f == name for f, *_ in self.functions):
            return None
        sym = Sym(name, None, node.indices)
        return sym if self.resolve_name(sym) is not None else None

    def _call(self, node: Call) -> Node:
        name = node.func.removeprefix("bold:")
        args = tuple(self.normalize(a) for a in node.args)
        applied = apply_function(self.functions, name, node)
        if applied is not None:  # the body with the arguments as written, normalised as a whole
            return self.normalize(applied)
        if name == "max" and len(args) == 2 and not node.primes:
            a, b = args
            if a == Num(0):
                return Call("relu", (b,))
            if b == Num(0):
                return Call("relu", (a,))
            return Add((a, Call("relu", (Add((b, Neg(a))),))))
        if name in ("leaky_relu",) and node.indices:
            slope = self.resolve_name(node.indices[0]) if isinstance(node.indices[0], Sym) else None
            if slope is None:
                raise NotationError(f"the slope {to_latex(node.indices[0])} of the leaky ReLU is not declared")
            return Call(f"leaky_relu:{slope}", args, node.primes)
        if (
            name == "log"
            and len(args) == 1
            and isinstance(args[0], Call)
            and args[0].func == "softmax"
            and not node.primes
            and not args[0].primes
        ):
            return Call("log_softmax", args[0].args)
        return replace(node, func=name, args=args, indices=tuple(self.normalize(i) for i in node.indices))

    def function(self, call: Call) -> str:
        """The built-in a (normalised) call applies."""
        name = call.func.removeprefix("bold:")
        if name.startswith("leaky_relu:"):
            return name
        if name in BUILTINS:
            return BUILTINS[name]
        raise NotationError(
            f"the function {name} is not defined in this problem (built-ins: "
            f"{', '.join(sorted(set(BUILTINS.values())))}; or define it in [model.functions])"
        )


def _spelling_keys(sym: Sym, with_indices: bool = True, swap: bool = True):
    """Keys to look a written symbol up by, most specific first: as written, without bold, then
    in the other letter case (which only matches when that case is not declared itself)."""
    head = (to_latex(sym.layer),) if sym.layer is not None else ()  # h^{(1)} for a declared h_1
    indices = head + (tuple(to_latex(i) for i in sym.indices) if with_indices else ())
    plain = "" if sym.decor in TYPOGRAPHY else sym.decor
    names = (sym.name, sym.name.swapcase()) if len(sym.name) == 1 and swap else (sym.name,)
    for name in names:
        yield (name, sym.decor, indices)
        yield (name, plain, indices)


def _form_of(sym: Sym) -> Sym:
    """The canonical form: decoration kept (not bold), a declared subscript as the layer slot."""
    decor = "" if sym.decor in TYPOGRAPHY else sym.decor
    if sym.indices and sym.layer is None:
        layer = sym.indices[0] if len(sym.indices) == 1 else Sym("".join(to_latex(i) for i in sym.indices))
        return Sym(sym.name, layer, (), decor)
    return Sym(sym.name, sym.layer, (), decor)


def _key_of(sym: Sym) -> tuple:
    decor = "" if sym.decor in TYPOGRAPHY else sym.decor
    indices = tuple(to_latex(i) for i in sym.indices)
    if sym.layer is not None:
        indices = (to_latex(sym.layer),) + indices
    return (sym.name, decor, indices)


def written_name(text: str) -> str:
    """A bare Greek name (lambda, alpha) as LaTeX (\\lambda), as key files may write symbol names."""
    return "\\" + text if text in GREEK else text


def _word_alias(alias: str) -> tuple | None:
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
        return tuple(_key_of(f) for f in node.factors)
    return None


def _parse_symbol(spelling: str, path: str, text: str) -> Sym:
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


def _split_equation(eq: str, path: str, line: int | None) -> tuple[str, str]:
    depth = 0
    for i, c in enumerate(eq):
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == "=" and depth == 0 and eq[i - 1 : i] not in ("<", ">", "!", "\\"):
            return eq[:i].strip(), eq[i + 1 :].strip()
    raise DerivationFileError(path, f"model.equations: {eq!r} is not an equation 'symbol = expression'", line)


def build_model(spec: ModelSpec, path: str, text: str, sizes: set[str] = frozenset()) -> Model:
    symbols, spellings = [], {}

    def add_spelling(sym: Sym, sid: str, spelling: str):
        key = _key_of(sym)
        if spellings.get(key, sid) != sid:
            raise DerivationFileError(
                path,
                f"model.symbols: {spelling!r} names two symbols ({spellings[key]} and {sid})",
                line_of(text, spelling),
            )
        spellings[key] = sid

    declared, forms, words = {}, {}, {}
    for spelling, s in spec.symbols.items():
        sym = _parse_symbol(spelling, path, text)
        sid = to_latex(sym)
        declared[sid] = (spelling, s, sym)
        forms[sid] = _form_of(sym)
        add_spelling(sym, sid, spelling)
        add_spelling(forms[sid], sid, spelling)
    equations = []
    for eq in spec.equations:
        line = find_line(text, eq[:40], text.find("[model]"))
        lhs, rhs = _split_equation(eq, path, line)
        try:
            target, body = parse(lhs), parse(rhs)
        except ParseError as exc:
            raise DerivationFileError(path, f"model.equations: {exc}", line) from None
        if not isinstance(target, Sym):
            raise DerivationFileError(path, f"model.equations: the left side of {eq!r} is not one symbol", line)
        tid = to_latex(target)
        key = _key_of(target)
        if key in spellings and spellings[key] != tid:
            tid = spellings[key]
        if any(e[0] == tid for e in equations):
            raise DerivationFileError(path, f"model.equations: {lhs} is defined twice", line)
        spellings.setdefault(key, tid)
        forms.setdefault(tid, _form_of(target))
        spellings.setdefault(_key_of(forms[tid]), tid)
        equations.append((tid, body, eq, line))
    for sid, (spelling, s, _sym) in declared.items():
        defined = any(e[0] == sid for e in equations)
        line = line_of(text, spelling)
        if not defined and s.role is None:
            raise DerivationFileError(
                path,
                f"model.symbols.{spelling}: role required (input, parameter, label or "
                "hyperparameter): no equation defines it",
                line,
            )
        if defined and s.role is not None:
            raise DerivationFileError(
                path, f"model.symbols.{spelling}: has a role but an equation also defines it", line
            )
        if s.labels is not None and s.role != "label":
            raise DerivationFileError(path, f"model.symbols.{spelling}: labels is only for role = \"label\"", line)
        if s.role == "hyperparameter" and s.shape:
            raise DerivationFileError(path, f"model.symbols.{spelling}: a hyperparameter is a number (no shape)", line)
        if len(s.shape) > 2:
            raise DerivationFileError(path, f"model.symbols.{spelling}: shape has at most two axes", line)
        shape = tuple(s.shape) if len(s.shape) != 1 else (s.shape[0], 1)
        column_id = None
        if s.columns:
            column_sym = _parse_symbol(s.columns, path, text)
            column_id = to_latex(column_sym) + ":columns"
            forms[column_id] = _form_of(column_sym)
            add_spelling(column_sym, column_id, s.columns)
            symbols.append(Symbol(column_id, role="columns"))
        if s.labels == "index" and len(s.shape) != 1:
            raise DerivationFileError(
                path, f"model.symbols.{spelling}: an index label has shape = [size]: the number of classes", line
            )
        symbols.append(
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
            word = _word_alias(alias)
            if word is not None:
                words[word] = sid
                continue
            add_spelling(_parse_symbol(alias, path, text), sid, alias)
    for tid, *_ in equations:
        if tid not in declared:
            symbols.append(Symbol(tid))
    functions = read_functions(spec.functions, path, text)
    model = Model(
        batch=spec.batch,
        symbols=tuple(symbols),
        equations=(),
        spellings=tuple(spellings.items()),
        forms=tuple(forms.items()),
        words=tuple(words.items()),
        sizes=tuple(sorted(sizes)),
        functions=functions,
        values=tuple(spec.values.items()),
    )
    normalized = tuple(Equation(tid, model.normalize(body), eq, line) for tid, body, eq, line in equations)
    model = replace(model, equations=normalized, values=_given_values(model, spec.values, path, text))
    _check_defined(model, path, text, set(sizes))
    return model


def _index_names(node: Node) -> set[str]:
    out = set()
    for n in node.walk():
        if isinstance(n, Sym):
            out |= {i.name for i in n.indices if isinstance(i, Sym)}
            if n.layer is not None:
                out |= {m.name for m in n.layer.walk() if isinstance(m, Sym)}
        index = getattr(n, "index", None)
        if isinstance(index, str):
            out.add(index)
    return out


def check_quantity(model: Model, qid: str, kind: str, of: str, wrt: str | None, path: str, line: int | None):
    """A quantity's `of` and `wrt` name declared symbols, and `of` depends on `wrt`: else its
    derivative does not exist (a one-line error naming the quantity)."""

    def named(field: str, text: str) -> str:
        try:
            node = model.normalize(parse(written_name(text)))
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


def _given_values(model: Model, values: dict, path: str, text: str) -> tuple:
    """[model.values]: numbers for the free symbols, for forward-value quantities (kind = "value")."""
    out = []
    for spelling, value in values.items():
        sid = model.resolve_name(_parse_symbol(spelling, path, text))
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


def _check_defined(model: Model, path: str, text: str, sizes: set[str] = frozenset()):
    """Every symbol an equation uses is declared or defined before it (sizes and index letters aside)."""
    known = {s.id for s in model.free()}
    for eq in model.equations:
        indices = _index_names(eq.rhs)
        for n in eq.rhs.walk():
            if (
                isinstance(n, Sym)
                and model.resolve_name(n) is None
                and n.name not in sizes
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
