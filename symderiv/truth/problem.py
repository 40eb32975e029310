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
from symderiv.truth.model import Model, build_model, check_quantity
from symderiv.truth.network import ACTIVATIONS, LOSSES, Layer, Network
from symderiv.truth.schema import KeySpec, line_of, validate_key

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
    weight_number: str = "input"  # "input": W^(l) maps a^(l) -> z^(l+1); "output": W^[l] maps a^[l-1] -> z^[l]
    weight_layout: str = "out-in"  # "in-out": w_ij with i in the layer below (z = sum_i a_i w_ij)
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
    kind: str  # gradient | jacobian | value
    of: str  # objective key (J, Jt, L, C) or, for jacobian/value, LaTeX of an object
    wrt: str | None  # LaTeX of the object differentiated against
    claim: str  # the answer key's closed form
    indices: tuple[str, ...] = ()
    layers: tuple[tuple[str, tuple[int, ...]], ...] = ()
    steps: tuple[str, ...] = ()
    line: int = 0
    name: str = ""  # the key's display name (LaTeX) for students; "" derives it from of/wrt

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
    layers: tuple[tuple[str | int, str], ...]  # (size name or number, activation)
    loss: str
    regulariser: str | None
    notation: Notation
    numeric_sizes: tuple[tuple[str, int], ...]
    symbolic_sizes: tuple[tuple[str, int], ...]
    quantities: tuple[Quantity, ...]
    forward: ForwardPart | None = None
    parts: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    generic_symbolic: bool = False  # symbolic check with undefined g_l and C (the problem's g and C are generic)
    model: Model | None = None  # a [model] key: the forward equations the truth is derived from
    points: tuple[tuple[str, float], ...] = ()  # [grading] points: a scored part's points (default 1)
    hide_feedback: bool = False  # [grading] hide_feedback: `serve` shows only ✓/✗ per line

    def part_points(self, qid: str) -> float:
        """A part's points in the key: its [grading] points, 1 for a scored part, 0 for an optional one."""
        return dict(self.points).get(qid, 1.0) if qid in self.parts else 0.0

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

        return Network(
            input_size=size(self.input_size),
            layers=tuple(Layer(size(s), act) for s, act in self.layers),
            loss=self.loss,
            regularised=self.regulariser is not None,
            reg_scale=0.5 if self.regulariser == "lambda/2" else 1.0,
        )


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
    spec = validate_key(data, path, text)
    return problem_from_spec(spec, path, text)


def problem_from_spec(spec: KeySpec, path: str, text: str) -> Problem:
    def fail(reason, needle=None):
        raise DerivationFileError(path, reason, line_of(text, needle) if needle else None)

    net, nota = spec.network, spec.notation
    model = build_model(spec.model, path, text, set(spec.sizes.numeric)) if spec.model is not None else None
    if net is not None:
        layers = tuple((layer.size, layer.activation) for layer in net.layers)
        for _, act in layers:
            if act not in ACTIVATIONS:
                fail(f"network.layers: unknown activation {act!r} (known: {', '.join(ACTIVATIONS)})", f'"{act}"')
        if net.loss not in LOSSES:
            fail(f"network.loss: unknown loss {net.loss!r} (known: {', '.join(LOSSES)})", "loss")
    notation = Notation(
        input_number=nota.input_number,
        weight_number=nota.weight_number,
        weight_layout=nota.weight_layout,
        labels=tuple(nota.labels),
        hidden_activation=tuple(nota.hidden_activation),
        output_activation=tuple(nota.output_activation),
        objectives=tuple(nota.objectives.items()),
        layer_symbols=tuple(nota.layer_symbols.items()),
    )
    quantities = []
    for raw in spec.quantity:
        line = line_of(text, f'"{raw.id}"') or 0
        if model is not None:
            check_quantity(model, raw.id, raw.kind, raw.of, raw.wrt, path, line)
        if model is None and raw.kind == "gradient" and raw.of not in OBJECTIVES:
            fail(f"quantity {raw.id!r}: 'of' must be one of {', '.join(OBJECTIVES)}", f'"{raw.id}"')
        quantities.append(
            Quantity(
                id=raw.id,
                kind=raw.kind,
                of=raw.of,
                wrt=raw.wrt,
                claim=raw.claim,
                indices=tuple(raw.indices),
                layers=tuple((k, _tuple(v)) for k, v in raw.layers.items()),
                steps=tuple(raw.steps),
                line=line,
                name=raw.name,
            )
        )
    forward = None
    if spec.forward is not None:
        f = spec.forward
        forward = ForwardPart(
            activations=tuple(f.activations),
            W=tuple(tuple(tuple(map(float, row)) for row in M) for M in f.W),
            b=tuple(tuple(map(float, v)) for v in f.b),
            x=tuple(map(float, f.x)),
            tolerance=float(f.tolerance),
        )
    ids = [q.id for q in quantities]
    parts = tuple(spec.grading.parts) if spec.grading.parts is not None else tuple(ids)
    for part in parts + tuple(spec.grading.optional):
        if part not in ids:
            fail(f"grading: {part!r} is not a quantity of this key (quantities: {', '.join(ids)})", f'"{part}"')
    for part, value in spec.grading.points.items():
        if part not in parts:
            fail(f"grading.points: {part!r} is not a scored part (parts: {', '.join(parts)})", f'"{part}"')
        if not 0 < value <= 1e6:
            fail(f"grading.points: {part!r} = {value!r}; points are a number above 0 and at most 1e6", f'"{part}"')
    sizes = spec.sizes
    problem = Problem(
        id=spec.problem.id,
        title=spec.problem.title,
        statement=spec.problem.statement.strip(),
        path=path,
        input_size=net.input if net else 0,
        layers=layers if net else (),
        loss=net.loss if net else "model",
        regulariser=(net.regulariser or None) if net else None,
        notation=notation,
        numeric_sizes=tuple(sizes.numeric.items()),
        symbolic_sizes=tuple((sizes.symbolic if sizes.symbolic is not None else sizes.numeric).items()),
        quantities=tuple(quantities),
        forward=forward,
        parts=parts,
        optional=tuple(spec.grading.optional),
        generic_symbolic=bool(net and net.symbolic == "generic"),
        model=model,
        points=tuple((part, float(value)) for part, value in spec.grading.points.items()),
        hide_feedback=spec.grading.hide_feedback,
    )
    return problem


PACKAGE = Path(__file__).resolve().parent.parent


def shipped_dir() -> Path:
    """The keys shipped with symderiv: package data symderiv/keys when installed, else derivations/
    of the source tree."""
    installed = PACKAGE / "keys"
    return installed if installed.is_dir() else PACKAGE.parent / "derivations"


def derivations_dir() -> Path:
    """The folder `verify` and `export` use by default: $SYMDERIV_DERIVATIONS, else the shipped keys."""
    env = os.environ.get("SYMDERIV_DERIVATIONS")
    return Path(env) if env else shipped_dir()


def derivation_files() -> list[Path]:
    return sorted(derivations_dir().glob("*.toml"))


def key_folders() -> list[tuple[str, Path]]:
    """Where key ids are looked up, in order: ./derivations, $SYMDERIV_KEYS, the shipped keys."""
    folders = [("./derivations", Path.cwd() / "derivations")]
    for var in ("SYMDERIV_KEYS", "SYMDERIV_DERIVATIONS"):
        if os.environ.get(var):
            folders.append((f"${var}", Path(os.environ[var])))
    folders.append(("shipped", shipped_dir()))
    seen, out = set(), []
    for label, folder in folders:
        resolved = folder.resolve()
        if folder.is_dir() and resolved not in seen:
            seen.add(resolved)
            out.append((label, folder))
    return out


@cache
def _cached_file(path: str, mtime: float) -> Problem:
    return load_problem_file(path)


def _load(path: Path) -> Problem:
    return _cached_file(str(path), path.stat().st_mtime)


def available_keys() -> list[tuple[Problem, str]]:
    """Every key found, first occurrence of an id winning, with the folder label it came from.
    A file that does not load is skipped here (verify reports it)."""
    found: dict[str, tuple[Problem, str]] = {}
    for label, folder in key_folders():
        for f in sorted(folder.glob("*.toml")):
            try:
                p = _load(f)
            except DerivationFileError:
                continue
            found.setdefault(p.id, (p, label))
    return list(found.values())


def load_problem(key: str) -> Problem:
    """A key by path (`path/to/key.toml`) or by id, looked up in ./derivations, $SYMDERIV_KEYS,
    then the shipped keys."""
    path = Path(key)
    if key.endswith(".toml") or os.sep in key:
        if not path.is_file():
            raise DerivationFileError(key, "no such file")
        return _load(path)
    for _, folder in key_folders():
        candidate = folder / f"{key}.toml"
        if candidate.is_file():
            p = _load(candidate)
            if p.id == key:
                return p
    for p, _ in available_keys():
        if p.id == key:
            return p
    known = ", ".join(sorted(p.id for p, _ in available_keys())) or "none"
    where = ", ".join(str(f) for _, f in key_folders())
    raise UnknownProblemError(f"no key {key!r} in {where} (known: {known}; or give a path to a .toml file)")


def layer_brackets(problem: Problem) -> str:
    """'[]' when the problem's own LaTeX writes layers as ^{[l]}, else '()'."""
    texts = [problem.statement] + [x for q in problem.quantities for x in (q.claim, q.of, q.wrt or "")]
    square = sum(len(re.findall(r"\^\{?\s*\[", t)) for t in texts)
    round_ = sum(len(re.findall(r"\^\{?\s*\(", t)) for t in texts)
    return "[]" if square > round_ else "()"
