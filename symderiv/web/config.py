"""What a course sets when it hosts the checker: a frozen ServeConfig and the parsing of its limits.

>>> parse_rate_limit("30/min")
RateLimit(requests=30, seconds=60.0)
>>> parse_rate_limit("0") is None
True
>>> parse_forwarded_allow_ips("10.0.0.5, 192.168.1.0/24")
('10.0.0.5', '192.168.1.0/24')
"""

from __future__ import annotations

import ipaddress
import math
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
MAX_CONNECTIONS = 10_000
MAX_HEADER_TIMEOUT = 300.0
MAX_BODY_TIMEOUT = 600.0
CACHE_BYTES = 64 * 1024 * 1024  # the answers kept in memory, counted in bytes of JSON

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
    max_connections: int = 512  # open connections; past it the one waiting longest on its client is closed
    header_timeout: float = 10.0  # seconds a request's headers may take to arrive
    body_timeout: float = 30.0  # seconds its body may take after the headers
    forwarded_allow_ips: tuple[str, ...] = ()  # proxies whose X-Forwarded-For is believed; () for none
    hide_feedback: bool = False  # before a deadline: marks per line only, no feedback, fixes or scores

    def __post_init__(self):
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"--workers {self.workers}: must be between 1 and {MAX_WORKERS}")
        if not 0 < self.time_limit <= MAX_TIME_LIMIT:
            raise ConfigError(f"--time-limit {self.time_limit:g}: must be above 0 and at most {MAX_TIME_LIMIT:g} s")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port {self.port}: must be between 0 and 65535")
        if not 1 <= self.max_connections <= MAX_CONNECTIONS:
            raise ConfigError(f"--max-connections {self.max_connections}: must be between 1 and {MAX_CONNECTIONS}")
        for flag, value, high in (
            ("--header-timeout", self.header_timeout, MAX_HEADER_TIMEOUT),
            ("--body-timeout", self.body_timeout, MAX_BODY_TIMEOUT),
        ):
            if not (math.isfinite(value) and 0 < value <= high):
                raise ConfigError(f"{flag} {value:g}: must be above 0 and at most {high:g} s")
        for address in self.forwarded_allow_ips:
            parse_forwarded_allow_ips(address)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """localhost, any 127.x.y.z, ::1 (also written in full or in brackets)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_forwarded_allow_ips(text: str) -> tuple[str, ...]:
    """'10.0.0.5,192.168.1.0/24': the proxies whose X-Forwarded-For header is believed (addresses or networks)."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(
                f"--forwarded-allow-ips {item!r}: not an IP address or network (give the proxy's address, "
                "such as 127.0.0.1 for a proxy on this machine)"
            ) from None
        out.append(item)
    return tuple(out)


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
