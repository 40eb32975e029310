"""Results of a check: frozen dataclasses that carry their evidence (never a bare bool)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from symderiv.core.tree import Node


@dataclass(frozen=True)
class NumericResult:
    status: str  # equal | different | no-typecheck | error
    reading: str | None = None
    points: int = 0
    max_rel_err: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class SymbolicResult:
    status: str  # equal | different | undecided | timeout | skipped | error
    detail: str = ""
    sizes: str = ""
    seconds: float = 0.0
    # a refutation's real point: (SymPy symbol, value) for the key's symbols and the kinks' 0/1 signs
    witness: tuple[tuple[str, float], ...] = ()
    reading: str | None = None  # the reading the claim was compared under (the witness's layout)


@dataclass(frozen=True)
class Verdict:
    problem: str
    quantity: str
    claim: str
    verdict: str  # correct | correct-up-to-layout | incorrect | unparseable | undecided
    feedback: str
    reading: str | None = None
    fixes: tuple[str, ...] = ()
    diagnosis: str | None = None
    numeric: NumericResult | None = None
    symbolic: SymbolicResult | None = None
    repairs: tuple[str, ...] = ()
    normalized: str | None = None
    seconds: float = 0.0
    review: str | None = None  # why a person should look (undecided: the exact check did not finish)

    @property
    def accepted(self) -> bool:
        return self.verdict in ("correct", "correct-up-to-layout")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["accepted"] = self.accepted
        return d


@dataclass(frozen=True)
class Match:
    reading: str
    tree: Node
    fixes: tuple[str, ...]
    max_rel_err: float
    points: int
    note: str = ""
