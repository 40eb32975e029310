"""Derivation files (answer keys): TOML that declares a network and lists quantities.

A new problem of the same family is a new file, not new Python. See README,
"Derivation files", for the format.

>>> p = load_problem("softmax-2layer")
>>> p.quantity("dJt/dW2").objective, p.notation.pre_label(2)
('Jt', 3)
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from symderiv.core.errors import DerivationFileError, UnknownProblemError, UnknownQuantityError
from symderiv.truth.network import ACTIVATIONS, LOSSES, Layer, Network

OBJECTIVES = {
    # key: (averaged over the batch, regularised)
    "J": (True, False),
    "Jt": (True, True),
    "L": (False, False),
    "C": (False, False),
}
KINDS = ("gradient", "jacobian", "value")


@dataclass(frozen=True)
class Notation:
    input_number: int = 1
    weight_number: str = "input"          # "input": W^(l) maps a^(l) -> z^(l+1); "output": W^[l] maps a^[l-1] -> z^[l]
    weight_layout: str = "out-in"         # "in-out": w_ij with i in the layer below (z = sum_i a_i w_ij)
    labels: tuple[str, ...] = ("Delta", "y", "Y")
    hidden_activation: tuple[str, ...] = ("phi", "varphi", "relu")
    output_activation: tuple[str, ...] = ("psi", "Psi", "softmax")
    objectives: tuple[tuple[str, str], ...] = (("J", "J"),)
    layer_symbols: tuple[tuple[str, int], ...] = ()

    def pre_label(self, k: int) -> int:
        """The label the file's notation gives Z_k / A_k (internal layer k)."""
        return k + self.input_number

    def weight_label(self, k: int) -> int:
        return k - 1 + self.input_number if self.weight_number == "input" else k + self.input_number

    def layer_of_activation_label(self, label: int) -> int:
        return label - self.input_number

    def layer_of_weight_label(self, label: int) -> int:
        return label + 1 - self.input_number if self.weight_number == "input" else label - self.input_number


@dataclass(frozen=True)
class Quantity:
    id: str
    kind: str                             # gradient | jacobian | value
    of: str                               # objective key (J, Jt, L, C) or, for jacobian/value, LaTeX of an object
    wrt: str | None                       # LaTeX of the object differentiated against
    claim: str                            # the answer key's closed form
    indices: tuple[str, ...] = ()
    layers: tuple[tuple[str, tuple[int, ...]], ...] = ()
    steps: tuple[str, ...] = ()
    line: int = 0

    @property
    def objective(self) -> str:
        return self.of


@dataclass(frozen=True)
class ForwardPart:
    activations: tuple[str, ...]
    W: tuple[tuple[tuple[float, ...], ...], ...]
    b: tuple[tuple[float, ...], ...]
    x: tuple[float, ...]
    tolerance: float = 1e-3


@dataclass(frozen=True)
class Problem:
    id: str
    title: str
    statement: str
    path: str
    input_size: str | int
    layers: tuple[tuple[str | int, str], ...]   # (size name or number, activation)
    loss: str
    regulariser: str | None
    notation: Notation
    numeric_sizes: tuple[tuple[str, int], ...]
    symbolic_sizes: tuple[tuple[str, int], ...]
    quantities: tuple[Quantity, ...]
    forward: ForwardPart | None = None
    parts: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    generic_symbolic: bool = False        # symbolic check with undefined g_l and C (the problem's g and C are generic)

    @property
    def depth(self) -> int:
        return len(self.layers)

    def quantity(self, qid: str) -> Quantity:
        for q in self.quantities:
            if q.id == qid:
                return q
        known = ", ".join(q.id for q in self.quantities)
        raise UnknownQuantityError(f"problem {self.id!r} has no quantity {qid!r} (it has: {known})")

    def network(self, sizes: dict[str, int]) -> Network:
        def size(s):
            return s if isinstance(s, int) else sizes[s]
        return Network(input_size=size(self.input_size),
                       layers=tuple(Layer(size(s), act) for s, act in self.layers),
                       loss=self.loss, regularised=self.regulariser is not None)


def _line_of(text: str, needle: str) -> int | None:
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def load_problem_file(path: str | os.PathLike) -> Problem:
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DerivationFileError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DerivationFileError(path, f"cannot read: {exc.__class__.__name__}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise DerivationFileError(path, f"not valid TOML: {exc}", int(m.group(1)) if m else None) from None

    def fail(reason, needle=None):
        raise DerivationFileError(path, reason, _line_of(text, needle) if needle else None)

    try:
        head, net, nota, sizes = data["problem"], data["network"], data.get("notation", {}), data["sizes"]
        layers = tuple((layer["size"], layer["activation"]) for layer in net["layers"])
        input_size = net["input"]
    except (KeyError, TypeError) as exc:
        fail(f"missing or malformed key {exc}")
    for _, act in layers:
        if act not in ACTIVATIONS:
            fail(f"unknown activation {act!r} (known: {', '.join(ACTIVATIONS)})", f'"{act}"')
    if net.get("loss") not in LOSSES:
        fail(f"unknown loss {net.get('loss')!r} (known: {', '.join(LOSSES)})", "loss")
    notation = Notation(
        input_number=int(nota.get("input_number", 1)),
        weight_number=nota.get("weight_number", "input"),
        weight_layout=nota.get("weight_layout", "out-in"),
        labels=_tuple(nota.get("labels", ("Delta", "y", "Y"))),
        hidden_activation=_tuple(nota.get("hidden_activation", ("phi", "varphi", "relu"))),
        output_activation=_tuple(nota.get("output_activation", ("psi", "Psi", "softmax"))),
        objectives=tuple(nota.get("objectives", {"J": "J"}).items()),
        layer_symbols=tuple(nota.get("layer_symbols", {}).items()),
    )
    quantities = []
    for raw in data.get("quantity", []):
        if "id" not in raw or "claim" not in raw:
            fail("a [[quantity]] needs an id and a claim", "[[quantity]]")
        kind = raw.get("kind", "gradient")
        if kind not in KINDS:
            fail(f"quantity {raw['id']!r}: unknown kind {kind!r}", f'"{raw["id"]}"')
        if kind == "gradient" and raw.get("of") not in OBJECTIVES:
            fail(f"quantity {raw['id']!r}: 'of' must be one of {', '.join(OBJECTIVES)}", f'"{raw["id"]}"')
        quantities.append(Quantity(
            id=raw["id"], kind=kind, of=raw.get("of", ""), wrt=raw.get("wrt"), claim=raw["claim"],
            indices=_tuple(raw.get("indices", ())),
            layers=tuple((k, _tuple(v)) for k, v in raw.get("layers", {}).items()),
            steps=_tuple(raw.get("steps", ())),
            line=_line_of(text, f'id = "{raw["id"]}"') or 0))
    forward = None
    if "forward" in data:
        f = data["forward"]
        forward = ForwardPart(activations=tuple(f["activations"]),
                              W=tuple(tuple(tuple(map(float, row)) for row in M) for M in f["W"]),
                              b=tuple(tuple(map(float, v)) for v in f["b"]),
                              x=tuple(map(float, f["x"])), tolerance=float(f.get("tolerance", 1e-3)))
    grading = data.get("grading", {})
    return Problem(
        id=head.get("id") or fail("[problem] needs an id"), title=head.get("title", ""),
        statement=head.get("statement", "").strip(), path=path, input_size=input_size,
        layers=layers, loss=net["loss"], regulariser=net.get("regulariser"), notation=notation,
        numeric_sizes=tuple(sizes["numeric"].items()),
        symbolic_sizes=tuple(sizes.get("symbolic", sizes["numeric"]).items()),
        quantities=tuple(quantities), forward=forward,
        parts=_tuple(grading.get("parts", [q.id for q in quantities])),
        optional=_tuple(grading.get("optional", ())),
        generic_symbolic=net.get("symbolic") == "generic")


def derivations_dir() -> Path:
    env = os.environ.get("SYMDERIV_DERIVATIONS")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "derivations", package / "derivations", Path.cwd() / "derivations"):
        if candidate.is_dir():
            return candidate
    return package.parent / "derivations"


def derivation_files() -> list[Path]:
    return sorted(derivations_dir().glob("*.toml"))


@cache
def _all_problems(directory: str) -> dict[str, Problem]:
    problems = {}
    for f in sorted(Path(directory).glob("*.toml")):
        p = load_problem_file(f)
        problems[p.id] = p
    return problems


def load_problem(problem_id: str) -> Problem:
    problems = _all_problems(str(derivations_dir()))
    if problem_id not in problems:
        known = ", ".join(sorted(problems)) or "none"
        raise UnknownProblemError(f"no problem {problem_id!r} in {derivations_dir()} (known: {known})")
    return problems[problem_id]


def layer_brackets(problem: Problem) -> str:
    """'[]' when the problem's own LaTeX writes layers as ^{[l]}, else '()'."""
    texts = [problem.statement] + [x for q in problem.quantities for x in (q.claim, q.of, q.wrt or "")]
    square = sum(len(re.findall(r"\^\{?\s*\[", t)) for t in texts)
    round_ = sum(len(re.findall(r"\^\{?\s*\(", t)) for t in texts)
    return "[]" if square > round_ else "()"
