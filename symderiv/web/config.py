"""What a course sets when it hosts the checker: a frozen ServeConfig and the parsing of its limits.

>>> parse_rate_limit("30/min")
RateLimit(requests=30, seconds=60.0)
>>> parse_rate_limit("0") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from symderiv.web.library import SymderivError

# The documented bounds of each setting (README, "symderiv serve").
MAX_WORKERS = 64
MAX_TIME_LIMIT = 600.0
MAX_TEXT_BYTES = 256 * 1024  # a derivation typed or dropped on the page
MAX_CLAIM_CHARS = 20_000  # the parser's own guard on one claim
MAX_QUANTITY_CHARS = 2_000
MAX_BODY_BYTES = 2 * MAX_TEXT_BYTES  # JSON escapes can double the size of the text
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}


class ConfigError(SymderivError, ValueError):
    """A setting outside its documented bounds; the message names the setting."""


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: float


@dataclass(frozen=True)
class ServeConfig:
    keys: Path | None = None  # folder of answer keys (*.toml); None: the shipped ones
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2  # worker processes that run the checks
    rate_limit: RateLimit | None = field(default_factory=lambda: RateLimit(60, 60.0))  # per client address
    time_limit: float = 30.0  # seconds one check or grade may take (a timeout is a 504)
    symbolic: bool = True  # False: numeric checks only (faster, for a large class)
    hide_feedback: bool = False  # before a deadline: marks per line only, no feedback, fixes or scores

    def __post_init__(self):
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"--workers {self.workers}: must be between 1 and {MAX_WORKERS}")
        if not 0 < self.time_limit <= MAX_TIME_LIMIT:
            raise ConfigError(f"--time-limit {self.time_limit:g}: must be above 0 and at most {MAX_TIME_LIMIT:g} s")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port {self.port}: must be between 0 and 65535")

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")


def parse_rate_limit(text: str) -> RateLimit | None:
    """'N/UNIT' (30/min, 5/s, 600/hour) or 'N/SECONDS' (30/60); '0' or 'off' for no limit."""
    text = text.strip().lower()
    if text in ("0", "off", "none"):
        return None
    m = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([a-z]*)", text)
    if not m or (m.group(3) and m.group(3).rstrip("s") not in _UNITS and m.group(3) not in _UNITS):
        raise ConfigError(f"--rate-limit {text!r}: expected N/min, N/s, N/hour or N/SECONDS (or 0 for none)")
    count = int(m.group(1))
    amount = float(m.group(2)) if m.group(2) else 1.0
    unit = m.group(3)
    scale = _UNITS.get(unit, _UNITS.get(unit.rstrip("s"), 1.0)) if unit else 1.0
    seconds = amount * scale
    if count < 1 or not 1 <= seconds <= 86_400:
        raise ConfigError(f"--rate-limit {text!r}: needs at least 1 request per period of 1 s to 1 day")
    return RateLimit(count, seconds)
