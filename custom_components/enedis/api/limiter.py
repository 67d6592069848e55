"""Client-side rate limiting, shared per (host, API) by every user of the library in one process.

Enedis enforces 5 requests/s and 1000 requests/hour per API and per application; Conso API bans a client IP
above 100 requests in 12 hours, so we stay at 90. Short waits (a slot in the next second) are slept through;
a wait longer than ``max_wait`` raises `RateLimitError` (with ``local=True``) without sending anything, so no
request is ever made against an exhausted quota. A 429 from the server blocks the key until its hinted time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .clock import Clock, SystemClock
from .errors import RateLimitError

SHORT_QUOTA_MARGIN = 0.1
"""Extra seconds kept on short quotas (5/s): the server counts on arrival, so a request sent exactly one second
after the fifth would be throttled by network jitter."""
DEFAULT_429_BACKOFF = 300.0
"""Seconds a key stays blocked after a 429 that gave no hint (WSO2 900807 carries none)."""


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``limit`` requests per rolling ``period`` seconds."""

    limit: int
    period: float

    @property
    def label(self) -> str:
        """Short name for diagnostics, e.g. ``1000/3600s``."""
        return f"{self.limit}/{self.period:g}s"


ENEDIS_QUOTAS: tuple[Quota, ...] = (Quota(5, 1.0), Quota(1000, 3600.0))
CONSO_API_QUOTAS: tuple[Quota, ...] = (Quota(5, 1.0), Quota(90, 12 * 3600.0))


@dataclass
class RateLimiter:
    """Rolling-window limiter for one (host, API) key."""

    key: tuple[str, str]
    quotas: tuple[Quota, ...]
    clock: Clock
    max_wait: float = 5.0
    _sent: dict[Quota, deque[float]] = field(default_factory=dict, repr=False)
    _blocked_until: float = 0.0

    def __post_init__(self) -> None:
        """Create one deque of send times per quota."""
        self._sent = {quota: deque() for quota in self.quotas}

    def _purge(self, now: float) -> None:
        for quota, sent in self._sent.items():
            margin = SHORT_QUOTA_MARGIN if quota.period <= 10 else 0.0
            while sent and sent[0] <= now - quota.period - margin:
                sent.popleft()

    def _wait_needed(self, now: float) -> float:
        self._purge(now)
        wait = 0.0
        for quota, sent in self._sent.items():
            if len(sent) >= quota.limit:
                margin = SHORT_QUOTA_MARGIN if quota.period <= 10 else 0.0
                wait = max(wait, sent[len(sent) - quota.limit] + quota.period + margin - now)
        return wait

    async def acquire(self) -> None:
        """Take a slot, sleeping through short waits; raise `RateLimitError` rather than wait long."""
        while True:
            now = self.clock.monotonic()
            if self._blocked_until > now:
                raise RateLimitError(
                    f"quota of {self.key[0]} {self.key[1]} blocked by a previous 429",
                    retry_after=self._blocked_until - now,
                    local=True,
                )
            wait = self._wait_needed(now)
            if wait <= 0:
                for sent in self._sent.values():
                    sent.append(now)
                return
            if wait > self.max_wait:
                raise RateLimitError(
                    f"local quota of {self.key[0]} {self.key[1]} exhausted",
                    retry_after=wait,
                    local=True,
                )
            await self.clock.sleep(wait)

    def block_for(self, seconds: float | None) -> None:
        """Block the key after a 429 (``None``: `DEFAULT_429_BACKOFF`)."""
        delay = DEFAULT_429_BACKOFF if seconds is None else max(0.0, seconds)
        self._blocked_until = max(self._blocked_until, self.clock.monotonic() + delay)

    def remaining(self) -> dict[str, int]:
        """Requests still allowed now, per quota (0 while blocked by a 429)."""
        now = self.clock.monotonic()
        self._purge(now)
        blocked = self._blocked_until > now
        return {quota.label: 0 if blocked else max(0, quota.limit - len(sent)) for quota, sent in self._sent.items()}

    def wait_for(self, free: int) -> float:
        """Seconds until every quota allows ``free`` more requests (0 when it already does)."""
        now = self.clock.monotonic()
        self._purge(now)
        wait = max(0.0, self._blocked_until - now)
        for quota, sent in self._sent.items():
            expire = len(sent) - (quota.limit - free)
            if expire > 0:
                wait = max(wait, sent[expire - 1] + quota.period - now)
        return wait

    def blocked_for(self) -> float:
        """Seconds until a 429 block ends (0 when not blocked)."""
        return max(0.0, self._blocked_until - self.clock.monotonic())


class LimiterRegistry:
    """Holds one `RateLimiter` per (host, API). The module-level `DEFAULT_REGISTRY` is process-wide."""

    def __init__(self, clock: Clock | None = None) -> None:
        """Create an empty registry whose limiters use ``clock``."""
        self.clock: Clock = clock or SystemClock()
        self._limiters: dict[tuple[str, str], RateLimiter] = {}

    def get(self, host: str, api: str, quotas: tuple[Quota, ...]) -> RateLimiter:
        """Return the limiter of (host, API), creating it on first use."""
        key = (host, api)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = RateLimiter(key, quotas, self.clock)
        return limiter

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Remaining budget of every key, for diagnostics."""
        return {
            f"{host} {api}": {"remaining": limiter.remaining(), "blocked_for_s": round(limiter.blocked_for())}
            for (host, api), limiter in self._limiters.items()
        }


DEFAULT_REGISTRY = LimiterRegistry()
