"""Conso API (conso.boris.sh or a self-hosted instance): a personal token instead of a DataHub application."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
import json

import aiohttp

from .base import REQUEST_TIMEOUT, USER_AGENT, MeteringSource
from .contract import CONSO_API_CONTRACT, SourceContract
from .dataconnect import check_prm
from .errors import EnedisError, MalformedTokenError, TokenExpiredError, UnsupportedError
from .limiter import LimiterRegistry
from .models import Contract, Direction, Measure, TokenInfo
from .prm import is_prm
from .resources import dc2026_request

CONSO_API_URL = "https://conso.boris.sh/api"
"""Conso API's public instance: the one place its URL is written (the integration's default re-exports it)."""


def decode_conso_token(token: str, *, now: datetime | None = None) -> TokenInfo:
    """Read a Conso API token's JWT payload WITHOUT verifying it (only the gateway can).

    Raises `MalformedTokenError` unless it has three parts, a JSON payload and ``sub`` listing 14-digit PRMs;
    `TokenExpiredError` when ``exp`` is past ``now``.
    """
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise MalformedTokenError("a Conso API token has three dot-separated parts")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as err:
        raise MalformedTokenError("the token's payload is not base64url JSON") from err
    if not isinstance(payload, dict):
        raise MalformedTokenError("the token's payload is not a JSON object")
    sub = payload.get("sub")
    prms = [sub] if isinstance(sub, str) else sub
    if not isinstance(prms, list) or not prms or not all(is_prm(p) for p in prms):
        raise MalformedTokenError("the token's 'sub' must list 14-digit PRMs")
    expires_at = _timestamp(payload.get("exp"))
    issued_at = _timestamp(payload.get("iat"))
    if expires_at is not None and expires_at <= (now or datetime.now(UTC)):
        raise TokenExpiredError(f"the token expired on {expires_at.date().isoformat()}")
    extra = {k: v for k, v in payload.items() if k not in {"sub", "exp", "iat"}}
    return TokenInfo(prms=tuple(prms), expires_at=expires_at, issued_at=issued_at, extra=extra)


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class ConsoApi(MeteringSource):
    """Conso API: ``GET {base_url}/{type}`` with ``Authorization: Bearer <token>``.

    Only the French (Data Connect 2026) types are requested: Conso API's English legacy types answered from
    Enedis' v5 APIs, shut down after 2026-09-28 (the parsers still read their ``meter_reading`` bodies). Conso API
    bans a client IP above 100 requests in 12 h: the shared limiter allows 90 (`CONSO_API_CONTRACT`). It has no
    contract route (`async_get_contract` raises `UnsupportedError`).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = CONSO_API_URL,
        registry: LimiterRegistry | None = None,
        user_agent: str = USER_AGENT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Configure the source; nothing is sent until the first call."""
        super().__init__(
            session,
            base_url=base_url.strip(),
            registry=registry,
            user_agent=user_agent,
            request_timeout=request_timeout,
        )
        self._token = token.strip()

    @property
    def contract(self) -> SourceContract:
        """Paced under 90 requests per 12 h, no contract data, a token that expires."""
        return CONSO_API_CONTRACT

    @property
    def location(self) -> str:
        """``conso_api <base URL>`` (the token is not part of it: a new token reads the same meters)."""
        return f"conso_api {self._base_url}"

    def credentials_expire_at(self) -> datetime | None:
        """The token's expiry, read offline from its payload; None when it cannot be read or has expired.

        An unreadable or expired token fails the setup before any request (the entry asks for a new one).
        """
        try:
            return self.token_info().expires_at
        except EnedisError:
            return None

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._token,)

    def api_name(self, direction: Direction, measure: Measure) -> str:
        """Every Conso API type shares one budget."""
        return "conso_api"

    def token_info(self) -> TokenInfo:
        """The token's PRMs and expiry (offline; raises `MalformedTokenError` / `TokenExpiredError`)."""
        return decode_conso_token(self._token, now=self.clock.now())

    async def async_get_prms(self) -> list[str]:
        """The PRMs listed in the token (no request)."""
        return list(self.token_info().prms)

    async def async_get_contract(self, prm: str) -> Contract:
        """Conso API serves no contract data."""
        raise UnsupportedError("Conso API serves no contract data")

    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> object:
        check_prm(prm)
        kind, params = dc2026_request(prm, direction, measure, start, end, source_name="Conso API")
        return await self._async_request(
            "GET",
            f"/{kind}",
            api="conso_api",
            quotas=self.contract.policy.quotas,
            params=params,
            headers={"Authorization": f"Bearer {self._token}"},
        )
