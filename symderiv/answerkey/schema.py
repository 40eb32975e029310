"""The schema of a derivation file (answer key), checked before anything is built from it.

pydantic models with extra="forbid": an unknown or misspelt field, a wrong type or a missing
required field is a one-line DerivationFileError naming the file, the line and the field.

>>> validate_key({"problem": {"id": "x"}, "sizes": {"numeric": {"N": 3}}, "netwrk": {}}, "k.toml", "")
Traceback (most recent call last):
...
symderiv.core.errors.DerivationFileError: k.toml: netwrk: unknown field (a misspelling?); [network] or [model] is required
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from symderiv.core.errors import DerivationFileError

Number = StrictInt | StrictFloat

# The documented bounds of a key (README, "Derivation files"), checked before anything is built.
MAX_NUMERIC_SIZE = 100  # a size in [sizes].numeric: random arrays of at most this many rows or columns
MAX_SYMBOLIC_SIZE = 10  # a size in [sizes].symbolic, or a number in a shape or a layer: explicit SymPy matrices
MAX_LAYERS = 20
MAX_MAGNITUDE = 1e6  # a number given in a key (a range, a value, a forward pass)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemSpec(Strict):
    id: StrictStr
    title: StrictStr = ""
    statement: StrictStr = ""


class LayerSpec(Strict):
    size: StrictStr | StrictInt
    activation: StrictStr


class NetworkSpec(Strict):
    input: StrictStr | StrictInt
    layers: list[LayerSpec]
    loss: StrictStr
    # "lambda": λ Σ‖W‖²_F (gradient 2λW); "lambda/2": (λ/2) Σ‖W‖²_F (gradient λW); false: none
    regulariser: Literal["lambda", "lambda/2"] | Literal[False] | None = None
    symbolic: Literal["generic", "explicit"] = "explicit"


class NotationSpec(Strict):
    input_number: StrictInt = 1
    weight_number: Literal["input", "output"] = "input"
    weight_layout: Literal["out-in", "in-out"] = "out-in"
    labels: list[StrictStr] = ["Delta", "y", "Y"]
    hidden_activation: list[StrictStr] = ["phi", "varphi", "relu"]
    output_activation: list[StrictStr] = ["psi", "Psi", "softmax"]
    objectives: dict[StrictStr, StrictStr] = {"J": "J"}
    layer_symbols: dict[StrictStr, StrictInt] = {}


class SymbolSpec(Strict):
    shape: list[StrictStr | StrictInt] = []
    # mask: a given 0/1 matrix (inverted dropout's m), drawn with both values
    role: Literal["input", "parameter", "label", "hyperparameter", "mask"] | None = None
    labels: Literal["one-hot", "binary", "real", "index"] | None = None
    columns: StrictStr | None = None  # the name of the matrix's columns: columns = "u" makes u_w column w
    aliases: list[StrictStr] = []
    range: tuple[Number, Number] | None = None
    value: Number | None = None


class ModelSpec(Strict):
    batch: StrictStr | None = None
    equations: list[StrictStr] = Field(min_length=1)
    symbols: dict[StrictStr, SymbolSpec]
    functions: dict[StrictStr, StrictStr] = {}
    values: dict[StrictStr, Number | list[Number] | list[list[Number]]] = {}
    # objectives of one sample (L, C): their quantities are read in the one-sample reading only
    per_sample: list[StrictStr] = []
    # backprop deltas: {'\delta' = 'z'} makes δ^{(l)} the gradient of the quantity's objective
    # with respect to z^{(l)} (δ_t with respect to h_t for {'\delta' = 'h'})
    deltas: dict[StrictStr, StrictStr] = {}
    # functions of [model.functions] the exact check keeps undefined (g_l, C of a generic problem);
    # their bodies are the numeric stand-ins
    generic: list[StrictStr] = []
    # objectives whose derivatives a claim may leave unevaluated (∂C/∂a_j^{(L)} of a generic cost)
    open_derivatives: list[StrictStr] = []
    # symbols that stand for a layer number in claims (L = 3: the last layer)
    layer_symbols: dict[StrictStr, StrictInt] = {}


class SizesSpec(Strict):
    numeric: dict[StrictStr, StrictInt]
    symbolic: dict[StrictStr, StrictInt] | None = None


class QuantitySpec(Strict):
    id: StrictStr
    claim: StrictStr
    of: StrictStr = ""
    wrt: StrictStr | None = None
    kind: Literal["gradient", "jacobian", "value"] = "gradient"
    indices: list[StrictStr] = []
    layers: dict[StrictStr, StrictInt | list[StrictInt]] = {}
    steps: list[StrictStr] = []
    name: StrictStr = ""  # how students see the quantity (LaTeX); default: ∂of/∂wrt in the key's notation


class ForwardSpec(Strict):
    activations: list[StrictStr]
    W: list[list[list[Number]]]
    b: list[list[Number]]
    x: list[Number]
    tolerance: Number = 1e-3


class GradingSpec(Strict):
    parts: list[StrictStr] | None = None
    optional: list[StrictStr] = []
    points: dict[StrictStr, Number] = {}  # a scored part's points (default 1 each)
    hide_feedback: StrictBool = False  # `serve` shows only ✓/✗ per line (as `serve --hide-feedback`)


class KeySpec(Strict):
    problem: ProblemSpec
    network: NetworkSpec | None = None
    model: ModelSpec | None = None
    notation: NotationSpec = NotationSpec()
    sizes: SizesSpec
    quantity: list[QuantitySpec] = []
    forward: ForwardSpec | None = None
    grading: GradingSpec = GradingSpec()


def line_of(text: str, needle: str) -> int | None:
    """The 1-based line of the first occurrence of needle (a key as written, `name =`), or None."""
    m = re.search(r"(?m)^\s*\[*\s*" + re.escape(needle) + r"\b", text) or re.search(
        r"(?<![\w.])" + re.escape(needle) + r"(?![\w])", text
    )
    return text.count("\n", 0, m.start()) + 1 if m else None


def find_line(text: str, needle: str, start: int = 0) -> int | None:
    """The 1-based line where needle (verbatim) first occurs after start, or None."""
    pos = text.find(needle, max(start, 0)) if needle else -1
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif part in (
            "str",
            "int",
            "float",
            "list[...]",
            "literal['lambda','lambda/2']",
            "bool",
            "none",
        ) or part.startswith(("literal[", "function-", "tuple[", "list[", "dict[", "union[")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _error_line(text: str, loc: tuple, data: dict) -> int | None:
    """The line of the innermost named part of loc that the file text contains."""
    names = [p for p in loc if isinstance(p, str)]
    if loc and loc[0] == "quantity" and len(loc) > 1 and isinstance(loc[1], int):
        try:
            qid = data["quantity"][loc[1]].get("id")
        except (IndexError, AttributeError, KeyError):
            qid = None
        start = text.find(f'"{qid}"') if qid else -1
        if start < 0:
            starts = [m.start() for m in re.finditer(r"(?m)^\s*\[\[quantity\]\]", text)]
            start = starts[loc[1]] if loc[1] < len(starts) else 0
        field = names[-1] if len(names) > 1 else None
        if field:
            m = re.compile(r"(?m)^\s*" + re.escape(field) + r"\s*=").search(text, start)
            if m and "[[quantity]]" not in text[start : m.start()][10:]:
                return text.count("\n", 0, m.start()) + 1
        return text.count("\n", 0, start) + 1
    for name in reversed(names):
        line = line_of(text, name)
        if line:
            return line
    return None


def _in_section(text: str, section: str, needle: str) -> int | None:
    """The line of needle after the header [section] (or anywhere if there is no such header)."""
    m = re.search(r"(?m)^\s*\[\s*" + re.escape(section) + r"\s*\]", text)
    return find_line(text, needle, m.start() if m else 0) or line_of(text, section)


def _numbers(value) -> list:
    return [x for v in value for x in _numbers(v)] if isinstance(value, (list, tuple)) else [value]


def check_bounds(spec: KeySpec, path: str, text: str) -> None:
    """Sizes, layer counts and numbers within the documented bounds, and every size name declared
    in [sizes], before any array or matrix is built (a size of 10^9 would allocate gigabytes)."""

    def fail(field: str, reason: str, line: int | None) -> None:
        raise DerivationFileError(path, f"{field}: {reason}", line)

    tables = [("numeric", spec.sizes.numeric, MAX_NUMERIC_SIZE, "")]
    if spec.sizes.symbolic is not None:
        tables.append(("symbolic", spec.sizes.symbolic, MAX_SYMBOLIC_SIZE, ""))
    else:
        tables.append(
            ("numeric", spec.sizes.numeric, MAX_SYMBOLIC_SIZE, " (with no [sizes] symbolic, used for both checks)")
        )
    for table, sizes, high, note in tables:
        for name, value in sizes.items():
            if not 1 <= value <= high:
                reason = f"{value} is not a size from 1 to {high}{note}"
                fail(f"sizes.{table}.{name}", reason, _in_section(text, "sizes", table))

    def size(field: str, value, line: int | None) -> None:
        check_size(spec, path, field, value, line)

    if spec.network is not None:
        net = spec.network
        size("network.input", net.input, _in_section(text, "network", "input"))
        if not 1 <= len(net.layers) <= MAX_LAYERS:
            fail(
                "network.layers", f"{len(net.layers)} layers; a network has 1 to {MAX_LAYERS}", line_of(text, "layers")
            )
        for i, layer in enumerate(net.layers):
            size(f"network.layers[{i + 1}].size", layer.size, _in_section(text, "network", "layers"))
    for name, value in spec.notation.layer_symbols.items():
        if not 1 <= value <= MAX_LAYERS:
            fail(
                f"notation.layer_symbols.{name}",
                f"{value} is not a layer from 1 to {MAX_LAYERS}",
                line_of(text, "layer_symbols"),
            )
    if spec.forward is not None:
        f = spec.forward
        for field, given in (("W", f.W), ("b", f.b), ("x", f.x), ("tolerance", f.tolerance)):
            _finite(fail, f"forward.{field}", given, _in_section(text, "forward", field))
    for q in spec.quantity:
        for letter, layers in q.layers.items():
            for layer in _numbers(layers):
                if not -MAX_LAYERS <= layer <= MAX_LAYERS:
                    fail(
                        f"quantity {q.id!r}: layers.{letter}",
                        f"{layer} is not a layer from 1 to {MAX_LAYERS}",
                        line_of(text, f'"{q.id}"'),
                    )


def check_size(spec: KeySpec, path: str, field: str, value, line: int | None) -> None:
    """A size (a number, or a name declared in [sizes]) within the documented bounds."""
    symbolic = spec.sizes.symbolic if spec.sizes.symbolic is not None else spec.sizes.numeric
    if isinstance(value, int) and not 1 <= value <= MAX_SYMBOLIC_SIZE:
        raise DerivationFileError(path, f"{field}: {value} is not a size from 1 to {MAX_SYMBOLIC_SIZE}", line)
    for table, sizes in (("numeric", spec.sizes.numeric), ("symbolic", symbolic)):
        if isinstance(value, str) and value not in sizes:
            raise DerivationFileError(path, f"{field}: the size {value!r} is not declared in [sizes] {table}", line)


def check_model_bounds(model: ModelSpec, spec: KeySpec, path: str, text: str) -> None:
    """A key's model (its own [model], or the one a [network] expands into) within the bounds:
    layers, sizes and numbers, before any array is built."""

    def fail(field: str, reason: str, line: int | None) -> None:
        raise DerivationFileError(path, f"{field}: {reason}", line)

    def size(field: str, value, line: int | None) -> None:
        check_size(spec, path, field, value, line)

    for name, value in model.layer_symbols.items():
        if not 1 <= value <= MAX_LAYERS:
            fail(
                f"model.layer_symbols.{name}",
                f"{value} is not a layer from 1 to {MAX_LAYERS}",
                line_of(text, "layer_symbols"),
            )
    if model.batch is not None:
        size("model.batch", model.batch, _in_section(text, "model", "batch"))
    for spelling, symbol in model.symbols.items():
        line = _in_section(text, "model.symbols", spelling)
        for axis in symbol.shape:
            size(f"model.symbols.{spelling}.shape", axis, line)
        for field, given in (("range", symbol.range), ("value", symbol.value)):
            if given is not None:
                _finite(fail, f"model.symbols.{spelling}.{field}", given, line)
        if symbol.range is not None and not symbol.range[0] <= symbol.range[1]:
            fail(f"model.symbols.{spelling}.range", f"{list(symbol.range)}: the low end is above the high end", line)
    for name, given in model.values.items():
        _finite(fail, f"model.values.{name}", given, _in_section(text, "model.values", name))


def _finite(fail, field: str, given, line: int | None) -> None:
    for x in _numbers(given):
        if not (math.isfinite(x) and abs(x) <= MAX_MAGNITUDE):
            fail(field, f"{x} is not a finite number of magnitude at most {MAX_MAGNITUDE:g}", line)


def validate_key(data: dict, path: str, text: str) -> KeySpec:
    """The validated key, or a one-line DerivationFileError for its first problem."""
    try:
        spec = KeySpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = _field_path(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            reason = f"{field}: unknown field (a misspelling?)"
            if len(loc) == 1:
                reason += "; [network] or [model] is required" if "network" not in data and "model" not in data else ""
        elif kind == "missing":
            reason = f"{field}: required field missing"
        else:
            given = err.get("input")
            shown = repr(given) if not isinstance(given, dict) else "a table"
            reason = f"{field}: {err['msg'].lower()} (given {shown[:60]})"
        raise DerivationFileError(path, reason, _error_line(text, loc, data)) from None
    if (spec.network is None) == (spec.model is None):
        raise DerivationFileError(
            path,
            "a key declares exactly one of [network] (the layered shorthand) or [model] (forward equations)",
            line_of(text, "[model]"),
        )
    check_bounds(spec, path, text)
    return spec


__all__ = [
    "KeySpec",
    "ModelSpec",
    "SymbolSpec",
    "QuantitySpec",
    "validate_key",
    "check_bounds",
    "check_model_bounds",
    "line_of",
    "StrictBool",
    "MAX_NUMERIC_SIZE",
    "MAX_SYMBOLIC_SIZE",
    "MAX_LAYERS",
    "MAX_MAGNITUDE",
]
