"""A `[network]` block is a shorthand: expanded at load into the `[model]` it stands for.

The layered network (input, layers with their activations, a loss, a regulariser) and its
notation table (how layers are numbered, which letters name the labels and the activations,
which objectives the problem uses) become forward equations, declared symbols with their
aliases and the key's functions. Everything downstream (the truth, the readings, the exact
check, naming mistakes) sees only the model: there is one engine for every key.

>>> from symderiv.answerkey.schema import NetworkSpec, NotationSpec, SizesSpec
>>> spec = expand_network(NetworkSpec(input="D", layers=[{"size": "C", "activation": "softmax"}],
...     loss="cross-entropy"), NotationSpec(), SizesSpec(numeric={"N": 4, "D": 3, "C": 2}), None)
>>> spec.model.equations
['z^{(2)} = W^{(1)} X + b^{(1)} \\\\mathbf{1}_{N}^T', 'a^{(2)} = \\\\mathrm{softmax}(z^{(2)})', 'J = -\\\\frac{1}{N} \\\\mathbf{1}_{C}^T \\\\left(\\\\Delta \\\\odot \\\\log\\\\mathrm{softmax}(z^{(2)})\\\\right) \\\\mathbf{1}_{N}']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symderiv.answerkey.schema import ForwardSpec, ModelSpec, NetworkSpec, NotationSpec, SizesSpec

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "softplus", "identity")
LOSSES = ("cross-entropy", "bce", "mse", "generic")
BUILTIN_NAMES = {"relu", "sigma", "sigmoid", "tanh", "softmax", "softplus", "exp", "log"}
ACTIVATION_TEX = {
    "relu": r"\mathrm{ReLU}(@)",
    "sigmoid": r"\sigma(@)",
    "tanh": r"\tanh(@)",
    "softplus": r"\mathrm{softplus}(@)",
    "softmax": r"\mathrm{softmax}(@)",
    "identity": "@",
}


def applied(activation: str, argument: str) -> str:
    """The activation applied to an argument, as LaTeX."""
    return ACTIVATION_TEX[activation].replace("@", argument)


# the network's objective keys: (the symbol's LaTeX, averaged over the batch, regularised)
OBJECTIVE_KEYS = {
    "J": ("J", True, False),
    "Jt": (r"\tilde J", True, True),
    "L": ("L", False, False),
    "C": ("C", False, False),
}
GREEK_NAMES = {"Delta", "delta", "psi", "Psi", "phi", "varphi", "sigma", "lambda", "alpha", "theta", "Phi", "Sigma"}


@dataclass(frozen=True)
class Expansion:
    """What a [network] block stands for: the model, the model of its forward-pass part, and the
    objective keys (J, Jt, L, C) as the model's symbols."""

    model: ModelSpec
    values: ModelSpec | None
    objectives: dict[str, str]


def tex_name(name: str) -> str:
    """A notation name as LaTeX: Greek by name (Delta -> \\Delta), other names as written."""
    return "\\" + name if name in GREEK_NAMES else name


def size_tex(size: str | int) -> str:
    """A size as a ones vector's subscript: n3 is written n_{3} (a size family member)."""
    if isinstance(size, int):
        return str(size)
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", size)
    return f"{m.group(1)}_{{{m.group(2)}}}" if m else size


class NetworkExpander:
    """The equations and symbols of a layered network, in the notation its key declares."""

    def __init__(self, net: NetworkSpec, nota: NotationSpec, sizes: SizesSpec):
        self.net, self.nota = net, nota
        self.depth = len(net.layers)
        self.batch = "N" if "N" in sizes.numeric else None

    # ---- labels of the notation --------------------------------------------------------
    def pre_label(self, k: int) -> int:
        return k + self.nota.input_number

    def weight_label(self, k: int) -> int:
        return k - 1 + self.nota.input_number if self.nota.weight_number == "input" else k + self.nota.input_number

    def width(self, k: int) -> str | int:
        return self.net.input if k == 0 else self.net.layers[k - 1].size

    def z(self, k: int) -> str:
        return f"z^{{({self.pre_label(k)})}}"

    def a(self, k: int) -> str:
        return "X" if k == 0 else f"a^{{({self.pre_label(k)})}}"

    def W(self, k: int) -> str:
        return f"W^{{({self.weight_label(k)})}}"

    def b(self, k: int) -> str:
        return f"b^{{({self.weight_label(k)})}}"

    def shape(self, rows) -> list:
        return [rows, self.batch] if self.batch else [rows, 1]

    def act(self, k: int) -> str:
        return self.net.layers[k - 1].activation

    # ---- the model ------------------------------------------------------------------
    def equations(self) -> list[str]:
        out = []
        for k in range(1, self.depth + 1):
            weight = f"{self.W(k)}T" if self.nota.weight_layout == "in-out" else self.W(k)
            if self.nota.weight_layout == "in-out":
                weight = f"W^{{({self.weight_label(k)})T}}"
            ones = r" \mathbf{1}_{N}^T" if self.batch else ""
            out.append(f"{self.z(k)} = {weight} {self.a(k - 1)} + {self.b(k)}{ones}")
            out.append(f"{self.a(k)} = {self.activation_tex(k)}")
        return out

    def activation_tex(self, k: int) -> str:
        if self.net.symbolic == "generic":
            return f"{self.generic_name()}_{{{self.pre_label(k)}}}({self.z(k)})"
        return applied(self.act(k), self.z(k))

    def generic_name(self) -> str:
        shared = [n for n in self.nota.hidden_activation if n in self.nota.output_activation]
        return tex_name(shared[0]) if shared else "g"

    def labels(self) -> str:
        return tex_name(self.nota.labels[0]) if self.nota.labels else "Y"

    def loss_sum(self) -> str:
        """The loss summed over the samples (one sample: that sample's loss)."""
        L, Y = self.depth, self.labels()
        out_size = size_tex(self.width(L))
        ones_n = r" \mathbf{1}_{N}" if self.batch else ""
        a, z = self.a(L), self.z(L)
        loss = self.net.loss
        if loss == "cross-entropy":
            logp = rf"\log\mathrm{{softmax}}({z})" if self.act(L) == "softmax" else rf"\log({a})"
            return rf"-\mathbf{{1}}_{{{out_size}}}^T \left({Y} \odot {logp}\right){ones_n}"
        if loss == "bce":
            return (
                rf"-\mathbf{{1}}_{{{out_size}}}^T \left({Y} \odot \log({a}) + (1 - {Y}) \odot \log(1 - {a})\right)"
                + ones_n
            )
        if loss == "mse":
            return rf"\frac{{1}}{{2}} \mathbf{{1}}_{{{out_size}}}^T \left(({a} - {Y}) \odot ({a} - {Y})\right){ones_n}"
        return f"C({a})"  # generic: a function of the key, undefined for the exact check

    def objective_equations(self) -> tuple[list[str], dict[str, str]]:
        keys = list(self.nota.objectives)
        names = {key: OBJECTIVE_KEYS[key][0] for key in keys if key in OBJECTIVE_KEYS}
        total = self.loss_sum()
        out = []
        per_sample = [k for k in keys if k in ("L", "C")]
        averaged = [k for k in keys if k in ("J", "Jt")]
        base = None
        for key in per_sample:
            out.append(f"{names[key]} = {total}")
            base = base or names[key]
        if averaged:
            mean = (
                rf"\frac{{1}}{{N}} {base}"
                if base
                else rf"-\frac{{1}}{{N}} {total[1:]}"
                if total.startswith("-")
                else rf"\frac{{1}}{{N}} {total}"
            )
            out.append(f"J = {mean}")
            if "Jt" in keys:
                out.append(rf"\tilde J = J{self.regulariser_tex()}")
        return out, names

    def regulariser_tex(self) -> str:
        reg = self.net.regulariser
        if not reg:
            return ""
        norms = " + ".join(rf"\|{self.W(k)}\|_F^2" for k in range(1, self.depth + 1))
        coefficient = r"\lambda" if reg == "lambda" else r"\frac{\lambda}{2}"
        return f" + {coefficient}\\left({norms}\\right)"

    def symbols(self) -> dict:
        D = self.width(0)
        out: dict = {
            "X": {
                "shape": self.shape(D),
                "role": "input",
                "aliases": ["x", f"a^{{({self.nota.input_number})}}"],
            }
        }
        for k in range(1, self.depth + 1):
            rows, cols = (
                (self.width(k - 1), self.width(k))
                if self.nota.weight_layout == "in-out"
                else (self.width(k), self.width(k - 1))
            )
            out[self.W(k)] = {"shape": [rows, cols], "role": "parameter"}
            out[self.b(k)] = {"shape": [self.width(k), 1], "role": "parameter"}
        L = self.depth
        labels = {"cross-entropy": "one-hot", "bce": "binary"}.get(self.net.loss, "real")
        names = [tex_name(n) for n in self.nota.labels] or ["Y"]
        out[names[0]] = {"shape": self.shape(self.width(L)), "role": "label", "labels": labels, "aliases": names[1:]}
        if self.net.regulariser:
            out[r"\lambda"] = {"role": "hyperparameter", "range": [0.1, 0.9]}
        # the output: ŷ, and the output activation's names written as a symbol (ψ for a^{(3)})
        output_aliases = [r"\hat y", "a"] + [
            tex_name(n) for n in self.nota.output_activation if n not in ("softmax", "sigmoid", "relu", "tanh")
        ]
        if self.labels() in output_aliases:
            output_aliases.remove(self.labels())
        out[self.a(L)] = {"aliases": output_aliases}
        out[self.z(L)] = {"aliases": ["z"]}
        return out

    def functions(self) -> dict[str, str]:
        """The activations' names as the key's functions: φ(u) the hidden layers' activation, ψ(u)
        the output's, and with a layer subscript (φ_2, g_l) the activation of that layer."""
        out = {}
        hidden = [self.act(k) for k in range(1, self.depth)]
        generic = self.net.symbolic == "generic"
        names = list(dict.fromkeys(self.nota.hidden_activation + self.nota.output_activation))
        for name in names:
            if name in BUILTIN_NAMES:
                continue
            tex = tex_name(name)
            if not generic:
                if name in self.nota.output_activation and name not in self.nota.hidden_activation:
                    out[f"{tex}(u)"] = applied(self.act(self.depth), "u")
                elif name in self.nota.hidden_activation and name not in self.nota.output_activation and hidden:
                    out[f"{tex}(u)"] = applied(hidden[0], "u")
            for k in range(1, self.depth + 1):
                out[f"{tex}_{{{self.pre_label(k)}}}(u)"] = applied(self.act(k), "u")
        if generic:
            out["C(u)"] = self.generic_cost()
        return out

    def generic_cost(self) -> str:
        """The smooth stand-in for a generic cost C(a): Σ_j log(1 + (a_j − y_j)²) + a_j³/3."""
        Y, n = self.labels(), size_tex(self.width(self.depth))
        return rf"\mathbf{{1}}_{{{n}}}^T \left(\log(1 + (u - {Y})^2) + \frac{{1}}{{3}} u^3\right)"

    def model(self) -> tuple[ModelSpec, dict[str, str]]:
        objectives, names = self.objective_equations()
        generic = self.net.symbolic == "generic"
        functions = self.functions()
        spec = ModelSpec(
            batch=self.batch,
            equations=self.equations() + objectives,
            symbols=self.symbols(),
            functions=functions,
            per_sample=[names[k] for k in names if k in ("L", "C")],
            deltas={r"\delta": "z"},
            generic=sorted({self.generic_name(), "C"}) if generic else [],
            open_derivatives=[names["C"]] if self.net.loss == "generic" and "C" in names else [],
            layer_symbols=dict(self.nota.layer_symbols),
        )
        return spec, names


def forward_model(forward: ForwardSpec, nota: NotationSpec) -> ModelSpec:
    """The `[forward]` part's network with its given numbers, for forward-value quantities."""
    net = NetworkSpec(
        input=len(forward.x),
        layers=[{"size": len(b), "activation": act} for b, act in zip(forward.b, forward.activations)],
        loss="mse",
    )
    expander = NetworkExpander(net, nota, SizesSpec(numeric={}))
    symbols = {"X": {"shape": [len(forward.x), 1], "role": "input", "aliases": ["x", f"a^{{({nota.input_number})}}"]}}
    values: dict = {"X": list(forward.x)}
    for k, (W, b) in enumerate(zip(forward.W, forward.b), start=1):
        symbols[expander.W(k)] = {"shape": [len(W), len(W[0])], "role": "parameter"}
        symbols[expander.b(k)] = {"shape": [len(b), 1], "role": "parameter"}
        values[expander.W(k)] = [list(row) for row in W]
        values[expander.b(k)] = list(b)
    symbols[expander.a(expander.depth)] = {"aliases": [r"\hat y", "a"]}
    return ModelSpec(
        equations=expander.equations(),
        symbols=symbols,
        values=values,
        deltas={},
        layer_symbols=dict(nota.layer_symbols),
    )


def expand_network(net: NetworkSpec, nota: NotationSpec, sizes: SizesSpec, forward: ForwardSpec | None) -> Expansion:
    """The [model] a [network] block (with its [notation] and [forward]) stands for."""
    model, names = NetworkExpander(net, nota, sizes).model()
    values = forward_model(forward, nota) if forward is not None else None
    return Expansion(model, values, names)
