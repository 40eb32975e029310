"""symderiv: checks hand-written backpropagation derivations, symbolically and numerically.

>>> from symderiv import check_claim
>>> check_claim("softmax-2layer", "dJ/dz3", r"\\frac{1}{N}(a^{[3]} - \\Delta)", symbolic=False).verdict
'correct'
"""
from symderiv.core.errors import SymderivError

__version__ = "0.1.0"
__all__ = ["check_claim", "Verdict", "grade_file", "grade_text", "verify_file", "SymderivError"]


def __getattr__(name):
    # Lazy imports keep `import symderiv` cheap (SymPy loads only when a check needs it).
    if name in ("check_claim", "Verdict"):
        from symderiv.judging import check
        return getattr(check, name)
    if name in ("grade_file", "grade_text"):
        from symderiv.grading import grade
        return getattr(grade, name)
    if name == "verify_file":
        from symderiv.grading.verify import verify_file
        return verify_file
    raise AttributeError(name)
