"""A key's model: symbols with shapes and roles, functions, forward equations.

Every key is a model (a `[network]` block is expanded into one at load, expand.py). The model is
what the ground truth is derived from (forward.py numerically with autograd, model_symbolic.py
with SymPy) and what the student's symbols are read against (model_notation.py): a student's
symbol is a declared symbol when it is spelled as declared or as one of its aliases, then
ignoring bold (\\mathbf, \\vec), then in the other letter case when that case is not declared
itself. A subscript beyond the declared spelling is an entry (\\hat y_i, w_j, X_{ij}); a
declared subscript or layer (h_1, z^{(2)}) names a member of a family (h, z) whose layer may
be written ^{(2)}, ^{[2]}, ^2, _2 or as an expression of layer symbols (l + 1).

>>> from symderiv.answerkey.model_build import build_model
>>> from symderiv.answerkey.schema import ModelSpec
>>> m = build_model(ModelSpec.model_validate({"batch": "N", "equations": ["z = w^T X + b",
...     r"\\hat y = \\sigma(z)"], "symbols": {"X": {"shape": ["D", "N"], "role": "input"},
...     "w": {"shape": ["D", 1], "role": "parameter"}, "b": {"role": "parameter"}}}), "k.toml", "")
>>> [e.target for e in m.equations], m.resolve_name(Sym("y", decor="hat")), m.resolve_name(Sym("W"))
(['z', '\\\\hat{y}'], '\\\\hat{y}', 'w')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from symderiv.core.errors import NotationError
from symderiv.core.tree import Call, Node, Sym
from symderiv.notation.latex import latex_style, to_latex

ROLES = ("input", "parameter", "label", "hyperparameter", "mask")
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
    "sign": "sign",
    "stop": "stop",  # the value, with no derivative (the usual mistakes cut a path with it)
}
ELEMENTWISE = ("tanh", "sigmoid", "relu", "exp", "softplus", "log", "abs", "identity", "sign")
KINKED = ("relu", "abs", "sign")  # and every leaky_relu:<slope>
TYPOGRAPHY = ("bold",)


@dataclass(frozen=True)
class Symbol:
    id: str  # the canonical spelling (LaTeX), the Ref kind of the object
    shape: tuple = ()  # size names / ints; () = a scalar
    role: str | None = None  # input | parameter | label | hyperparameter; None = defined by an equation
    labels: str | None = None  # one-hot | binary | real | index
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
    indices: tuple[str, ...] = ()  # y_i = Σ_k w_k x_{i+k-1}: the target defined entry by entry


@dataclass(frozen=True)
class Function:
    """A function of the key: name(params) = body; index: the layer of a family member (g_2)."""

    name: str
    index: int | None
    params: tuple[str, ...]
    body: Node
    generic: bool = False  # the exact check keeps it undefined; the body is the numeric stand-in

    @property
    def builtin(self) -> str | None:
        """The built-in a body of one built-in applied to the parameter is (φ(u) = ReLU(u)), else None."""
        b = self.body
        if (
            len(self.params) == 1
            and isinstance(b, Call)
            and len(b.args) == 1
            and isinstance(b.args[0], Sym)
            and b.args[0].name == self.params[0]
            and not b.args[0].indices
        ):
            return b.func
        return None


@dataclass(frozen=True)
class Model:
    batch: str | None
    symbols: tuple[Symbol, ...]
    equations: tuple[Equation, ...]
    spellings: tuple[tuple[tuple, str], ...]  # (spelling key, id)
    forms: tuple[tuple[str, Sym], ...] = ()  # id -> the canonical written form (\\hat y, h^{(1)} for h_1)
    words: tuple[tuple[tuple, str], ...] = ()  # aliases read as a product of letters (dY): keys -> id
    powers: tuple[tuple[Node, str], ...] = ()  # aliases written as a power of a letter (σ² for a variance v) -> id
    sizes: tuple[str, ...] = ()  # the size names (never read as a symbol of the other case)
    functions: tuple[Function, ...] = ()
    values: tuple[tuple[str, object], ...] = ()
    per_sample: tuple[str, ...] = ()  # objectives of one sample: the one-sample reading only
    deltas: tuple[tuple[str, str], ...] = ()  # (written name, family letter): δ^{(l)} = ∂objective/∂z^{(l)}
    open_derivatives: tuple[str, ...] = ()  # objectives a claim may leave differentiated (∂C/∂a)
    layer_symbols: tuple[tuple[str, int], ...] = ()  # L = 3
    # δ^{(l)} is read as the backprop delta only where the student gives δ no meaning of their own
    # (a [network] key whose statement does not define δ); else the problem's statement defines it
    delta_fallback: bool = False

    # ---- lookups ---------------------------------------------------------------
    @cached_property
    def spelling_table(self) -> dict:
        """spellings as a dict, built once (every symbol of every claim is looked up in it)."""
        return dict(self.spellings)

    @cached_property
    def form_table(self) -> dict:
        return dict(self.forms)

    @cached_property
    def symbol_table(self) -> dict:
        return {s.id: s for s in self.symbols}

    @cached_property
    def equation_table(self) -> dict:
        return {e.target: e for e in self.equations}

    @cached_property
    def family_table(self) -> dict[str, dict[int, str]]:
        """letter -> {layer label: id}: every declared spelling with one integer layer (z^{(2)},
        h_1, an alias a^{(1)} of the input X)."""
        out: dict[str, dict[int, str]] = {}
        for (name, decor, indices), sid in self.spellings:
            if decor in ("", "bold") and len(indices) == 1 and _is_int(indices[0]):
                out.setdefault(name, {}).setdefault(int(indices[0]), sid)
        return out

    def family(self, letter: str) -> dict[int, str]:
        """The layers of a letter (z, W, h): as written, else in the other case when that is no family."""
        table = self.family_table
        if letter in table:
            return table[letter]
        if len(letter) == 1 and letter.swapcase() in table:
            return table[letter.swapcase()]
        return {}

    def symbol(self, sid: str) -> Symbol:
        try:
            return self.symbol_table[sid]
        except KeyError:
            raise KeyError(sid) from None

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
        return sid in self.equation_table

    def equation(self, sid: str) -> Equation:
        return self.equation_table[sid]

    def free(self) -> tuple[Symbol, ...]:
        """The symbols no equation defines: inputs, parameters, labels, hyperparameters."""
        return tuple(s for s in self.symbols if not self.defined(s.id) and s.role != "columns")

    def labels(self) -> tuple[Symbol, ...]:
        return tuple(s for s in self.free() if s.role == "label")

    def depends_on(self, of: str, wrt: str) -> bool:
        return wrt in self.dependencies(of)

    def dependencies(self, of: str) -> frozenset:
        """Every id `of` depends on, itself included."""
        memo = self.__dict__.setdefault("_dependencies", {})
        if of not in memo:
            out = {of}
            if self.defined(of):
                for u in self.ids_in(self.equation(of).rhs):
                    out |= self.dependencies(u)
            memo[of] = frozenset(out)
        return memo[of]

    def activation(self, sid: str) -> tuple[str, str] | None:
        """(function, argument id) when the id is defined as an elementwise function of one symbol
        (a = ReLU(z), h = tanh(u)), else None."""
        if not self.defined(sid):
            return None
        rhs = self.equation(sid).rhs
        if isinstance(rhs, Call) and len(rhs.args) == 1 and isinstance(rhs.args[0], Sym) and not rhs.args[0].indices:
            arg = self.resolve_name(rhs.args[0])
            if arg is not None and not rhs.primes:
                return BUILTINS.get(rhs.func, rhs.func), arg
        return None

    def delta_letter(self, name: str) -> str | None:
        """The family letter a written delta name stands for (δ -> z), or None."""
        return dict(self.deltas).get(name)

    # ---- reading the student's symbols ------------------------------------------
    def resolve_name(self, sym: Sym, swap: bool = True) -> str | None:
        """The id a written (or canonical) symbol names, its remaining subscripts being entries; or None.
        swap: also in the other letter case."""
        table = self.spelling_table
        for full in (True, False):
            for key in spelling_keys(sym, with_indices=full, swap=swap):
                if key in table:
                    return table[key]
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

    def key_function(self, name: str, index: int | None = None) -> Function | None:
        for f in self.functions:
            if f.name == name and f.index == index:
                return f
        return None

    def function_family(self, name: str) -> dict[int, Function]:
        return {f.index: f for f in self.functions if f.name == name and f.index is not None}

    def function(self, call: Call) -> str:
        """The built-in (or the generic function) a normalised call applies."""
        name = call.func.removeprefix("bold:")
        if name.startswith(("leaky_relu:", "generic:")):
            return name
        if name in BUILTINS:
            return BUILTINS[name]
        raise NotationError(
            f"the function {name} is not defined in this problem (built-ins: "
            f"{', '.join(sorted(set(BUILTINS.values())))}; or define it in [model.functions])"
        )

    def generic_function(self, name: str) -> Function:
        """The key's generic function a normalised call "generic:<name>:<index>" applies."""
        _, fname, index = name.split(":", 2)
        found = self.key_function(fname, int(index) if index else None)
        if found is None:
            raise NotationError(f"the function {fname} is not defined in this problem")
        return found

    def show(self, sid: str) -> str:
        """The id as the key writes it (z^{(2)}, \\hat y)."""
        form = self.form_table.get(sid)
        return to_latex(form) if form is not None else sid

    def with_equations(self, equations: tuple[Equation, ...]) -> Model:
        return replace(self, equations=equations)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


@lru_cache(maxsize=1 << 16)
def spelling_keys(sym: Sym, with_indices: bool = True, swap: bool = True) -> tuple:
    """Keys to look a written symbol up by, most specific first: as written, without bold, then
    in the other letter case (which only matches when that case is not declared itself). Cached:
    every symbol of every claim is looked up, in the one spelling the table was built in."""
    with latex_style(layer_brackets="()"):
        head = (to_latex(sym.layer),) if sym.layer is not None else ()  # h^{(1)} for a declared h_1
        indices = head + (tuple(to_latex(i) for i in sym.indices) if with_indices else ())
    plain = "" if sym.decor in TYPOGRAPHY else sym.decor
    names = (sym.name, sym.name.swapcase()) if len(sym.name) == 1 and swap else (sym.name,)
    return tuple(key for name in names for key in ((name, sym.decor, indices), (name, plain, indices)))


def key_of(sym: Sym) -> tuple:
    decor = "" if sym.decor in TYPOGRAPHY else sym.decor
    indices = tuple(to_latex(i) for i in sym.indices)
    if sym.layer is not None:
        indices = (to_latex(sym.layer),) + indices
    return (sym.name, decor, indices)


def form_of(sym: Sym) -> Sym:
    """The canonical form: decoration kept (not bold), a declared subscript as the layer slot."""
    decor = "" if sym.decor in TYPOGRAPHY else sym.decor
    if sym.indices and sym.layer is None:
        layer = sym.indices[0] if len(sym.indices) == 1 else Sym("".join(to_latex(i) for i in sym.indices))
        return Sym(sym.name, layer, (), decor)
    return Sym(sym.name, sym.layer, (), decor)
