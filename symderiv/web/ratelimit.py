"""A per-client rate limit: a token bucket per client address.

Each client may make `requests` requests in a burst and earns them back at `requests` per
`seconds`. Buckets that have refilled are forgotten, so memory stays bounded by the clients
active in the last period.

>>> limiter = RateLimiter(RateLimit(2, 60.0), clock=lambda: 0.0)
>>> [limiter.allow("a") for _ in range(3)], limiter.allow("b")
([0.0, 0.0, 30.0], 0.0)
"""

from __future__ import annotations

import time

from symderiv.web.config import RateLimit

MAX_CLIENTS = 10_000


class RateLimiter:
    def __init__(self, limit: RateLimit, clock=time.monotonic):
        self.limit, self.clock = limit, clock
        self.rate = limit.requests / limit.seconds  # tokens per second
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, time)

    def allow(self, client: str) -> float:
        """0.0 if the request may go ahead (and count it), else the seconds until it may."""
        now = self.clock()
        tokens, then = self._buckets.get(client, (float(self.limit.requests), now))
        tokens = min(float(self.limit.requests), tokens + (now - then) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = [c for c, (t, then) in self._buckets.items() if t + (now - then) * self.rate >= self.limit.requests]
        for c in full:
            del self._buckets[c]
        while len(self._buckets) > MAX_CLIENTS:  # still too many: drop the oldest
            del self._buckets[min(self._buckets, key=lambda c: self._buckets[c][1])]
