"""The source-agnostic interface and the HTTP plumbing shared by every source."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .calendar import local_day
from .clock import Clock
from .contract import LONG_QUOTA_PERIOD, SourceContract
from .errors import (
    CommunicationError,
    EnedisError,
    InvalidResponseError,
    NoDataError,
    RateLimitError,
    scrub,
)
from .limiter import DEFAULT_REGISTRY, LimiterRegistry, Quota
from .models import UNITS, Contract, Direction, IndexSeries, Measure, Series
from .parsers import parse_error, parse_index, parse_measure
from .windows import plan_windows

_LOGGER = logging.getLogger(__name__)

VERSION = "0.1.0"
USER_AGENT = f"enedis-linky-ha/{VERSION} (+https://github.com/enedis-linky-ha/enedis-linky-ha)"
REQUEST_TIMEOUT = 60.0
"""Seconds before a call is abandoned (`CommunicationError`)."""


@contextmanager
def about_prm(prm: str) -> Iterator[None]:
    """Name ``prm`` in any library error raised inside (``err.prm``): callers tell which PRM was refused."""
    try:
        yield
    except EnedisError as err:
        if err.prm is None:
            err.prm = prm
        raise


class MeteringSource(ABC):
    """Where readings come from: Enedis Data Connect directly, or a gateway such as Conso API.

    Every source takes an injected `aiohttp.ClientSession` (Home Assistant's shared session in the
    integration), cuts date ranges into the fewest windows the API accepts, rate-limits itself per
    (host, API) and raises only `EnedisError` subclasses. What it serves and under which quotas it declares in
    its `contract` (`api/contract.py` says what a new source must provide).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        *,
        base_url: str,
        registry: LimiterRegistry | None = None,
        user_agent: str = USER_AGENT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Keep the session (None for a source that speaks no HTTP), base URL and limiter registry."""
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._host = urlsplit(self._base_url).netloc or self._base_url
        self._registry = registry or DEFAULT_REGISTRY
        self._user_agent = user_agent
        self.requests: Counter[str] = Counter()
        """Requests sent, per API key (read by diagnostics and tests)."""

    def __repr__(self) -> str:
        """Never show credentials."""
        return f"<{type(self).__name__} {self._base_url}>"

    @property
    def clock(self) -> Clock:
        """The clock used for quotas and dates."""
        return self._registry.clock

    @property
    @abstractmethod
    def contract(self) -> SourceContract:
        """What this source serves and under which quotas (`api/contract.py`): all the engine reads of it."""

    def credentials_expire_at(self) -> datetime | None:
        """When the source's own credentials expire (`CredentialExpiry.CREDENTIALS`); None when they do not."""
        return None

    @property
    def location(self) -> str:
        """Where this source's data comes from, without any credential: the source's kind and its place.

        The integration records it with the cache: a setup from another location (a wrong URL corrected, the
        sandbox left for production) restarts the history import; new credentials for the same place do not.
        """
        return f"{self.contract.name} {self._base_url}"

    @property
    def reauth_restores_access(self) -> bool:
        """Whether the user can bring back a PRM whose data is refused by giving new credentials or a new consent.

        False where consent cannot be given again from Home Assistant (the Enedis sandbox's fixed consents).
        """
        return True

    def secrets(self) -> tuple[str, ...]:
        """Every credential string of this source (to redact): never shown in a log, an error or a repr."""
        return tuple(secret for secret in self._secrets() if secret)

    def api_name(self, direction: Direction, measure: Measure) -> str:
        """The (rate-limiter and subscription) name of the API serving a measure."""
        raise NotImplementedError

    def remaining_budget(self, direction: Direction = Direction.CONSUMPTION) -> int | None:
        """Requests the long quotas (hourly / 12-hourly) of the metering API still allow now."""
        api = self.api_name(direction, Measure.DAILY_ENERGY)
        quotas = self.contract.policy.quotas
        remaining = self._registry.get(self._host, api, quotas).remaining()
        long_quotas = [
            value for quota, value in zip(quotas, remaining.values(), strict=True) if quota.period >= LONG_QUOTA_PERIOD
        ]
        return min(long_quotas) if long_quotas else None

    def budget_wait(self, free: int, direction: Direction = Direction.CONSUMPTION) -> float:
        """Seconds until the metering API's quotas allow ``free`` more requests."""
        api = self.api_name(direction, Measure.DAILY_ENERGY)
        return self._registry.get(self._host, api, self.contract.policy.quotas).wait_for(free)

    @property
    def request_count(self) -> int:
        """Total requests sent by this source."""
        return sum(self.requests.values())

    def today(self) -> date:
        """Today in Paris, per the source's clock."""
        return local_day(self.clock.now())

    def quota_status(self) -> dict[str, dict[str, object]]:
        """Remaining budget of every (host, API) key of the process (diagnostics)."""
        return self._registry.snapshot()

    # --- lifecycle -----------------------------------------------------------------------------------

    async def async_open(self) -> None:  # noqa: B027 - an optional hook: nothing to open by default
        """Open what the source keeps open between requests (an XMPP session); HTTP sources have nothing to open.

        Called once when the integration sets the entry up; `async_close` when it unloads it.
        """

    async def async_close(self) -> None:  # noqa: B027 - an optional hook: nothing to close by default
        """Close what `async_open` opened (no-op by default)."""

    # --- the interface -------------------------------------------------------------------------------

    @abstractmethod
    async def async_get_prms(self) -> list[str]:
        """The PRMs this credential covers."""

    @abstractmethod
    async def async_get_contract(self, prm: str) -> Contract:
        """Contract data of a PRM (subscribed power, off-peak hours, activation date...)."""

    @abstractmethod
    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> object:
        """One API call for one window; returns the decoded JSON body."""

    async def async_fetch_window(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> Series:
        """Fetch exactly one window ``[start, end)`` (no chunking, no clamping): one request."""
        if measure is Measure.INDEX:
            msg = "use async_get_index for index registers"
            raise ValueError(msg)
        with about_prm(prm):
            body = await self._async_fetch_body(prm, direction, measure, start, end)
            return self._parse_window(body, measure=measure, direction=direction, prm=prm)

    def _parse_window(self, body: object, *, measure: Measure, direction: Direction, prm: str) -> Series:
        """Read one window's body (`_async_fetch_body`'s).

        Data Connect 2026 JSON here; a source with another format overrides this (SGE's XML).
        """
        return parse_measure(body, measure=measure, direction=direction, prm=prm)

    def _parse_index(self, body: object, *, direction: Direction, prm: str) -> IndexSeries:
        """Read an index body (Data Connect 2026 JSON here; overridden like `_parse_window`)."""
        return parse_index(body, direction=direction, prm=prm)

    def windows(
        self, measure: Measure, start: date, end: date, *, newest_first: bool = False
    ) -> list[tuple[date, date]]:
        """The windows `async_get_series` would request for ``[start, end)`` today (the contract's limits)."""
        return plan_windows(measure, start, end, self.today(), newest_first=newest_first, limits=self.contract.windows)

    async def async_get_series(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> Series:
        """Fetch ``[start, end)`` in the fewest windows, clamped to the history horizon and today.

        A window answered "no data" (404) contributes nothing; any other error propagates (what was fetched
        before it is not returned: callers that must keep partial progress iterate `windows` themselves).
        """
        series = Series(prm=prm, direction=direction, measure=measure, unit=UNITS[measure])
        for window_start, window_end in self.windows(measure, start, end):
            try:
                part = await self.async_fetch_window(prm, direction, measure, window_start, window_end)
            except NoDataError:
                continue
            series = series.merged(part)
        return series

    async def async_get_index(self, prm: str, direction: Direction, start: date, end: date) -> IndexSeries:
        """Cumulative registers over ``[start, end)`` (Data Connect 2026 only)."""
        with about_prm(prm):
            body = await self._async_fetch_body(prm, direction, Measure.INDEX, start, end)
            return self._parse_index(body, direction=direction, prm=prm)

    # --- HTTP plumbing ---------------------------------------------------------------------------------

    def _secrets(self) -> tuple[str | None, ...]:
        """Strings that must never appear in an error or a log (overridden by sources; read through `secrets`)."""
        return ()

    async def _async_request(
        self,
        method: str,
        path: str,
        *,
        api: str,
        quotas: tuple[Quota, ...],
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> object:
        """Send one rate-limited request and return its decoded JSON body, or raise a typed error.

        The limiter's slot is held from before the request is sent until its answer is read (or the call fails):
        the short quota counts from the answer (see `limiter`).
        """
        if self._session is None:
            msg = f"{type(self).__name__} has no HTTP session"
            raise CommunicationError(msg)
        limiter = self._registry.get(self._host, api, quotas)
        url = f"{self._base_url}{path}"
        request_headers = {"User-Agent": self._user_agent, "Accept": "application/json"}
        request_headers.update(headers or {})
        async with limiter.slot():
            self.requests[api] += 1
            _LOGGER.debug("%s %s %s", method, path, dict(params or {}))
            try:
                async with self._session.request(
                    method,
                    url,
                    params=params,
                    headers=request_headers,
                    data=data,
                    json=json_body,
                    timeout=self._timeout,
                ) as response:
                    status = response.status
                    response_headers = dict(response.headers)
                    raw = await response.read()
            except TimeoutError as err:
                raise CommunicationError(f"timeout calling {self._host} {api}") from err
            except aiohttp.ClientError as err:
                raise CommunicationError(
                    scrub(f"cannot reach {self._host} {api}: {type(err).__name__}", self.secrets())
                ) from err
        text = raw.decode("utf-8", errors="replace")
        if status >= 400:
            error = parse_error(status, text, headers=response_headers, api=api, now=self.clock.now())
            self._scrub_error(error)
            if isinstance(error, RateLimitError):
                limiter.block_for(error.retry_after)
            _LOGGER.debug("%s %s -> %s", method, path, error)
            raise error
        try:
            return json.loads(text)
        except ValueError as err:
            raise InvalidResponseError(
                f"{api} answered HTTP {status} with a body that is not JSON", status=status
            ) from err

    def _scrub_error(self, error: EnedisError) -> None:
        secrets = self.secrets()
        error.description = scrub(error.description, secrets)
        error.args = (scrub(str(error.args[0]) if error.args else "", secrets),)
