"""A fake MyElectricalData gateway over the fake Enedis' ground truth (shared/reference §11).

Current API under ``/med/api`` (``POST /accounts/token``, ``GET /enedis/...``, the ``{success, data, error}``
envelope, load-curve points stamped at the START of their interval as the real gateway does since Data Connect 2026);
legacy API under ``/med`` (``Authorization: <token>``, ``/{service}/{pdl}/start/{d}/end/{d}/``, Enedis v5 bodies, 409
when the quota is spent). Every measure is produced by the same code as the Enedis routes (`server.measure_producer`).

The day's 50 calls are counted per UTC date and start again at midnight UTC, and a spent quota is answered as the
real gateway's code does (MyElectricalData/myelectricaldata_new @2500702, ``apps/api/src/routers/enedis.py``
``check_rate_limit``, ``services/rate_limiter.py``): HTTP 200, ``{"success": false, "error": {"code":
"RATE_LIMIT_EXCEEDED", …}}``, no ``X-RateLimit-*`` header. `MedConfig` can also serve what the gateway's removed
documentation described: ``X-RateLimit-*`` headers and a 429 ``{"detail": "… Resets at …"}``.

A PRM the account does not cover is answered as the real gateway does (``routers/enedis.py``
``make_token_error_response``): HTTP 200, code ``ACCESS_DENIED``, its French message, before the quota is counted.
An Enedis failure the gateway caught (``ENEDIS_ERROR``, HTTP 200) can be injected (`MedFailure`). Enedis' own
refusals (no data, wrong direction…) are still passed on with Enedis' status and code in the envelope, a
simplification: the real gateway answers them HTTP 200 ``ENEDIS_ERROR`` ``"<code>: <description>"`` (``NO_DATA`` on
the consumption curve route), the shape `MedFailure` serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import re
import secrets
from typing import Any, Literal
import weakref

from aiohttp import web

from . import data, measures
from .measures import Reply
from .server import STATE_KEY, gateway, measure_producer, to_response
from .state import FakeState

CURRENT_KINDS: dict[tuple[str, str], tuple[measures.Kind, data.Direction]] = {
    ("consumption", "daily"): ("daily", data.CONS),
    ("consumption", "detail"): ("curve", data.CONS),
    ("production", "daily"): ("daily", data.PROD),
    ("production", "detail"): ("curve", data.PROD),
}
LEGACY_SERVICES: dict[str, tuple[measures.Kind, data.Direction]] = {
    "daily_consumption": ("daily", data.CONS),
    "consumption_load_curve": ("curve", data.CONS),
    "daily_consumption_max_power": ("pmax", data.CONS),
    "daily_production": ("daily", data.PROD),
    "production_load_curve": ("curve", data.PROD),
}
DEMO_CLIENT_ID, DEMO_CLIENT_SECRET = "med-demo-client", "med-demo-secret"
DEMO_TOKEN = "med-demo-legacy-token"
ACCESS_DENIED_MESSAGE = (
    "Accès refusé : PDL introuvable ou non associé à votre compte. Vérifiez que le PDL existe et que le consentement "
    "Enedis est valide."
)
"""The real gateway's words for a PRM its account does not cover (``routers/enedis.py:301`` at 2500702)."""
ENEDIS_503 = (
    "Server error '503 Service Unavailable' for url "
    "'https://gw.ext.prod.api.enedis.fr/metering_data_plc/v5/production_load_curve'\n"
    "For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/503"
)
"""What the gateway's HTTP client says of an Enedis 503 without a JSON body (``str(httpx.HTTPStatusError)``)."""


@dataclass
class MedFailure:
    """A call answered ``{"success": false}`` (HTTP 200) instead of its measure, after the quota counted it (the
    real gateway counts the call, then asks Enedis): the next ``times`` calls whose route (``consumption/daily``,
    ``production/detail``, ``power``…), PRM and ``start`` match (None matches any).

    ``code`` ``ENEDIS_ERROR`` carries ``upstream`` as the gateway writes what it caught: ``"Failed to fetch <start> to
    <end>: <upstream>"`` on the daily consumption route (``routers/enedis.py:641``), ``upstream`` alone on the others
    (``:1434 :1488 :1542``); ``upstream`` is Enedis' ``"<error>: <error_description>"`` or the HTTP client's text.
    (The real consumption curve route answers ``NO_DATA`` instead of any Enedis failure.)
    """

    route: str | None = None
    prm: str | None = None
    start: str | None = None
    times: int = 1
    code: str = "ENEDIS_ERROR"
    upstream: str = ENEDIS_503

    def matches(self, route: str, prm: str, start: str) -> bool:
        """Whether this failure answers that call (and has answers left)."""
        return (
            self.times > 0 and self.route in {None, route} and self.prm in {None, prm} and self.start in {None, start}
        )

    def message(self, route: str, start: str, end: str) -> str:
        """The ``error.message`` the real gateway would send."""
        if route == "consumption/daily":
            return f"Failed to fetch {start} to {end}: {self.upstream}"
        return self.upstream


@dataclass
class MedConfig:
    """Accounts, issued tokens and the day's call counts of the fake gateway."""

    clients: dict[str, tuple[str, tuple[str, ...]]] = field(
        default_factory=lambda: {DEMO_CLIENT_ID: (DEMO_CLIENT_SECRET, tuple(data.PRMS))}
    )
    """client_id -> (client secret, PRMs)."""
    legacy_tokens: dict[str, tuple[str, ...]] = field(default_factory=lambda: {DEMO_TOKEN: tuple(data.PRMS)})
    daily_limit: int = 50
    quota_answer: Literal["envelope", "429"] = "envelope"
    """How the current API answers a spent quota: ``"envelope"`` as the real gateway (HTTP 200, ``success: false``,
    code ``RATE_LIMIT_EXCEEDED``); ``"429"`` as its removed documentation said (``{"detail": "… Resets at …"}``)."""
    rate_limit_headers: bool = False
    """Send ``X-RateLimit-Limit/Remaining/Reset`` with the current API's measure answers (documented; the real
    gateway's code never sets them)."""
    token_lifetime: int = 2592000
    bearer: dict[str, str] = field(default_factory=dict)
    """Issued bearer token -> client_id."""
    calls: dict[str, tuple[date, int]] = field(default_factory=dict)
    """Account -> (quota day, calls that day): the UTC date for the current API."""
    failures: list[MedFailure] = field(default_factory=list)
    """Calls of the current API answered ``success: false`` instead of their measure (`MedFailure`)."""
    failed: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(route, PRM, start, end) of each call a failure answered."""

    def expire_bearers(self) -> None:
        """Forget every issued bearer token (the next call with one is answered 401)."""
        self.bearer.clear()

    def count(self, account: str, today: date) -> tuple[bool, int]:
        """Count a call of ``account`` on the quota day ``today``: (allowed, calls remaining after it).

        A refused call is not counted (the real gateway checks the count before incrementing it)."""
        day, used = self.calls.get(account, (today, 0))
        if day != today:
            used = 0
        if used >= self.daily_limit:
            self.calls[account] = (today, used)
            return False, 0
        self.calls[account] = (today, used + 1)
        return True, self.daily_limit - used - 1


_CONFIGS: dict[int, MedConfig] = {}


def med_config(state: FakeState) -> MedConfig:
    """The MyElectricalData accounts and counts of the gateway serving ``state`` (made on first use)."""
    key = id(state)
    if key not in _CONFIGS:
        _CONFIGS[key] = MedConfig()
        weakref.finalize(state, _CONFIGS.pop, key, None)
    return _CONFIGS[key]


def _config(request: web.Request) -> MedConfig:
    return med_config(request.app[STATE_KEY])


def _state(request: web.Request) -> FakeState:
    return request.app[STATE_KEY]


def _utc_today(state: FakeState) -> date:
    """The gateway's quota day: the UTC date of the fake's wall clock (its Redis keys carry ``datetime.now(UTC)``)."""
    return state.now_local().astimezone(UTC).date()


def _reset_at(state: FakeState) -> datetime:
    """The next midnight UTC (the gateway's counters expire then)."""
    return datetime.combine(_utc_today(state) + timedelta(days=1), time(0), tzinfo=UTC)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return to_response(Reply(status, body, headers=headers or {}))


def _envelope_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {
        "success": False,
        "data": None,
        "error": {"code": code, "message": message, "field": None},
        "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(),
    }
    return _json(status, body, headers)


async def token_handler(request: web.Request) -> web.Response:
    """``POST /med/api/accounts/token``: form client credentials -> ``{access_token, token_type, expires_in}``."""
    config = _config(request)
    form = await request.post()
    client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
    if form.get("grant_type") != "client_credentials":
        return _json(400, {"detail": "Unsupported grant_type"})
    known = config.clients.get(client_id)
    if known is None or known[0] != secret:
        return _json(401, {"detail": "Invalid client credentials"})
    token = secrets.token_urlsafe(24)
    config.bearer[token] = client_id
    return _json(200, {"access_token": token, "token_type": "bearer", "expires_in": config.token_lifetime})


async def _measure(  # noqa: PLR0917 - one producer's inputs
    state: FakeState,
    kind: measures.Kind,
    direction: data.Direction,
    prm: str,
    start: str,
    end: str,
    flavour: Literal["v2", "v5"],
) -> Reply:
    producer = measure_producer(
        state, kind=kind, direction=direction, prm=prm, start=start, end=end, flavour=flavour, step="P1D"
    )
    upstream = "/mesure_synchrone_auto/v2/med" if flavour == "v2" else "/metering_data_med/v5/med"
    return await gateway(state, upstream, "myelectricaldata", producer)


def shift_to_interval_start(body: Any) -> Any:
    """What the real gateway does to a 2026 curve body: each point stamped at its interval's START."""
    for grandeur in body.get("grandeur", []):
        for point in grandeur.get("points", []):
            minutes = int(re.fullmatch(r"PT(\d+)M", point["p"]).group(1))  # type: ignore[union-attr]
            end = datetime.strptime(point["d"], "%Y-%m-%d %H:%M:%S")
            point["d"] = (end - timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")
    return body


async def current_handler(request: web.Request) -> web.Response:
    """``GET /med/api/enedis/{direction}/{kind}/{pdl}`` and ``/med/api/enedis/power/{pdl}``."""
    config, state = _config(request), _state(request)
    header = request.headers.get("Authorization", "")
    client_id = config.bearer.get(header[7:].strip()) if header.startswith("Bearer ") else None
    if client_id is None:
        return _json(401, {"detail": "Could not validate credentials"})
    prm = request.match_info["pdl"]
    if prm not in config.clients[client_id][1]:
        # HTTP 200, like every refusal of the real gateway (its PRM check comes before its quota count).
        return _envelope_error(200, "ACCESS_DENIED", ACCESS_DENIED_MESSAGE)
    allowed, remaining = config.count(client_id, _utc_today(state))
    reset = _reset_at(state)
    headers: dict[str, str] = {}
    if config.rate_limit_headers:
        headers = {
            "X-RateLimit-Limit": str(config.daily_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset.timestamp())),
        }
    if not allowed:
        if config.quota_answer == "429":
            detail = (
                f"Daily API limit exceeded ({config.daily_limit}/{config.daily_limit} without cache). "
                f"Resets at {reset.isoformat()}"
            )
            return _json(429, {"detail": detail}, headers)
        # The real gateway's words (use_cache=false, the only way this source asks).
        message = f"Daily rate limit exceeded ({config.daily_limit}/{config.daily_limit}). Use cache to increase limit."
        return _envelope_error(200, "RATE_LIMIT_EXCEEDED", message, headers)
    route = request.match_info["route"]
    if route == "power":
        kind, direction = "pmax", data.CONS
    elif (found := CURRENT_KINDS.get(tuple(route.split("/")))) is not None:  # type: ignore[arg-type]
        kind, direction = found
    else:
        return _json(404, {"detail": "Not Found"})
    start, end = request.query.get("start", ""), request.query.get("end", "")
    for failure in config.failures:
        if failure.matches(route, prm, start):
            failure.times -= 1
            config.failed.append((route, prm, start, end))
            return _envelope_error(200, failure.code, failure.message(route, start, end), headers)
    reply = await _measure(state, kind, direction, prm, start, end, "v2")
    if reply.status != 200 or reply.text is not None:
        body = reply.body if isinstance(reply.body, dict) else {}
        code = body.get("code") or body.get("error") or "ENEDIS_ERROR"
        message = body.get("message") or body.get("error_description") or "Enedis error"
        return _envelope_error(reply.status if reply.status != 200 else 502, str(code), str(message), headers)
    payload = shift_to_interval_start(reply.body) if kind == "curve" else reply.body
    envelope = {"success": True, "data": payload, "error": None, "timestamp": state.now_local().isoformat()}
    return _json(200, envelope, headers)


async def legacy_handler(request: web.Request) -> web.Response:
    """``GET /med/{service}/{pdl}/start/{d}/end/{d}/`` with ``Authorization: <token>``: the v5 body unchanged."""
    config, state = _config(request), _state(request)
    token = request.headers.get("Authorization", "").strip()
    prms = config.legacy_tokens.get(token)
    if prms is None:
        return _json(401, {"detail": "Token invalide"})
    prm = request.match_info["pdl"]
    if prm not in prms:
        return _json(403, {"detail": "Accès refusé à ce point de livraison"})
    # The legacy API's reset time zone is unknown (its valid_access answers a naive "quota_reset_at":
    # "…T23:59:59.999999"): counted per Paris day, as before.
    allowed, _ = config.count(f"legacy:{token}", state.current_date())
    if not allowed:
        return _json(409, {"detail": f"Vous avez dépassé votre quota journalier ({config.daily_limit})"})
    found = LEGACY_SERVICES.get(request.match_info["service"])
    if found is None:
        return _json(404, {"detail": "Not Found"})
    kind, direction = found
    reply = await _measure(state, kind, direction, prm, request.match_info["start"], request.match_info["end"], "v5")
    if reply.status != 200 or reply.text is not None:
        return _json(reply.status if reply.status != 200 else 502, {"detail": reply.body})
    return _json(200, reply.body)


def install(app: web.Application) -> None:
    """Add the MyElectricalData routes to the fake gateway's app (their accounts: `med_config`)."""
    app.router.add_post("/med/api/accounts/token", token_handler)
    app.router.add_get("/med/api/enedis/{route:power|(consumption|production)/(daily|detail)}/{pdl}", current_handler)
    app.router.add_get("/med/{service}/{pdl}/start/{start}/end/{end}/", legacy_handler)
