"""Named mistakes, verified: a mistake is named only if applying its fix makes the claim right.

Each candidate edit of the claim (drop an extra factor, the derivative where the activation is,
the right activation's derivative, the bias inside an indicator, the regulariser outside the
bracket, …) is re-checked in full (every reading, every point, both sides of every kink); the
first edit under which the claim holds names the mistake. Nothing is assumed from its shape.
"""

from __future__ import annotations

from collections.abc import Iterator

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import SymderivError
from symderiv.core.tree import Node
from symderiv.judging.edits import Edit
from symderiv.judging.fixes_activations import ActivationEdits
from symderiv.judging.fixes_arguments import ArgumentEdits
from symderiv.judging.fixes_factors import FactorEdits
from symderiv.judging.fixes_keyform import KeyFormEdits
from symderiv.judging.fixes_terms import TermEdits
from symderiv.judging.matcher import Checker

MAX_EDITS = 60


class FixFinder(TermEdits, FactorEdits, ActivationEdits, ArgumentEdits, KeyFormEdits):
    """The catalogue of edits, in order, and the first one under which the claim holds."""

    def holds(self, tree: Node) -> str | None:
        """ "strict" when the edited claim is right as written, "layout" when only up to layout."""
        try:
            checker = Checker(self.problem, self.quantity, tree)
            if not checker.could_hold():
                return None
            strict, layout, _ = checker.find()
        except (SymderivError, RecursionError, ValueError, ZeroDivisionError, OverflowError):
            return None
        return "strict" if strict is not None else "layout" if layout is not None else None

    def find(self, late: bool = False) -> tuple[str | None, str]:
        """The first edit under which the claim is right, else the first under which it is right up
        to layout; `late`: the edits tried after every other diagnosis (a term added or taken away
        says least about the mistake)."""
        edit, _ = self.find_edit(late)
        return (edit.code, edit.message) if edit is not None else (None, "")

    def find_edit(self, late: bool = False) -> tuple[Edit | None, str | None]:
        """(the edit, "strict" or "layout"): the claim with it applied is right as written, or only up to layout."""
        tried, layout_only = 0, None
        for edit in self.late_edits() if late else self.edits():
            tried += 1
            if tried > MAX_EDITS:
                break
            held = self.holds(edit.tree)
            if held == "strict":
                return edit, held
            if held == "layout" and layout_only is None:
                layout_only = edit
        return (layout_only, "layout") if layout_only else (None, None)

    def edits(self) -> Iterator[Edit]:
        yield from self.regulariser_edits()
        yield from self.one_over_n_edits()
        yield from self.sum_bounds()
        yield from self.transposed_factors()
        yield from self.indicator_edits()
        yield from self.bias_edits()
        yield from self.threshold_edits()
        yield from self.written_pre_activation()
        yield from self.activation_edits()
        yield from self.pattern_edits()
        yield from self.wrong_axis()
        yield from self.dropped_factors()
        yield from self.missing_derivative()
        yield from self.term_signs()
        yield from self.missing_weight()
        yield from self.power_edits()

    def late_edits(self) -> Iterator[Edit]:
        yield from self.key_form_edits()
        yield from self.key_variable_edits()
        yield from self.extra_terms()
        yield from self.missing_terms()

    def other_quantity(self) -> str | None:
        """The id of another quantity of the problem the claim is right for (dJ/db2 given for dJ/db1)."""
        q = self.quantity
        for other in self.problem.quantities:
            if other.id == q.id or other.kind != q.kind or other.of != q.of or other.indices != q.indices:
                continue
            try:
                strict, layout, _ = Checker(self.problem, other, self.tree).find()
            except (SymderivError, RecursionError, ValueError, ZeroDivisionError, OverflowError):
                continue
            if strict is not None or layout is not None:
                return other.id
        return None


def verified_fix(problem: Problem, quantity: Quantity, tree: Node, late: bool = False) -> tuple[str | None, str]:
    return FixFinder(problem, quantity, tree).find(late)


def other_quantity(problem: Problem, quantity: Quantity, tree: Node) -> tuple[str | None, str]:
    other = FixFinder(problem, quantity, tree).other_quantity()
    return ("other-quantity", f"This is {other}, not {quantity.id}.") if other else (None, "")
