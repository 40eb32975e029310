"""Edits of activations and their derivatives: an indicator reversed or of the wrong argument, the pre-activation for the activation, the activation for its derivative, the wrong activation or derivative, a missing g_l'."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from symderiv.core.errors import SymderivError
from symderiv.core.tree import (
    Add,
    Call,
    Compare,
    Indicator,
    Neg,
    Num,
    Piecewise,
    Pow,
    Product,
    Sym,
    Transpose,
)
from symderiv.judging.edits import (
    FLIP,
    Edit,
    EditContext,
    argument_of,
    as_sym,
    is_derivative_like,
    put_at,
    sigmoid_derivative_pattern,
    tree_paths,
)
from symderiv.notation.parse import parse


class ActivationEdits(EditContext):
    """Activations, their derivatives and indicators, as the model's stages say."""

    def indicator_edits(self) -> Iterator[Edit]:
        relu = [s for s in self.stages if s.f == "relu"]
        model = self.problem.model
        for path, node in tree_paths(self.tree):
            if not isinstance(node, Indicator) or node.condition.op not in FLIP:
                continue
            cond = node.condition
            flipped = Indicator(Compare(cond.lhs, FLIP[cond.op], cond.rhs))
            yield Edit(
                put_at(self.tree, path, flipped),
                "reversed-indicator",
                f"The indicator is reversed: {self.tex(node)} should be {self.tex(flipped)}.",
            )
            if (isinstance(cond.lhs, Sym) and any(self.resolve(cond.lhs) == s.u for s in relu)) or not relu:
                continue
            like = next((n for n in cond.lhs.walk() if isinstance(n, Sym) and self.resolve(n) is not None), None)
            for stage in relu:
                z = self.pre_activation(stage, Sym("Z" if like is not None and like.name.isupper() else "z"))
                right = Indicator(Compare(z, cond.op, Num(0)))
                has_bias = any(
                    isinstance(n, Sym)
                    and (found := model.symbol_table.get(self.resolve(n) or "")) is not None
                    and found.role == "parameter"
                    and len(found.shape) == 2
                    and 1 in found.shape
                    for n in cond.lhs.walk()
                )
                other_stage = any(self.resolve(n) in {s.u for s in self.stages} for n in cond.lhs.walk())
                what = (
                    "the bias is missing inside the indicator"
                    if not (has_bias or other_stage)
                    else "the indicator's argument is wrong"
                )
                yield Edit(
                    put_at(self.tree, path, right),
                    "indicator-argument" if has_bias or other_stage else "bias-missing-in-indicator",
                    f"In {self.tex(node)} {what}: it should be {self.tex(right)}.",
                )

    def output_names(self) -> tuple[str, ...]:
        """The names a claim may call the output's softmax by (ψ, Ψ, softmax)."""
        own = [f.name for f in self.problem.model.functions if f.builtin == "softmax" and f.index is None]
        return tuple(own) + ("softmax",)

    def activation_edits(self) -> Iterator[Edit]:
        in_indicator = {
            id(n) for ind in self.tree.walk() if isinstance(ind, (Indicator, Piecewise)) for n in ind.walk()
        }
        model = self.problem.model
        inputs = {s.id for s in model.free() if s.role == "input"}
        first = self.stages[0] if len(self.stages) > 1 else None
        for path, node in tree_paths(self.tree):
            base = node.operand if isinstance(node, Transpose) else node
            stage = self.stage_of(base) if isinstance(base, Sym) else None
            sid = self.resolve(base)
            if stage is not None and sid == stage.u and base.layer is not None and id(base) not in in_indicator:
                act = self.activation(stage, base)
                fixed = Transpose(act) if isinstance(node, Transpose) else act
                yield Edit(
                    put_at(self.tree, path, fixed),
                    "pre-activation-for-activation",
                    f"{self.tex(base)} is the pre-activation where the activation {self.tex(act)} belongs.",
                )
            if stage is not None and sid == stage.t and base.layer is not None and not stage.output:
                deriv = self.right_derivative(stage, self.pre_activation(stage, base))
                if deriv is not None:
                    yield Edit(
                        put_at(self.tree, path, deriv),
                        "activation-for-derivative",
                        f"{self.tex(base)} is the activation where its derivative {self.tex(deriv)} belongs.",
                    )
            if isinstance(base, Sym) and base.layer is None and sid in inputs and first is not None:
                act = self.activation(first, Sym("A" if base.name.isupper() else "a", None, base.indices))
                fixed = Transpose(act) if isinstance(node, Transpose) else act
                yield Edit(
                    put_at(self.tree, path, fixed),
                    "input-for-activation",
                    f"{self.tex(base)} is the input where the hidden activation {self.tex(act)} belongs.",
                )
            if isinstance(node, Call) and node.args and node.primes == 0 and node.func not in ("exp", "log", "diag"):
                stage = self.stage_of(node.args[0])
                if stage is not None and (not stage.output or self.quantity.kind == "jacobian"):
                    deriv = self.right_derivative(stage, node.args[0])
                    if deriv is not None:
                        yield Edit(
                            put_at(self.tree, path, deriv),
                            "activation-for-derivative",
                            f"{self.tex(node)} is the activation where its derivative {self.tex(deriv)} belongs.",
                        )
                names = self.output_names()
                if stage is not None and stage.output and stage.f == "softmax" and node.func not in names:
                    fixed = Call(names[0], node.args)
                    yield Edit(
                        put_at(self.tree, path, fixed),
                        "wrong-activation",
                        f"{self.tex(node)} is not the output activation: it should be {self.tex(fixed)}.",
                    )
                if stage is not None and node.indices:  # g_L(z) where g_L'(z) belongs
                    fixed = replace(node, primes=1)
                    yield Edit(
                        put_at(self.tree, path, fixed),
                        "activation-for-derivative",
                        f"{self.tex(node)} is the activation where its derivative {self.tex(fixed)} belongs.",
                    )
            if is_derivative_like(node) or sigmoid_derivative_pattern(node):
                stage = self.stage_of(argument_of(node)) if argument_of(node) is not None else None
                if stage is not None and not stage.output:
                    z = argument_of(node)
                    z = self.pre_activation(stage, z) if isinstance(z, Sym) else z
                    right = self.right_derivative(stage, z)
                    if right is not None and right != node:
                        yield Edit(
                            put_at(self.tree, path, right),
                            "wrong-activation-derivative",
                            f"{self.tex(node)} is not the derivative of this layer's activation ({stage.f}): "
                            f"it should be {self.tex(right)}.",
                        )

    def pattern_edits(self) -> Iterator[Edit]:
        """a(1 − a) among a product's factors on a layer whose activation is not the sigmoid; Δ_ij for δ_ij."""
        model = self.problem.model
        for path, node in tree_paths(self.tree):
            if isinstance(node, Sym) and len(node.indices) == 2 and node.name != "delta":
                found = model.symbol_table.get(self.resolve(node) or "")
                if found is not None and found.role == "label" and node.name in ("Delta", "delta"):
                    fixed = Sym("delta", None, node.indices)
                    yield Edit(
                        put_at(self.tree, path, fixed),
                        "labels-for-kronecker",
                        f"{self.tex(node)} is the label matrix Δ; the Kronecker delta is {self.tex(fixed)}.",
                    )
            if not isinstance(node, Product):
                continue
            for k in range(len(node.factors) - 1):
                pair = Product(node.factors[k : k + 2], node.ops[k : k + 1])
                if not sigmoid_derivative_pattern(pair):
                    continue
                stage = self.stage_of(argument_of(pair))
                first = pair.factors[0]
                if stage is None and isinstance(first, Call) and first.func == "tanh" and len(first.args) == 1:
                    right = Add((Num(1), Neg(Pow(first, Num(2)))))  # tanh(c)(1 − tanh(c)) for 1 − tanh²(c)
                    factors = node.factors[:k] + (right,) + node.factors[k + 2 :]
                    ops = node.ops[:k] + node.ops[k + 1 :]
                    fixed = factors[0] if len(factors) == 1 else Product(factors, ops)
                    yield Edit(
                        put_at(self.tree, path, fixed),
                        "wrong-activation-derivative",
                        f"{self.tex(pair)} is the sigmoid's derivative; tanh's is {self.tex(right)}.",
                    )
                    continue
                if stage is None or stage.output:
                    continue
                right = self.right_derivative(stage, self.pre_activation(stage, as_sym(argument_of(pair))))
                if right is None:
                    continue
                factors = node.factors[:k] + (right,) + node.factors[k + 2 :]
                ops = node.ops[:k] + node.ops[k + 1 :]
                fixed = factors[0] if len(factors) == 1 else Product(factors, ops)
                yield Edit(
                    put_at(self.tree, path, fixed),
                    "wrong-activation-derivative",
                    f"{self.tex(pair)} is the sigmoid's derivative, but this layer's activation is the {stage.f}: "
                    f"its derivative is {self.tex(right)}.",
                )

    def missing_derivative(self) -> Iterator[Edit]:
        """g_l'(z_j^{(l)}) missing, for a quantity with respect to a pre-activation (index notation)."""
        q = self.quantity
        if not q.wrt or not q.indices:
            return
        try:
            z = parse(q.wrt)
        except SymderivError:
            return
        stage = self.stage_of(z) if isinstance(z, Sym) else None
        if stage is None or self.resolve(z) != stage.u or z.layer is None:
            return
        model = self.problem.model
        family = next((f.name for f in model.functions if f.index is not None and f.generic), None)
        deriv = Call(family, (z,), 1, (z.layer,)) if family else Call(stage.f, (z,), 1)
        yield Edit(
            Product((self.tree, deriv), ("juxt",)),
            "missing-activation-derivative",
            f"The activation derivative {self.tex(deriv)} is missing.",
        )
