"""The error hierarchy. Every message names the offending input."""


class SymderivError(Exception):
    """Base of every error symderiv raises on purpose."""


class ParseError(SymderivError):
    """LaTeX that the grammar of derivations cannot read."""

    def __init__(self, latex: str, reason: str, position: int | None = None):
        self.latex = latex
        self.reason = reason
        self.position = position
        shown = latex if len(latex) <= 60 else latex[:57] + "..."
        where = f" at character {position}" if position is not None else ""
        super().__init__(f"cannot read {shown!r}{where}: {reason}")


class NotationError(SymderivError):
    """A tree that parsed but names something the problem does not define."""


class ShapeError(SymderivError):
    """An expression that does not typecheck (matrix sizes that do not fit)."""


class UnboundIndexError(ShapeError):
    """An index letter nothing binds (1[j = y_i] with no j): the claim cannot be evaluated as
    written, which says nothing about whether it is right."""


class DerivationFileError(SymderivError):
    """A derivation file that cannot be used (unreadable, bad key, unknown activation)."""

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")


class UnknownProblemError(SymderivError):
    """A problem id that no derivation file declares."""


class UnknownQuantityError(SymderivError):
    """A quantity id (or left-hand side) that the problem does not define."""


class SubmissionError(SymderivError):
    """A submission file that cannot be graded (missing, unreadable, empty, binary)."""


class OutputError(SymderivError):
    """An output path that cannot be written (a file where a folder is wanted, read-only, a link)."""
