r"""Derivation files (answer keys): TOML that declares a model and lists quantities.

A new problem of the same family is a new file, not new Python. See README,
"Derivation files", for the format.

>>> p = load_problem("softmax-2layer")
>>> p.quantity("dJt/dW2").of, [e.target for e in p.model.equations][:2]
('\\tilde J', ['z^{(2)}', 'a^{(2)}'])
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from symderiv.answerkey.expand import ACTIVATIONS, LOSSES, OBJECTIVE_KEYS, expand_network
from symderiv.answerkey.model import Model
from symderiv.answerkey.model_build import build_model, check_quantity
from symderiv.answerkey.schema import KeySpec, check_model_bounds, line_of, validate_key
from symderiv.core.errors import DerivationFileError, SymderivError, UnknownProblemError, UnknownQuantityError

KINDS = ("gradient", "jacobian", "value")
MAX_KEY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Notation:
    """A [network] key's notation table: how its layers are numbered and named (the shorthand's
    own; the model it expands into reads the student's symbols)."""

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


@dataclass(frozen=True)
class Shorthand:
    """A [network] block as declared: what the solutions handout describes. Nothing judges from it:
    the block is expanded into the key's model at load (expand.py)."""

    input_size: str | int
    layers: tuple[tuple[str | int, str], ...]  # (size name or number, activation)
    loss: str
    regulariser: str | None
    notation: Notation
    generic: bool = False  # the problem's g and C are generic (the activations are test instances)

    @property
    def depth(self) -> int:
        return len(self.layers)


@dataclass(frozen=True)
class Quantity:
    id: str
    kind: str  # gradient | jacobian | value
    of: str  # LaTeX of the model's symbol (an objective J, \tilde J, L, C, or a variable)
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
class Problem:
    id: str
    title: str
    statement: str
    path: str
    model: Model  # the forward equations every truth, reading and check is derived from
    numeric_sizes: tuple[tuple[str, int], ...]
    symbolic_sizes: tuple[tuple[str, int], ...]
    quantities: tuple[Quantity, ...]
    parts: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    value_model: Model | None = None  # the forward-pass part's own network ([forward]), if it has one
    value_tolerance: float = 1e-3  # a forward value counts as right within this (absolute or relative)
    shorthand: Shorthand | None = None  # the [network] block as declared, for the handout
    points: tuple[tuple[str, float], ...] = ()  # [grading] points: a scored part's points (default 1)
    hide_feedback: bool = False  # [grading] hide_feedback: `serve` shows only ✓/✗ per line

    def part_points(self, qid: str) -> float:
        """A part's points in the key: its [grading] points, 1 for a scored part, 0 for an optional one."""
        return dict(self.points).get(qid, 1.0) if qid in self.parts else 0.0

    @property
    def size_names(self) -> frozenset:
        return frozenset(k for k, _ in self.numeric_sizes) | ({self.model.batch} if self.model.batch else set())

    def quantity(self, qid: str) -> Quantity:
        for q in self.quantities:
            if q.id == qid:
                return q
        known = ", ".join(q.id for q in self.quantities)
        raise UnknownQuantityError(f"problem {self.id!r} has no quantity {qid!r} (it has: {known})")

    def for_quantity(self, quantity: Quantity) -> Problem:
        """The problem whose model a quantity is computed in: a forward value of a key with a
        [forward] part is computed in that part's network."""
        own = self.value_model or self.model
        if quantity.kind == "value" and own is not self.model:
            return replace(self, model=own, value_model=None)
        return self


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def load_problem_file(path: str | os.PathLike) -> Problem:
    path = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_KEY_BYTES + 1)
        if len(raw) > MAX_KEY_BYTES:
            raise DerivationFileError(
                path, f"larger than {MAX_KEY_BYTES // 1024} KB; an answer key is a short text file"
            )
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise DerivationFileError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DerivationFileError(path, f"cannot read: {exc.__class__.__name__}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise DerivationFileError(path, f"not valid TOML: {exc}", int(m.group(1)) if m else None) from None
    except RecursionError:
        deep = re.search(r"([\[{]\s*([\w\"\'.-]+\s*=\s*)?){100,}", text)
        where = text.count("\n", 0, deep.start()) + 1 if deep else None
        raise DerivationFileError(path, "not valid TOML: arrays or tables nested too deeply", where) from None
    spec = validate_key(data, path, text)
    try:
        return problem_from_spec(spec, path, text)
    except DerivationFileError:
        raise
    except SymderivError as exc:  # a key's LaTeX the notation cannot use: still one line naming the file
        section = "[network]" if spec.network is not None else "[model]"
        raise DerivationFileError(path, f"{section.strip('[]')}: {exc}", line_of(text, section)) from None


def problem_from_spec(spec: KeySpec, path: str, text: str) -> Problem:
    def fail(reason, needle=None):
        raise DerivationFileError(path, reason, line_of(text, needle) if needle else None)

    net, nota = spec.network, spec.notation
    sizes = set(spec.sizes.numeric)
    shorthand, value_model, objectives = None, None, {}
    if net is not None:
        for layer in net.layers:
            if layer.activation not in ACTIVATIONS:
                fail(
                    f"network.layers: unknown activation {layer.activation!r} (known: {', '.join(ACTIVATIONS)})",
                    f'"{layer.activation}"',
                )
        if net.loss not in LOSSES:
            fail(f"network.loss: unknown loss {net.loss!r} (known: {', '.join(LOSSES)})", "loss")
        unknown = [k for k in nota.objectives if k not in OBJECTIVE_KEYS]
        if unknown:
            fail(f"notation.objectives: {unknown[0]!r} is not one of {', '.join(OBJECTIVE_KEYS)}", "objectives")
        if any(k in ("J", "Jt") for k in nota.objectives) and "N" not in sizes:
            fail("sizes.numeric: N is required for the batch objectives J and Jt", "numeric")
        expansion = expand_network(net, nota, spec.sizes, spec.forward)
        model_spec, objectives = expansion.model, expansion.objectives
        shorthand = Shorthand(
            input_size=net.input,
            layers=tuple((layer.size, layer.activation) for layer in net.layers),
            loss=net.loss,
            regulariser=net.regulariser or None,
            notation=Notation(
                input_number=nota.input_number,
                weight_number=nota.weight_number,
                weight_layout=nota.weight_layout,
                labels=tuple(nota.labels),
                hidden_activation=tuple(nota.hidden_activation),
                output_activation=tuple(nota.output_activation),
                objectives=tuple(nota.objectives.items()),
                layer_symbols=tuple(nota.layer_symbols.items()),
            ),
            generic=net.symbolic == "generic",
        )
        if expansion.values is not None:
            value_model = build_model(expansion.values, path, text, set())
    else:
        model_spec = spec.model
    check_model_bounds(model_spec, spec, path, text)  # every key's model, however it was written
    model = build_model(model_spec, path, text, sizes)
    if net is not None and "C" not in nota.objectives:
        model = replace(model, delta_fallback=True)  # δ is the student's to define; else the backprop delta
    quantities = []
    for raw in spec.quantity:
        line = line_of(text, f'"{raw.id}"') or 0
        of = raw.of
        if net is not None and raw.kind == "gradient":
            if raw.of not in objectives:
                fail(f"quantity {raw.id!r}: 'of' must be one of {', '.join(objectives)}", f'"{raw.id}"')
            of = objectives[raw.of]
        layers = tuple((k, _tuple(v)) for k, v in raw.layers.items())
        bindings = {name: values[0] for name, values in layers}
        own = (value_model or model) if raw.kind == "value" else model
        check_quantity(own, raw.id, raw.kind, of, raw.wrt, path, line, bindings)
        quantities.append(
            Quantity(
                id=raw.id,
                kind=raw.kind,
                of=of,
                wrt=raw.wrt,
                claim=raw.claim,
                indices=tuple(raw.indices),
                layers=layers,
                steps=tuple(raw.steps),
                line=line,
                name=raw.name,
            )
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
    sizes_spec = spec.sizes
    return Problem(
        id=spec.problem.id,
        title=spec.problem.title,
        statement=spec.problem.statement.strip(),
        path=path,
        model=model,
        numeric_sizes=tuple(sizes_spec.numeric.items()),
        symbolic_sizes=tuple((sizes_spec.symbolic if sizes_spec.symbolic is not None else sizes_spec.numeric).items()),
        quantities=tuple(quantities),
        parts=parts,
        optional=tuple(spec.grading.optional),
        value_model=value_model,
        value_tolerance=float(spec.forward.tolerance) if spec.forward is not None else 1e-3,
        shorthand=shorthand,
        points=tuple((part, float(value)) for part, value in spec.grading.points.items()),
        hide_feedback=spec.grading.hide_feedback,
    )


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
    """'[]' when the problem's own LaTeX writes layers as ^{[l]}, '_' when it writes none but its
    model has stepped names (h_1, h_2 of a recurrence, read as layers), else '()'."""
    texts = [problem.statement] + [x for q in problem.quantities for x in (q.claim, q.of, q.wrt or "")]
    square = sum(len(re.findall(r"\^\{?\s*\[", t)) for t in texts)
    round_ = sum(len(re.findall(r"\^\{?\s*\(", t)) for t in texts)
    if square == round_ == 0 and any(form.layer is not None for form in dict(problem.model.form_table).values()):
        return "_"
    return "[]" if square > round_ else "()"
