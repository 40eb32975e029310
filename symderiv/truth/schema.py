"""The schema of a derivation file (answer key), checked before anything is built from it.

pydantic models with extra="forbid": an unknown or misspelt field, a wrong type or a missing
required field is a one-line DerivationFileError naming the file, the line and the field.

>>> validate_key({"problem": {"id": "x"}, "sizes": {"numeric": {"N": 3}}, "netwrk": {}}, "k.toml", "")
Traceback (most recent call last):
...
symderiv.core.errors.DerivationFileError: k.toml: netwrk: unknown field (a misspelling?); [network] or [model] is required
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from symderiv.core.errors import DerivationFileError

Number = StrictInt | StrictFloat


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
    role: Literal["input", "parameter", "label", "hyperparameter"] | None = None
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
    return spec


__all__ = ["KeySpec", "ModelSpec", "SymbolSpec", "QuantitySpec", "validate_key", "line_of", "StrictBool"]
