"""symderiv: checks hand-written backpropagation derivations, symbolically and numerically.

>>> from symderiv import check_claim
>>> check_claim("softmax-2layer", "dJ/dz3", r"\\frac{1}{N}(a^{[3]} - \\Delta)", symbolic=False).verdict
'correct'

The package is one subpackage per stage of the pipeline, each depending only on those below it
(checked by import-linter, see .importlinter): ``reading`` (files -> math rows) and ``notation``
(LaTeX <-> expression tree) on ``core``; ``truth`` (answer keys, ground truth); ``judging`` (one
claim); ``grading`` (a submission); ``output`` (terminal, JSON/CSV, HTML, LaTeX).
"""

from importlib import import_module

from symderiv.core.errors import SymderivError

__version__ = "0.1.0"

# Public name -> the module that defines it. Loaded on first use, so that `import symderiv` stays
# cheap (SymPy and the grammar load only when a check needs them).
_PUBLIC = {
    "check_claim": "symderiv.judging.check",
    "Verdict": "symderiv.judging.verdict",
    "NumericResult": "symderiv.judging.verdict",
    "SymbolicResult": "symderiv.judging.verdict",
    "grade_file": "symderiv.grading.grade",
    "grade_text": "symderiv.grading.grade",
    "GradeConfig": "symderiv.grading.results",
    "Report": "symderiv.grading.results",
    "Part": "symderiv.grading.results",
    "Step": "symderiv.grading.results",
    "verify_file": "symderiv.grading.verify",
    "QuantityResult": "symderiv.grading.verify",
    "load_problem": "symderiv.answerkey.problem",
    "load_problem_file": "symderiv.answerkey.problem",
    "derivation_files": "symderiv.answerkey.problem",
    "Problem": "symderiv.answerkey.problem",
    "Quantity": "symderiv.answerkey.problem",
}

__all__ = sorted(_PUBLIC) + ["SymderivError", "__version__"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'symderiv' has no attribute {name!r}")


def __dir__():
    return __all__
