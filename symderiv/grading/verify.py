"""`symderiv verify`: every quantity of a derivation file against the ground truth.

The ground truth comes from the key's model (its equations differentiated by autograd, checked
by central differences, and by SymPy entry by entry), never from the file's own formulas.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import lru_cache

from symderiv.answerkey.problem import Problem, Quantity, load_problem_file
from symderiv.core.errors import ParseError, SymderivError
from symderiv.grading.grade import grade_text
from symderiv.grading.results import GradeConfig
from symderiv.judging.check import judge
from symderiv.notation.parse import parse_lenient
from symderiv.truth.reference import gradcheck

GRADCHECK_LIMIT = 1e-7


@dataclass(frozen=True)
class QuantityResult:
    problem: str
    quantity: str
    ok: bool
    symbolic: bool
    numeric: bool
    gradcheck_max_rel_err: float
    seconds: float
    message: str
    claim: str = ""
    verdict: str = ""
    reading: str | None = None
    symbolic_detail: str = ""
    numeric_max_rel_err: float | None = None
    normalized: str | None = None
    status: str = "verified"  # verified | wrong | undecided (the exact check did not finish or decide)

    def to_dict(self) -> dict:
        keys = ("problem", "quantity", "ok", "symbolic", "numeric", "gradcheck_max_rel_err", "seconds", "message")
        d = asdict(self)
        return {k: d[k] for k in keys} | {
            "status": self.status,
            "claim": self.claim,
            "verdict": self.verdict,
            "reading": self.reading,
            "symbolic_detail": self.symbolic_detail,
        }


@lru_cache(maxsize=16)
def problem_gradcheck(problem: Problem, seed: int = 0) -> float:
    """Worst relative error of the model's automatic differentiation against central differences,
    over a few instances, for every (objective, variable) pair the key's quantities ask about."""
    return gradcheck(problem, seed)


def verify_quantity(problem: Problem, q: Quantity, grad_err: float, timeout: float = 20.0) -> QuantityResult:
    start = time.perf_counter()
    try:
        tree = parse_lenient(q.claim).tree
    except ParseError as exc:
        raise SymderivError(f"{problem.path}:{q.line}: quantity {q.id!r}: {exc}") from None
    v = judge(problem, q, tree, symbolic=True, timeout=timeout)
    numeric_ok = v.numeric is not None and v.numeric.status == "equal" and v.verdict == "correct"
    symbolic_ok = v.symbolic is not None and v.symbolic.status == "equal"
    detail = f"{v.symbolic.status}: {v.symbolic.detail}" if v.symbolic else ""
    gradcheck_ok = grad_err <= GRADCHECK_LIMIT
    step_problems = check_steps(problem, q)
    ok = numeric_ok and symbolic_ok and gradcheck_ok and not step_problems
    unfinished = (
        not ok
        and gradcheck_ok
        and not step_problems
        and v.symbolic is not None
        and v.symbolic.status in ("timeout", "undecided")
        and v.numeric is not None
        and v.numeric.status == "equal"
    )
    status = "verified" if ok else "undecided" if unfinished else "wrong"
    if ok:
        where = f" on {v.symbolic.sizes}" if v.symbolic and v.symbolic.sizes else ""
        message = f"{v.feedback} Symbolic{where}: {detail}."
    elif unfinished:
        smaller = ", ".join(f"{k} = {max(2, n - 1)}" for k, n in problem.symbolic_sizes)
        message = (
            f"numerically right; the exact check could not decide on {v.symbolic.sizes or 'the symbolic sizes'} "
            f"({detail}): try smaller sizes, [sizes] symbolic = {{ {smaller} }}"
        )
    else:
        reasons = []
        if not numeric_ok:
            reasons.append(f"numerically {v.verdict}: {v.feedback}")
        if not symbolic_ok:
            reasons.append(f"symbolically {detail or 'not checked'}")
        if not gradcheck_ok:
            reasons.append(f"backprop disagrees with finite differences ({grad_err:.2g})")
        reasons.extend(step_problems)
        message = "; ".join(reasons)
    return QuantityResult(
        problem=problem.id,
        quantity=q.id,
        ok=ok,
        symbolic=symbolic_ok,
        numeric=numeric_ok,
        gradcheck_max_rel_err=grad_err,
        seconds=round(time.perf_counter() - start, 4),
        message=message,
        claim=q.claim,
        verdict=v.verdict,
        reading=v.reading,
        symbolic_detail=detail,
        numeric_max_rel_err=v.numeric.max_rel_err if v.numeric else None,
        normalized=v.normalized,
        status=status,
    )


def check_steps(problem: Problem, q: Quantity) -> list[str]:
    """The key's worked steps: every = step between closed forms must hold (as in grading)."""
    if not q.steps:
        return []
    text = "\n\n".join(f"$${step}$$" for step in q.steps)
    report = grade_text(text, problem, file=f"{problem.path}:{q.id}", config=GradeConfig(symbolic=False))
    return [f"worked step {s.line} of {q.id} does not hold: {s.message}" for s in report.steps if not s.ok]


def verify_file(path, on_result=None) -> list[QuantityResult]:
    """Verify every quantity in one derivation file. Raises DerivationFileError for an unusable file."""
    problem = load_problem_file(path)
    grad_err = problem_gradcheck(problem)
    results = []
    for q in problem.quantities:
        r = verify_quantity(problem, q, grad_err)
        results.append(r)
        if on_result:
            on_result(r)
    return results
