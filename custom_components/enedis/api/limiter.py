"""Client-side rate limiting, shared per (host, API) by every user of the library in one process.

Enedis enforces 5 requests/s and 1000 requests/hour per API and per application; Conso API bans a client IP
above 100 requests in 12 hours, so we stay at 90. Short waits (a slot in the next second) are slept through;
a wait longer than ``max_wait`` raises `RateLimitError` (with ``local=True``) without sending anything, so no
request is ever made against an exhausted quota. A 429 from the server blocks the key until its hinted time.

How a request counts against a quota:

- **Short quotas** (5/s) are about *when the server sees* requests, which no client knows: a request delayed in
  flight arrives later than it was sent, next to requests sent a second later. What the client does know is that
  the server saw it somewhere between its sending and its answer. So a request holds a slot from its sending
  until ``period + SHORT_QUOTA_MARGIN`` after its answer came back (or its call ended otherwise: error, timeout,
  cancellation). A new request is sent only when fewer than ``limit`` slots are held, so the (limit+1)-th leaves
  ``period + margin`` after the answer of the request ``limit`` places before it, and at most ``limit`` are in
  flight at once. That is safe whatever the delays: for ``limit + 1`` requests to arrive within one period, the
  last one sent would have had to leave while the ``limit`` others still held their slots, which the rule
  forbids. The price is the round trip: a sequence of calls runs at ``limit`` per ``period + margin + latency``.
- **Long quotas** (1000/h, 90/12 h) are about counts, not jitter: a request counts from its sending for
  ``period`` (a few seconds of latency are nothing against an hour).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import math

from .clock import Clock, SystemClock
from .errors import RateLimitError

SHORT_QUOTA_MARGIN = 0.1
"""Extra seconds a short quota's slot is held after the answer: covers the server's and our clocks not
running at exactly the same rate and the server's timestamp granularity."""
SHORT_PERIOD = 10.0
"""Quotas whose period is at most this many seconds are short (counted from the answer, see above)."""
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
    """Rolling-window limiter for one (host, API) key (see the module docstring for how requests count)."""

    key: tuple[str, str]
    quotas: tuple[Quota, ...]
    clock: Clock
    max_wait: float = 5.0
    _sent: dict[Quota, deque[float]] = field(default_factory=dict, repr=False)
    """Long quotas: send times of the requests still counted."""
    _answered: dict[Quota, deque[float]] = field(default_factory=dict, repr=False)
    """Short quotas: times the calls still counted ended (their answer came back)."""
    _in_flight: int = 0
    """Calls sent whose answer has not come back yet (they hold a slot of every short quota)."""
    _waiters: list[asyncio.Future[None]] = field(default_factory=list, repr=False)
    _blocked_until: float = 0.0

    def __post_init__(self) -> None:
        """Create one deque of times per quota."""
        self._sent = {quota: deque() for quota in self.quotas if not _is_short(quota)}
        self._answered = {quota: deque() for quota in self.quotas if _is_short(quota)}

    def _purge(self, now: float) -> None:
        for quota, sent in self._sent.items():
            while sent and sent[0] <= now - quota.period:
                sent.popleft()
        for quota, answered in self._answered.items():
            while answered and answered[0] <= now - quota.period - SHORT_QUOTA_MARGIN:
                answered.popleft()

    def _waits(self, now: float) -> tuple[float, float]:
        """(long wait, short wait) in seconds; the short wait is infinite while only an answer can free a slot."""
        self._purge(now)
        long_wait = short_wait = 0.0
        for quota, sent in self._sent.items():
            if len(sent) >= quota.limit:
                long_wait = max(long_wait, sent[len(sent) - quota.limit] + quota.period - now)
        for quota, answered in self._answered.items():
            held = self._in_flight + len(answered)
            if held >= quota.limit:
                freed = held - quota.limit + 1  # slots that must free up, oldest answers first
                if freed > len(answered):
                    short_wait = math.inf
                else:
                    short_wait = max(short_wait, answered[freed - 1] + quota.period + SHORT_QUOTA_MARGIN - now)
        return long_wait, short_wait

    async def _take(self) -> None:
        """Wait for a slot of every quota and take it, or raise `RateLimitError` rather than wait long."""
        while True:
            now = self.clock.monotonic()
            if self._blocked_until > now:
                raise RateLimitError(
                    f"quota of {self.key[0]} {self.key[1]} blocked by a previous 429",
                    retry_after=self._blocked_until - now,
                    local=True,
                )
            long_wait, short_wait = self._waits(now)
            finite = max(long_wait, 0.0 if math.isinf(short_wait) else short_wait)
            if finite > self.max_wait:
                raise RateLimitError(
                    f"local quota of {self.key[0]} {self.key[1]} exhausted",
                    retry_after=finite,
                    local=True,
                )
            if math.isinf(short_wait):
                await self._next_answer()
            elif finite > 0:
                await self.clock.sleep(finite)
            else:
                for sent in self._sent.values():
                    sent.append(now)
                self._in_flight += 1
                return

    def _release(self) -> None:
        """The call of a taken slot ended: its short-quota slots count from now; wake who waits for it."""
        now = self.clock.monotonic()
        self._in_flight -= 1
        for answered in self._answered.values():
            answered.append(now)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(None)

    async def _next_answer(self) -> None:
        """Wait until a call in flight ends (every slot of a short quota is held by calls in flight)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for one request: taken before it is sent, released when its call ends, however it ends."""
        await self._take()
        try:
            yield
        finally:
            self._release()

    async def acquire(self) -> None:
        """Take a slot for a request answered at once (budget accounting): `slot` around nothing."""
        async with self.slot():
            pass

    def block_for(self, seconds: float | None) -> None:
        """Block the key after a 429 (``None``: `DEFAULT_429_BACKOFF`)."""
        delay = DEFAULT_429_BACKOFF if seconds is None else max(0.0, seconds)
        self._blocked_until = max(self._blocked_until, self.clock.monotonic() + delay)

    def remaining(self) -> dict[str, int]:
        """Requests still allowed now, per quota (0 while blocked by a 429)."""
        now = self.clock.monotonic()
        self._purge(now)
        blocked = self._blocked_until > now
        used = {quota: len(sent) for quota, sent in self._sent.items()}
        used |= {quota: self._in_flight + len(answered) for quota, answered in self._answered.items()}
        return {quota.label: 0 if blocked else max(0, quota.limit - used[quota]) for quota in self.quotas}

    def wait_for(self, free: int) -> float:
        """Seconds until every quota allows ``free`` more requests (0 when it already does).

        ``free`` is capped to each quota's limit (5/s never allows 9 at once: the caller then waits for all 5).
        Calls in flight are counted as if answered now, the earliest their slots can free up.
        """
        now = self.clock.monotonic()
        self._purge(now)
        wait = max(0.0, self._blocked_until - now)
        for quota in self.quotas:
            if quota in self._sent:
                expiries = [t + quota.period for t in self._sent[quota]]
            else:
                answered = [*self._answered[quota], *([now] * self._in_flight)]
                expiries = [t + quota.period + SHORT_QUOTA_MARGIN for t in answered]
            expire = len(expiries) - (quota.limit - min(free, quota.limit))
            if expire > 0:
                wait = max(wait, expiries[expire - 1] - now)
        return wait

    def blocked_for(self) -> float:
        """Seconds until a 429 block ends (0 when not blocked)."""
        return max(0.0, self._blocked_until - self.clock.monotonic())


def _is_short(quota: Quota) -> bool:
    return quota.period <= SHORT_PERIOD


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
