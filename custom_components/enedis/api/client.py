"""The "Enedis data connect client" API (PyPI ``enedis-data-connect``), async, on top of this library's sources.

Users of that client expect its shape (shared/seeds/003): an `EnedisClient` built from the consumption and/or
production PRM and the application's credentials, ``connect()`` / ``close()``, getters, and an `EnedisApiHelper`
returning plain dictionaries for a date range. Here every call goes through a `MeteringSource` of the library
(`DataConnect` by default, or any source given to `EnedisClient.for_source`: Conso API, MyElectricalData…): its
windows, quotas, typed errors and its one token renewal when a call answers 401.

Differences from the synchronous original, on purpose:

- every method that talks to the network is a coroutine;
- datetimes are aware, in French local time with a FIXED offset (``+02:00`` in summer, ``+01:00`` in winter, as
  `local`): a ``ZoneInfo("Europe/Paris")`` key would make the two 02:30 of the October night equal, and one value
  would be lost; a load-curve value is keyed by the END of its interval (Enedis' own stamp: the value at 00:30 is
  the average power from 00:00 to 00:30), a max power by the moment of the peak;
- a day without data is absent from the result (the original filled it with 0);
- ``start``/``end`` are days, ``end`` excluded; ``start > end`` raises `ValueError`;
- the request counter counts every HTTP request the source sent (token requests included), the error counter every
  library error a helper call raised.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import aiohttp

from .calendar import PARIS
from .dataconnect import DataConnect
from .errors import AuthError, EnedisError
from .limiter import LimiterRegistry
from .models import Direction, Measure, Series


class InvalidAccess(AuthError):  # noqa: N818 - the original client's name
    """The credentials were refused when connecting."""


class EnedisClient:
    """A client for one consumption PRM and/or one production PRM."""

    def __init__(
        self,
        consumption_prm: str | None,
        production_prm: str | None,
        client_id: str,
        client_secret: str,
        *,
        session: aiohttp.ClientSession,
        environment: str = "production",
        base_url: str | None = None,
        registry: LimiterRegistry | None = None,
    ) -> None:
        """A Data Connect client for the DataHub application ``client_id`` (nothing is sent before `connect`)."""
        prms = tuple(p for p in (consumption_prm, production_prm) if p)
        source = DataConnect(
            session, client_id, client_secret, environment=environment, base_url=base_url, prms=prms, registry=registry
        )
        self._init(source, consumption_prm, production_prm, client_id)

    @classmethod
    def for_source(
        cls,
        source: Any,
        consumption_prm: str | None,
        production_prm: str | None,
        *,
        client_id: str = "",
    ) -> EnedisClient:
        """The same client over another of the library's sources (Conso API, MyElectricalData…)."""
        client = cls.__new__(cls)
        client._init(source, consumption_prm, production_prm, client_id)  # noqa: SLF001 - the alternative constructor
        return client

    def _init(self, source: Any, consumption_prm: str | None, production_prm: str | None, client_id: str) -> None:
        if not consumption_prm and not production_prm:
            msg = "give at least one PRM (consumption or production)"
            raise ValueError(msg)
        self.source = source
        self._consumption_prm = consumption_prm
        self._production_prm = production_prm
        self._client_id = client_id
        self._connected = False
        self._connected_at: datetime | None = None
        self._errors = 0

    def __repr__(self) -> str:
        """Never shows a credential."""
        return f"<EnedisClient {self.source!r}>"

    async def connect(self) -> None:
        """Obtain the token (Data Connect, MyElectricalData's current API); `InvalidAccess` when refused."""
        await self.source.async_open()
        token = getattr(self.source, "async_token", None) or getattr(self.source, "_async_token", None)
        try:
            if token is not None:
                await token()
        except AuthError as err:
            self._errors += 1
            raise InvalidAccess(err.description, code=err.code, status=err.status) from err
        except EnedisError:
            self._errors += 1
            raise
        self._connected = True
        self._connected_at = datetime.now(PARIS)

    async def close(self) -> None:
        """Forget the token (the next call asks for a new one) and close what the source keeps open."""
        if hasattr(self.source, "_token") and isinstance(self.source, DataConnect):
            self.source._token = None  # noqa: SLF001 - DataConnect keeps its token privately
        revoke = getattr(self.source, "async_revoke", None)
        if revoke is not None:
            await revoke()
        await self.source.async_close()
        self._connected = False

    def get_consumption_prm(self) -> str | None:
        """The consumption PRM."""
        return self._consumption_prm

    def get_production_prm(self) -> str | None:
        """The production PRM."""
        return self._production_prm

    def get_client_id(self) -> str:
        """The application's client id."""
        return self._client_id

    def get_token_data(self) -> dict[str, Any]:
        """What is known of the connection, never the token itself."""
        return {
            "connected": self._connected,
            "connected_at": self._connected_at.isoformat() if self._connected_at else None,
            "source": self.source.contract.name,
        }

    def get_requests_count(self) -> int:
        """HTTP requests the source sent (token requests included)."""
        return int(self.source.request_count)

    def get_errors_count(self) -> int:
        """Library errors raised to this client's callers."""
        return self._errors

    def is_connected(self) -> bool:
        """Whether `connect` succeeded and `close` was not called since."""
        return self._connected


class EnedisApiHelper:
    """Plain dictionaries for a date range; connects the client first when needed."""

    def __init__(self, client: EnedisClient) -> None:
        """Use ``client`` (connected or not)."""
        self.client = client

    async def _series(self, direction: Direction, measure: Measure, start: date, end: date) -> Series:
        start, end = _day(start), _day(end)
        if start > end:
            msg = f"start ({start}) is after end ({end})"
            raise ValueError(msg)
        prm = (
            self.client.get_consumption_prm()
            if direction is Direction.CONSUMPTION
            else self.client.get_production_prm()
        )
        if not prm:
            msg = f"the client was built without a {direction} PRM"
            raise ValueError(msg)
        if not self.client.is_connected():
            await self.client.connect()
        try:
            return await self.client.source.async_get_series(prm, direction, measure, start, end)  # type: ignore[no-any-return]
        except EnedisError:
            self.client._errors += 1  # noqa: SLF001 - the helper counts the client's errors
            raise

    async def get_max_daily_consumed_power(self, start: date, end: date) -> dict[datetime, int]:
        """The day's maximum apparent power (VA), keyed by the moment of the peak (`local`)."""
        series = await self._series(Direction.CONSUMPTION, Measure.MAX_POWER, start, end)
        return {local(r.at or r.start): round(r.value) for r in series.readings}

    async def get_daily_consumption(self, start: date, end: date) -> dict[date, int]:
        """Energy consumed per local day (Wh); a day without data is absent."""
        return await self._daily(Direction.CONSUMPTION, start, end)

    async def get_daily_production(self, start: date, end: date) -> dict[date, int]:
        """Energy produced per local day (Wh); a day without data is absent."""
        return await self._daily(Direction.PRODUCTION, start, end)

    async def get_consumption_load_curve(self, start: date, end: date) -> dict[datetime, int]:
        """Average power consumed (W) per interval, keyed by the interval's END (`local`)."""
        return await self._curve(Direction.CONSUMPTION, start, end)

    async def get_production_load_curve(self, start: date, end: date) -> dict[datetime, int]:
        """Average power produced (W) per interval, keyed by the interval's END (`local`)."""
        return await self._curve(Direction.PRODUCTION, start, end)

    async def _daily(self, direction: Direction, start: date, end: date) -> dict[date, int]:
        series = await self._series(direction, Measure.DAILY_ENERGY, start, end)
        return {r.start.astimezone(PARIS).date(): round(r.value) for r in series.readings}

    async def _curve(self, direction: Direction, start: date, end: date) -> dict[datetime, int]:
        series = await self._series(direction, Measure.LOAD_CURVE, start, end)
        return {local(r.end): round(r.value) for r in series.readings}


def local(instant: datetime) -> datetime:
    """``instant`` in French local time with a fixed UTC offset (distinct on the repeated hour of October)."""
    paris = instant.astimezone(PARIS)
    offset = paris.utcoffset()
    return paris.replace(tzinfo=timezone(offset)) if offset is not None else paris


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value
