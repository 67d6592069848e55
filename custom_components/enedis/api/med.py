"""MyElectricalData (myelectricaldata.fr): a gateway that relays Enedis under its own 50-calls-a-day quota.

Two generations of its API are in use (shared/reference §11):

- **current** (``https://myelectricaldata.fr/api``): ``POST /accounts/token`` with client credentials gives a bearer
  token (30 days); ``GET /enedis/{consumption|production}/{daily|detail}/{pdl}`` and ``/enedis/power/{pdl}`` with
  ``start``/``end`` (end excluded) answer ``{"success", "data", "error"}``, ``data`` being the Data Connect 2026
  measure body **with load-curve points moved to the START of their interval** by the gateway. A spent daily quota
  is answered **HTTP 200** ``{"success": false, "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Daily rate
  limit exceeded (50/50). …"}}``, without any ``X-RateLimit-*`` header; the counters are keyed by the UTC date
  (the gateway's code at 2500702: ``routers/enedis.py`` ``check_rate_limit``, ``services/rate_limiter.py``). Its
  removed documentation described ``X-RateLimit-Limit/Remaining/Reset`` headers and a 429 ``{"detail": "Daily API
  limit exceeded … Resets at …"}``: both shapes are read.
- **legacy** (``https://myelectricaldata.fr``): ``Authorization: <token>`` (no scheme),
  ``GET /{service}/{pdl}/start/{d}/end/{d}/`` answering the Enedis v5 bodies unchanged (END-stamped curves),
  ``{"detail": …}`` errors, 409 when the daily quota is reached.

The current API answers its refusals with **HTTP 200** (``apps/api/src/schemas/responses.py``: ``{"success":
false, "error": {"code", "message", "field"}}``). Each code means the same whatever the status; where the gateway's
code (at 2500702) sends it, and the typed error it becomes:

- ``RATE_LIMIT_EXCEEDED`` (``routers/enedis.py:262``, ``check_rate_limit``): `RateLimitError`, blocked until
  midnight UTC (`QUOTA_CODES`, `_quota_error`).
- ``ACCESS_DENIED`` (``routers/enedis.py:300``: the PRM is not in the account or has no valid consent; ``:2250``;
  ``routers/enedis_client.py``, 10 routes): `ConsentError`, as a 403 (the PRM is refused and the user asked to give
  access again; the other PRMs go on).
- ``ENEDIS_ERROR`` (``routers/enedis.py:653``, daily consumption: ``Failed to fetch <start> to <end>: <Enedis
  code>: <text>``; ``:1434 :1488 :1542``, power and production: ``<Enedis code>: <text>``, or the HTTP client's own
  text; ``:2078 :2130 :2182 :2234``) and ``GATEWAY_ERROR`` (``routers/enedis_client.py``, an instance in client mode
  relaying the public one): the relayed Enedis code's error (`parse_error`'s table: ``no_data_found``
  `NoDataError`, ``ADAM-ERR0069`` `WrongDirectionError`, ``technical_error`` `ServerError`…); without a known code
  `ServerError`, retried later.
- ``ENEDIS_UNAVAILABLE`` (``routers/enedis.py:292``, no Enedis token) and ``INTERNAL_ERROR`` (``main.py:274``, any
  uncaught exception, HTTP 500): `ServerError`.
- ``NO_DATA`` (``routers/enedis.py:897``, the consumption curve; ``:1362 :2000``, the batch routes): `NoDataError`.
- ``ADAM-ERR0123`` (``routers/enedis.py:857``, a curve before the meter's activation): `BeforeActivationError`
  (`parse_error`'s table).
- ``DATE_TOO_OLD`` (``routers/enedis.py:224``: 3 years back for daily routes, 2 for curves): `HistoryLimitError`.
- ``INVALID_DATE_RANGE``, ``INVALID_DATE_FORMAT`` (``routers/enedis.py:235 :246``), ``INVALID_DATE``
  (``routers/enedis_client.py``): `InvalidDatesError` (a `RequestError`: never accepted as sent).
- Any other code, or none: `ServerError` under a success status (why: `_coded_error`); under an error status the
  status decides, as for any body (401 a refused token, 403 a refused PRM, 5xx a failure…).

``PARTIAL_DATA`` (``routers/enedis.py:1126 :1375 :1764 :2013``) comes with ``success: true``, from the cache and
batch routes this source never asks. The consumption curve route (``:670`` to ``:900``) swallows every Enedis failure
and answers ``NO_DATA``: there a failed window cannot be told from an empty one (the engine asks the recent
incomplete days again; an older window stays empty). The admin routes' codes (``SYNC_IN_PROGRESS``,
``PDL_NOT_FOUND``…) are not sent by the data routes.

Every reading this source returns is stamped like the other sources': a load-curve value at the END of its
interval (the current API's START stamps are moved back by each point's own duration).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
import enum
import json
import logging
import re
from typing import Any

import aiohttp

from .base import REQUEST_TIMEOUT, USER_AGENT, MeteringSource
from .contract import CredentialExpiry, DirectionDiscovery, QuotaPolicy, SourceContract
from .dataconnect import check_prm
from .errors import (
    ApiNotSubscribedError,
    AuthError,
    CommunicationError,
    ConsentError,
    EnedisError,
    HistoryLimitError,
    InvalidDatesError,
    InvalidResponseError,
    NoDataError,
    RateLimitError,
    ServerError,
    UnsupportedError,
    scrub,
)
from .limiter import DEFAULT_429_BACKOFF, LimiterRegistry, Quota
from .models import Contract, Direction, Measure
from .parsers import DESCRIPTION_MAX_LEN, parse_error
from .windows import ENEDIS_WINDOWS

_LOGGER = logging.getLogger(__name__)

MED_URL = "https://myelectricaldata.fr/api"
"""The current API's public instance."""
MED_LEGACY_URL = "https://myelectricaldata.fr"
"""The legacy API's public instance."""

MED_API = "myelectricaldata"
"""The one limiter key: every call of a MyElectricalData account counts against the same daily quota."""
MED_QUOTAS = (Quota(1, 1.0), Quota(50, 86400.0))
"""One call a second, 50 a rolling day (the gateway's quota without its cache)."""
MED_DAILY_LIMIT = 50
TOKEN_MARGIN = timedelta(minutes=5)
"""A bearer token is renewed this long before it expires."""
MIN_QUOTA_WAIT = timedelta(seconds=DEFAULT_429_BACKOFF)
"""The shortest block after a spent quota (``RATE_LIMIT_EXCEEDED``, 429, legacy 409), whatever reset time the gateway
gives (5 minutes, the limiter's back-off after a 429 without a hint)."""
QUOTA_CODES = frozenset({"RATE_LIMIT_EXCEEDED"})
"""The ``error.code`` of a ``{"success": false}`` answer that means the account's daily quota is spent, whatever the
HTTP status (the gateway sends it with 200). The only quota code of the gateway's data routes: its per-second limit
on Enedis calls waits instead of refusing, and ``PARTIAL_DATA`` ("Rate limit exceeded. Returning cached data only.")
comes with ``success: true``, only when the cache is asked for (this source never asks)."""
MED_ERROR_CODES: dict[str, type[EnedisError]] = {
    "ACCESS_DENIED": ConsentError,
    "ENEDIS_UNAVAILABLE": ServerError,
    "INTERNAL_ERROR": ServerError,
    "NO_DATA": NoDataError,
    "DATE_TOO_OLD": HistoryLimitError,
    "INVALID_DATE_RANGE": InvalidDatesError,
    "INVALID_DATE_FORMAT": InvalidDatesError,
    "INVALID_DATE": InvalidDatesError,
}
"""The gateway's own ``error.code`` values and the typed error each means, whatever the HTTP status (the module's
table). ``RATE_LIMIT_EXCEEDED`` is `QUOTA_CODES`' and `RELAYING_CODES` relay Enedis' error; an Enedis code the
gateway sends as its own (``ADAM-ERR0123``) is typed by `parse_error`'s table."""
RELAYING_CODES = frozenset({"ENEDIS_ERROR", "GATEWAY_ERROR"})
"""Codes whose message is Enedis' error as the gateway caught it: ``<Enedis code>: <description>``, maybe after
``Failed to fetch <start> to <end>: ``, or the HTTP client's own text (``Server error '503 …' for url …``)."""
MAX_RESET_AHEAD = timedelta(hours=25)
"""A daily quota resets within a day: a reset time further ahead than this (a day, plus an hour of clock skew) is
not believed."""
RESET_DELTA_BELOW = 10**9
"""A numeric ``X-RateLimit-Reset`` below this is a number of seconds until the reset, not epoch seconds (10^9 epoch
seconds is September 2001; 10^9 seconds ahead, 31 years)."""

C, P = Direction.CONSUMPTION, Direction.PRODUCTION

MED_CONTRACT = SourceContract(
    name="MyElectricalData",
    measures={
        C: frozenset({Measure.DAILY_ENERGY, Measure.LOAD_CURVE, Measure.MAX_POWER}),
        P: frozenset({Measure.DAILY_ENERGY, Measure.LOAD_CURVE}),
    },
    windows=ENEDIS_WINDOWS,
    policy=QuotaPolicy(
        quotas=MED_QUOTAS,
        batch=5,
        interval=timedelta(seconds=2),
        burst=5,
        pace=timedelta(days=1) / 40,
        reserve_per_prm=5,
    ),
    serves_contract=False,
    directions=DirectionDiscovery.PROBE,
    expiry=CredentialExpiry.CONSENT,
)
"""MyElectricalData: 50 calls a day. The history import sends 5 at once, then one every 36 minutes (40 a day), and
keeps 5 of the day per PRM for the daily poll: 24 months of load curve (105 weekly windows) plus 3 years of daily
energy take about three days. No contract data (directions are probed), no index registers."""


class MedApi(enum.StrEnum):
    """Which generation of the gateway's API a source speaks."""

    CURRENT = "current"
    LEGACY = "legacy"


_CURRENT_ROUTES: dict[tuple[Direction, Measure], str] = {
    (C, Measure.DAILY_ENERGY): "/enedis/consumption/daily",
    (C, Measure.LOAD_CURVE): "/enedis/consumption/detail",
    (C, Measure.MAX_POWER): "/enedis/power",
    (P, Measure.DAILY_ENERGY): "/enedis/production/daily",
    (P, Measure.LOAD_CURVE): "/enedis/production/detail",
}
_LEGACY_SERVICES: dict[tuple[Direction, Measure], str] = {
    (C, Measure.DAILY_ENERGY): "daily_consumption",
    (C, Measure.LOAD_CURVE): "consumption_load_curve",
    (C, Measure.MAX_POWER): "daily_consumption_max_power",
    (P, Measure.DAILY_ENERGY): "daily_production",
    (P, Measure.LOAD_CURVE): "production_load_curve",
}
_DURATION = re.compile(r"^PT(\d+)M$")
_RESETS_AT = re.compile(r"resets at\s+(\S+)", re.IGNORECASE)
_RELAYED_CODE = re.compile(r"(?:^|:\s+)([A-Za-z0-9][\w.-]*):\s")
"""An Enedis code at the start of a relayed message or after a ``: `` (``no_data_found: …``, ``ADAM-ERR0069: …``)."""


def shift_to_interval_end(body: object) -> object:
    """A current-API curve body with each point moved from its interval's START to its END (+ its ``p``).

    The gateway stamps a 2026 curve point with the start of its interval; the library (like Enedis) keys it by the
    end. A point without a readable ``d`` and ``p`` is left as it is (the parser rejects it).
    """
    if not isinstance(body, Mapping):
        return body
    grandeurs = body.get("grandeur")
    if not isinstance(grandeurs, list):
        return body
    shifted_grandeurs: list[Any] = []
    for grandeur in grandeurs:
        if not isinstance(grandeur, Mapping) or not isinstance(grandeur.get("points"), list):
            shifted_grandeurs.append(grandeur)
            continue
        points = [_shift_point(point) for point in grandeur["points"]]
        shifted_grandeurs.append({**grandeur, "points": points})
    return {**body, "grandeur": shifted_grandeurs}


def _shift_point(point: object) -> object:
    if not isinstance(point, Mapping):
        return point
    stamp, step = point.get("d"), point.get("p")
    match = _DURATION.match(step) if isinstance(step, str) else None
    if not isinstance(stamp, str) or match is None:
        return point
    try:
        start = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - the gateway's naive wall time
    except ValueError:
        return point
    # Naive local wall time, as the gateway writes it: on the autumn DST night the repeated hour is ambiguous in
    # the body itself. Adding the step to the wall time inverts a gateway that subtracted it from Enedis' END stamps
    # the same naive way (assumed, not verified on a real answer of that night; see the README).
    end = start + timedelta(minutes=int(match.group(1)))
    return {**point, "d": end.strftime("%Y-%m-%d %H:%M:%S")}


class MyElectricalData(MeteringSource):
    """MyElectricalData, current API (client credentials) or legacy API (a personal token).

    ``prms`` are the meters the account covers (the user types them; the gateway is asked nothing to list them).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        prms: list[str] | tuple[str, ...],
        *,
        api: MedApi = MedApi.CURRENT,
        client_id: str | None = None,
        client_secret: str | None = None,
        token: str | None = None,
        base_url: str | None = None,
        registry: LimiterRegistry | None = None,
        user_agent: str = USER_AGENT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Configure the source (nothing is sent until the first call).

        The current API needs ``client_id`` and ``client_secret``; the legacy API ``token``.
        """
        client_id, client_secret, token = ((value or "").strip() for value in (client_id, client_secret, token))
        if api is MedApi.CURRENT and not (client_id and client_secret):
            msg = "the current MyElectricalData API needs a client id and a client secret"
            raise ValueError(msg)
        if api is MedApi.LEGACY and not token:
            msg = "the legacy MyElectricalData API needs a token"
            raise ValueError(msg)
        default = MED_URL if api is MedApi.CURRENT else MED_LEGACY_URL
        super().__init__(
            session,
            base_url=(base_url or default).strip(),
            registry=registry,
            user_agent=user_agent,
            request_timeout=request_timeout,
        )
        self.api = api
        self._prms = tuple(prms)
        self._client_id, self._client_secret, self._token = client_id, client_secret, token
        self._access_token: str | None = None
        self._access_expires: datetime | None = None
        self.rate_limit: dict[str, str] = {}
        """The ``X-RateLimit-*`` headers of the last answer that carried any (empty until one does).

        An answer without them (the token call, a 401, a proxy's error page) leaves the previous set: the last
        quota the gateway reported stays readable after a failure."""

    @property
    def contract(self) -> SourceContract:
        """50 calls a day, paced over days; no contract data; no index."""
        return MED_CONTRACT

    @property
    def location(self) -> str:
        """``myelectricaldata <base URL>`` (no credential: new credentials read the same meters)."""
        return f"myelectricaldata {self._base_url}"

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._client_secret, self._token, self._access_token)

    def api_name(self, direction: Direction, measure: Measure) -> str:
        """Every call shares the account's daily budget."""
        return MED_API

    @property
    def client_id(self) -> str:
        """The current API's client id ("" for the legacy API)."""
        return self._client_id

    def token_data(self) -> dict[str, object]:
        """What is known of the bearer token, without the token itself."""
        return {
            "api": str(self.api),
            "has_token": bool(self._access_token or self._token),
            "expires_at": self._access_expires.isoformat() if self._access_expires else None,
        }

    async def async_get_prms(self) -> list[str]:
        """The PRMs given at construction (no request)."""
        return list(self._prms)

    async def async_get_contract(self, prm: str) -> Contract:
        """The source serves no contract data (the contract says so: the engine never calls this)."""
        raise UnsupportedError("MyElectricalData contract data is not read")

    async def async_revoke(self) -> None:
        """Forget the bearer token (the gateway has no revocation route: the token simply expires)."""
        self._access_token = None
        self._access_expires = None

    # --- requests ------------------------------------------------------------------------------------

    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> object:
        check_prm(prm)
        key = (direction, measure)
        if key not in _CURRENT_ROUTES:
            raise UnsupportedError(f"MyElectricalData has no {direction} {measure}")
        if self.api is MedApi.LEGACY:
            path = f"/{_LEGACY_SERVICES[key]}/{prm}/start/{start.isoformat()}/end/{end.isoformat()}/"
            return await self._async_call("GET", path, headers={"Authorization": self._token})
        params = {"start": start.isoformat(), "end": end.isoformat()}
        body = await self._async_authorized(f"{_CURRENT_ROUTES[key]}/{prm}", params)
        data = self._unwrap(body)
        if measure is Measure.LOAD_CURVE:
            return shift_to_interval_end(data)
        return data

    async def _async_authorized(self, path: str, params: Mapping[str, str]) -> object:
        """A current-API GET with the bearer token; one new token and one retry when the gateway refuses it."""
        token = await self.async_token()
        try:
            return await self._async_call("GET", path, params=params, headers={"Authorization": f"Bearer {token}"})
        except AuthError as err:
            if err.status != 401:
                raise
            _LOGGER.debug("MyElectricalData refused its bearer token: asking for a new one")
            self._access_token = None
            token = await self.async_token()
            return await self._async_call("GET", path, params=params, headers={"Authorization": f"Bearer {token}"})

    async def async_token(self) -> str:
        """The current API's bearer token, asked for when none is held or it is about to expire."""
        now = self.clock.now()
        if self._access_token and (self._access_expires is None or self._access_expires - TOKEN_MARGIN > now):
            return self._access_token
        body = await self._async_call(
            "POST",
            "/accounts/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
            counted=False,
        )
        if not isinstance(body, Mapping) or not isinstance(body.get("access_token"), str):
            raise InvalidResponseError("MyElectricalData's token answer has no access_token")
        self._access_token = body["access_token"]
        expires_in = body.get("expires_in")
        self._access_expires = (
            now + timedelta(seconds=expires_in)
            if isinstance(expires_in, int) and not isinstance(expires_in, bool)
            else None
        )
        return self._access_token

    def _unwrap(self, body: object) -> object:
        """The ``data`` of a ``{"success": true, "data": …}`` envelope; an error for ``success: false``."""
        if not isinstance(body, Mapping) or "success" not in body:
            raise InvalidResponseError("MyElectricalData answered without its {success, data} envelope")
        if body.get("success") is True:
            return body.get("data")
        # ``success: false`` was raised by `_async_call` (typed by its code); this is neither true nor false.
        raise InvalidResponseError("MyElectricalData answered an envelope whose success is neither true nor false")

    async def _async_call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        counted: bool = True,
    ) -> object:
        """One rate-limited call (the token call does not count against the daily quota); a typed error."""
        if self._session is None:
            raise CommunicationError("MyElectricalData has no HTTP session")
        quotas = MED_QUOTAS if counted else (Quota(1, 1.0),)
        limiter = self._registry.get(self._host, MED_API if counted else f"{MED_API}_token", quotas)
        request_headers = {"User-Agent": self._user_agent, "Accept": "application/json", **(headers or {})}
        async with limiter.slot():
            self.requests[MED_API if counted else f"{MED_API}_token"] += 1
            _LOGGER.debug("%s %s", method, _redact_path(path, self.secrets()))
            try:
                async with self._session.request(
                    method,
                    f"{self._base_url}{path}",
                    params=params,
                    headers=request_headers,
                    data=data,
                    timeout=self._timeout,
                ) as response:
                    status = response.status
                    response_headers = dict(response.headers.items())
                    raw = await response.read()
            except TimeoutError as err:
                raise CommunicationError(f"timeout calling {self._host}") from err
            except aiohttp.ClientError as err:
                raise CommunicationError(
                    scrub(f"cannot reach {self._host}: {type(err).__name__}", self.secrets())
                ) from err
        quota_headers = {k: v for k, v in response_headers.items() if k.lower().startswith("x-ratelimit-")}
        if quota_headers:
            self.rate_limit = quota_headers
        text = raw.decode("utf-8", errors="replace")
        if status >= 400:
            error = self._error(status, text, response_headers)
        else:
            try:
                body = json.loads(text)
            except ValueError as err:
                raise InvalidResponseError(
                    f"MyElectricalData answered HTTP {status} with a body that is not JSON", status=status
                ) from err
            if not isinstance(body, Mapping) or body.get("success") is not False:
                return body
            # The gateway answers its refusals with HTTP 200: typed by their code, like an error status.
            error = self._error(status, text, response_headers)
        if isinstance(error, RateLimitError):
            limiter.block_for(error.retry_after)
        raise error

    def _quota_error(
        self, status: int, detail: str | None, headers: Mapping[str, str], *, code: str | None
    ) -> RateLimitError:
        """The spent daily quota: retry at its reset (`_reset_time`), at least `MIN_QUOTA_WAIT` from now."""
        now = self.clock.now()
        retry_at = _reset_time(detail, headers, now)
        return RateLimitError(
            scrub(detail or f"MyElectricalData daily quota reached (HTTP {status})", self.secrets()),
            retry_at=retry_at,
            retry_after=max(0.0, (retry_at - now).total_seconds()),
            status=status,
            code=code or "quota_reached",
        )

    def _error(self, status: int, text: str, headers: Mapping[str, str]) -> EnedisError:
        """The typed error of an error status, or of a ``{"success": false}`` answer under any status.

        ``RATE_LIMIT_EXCEEDED`` (under any status), 429 (the documented shape) and 409 (legacy) are the spent quota;
        another ``success: false`` code is typed by `_coded_error` (the module's table).
        """
        now = self.clock.now()
        try:
            decoded: object = json.loads(text)
        except ValueError:
            decoded = None
        quota_message = _quota_message(decoded)
        if quota_message is not None:
            code = _inner(decoded, "code") if isinstance(decoded, Mapping) else None
            return self._quota_error(status, quota_message, headers, code=code)
        error: EnedisError | None = self._coded_error(status, decoded, headers)
        if error is not None:
            return self._scrubbed(error)
        if status in {409, 429}:
            return self._quota_error(status, _detail(text), headers, code="quota_reached")
        relayed = _relayed(text)
        if relayed is not None:  # the legacy API's ``{"detail": <Enedis error body>}``
            error = parse_error(status, relayed, headers=headers, api=MED_API, now=now)
        elif (detail := _detail(text)) is not None and not _has_enedis_shape(text):
            # The gateway's own ``{"detail": …}`` (FastAPI): the status alone says what it is.
            body = json.dumps({"status": status, "message": detail})
            error = parse_error(status, body, headers=headers, api=MED_API, now=now)
        else:
            error = parse_error(status, _envelope_error(text), headers=headers, api=MED_API, now=now)
        if status == 403 and type(error) is AuthError:
            # The account's credentials were accepted (they are refused with 401): this PRM is not open to it (no
            # consent given through MyElectricalData, or another account's meter).
            error = ConsentError(error.description, code=error.code, status=status)
        return self._scrubbed(error)

    def _coded_error(self, status: int, decoded: object, headers: Mapping[str, str]) -> EnedisError | None:
        """The typed error of a ``{"success": false, "error": {"code", "message"}}`` answer (the module's table).

        None for another body, and for a code not known here under an error status (the status then decides, as for
        any body). Under a success status, an unknown code (or none) is a `ServerError`: a refusal the gateway names
        in a way this source does not know is most likely one more of its failures (its routes turn any exception
        into ``success: false``), and taking it for a request never served would record the window as empty and
        lose its data for good, silently. Retried, it costs one call of the quota at each back-off, and if it is
        permanent the import visibly stops there with the gateway's code in the errors.
        """
        if not isinstance(decoded, Mapping) or decoded.get("success") is not False:
            return None
        code, message = _inner(decoded, "code"), _inner(decoded, "message") or ""
        key = (code or "").strip().upper()
        now = self.clock.now()
        if key in RELAYING_CODES:
            # Enedis' own code keeps its meaning (no data, wrong direction, out of range…): retrying a refusal Enedis
            # will repeat would stall the import, and the direction probe, for good.
            match = _RELAYED_CODE.search(message)
            body = {"error": match.group(1) if match else code, "error_description": message}
            return _with_status(parse_error(500, json.dumps(body), headers=headers, api=MED_API, now=now), status)
        if (kind := MED_ERROR_CODES.get(key)) is not None:
            description = message or f"MyElectricalData refused the request ({code})"
            if len(description) > DESCRIPTION_MAX_LEN:
                description = description[: DESCRIPTION_MAX_LEN - 1].rstrip() + "…"
            return kind(description, code=code, status=status)
        if status >= 400:
            return None
        body = {"code": code, "message": message}
        return _with_status(parse_error(500, json.dumps(body), headers=headers, api=MED_API, now=now), status)

    def _scrubbed(self, error: EnedisError) -> EnedisError:
        secrets = self.secrets()
        error.description = scrub(error.description, secrets)
        error.args = (scrub(str(error.args[0]) if error.args else "", secrets),)
        return error


def _with_status(error: EnedisError, status: int) -> EnedisError:
    """``error`` (typed by `parse_error` under a stand-in status) with the answer's real status."""
    if isinstance(error, RateLimitError):
        return RateLimitError(
            error.description, retry_at=error.retry_at, retry_after=error.retry_after, code=error.code, status=status
        )
    if isinstance(error, ApiNotSubscribedError):
        return ApiNotSubscribedError(error.description, api=error.api, code=error.code, status=status)
    return type(error)(error.description, code=error.code, status=status)


def _inner(body: Mapping[str, Any], key: str) -> str | None:
    error = body.get("error")
    value = error.get(key) if isinstance(error, Mapping) else None
    return str(value) if value is not None else None


def _quota_message(body: object) -> str | None:
    """The message of a spent-quota answer (`QUOTA_CODES`), "" when it has none; None for any other body."""
    if not isinstance(body, Mapping) or body.get("success") is not False:
        return None
    code = _inner(body, "code")
    if code is None or code.strip().upper() not in QUOTA_CODES:
        return None
    return _inner(body, "message") or ""


def _detail(text: str) -> str | None:
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    detail = decoded.get("detail") if isinstance(decoded, dict) else None
    if isinstance(detail, str):
        return detail
    return json.dumps(detail) if detail is not None else None


def _relayed(text: str) -> str | None:
    """The Enedis error body the legacy API relays as ``{"detail": {...}}``; None for any other body."""
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    detail = decoded.get("detail") if isinstance(decoded, dict) else None
    return json.dumps(detail) if isinstance(detail, dict) else None


def _has_enedis_shape(text: str) -> bool:
    try:
        decoded = json.loads(text)
    except ValueError:
        return False
    return isinstance(decoded, dict) and ("error" in decoded or "fault" in decoded)


def _envelope_error(text: str) -> str:
    """A ``{"success": false, "error": {"code", "message"}}`` body as the ``{code, message}`` parse_error reads."""
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    if isinstance(decoded, dict) and decoded.get("success") is False and isinstance(decoded.get("error"), dict):
        inner = decoded["error"]
        return json.dumps({"code": inner.get("code"), "message": inner.get("message")})
    return text


def _reset_time(detail: str | None, headers: Mapping[str, str], now: datetime) -> datetime:
    """When the spent daily quota resets: the source is blocked until then.

    The first believable of: ``X-RateLimit-Reset`` (`_header_reset`), the "Resets at …" of the answer's detail, the
    next midnight UTC (when the gateway's daily counters start again). A reset time is believable when it lies after
    ``now`` and at most `MAX_RESET_AHEAD` later: one in the past (a stale header, a clock ahead of the gateway's)
    would block nothing and let the next calls hammer a gateway that refuses them; one days ahead (a garbled value,
    milliseconds read as seconds) would stop the source for days. Whichever wins, the block lasts at least
    `MIN_QUOTA_WAIT` (a reset due a second later still waits that long). A clock running ahead of the gateway's
    across midnight therefore waits for the next midnight UTC: a day lost, never a burst of refused calls.
    """
    candidates = [_header_reset(value, now) for name, value in headers.items() if name.lower() == "x-ratelimit-reset"]
    if detail and (match := _RESETS_AT.search(detail)):
        candidates.append(_parse_instant(match.group(1).rstrip(".")))
    reset = next((at for at in candidates if at is not None and now < at <= now + MAX_RESET_AHEAD), None)
    if reset is None:
        tomorrow = (now.astimezone(UTC) + timedelta(days=1)).date()
        reset = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)
    return max(reset, now + MIN_QUOTA_WAIT)


def _header_reset(value: str, now: datetime) -> datetime | None:
    """The time an ``X-RateLimit-Reset`` value gives; None when unreadable.

    An integer below `RESET_DELTA_BELOW` is seconds from ``now``; a larger one epoch seconds (what the gateway's
    documentation describes: midnight UTC); anything else an ISO 8601 time (naive: UTC).
    """
    value = value.strip()
    if value.isascii() and value.isdigit() and int(value) < RESET_DELTA_BELOW:
        return now + timedelta(seconds=int(value))
    return _parse_instant(value)


def _parse_instant(value: str) -> datetime | None:
    if value.isdigit():
        try:
            return datetime.fromtimestamp(int(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _redact_path(path: str, secrets: tuple[str, ...]) -> str:
    return scrub(path, secrets)
