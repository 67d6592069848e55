"""MyElectricalData's error answers, its odd bodies and its token bookkeeping.

What the fake gateway cannot be made to answer (a token answer without a token, a body outside the envelope, a
web page, a quota answer with another reset format) comes from a scripted aiohttp server answering at the real
API's paths; everything else runs against the fake gateway's MED routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import json

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.enedis.api import Direction, Measure
from custom_components.enedis.api.clock import ManualClock
from custom_components.enedis.api.errors import (
    BeforeActivationError,
    CommunicationError,
    ConsentError,
    CurveNotEnabledError,
    EnedisError,
    HistoryLimitError,
    InvalidDatesError,
    InvalidResponseError,
    NoDataError,
    RateLimitError,
    RequestError,
    ServerError,
    UnrecognizedResponseError,
    WrongDirectionError,
)
from custom_components.enedis.api.limiter import LimiterRegistry
from custom_components.enedis.api.med import MIN_QUOTA_WAIT, MedApi, MyElectricalData, shift_to_interval_end
from tests.fake_enedis.med import DEMO_CLIENT_ID, DEMO_TOKEN, med_config

from .conftest import Gateway
from .test_med_source import current, legacy

P0 = "22516914714270"
C = Direction.CONSUMPTION
DAY = date(2026, 11, 1)
NEXT = DAY + timedelta(days=1)
CLIENT_ID, CLIENT_SECRET = "scripted-client", "scripted-client-secret"
BEARER = "scripted-bearer-token-0123"
TOKEN_PATH = "/api/accounts/token"
DAILY_PATH = f"/api/enedis/consumption/daily/{P0}"
LEGACY_DAILY_PATH = f"/daily_consumption/{P0}/start/{DAY}/end/{NEXT}/"


@dataclass
class Scripted:
    """A server answering each path with the replies queued for it, in order; the requests it saw."""

    url: str
    session: aiohttp.ClientSession
    registry: LimiterRegistry
    replies: dict[str, list[web.Response]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def reply(
        self,
        path: str,
        status: int,
        body: object,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        response = web.Response(status=status, text=text, content_type=content_type, headers=headers)
        self.replies.setdefault(path, []).append(response)

    def current(self) -> MyElectricalData:
        return MyElectricalData(
            self.session,
            [P0],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            base_url=f"{self.url}/api",
            registry=self.registry,
        )

    def legacy(self, token: str = DEMO_TOKEN) -> MyElectricalData:
        return MyElectricalData(
            self.session, [P0], api=MedApi.LEGACY, token=token, base_url=self.url, registry=self.registry
        )


@pytest.fixture
async def scripted(clock: ManualClock, socket_enabled: None) -> AsyncIterator[Scripted]:
    replies: dict[str, list[web.Response]] = {}
    seen: list[tuple[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((request.method, request.path))
        queue = replies.get(request.path)
        if queue:
            return queue.pop(0)
        if request.path == TOKEN_PATH:
            return web.json_response({"access_token": BEARER, "token_type": "bearer", "expires_in": 3600})
        return web.Response(status=500, text=f"unscripted {request.path}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        url = str(server.make_url("")).rstrip("/")
        yield Scripted(url, session, LimiterRegistry(clock), replies, seen)
    await server.close()


def assert_no_secret(err: BaseException, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(err)
        assert secret not in repr(err)
        assert secret not in getattr(err, "description", "")


# --- the current API's bodies ------------------------------------------------------------------------


async def test_token_answer_without_access_token_is_an_invalid_response(scripted: Scripted) -> None:
    scripted.reply(TOKEN_PATH, 200, {"token_type": "bearer", "expires_in": 3600})
    source = scripted.current()
    with pytest.raises(InvalidResponseError, match="token answer has no access_token") as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert caught.value.retryable
    assert_no_secret(caught.value, CLIENT_SECRET)
    # No measure call was sent with a missing token, and the token call does not count against the quota.
    assert scripted.seen == [("POST", TOKEN_PATH)]
    assert source.requests == {"myelectricaldata_token": 1}
    assert source.token_data() == {"api": "current", "has_token": False, "expires_at": None}


async def test_a_bare_body_outside_the_envelope_is_an_invalid_response(scripted: Scripted) -> None:
    """A Data Connect body served as is (no ``{success, data}``) is not read as the measure."""
    scripted.reply(DAILY_PATH, 200, {"grandeur": []})
    source = scripted.current()
    with pytest.raises(InvalidResponseError, match=r"without its \{success, data\} envelope") as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert type(caught.value) is InvalidResponseError
    assert scripted.seen == [("POST", TOKEN_PATH), ("GET", DAILY_PATH)]


async def test_success_false_inside_http_200_is_typed_by_its_code_and_scrubbed(scripted: Scripted) -> None:
    """``{"success": false}`` on a 200 keeps the relayed Enedis code; a secret the gateway echoes is redacted."""
    error = {"code": "ADAM-ERR0069", "message": f"sens incorrect (bearer {BEARER})", "field": None}
    scripted.reply(DAILY_PATH, 200, {"success": False, "data": None, "error": error})
    source = scripted.current()
    with pytest.raises(WrongDirectionError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert caught.value.code == "ADAM-ERR0069"
    assert caught.value.status == 200  # the answer's own status (it was given as 400)
    assert caught.value.prm == P0
    assert caught.value.description == "sens incorrect (bearer **REDACTED**)"
    assert_no_secret(caught.value, BEARER, CLIENT_SECRET)
    assert source.requests == {"myelectricaldata_token": 1, "myelectricaldata": 1}


async def test_http_200_that_is_not_json_is_an_invalid_response(scripted: Scripted) -> None:
    scripted.reply(DAILY_PATH, 200, "<html><body>Maintenance</body></html>", content_type="text/html")
    source = scripted.current()
    with pytest.raises(InvalidResponseError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert str(caught.value) == (
        "InvalidResponseError HTTP 200: MyElectricalData answered HTTP 200 with a body that is not JSON"
    )
    assert caught.value.retryable


NGINX_PAGE = "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center><hr>nginx</body></html>"
REASONS = {502: "502 Bad Gateway", 404: "404 Not Found"}


@pytest.mark.parametrize(
    ("status", "kind", "retryable", "message"),
    [
        (502, ServerError, True, "ServerError HTTP 502: 502 Bad Gateway 502 Bad Gateway nginx"),
        # A 404 page is no Enedis answer: never read as "no data" (which would end the history there).
        (
            404,
            UnrecognizedResponseError,
            False,
            "UnrecognizedResponseError HTTP 404: not an Enedis or gateway answer: 404 Not Found 404 Not Found nginx",
        ),
    ],
)
async def test_a_web_page_error_keeps_its_status_meaning(
    scripted: Scripted, status: int, kind: type[Exception], retryable: bool, message: str
) -> None:
    scripted.reply(DAILY_PATH, status, NGINX_PAGE.format(REASONS[status]), content_type="text/html")
    with pytest.raises(kind) as caught:
        await scripted.current().async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert type(caught.value) is kind
    assert str(caught.value) == message
    assert caught.value.status == status  # type: ignore[attr-defined]
    assert caught.value.retryable is retryable  # type: ignore[attr-defined]


async def test_a_plain_enedis_error_body_passes_through_the_legacy_api(scripted: Scripted) -> None:
    """An Enedis 404 ``no_data_found`` without the ``detail`` wrapper is no data (unlike a 404 page)."""
    scripted.reply(LEGACY_DAILY_PATH, 404, {"error": "no_data_found", "error_description": "Pas de mesure"})
    source = scripted.legacy()
    with pytest.raises(NoDataError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert str(caught.value) == "NoDataError HTTP 404 no_data_found: Pas de mesure"
    assert scripted.seen == [("GET", LEGACY_DAILY_PATH)]
    assert source.requests == {"myelectricaldata": 1}


# --- the spent daily quota -----------------------------------------------------------------------------

RESETS_AT_PARIS_MIDNIGHT = "Daily API limit exceeded (50/50 without cache). Resets at 2026-11-23T00:00:00+01:00."


@pytest.mark.parametrize(
    ("header", "detail", "retry_at"),
    [
        pytest.param(None, RESETS_AT_PARIS_MIDNIGHT, datetime(2026, 11, 22, 23, tzinfo=UTC), id="detail-only"),
        pytest.param(
            "2026-11-23T00:00:00+01:00", "Daily API limit exceeded", datetime(2026, 11, 22, 23, tzinfo=UTC), id="iso"
        ),
        pytest.param(
            "2026-11-23T06:00:00", "Daily API limit exceeded", datetime(2026, 11, 23, 6, tzinfo=UTC), id="naive"
        ),
        pytest.param(
            "99999999999999999999", RESETS_AT_PARIS_MIDNIGHT, datetime(2026, 11, 22, 23, tzinfo=UTC), id="overflow"
        ),
        pytest.param(
            "soon", "Daily API limit exceeded. Resets at tomorrow.", datetime(2026, 11, 23, tzinfo=UTC), id="unreadable"
        ),
    ],
)
async def test_quota_429_reset_time_and_block(
    scripted: Scripted, clock: ManualClock, header: str | None, detail: str, retry_at: datetime
) -> None:
    """The reset time comes from X-RateLimit-Reset, else the detail's "Resets at", else midnight UTC."""
    headers = {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0"}
    if header is not None:
        headers["X-RateLimit-Reset"] = header
    scripted.reply(DAILY_PATH, 429, {"detail": detail}, headers=headers)
    source = scripted.current()
    with pytest.raises(RateLimitError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    err = caught.value
    assert (err.status, err.code, err.local) == (429, "quota_reached", False)
    assert err.retry_at == retry_at
    assert err.retry_after == (retry_at - clock.now()).total_seconds()
    assert err.description == detail
    assert source.rate_limit == headers
    # Blocked until then: the next call is refused locally, nothing is sent.
    with pytest.raises(RateLimitError) as local:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert local.value.local
    assert scripted.seen.count(("GET", DAILY_PATH)) == 1


NOW = datetime(2026, 11, 22, 11, tzinfo=UTC)  # the `clock` fixture's time
PARIS_MIDNIGHT = datetime(2026, 11, 22, 23, tzinfo=UTC)
UTC_MIDNIGHT = datetime(2026, 11, 23, tzinfo=UTC)
MINIMUM = NOW + MIN_QUOTA_WAIT


def epoch(at: datetime) -> str:
    return str(int(at.timestamp()))


@pytest.mark.parametrize(
    ("header", "detail", "retry_at"),
    [
        # A reset in the past (a stale header, a skewed clock) is not believed: the next source of the time is.
        pytest.param(epoch(NOW - timedelta(hours=2)), RESETS_AT_PARIS_MIDNIGHT, PARIS_MIDNIGHT, id="past-epoch"),
        pytest.param("2026-11-22T00:00:00+01:00", "Daily API limit exceeded", UTC_MIDNIGHT, id="past-iso"),
        pytest.param(
            epoch(NOW - timedelta(days=1)),
            "Daily API limit exceeded. Resets at 2026-11-22T00:00:00+01:00.",
            UTC_MIDNIGHT,
            id="past-header-and-detail",
        ),
        pytest.param(epoch(NOW), RESETS_AT_PARIS_MIDNIGHT, PARIS_MIDNIGHT, id="now-is-not-ahead"),
        # A small number is seconds until the reset (read as epoch seconds it would be 1970: no block at all).
        pytest.param("3600", RESETS_AT_PARIS_MIDNIGHT, NOW + timedelta(hours=1), id="delta"),
        pytest.param("0", RESETS_AT_PARIS_MIDNIGHT, PARIS_MIDNIGHT, id="delta-zero"),
        pytest.param(str(30 * 3600), "Daily API limit exceeded", UTC_MIDNIGHT, id="delta-beyond-a-day"),
        # Further than a day (plus an hour) ahead: not a daily quota's reset.
        pytest.param(epoch(NOW + timedelta(days=3)), RESETS_AT_PARIS_MIDNIGHT, PARIS_MIDNIGHT, id="far-epoch"),
        pytest.param("2027-11-23T00:00:00Z", "Daily API limit exceeded", UTC_MIDNIGHT, id="far-iso"),
        pytest.param(
            epoch(NOW + timedelta(hours=24, minutes=30)),
            "Daily API limit exceeded",
            NOW + timedelta(hours=24.5),
            id="within-25-hours",
        ),
        pytest.param(
            None, "Daily API limit exceeded. Resets at 2026-12-01T00:00:00+01:00.", UTC_MIDNIGHT, id="far-detail"
        ),
        # Believable but due at once: the block still lasts the minimum.
        pytest.param("90", "Daily API limit exceeded", MINIMUM, id="delta-below-minimum"),
        pytest.param(epoch(NOW + timedelta(seconds=30)), "Daily API limit exceeded", MINIMUM, id="epoch-below-minimum"),
    ],
)
async def test_quota_429_with_an_unbelievable_reset_falls_back_and_waits_the_minimum(
    scripted: Scripted, clock: ManualClock, header: str | None, detail: str, retry_at: datetime
) -> None:
    """A reset in the past or more than 25 h ahead is ignored; a number below 10^9 is a delay; 5 minutes at least."""
    assert clock.now() == NOW
    headers = {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0"}
    if header is not None:
        headers["X-RateLimit-Reset"] = header
    scripted.reply(DAILY_PATH, 429, {"detail": detail}, headers=headers)
    source = scripted.current()
    with pytest.raises(RateLimitError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    err = caught.value
    assert err.retry_at == retry_at
    assert err.retry_after == (retry_at - NOW).total_seconds()
    assert err.retry_after >= MIN_QUOTA_WAIT.total_seconds()
    assert source.rate_limit == headers
    # The limiter is blocked for exactly that long: a second before the reset nothing is sent, at it the call goes.
    clock.advance(err.retry_after - 1)
    with pytest.raises(RateLimitError) as local:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert local.value.local
    assert scripted.seen.count(("GET", DAILY_PATH)) == 1
    clock.advance(1)
    with pytest.raises(ServerError):  # sent: the scripted server answers an unscripted call 500
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert scripted.seen.count(("GET", DAILY_PATH)) == 2


SPENT = "Daily rate limit exceeded (50/50). Use cache to increase limit."
"""The real gateway's message (MyElectricalData/myelectricaldata_new @2500702, routers/enedis.py check_rate_limit)."""


def spent_quota(message: str | None = SPENT, code: str = "RATE_LIMIT_EXCEEDED") -> dict[str, object]:
    error = {"code": code, "field": None} | ({"message": message} if message is not None else {})
    return {"success": False, "data": None, "error": error, "timestamp": "2026-11-22T11:00:00.123456"}


@pytest.mark.parametrize(
    ("status", "body", "ahead", "retry_at", "description"),
    [
        # The gateway's answer: HTTP 200, no header, no reset time in the message: the next midnight UTC.
        pytest.param(200, spent_quota(), 0, UTC_MIDNIGHT, SPENT, id="http-200"),
        pytest.param(
            200,
            spent_quota("Daily rate limit exceeded (1000/1000). Try again tomorrow."),
            0,
            UTC_MIDNIGHT,
            "Daily rate limit exceeded (1000/1000). Try again tomorrow.",
            id="cached-quota-message",
        ),
        # The same body under an error status is the same quota (not a refused request).
        pytest.param(429, spent_quota(), 0, UTC_MIDNIGHT, SPENT, id="http-429"),
        pytest.param(400, spent_quota(), 0, UTC_MIDNIGHT, SPENT, id="http-400"),
        pytest.param(
            200, spent_quota(None), 0, UTC_MIDNIGHT, "MyElectricalData daily quota reached (HTTP 200)", id="no-message"
        ),
        # A minute before midnight UTC: the block still lasts the minimum.
        pytest.param(200, spent_quota(), 12 * 3600 + 59 * 60, UTC_MIDNIGHT + timedelta(minutes=4), SPENT, id="late"),
        # A "Resets at" in the message is read like the 429's detail.
        pytest.param(
            200,
            spent_quota("Daily rate limit exceeded (50/50). Resets at 2026-11-22T18:00:00+00:00."),
            0,
            datetime(2026, 11, 22, 18, tzinfo=UTC),
            "Daily rate limit exceeded (50/50). Resets at 2026-11-22T18:00:00+00:00.",
            id="resets-at",
        ),
    ],
)
async def test_rate_limit_exceeded_body_is_the_spent_quota_whatever_the_status(  # noqa: PLR0917 - the cases' columns
    scripted: Scripted, clock: ManualClock, status: int, body: object, ahead: int, retry_at: datetime, description: str
) -> None:
    """``RATE_LIMIT_EXCEEDED`` blocks the source until the reset; nothing more is sent before it."""
    clock.advance(ahead)
    scripted.reply(DAILY_PATH, status, body)
    source = scripted.current()
    with pytest.raises(RateLimitError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    err = caught.value
    assert (err.status, err.code, err.local, err.retryable, err.prm) == (status, "RATE_LIMIT_EXCEEDED", False, True, P0)
    assert err.description == description
    assert err.retry_at == retry_at
    assert err.retry_after == (retry_at - clock.now()).total_seconds()
    assert source.rate_limit == {}
    # Until the reset every measure is refused locally: nothing is sent.
    clock.advance(err.retry_after - 1)
    for measure in (Measure.DAILY_ENERGY, Measure.LOAD_CURVE, Measure.MAX_POWER):
        with pytest.raises(RateLimitError) as local:
            await source.async_fetch_window(P0, C, measure, DAY, NEXT)
        assert local.value.local
    assert [seen for seen in scripted.seen if seen[0] == "GET"] == [("GET", DAILY_PATH)]
    clock.advance(1)
    with pytest.raises(ServerError):  # sent: the scripted server answers an unscripted call 500
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert scripted.seen.count(("GET", DAILY_PATH)) == 2


async def test_rate_limit_exceeded_echoing_the_bearer_is_scrubbed(scripted: Scripted) -> None:
    scripted.reply(DAILY_PATH, 200, spent_quota(f"Daily rate limit exceeded for bearer {BEARER}"))
    with pytest.raises(RateLimitError) as caught:
        await scripted.current().async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert caught.value.description == "Daily rate limit exceeded for bearer **REDACTED**"
    assert_no_secret(caught.value, BEARER, CLIENT_SECRET)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        # Another code of the envelope keeps its meaning (here the relayed Enedis wrong direction)...
        pytest.param(spent_quota("sens incorrect", code="ADAM-ERR0069"), WrongDirectionError, id="other-code"),
        # ... and the quota's code counts only in a refusal.
        pytest.param(
            {"success": True, "data": {"grandeur": []}, "error": {"code": "RATE_LIMIT_EXCEEDED", "message": SPENT}},
            None,
            id="success-true",
        ),
    ],
)
async def test_only_a_refusal_with_the_quota_code_blocks(
    scripted: Scripted, body: dict[str, object], kind: type[Exception] | None
) -> None:
    scripted.reply(DAILY_PATH, 200, body)
    source = scripted.current()
    if kind is None:  # the data is read (empty here), the quota's code is not taken for a refusal
        assert not (await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)).readings
    else:
        with pytest.raises(kind):
            await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    with pytest.raises(ServerError):  # not blocked: the next call is sent (and answered 500, unscripted)
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert scripted.seen.count(("GET", DAILY_PATH)) == 2


# --- the gateway's other refusals ------------------------------------------------------------------------------

HTTPX_503 = (
    "Server error '503 Service Unavailable' for url 'https://gw.ext.prod.api.enedis.fr/metering_data_dc/v5/"
    "daily_consumption'\nFor more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/503"
)
"""What the gateway's HTTP client (httpx) says of an Enedis 503 without a JSON error body."""
FAILED = f"Failed to fetch {DAY} to {NEXT}: "
"""How the daily consumption route prefixes what it caught (routers/enedis.py:641 at 2500702)."""


def refusal(code: str | None, message: str | None) -> dict[str, object]:
    """The gateway's ``APIResponse(success=False, error=ErrorDetail(code, message))`` as it serialises it."""
    error = None if code is None else {"code": code, "message": message, "field": None}
    return {"success": False, "data": None, "error": error, "timestamp": "2026-11-22T11:00:00.123456"}


@pytest.mark.parametrize(
    ("status", "code", "message", "kind", "typed_code"),
    [
        # routers/enedis.py:300: a PRM the account does not cover, as for a 403.
        pytest.param(
            200,
            "ACCESS_DENIED",
            "Accès refusé : PDL introuvable ou non associé à votre compte. Vérifiez que le PDL existe et que le "
            "consentement Enedis est valide.",
            ConsentError,
            "ACCESS_DENIED",
            id="access-denied",
        ),
        pytest.param(403, "ACCESS_DENIED", "Access denied", ConsentError, "ACCESS_DENIED", id="access-denied-403"),
        # Upstream failures: retried later, never taken for an empty window.
        pytest.param(200, "ENEDIS_ERROR", HTTPX_503, ServerError, "ENEDIS_ERROR", id="enedis-error-httpx"),
        pytest.param(200, "ENEDIS_ERROR", FAILED + HTTPX_503, ServerError, "ENEDIS_ERROR", id="enedis-error-daily"),
        pytest.param(
            200,
            "ENEDIS_ERROR",
            "technical_error: Erreur technique",
            ServerError,
            "technical_error",
            id="enedis-error-technical",
        ),
        pytest.param(
            200,
            "ENEDIS_ERROR",
            "'NoneType' object has no attribute 'get'",
            ServerError,
            "ENEDIS_ERROR",
            id="enedis-error-exception",
        ),
        pytest.param(
            200,
            "ENEDIS_UNAVAILABLE",
            "L'API Enedis est temporairement indisponible. Veuillez réessayer dans quelques minutes.",
            ServerError,
            "ENEDIS_UNAVAILABLE",
            id="enedis-unavailable",
        ),
        pytest.param(
            500, "INTERNAL_ERROR", "An internal error occurred", ServerError, "INTERNAL_ERROR", id="internal-error"
        ),
        # Enedis' own refusal relayed in the message keeps its meaning (no data, direction probe, curve refused…).
        pytest.param(
            200,
            "ENEDIS_ERROR",
            FAILED + "no_data_found: Pas de mesure trouvée",
            NoDataError,
            "no_data_found",
            id="relayed-no-data",
        ),
        pytest.param(
            200,
            "ENEDIS_ERROR",
            "ADAM-ERR0069: Le sens de mesure demandé ne correspond pas au point",
            WrongDirectionError,
            "ADAM-ERR0069",
            id="relayed-wrong-direction",
        ),
        pytest.param(
            200,
            "ENEDIS_ERROR",
            "ADAM-ERR0075: courbe de charge non activée",
            CurveNotEnabledError,
            "ADAM-ERR0075",
            id="relayed-curve-refused",
        ),
        pytest.param(
            200,
            "GATEWAY_ERROR",
            "ADAM-ERR0123: antérieure à la date de mise en service",
            BeforeActivationError,
            "ADAM-ERR0123",
            id="client-mode-relay",
        ),
        # The gateway's own verdicts on the window.
        pytest.param(
            200,
            "NO_DATA",
            "No consumption data available for this period",
            NoDataError,
            "NO_DATA",
            id="no-data",
        ),
        pytest.param(
            200,
            "ADAM-ERR0123",
            f"The requested period ({DAY}) cannot be anterior to the meter's last activation date",
            BeforeActivationError,
            "ADAM-ERR0123",
            id="before-activation",
        ),
        pytest.param(
            200,
            "DATE_TOO_OLD",
            "Start date is too old. Daily endpoint only supports data up to 3 years back. Oldest allowed date: "
            "2023-11-22",
            HistoryLimitError,
            "DATE_TOO_OLD",
            id="date-too-old",
        ),
        pytest.param(
            200,
            "INVALID_DATE_RANGE",
            "Start date must be before or equal to end date",
            InvalidDatesError,
            "INVALID_DATE_RANGE",
            id="invalid-date-range",
        ),
        pytest.param(
            200,
            "INVALID_DATE_FORMAT",
            "Invalid date format. Expected YYYY-MM-DD. Error: unconverted data remains",
            InvalidDatesError,
            "INVALID_DATE_FORMAT",
            id="invalid-date-format",
        ),
        pytest.param(200, "INVALID_DATE", "Invalid isoformat string", InvalidDatesError, "INVALID_DATE", id="client"),
        # A code not known here: retried later rather than recorded as a window never served.
        pytest.param(200, "SOMETHING_NEW", "Quelque chose", ServerError, "SOMETHING_NEW", id="unknown-code"),
        pytest.param(200, None, None, ServerError, None, id="no-error-object"),
        # Under an error status an unknown code leaves the status to decide, as before.
        pytest.param(400, "SOMETHING_NEW", "Quelque chose", RequestError, "SOMETHING_NEW", id="unknown-code-400"),
    ],
)
async def test_each_refusal_code_is_typed_whatever_the_status(  # noqa: PLR0917 - the cases' columns
    scripted: Scripted,
    status: int,
    code: str | None,
    message: str | None,
    kind: type[EnedisError],
    typed_code: str | None,
) -> None:
    """The gateway's ``success: false`` codes (its code at 2500702) become the error the engine acts on: a refused
    PRM, a failure retried later, a window without data or out of range, a request never accepted."""
    scripted.reply(DAILY_PATH, status, refusal(code, message))
    source = scripted.current()
    with pytest.raises(EnedisError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    err = caught.value
    assert type(err) is kind
    assert (err.status, err.code, err.prm) == (status, typed_code, P0)
    assert err.retryable is (kind is ServerError)
    if message:
        assert err.description == " ".join(message.split())  # (the HTTP client's line break is a space)
    # Never the spent quota: the next call is sent (and answered 500, unscripted).
    with pytest.raises(ServerError):
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert scripted.seen.count(("GET", DAILY_PATH)) == 2


@pytest.mark.parametrize("code", ["ENEDIS_ERROR", "ACCESS_DENIED", "SOMETHING_NEW"])
async def test_a_refusal_echoing_the_bearer_is_scrubbed(scripted: Scripted, code: str) -> None:
    scripted.reply(DAILY_PATH, 200, refusal(code, f"{FAILED}technical_error: bearer {BEARER} refused"))
    with pytest.raises(EnedisError) as caught:
        await scripted.current().async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert caught.value.description == f"{FAILED}technical_error: bearer **REDACTED** refused"
    assert_no_secret(caught.value, BEARER, CLIENT_SECRET)


async def test_legacy_quota_409_echoing_the_token_is_scrubbed(scripted: Scripted) -> None:
    token = "scripted-legacy-token-987"
    scripted.reply(LEGACY_DAILY_PATH, 409, {"detail": f"Quota journalier dépassé pour le token {token}"})
    with pytest.raises(RateLimitError) as caught:
        await scripted.legacy(token).async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert caught.value.description == "Quota journalier dépassé pour le token **REDACTED**"
    assert caught.value.retry_at == datetime(2026, 11, 23, tzinfo=UTC)  # no reset given: midnight UTC
    assert_no_secret(caught.value, token)


# --- the network -----------------------------------------------------------------------------------------


async def test_an_unreachable_gateway_is_a_communication_error(clock: ManualClock, socket_enabled: None) -> None:
    server = TestServer(web.Application())
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    host = url.removeprefix("http://")
    await server.close()  # nothing listens there any more
    async with aiohttp.ClientSession() as session:
        source = MyElectricalData(
            session,
            [P0],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            base_url=f"{url}/api",
            registry=LimiterRegistry(clock),
        )
        with pytest.raises(CommunicationError) as caught:
            await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert str(caught.value) == f"CommunicationError: cannot reach {host}: ClientConnectorError"
    assert caught.value.retryable
    assert caught.value.prm == P0
    assert_no_secret(caught.value, CLIENT_SECRET)
    assert source.requests == {"myelectricaldata_token": 1}


async def test_a_stalled_answer_times_out(gateway: Gateway) -> None:
    source = current(gateway, request_timeout=0.2)
    await source.async_token()  # the token call is not delayed; the measure's upstream is
    gateway.state.add_fault("delay", delay=1.0)
    with pytest.raises(CommunicationError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    host = gateway.url.removeprefix("http://")
    assert str(caught.value) == f"CommunicationError: timeout calling {host}"
    assert caught.value.retryable
    assert source.requests == {"myelectricaldata_token": 1, "myelectricaldata": 1}


# --- the bearer token ------------------------------------------------------------------------------------


async def test_a_refused_prm_is_not_retried_with_a_new_token(gateway: Gateway) -> None:
    """``ACCESS_DENIED`` (HTTP 200, as the real gateway answers it): the credentials were accepted, only this PRM is
    refused; asking for a new token would change nothing."""
    source = current(gateway)
    other = "99999999999999"
    with pytest.raises(ConsentError) as caught:
        await source.async_fetch_window(other, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert (caught.value.status, caught.value.code) == (200, "ACCESS_DENIED")
    assert caught.value.prm == other
    assert source.requests == {"myelectricaldata_token": 1, "myelectricaldata": 1}
    assert gateway.state.count("/med/api/accounts/token") == 1
    assert source.remaining_budget() == 49  # the refused call counted against the account's 50


async def test_token_data_never_shows_the_token_and_revoke_forgets_it(gateway: Gateway) -> None:
    source = current(gateway)
    assert source.client_id == DEMO_CLIENT_ID
    assert source.token_data() == {"api": "current", "has_token": False, "expires_at": None}
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    (first,) = med_config(gateway.state).bearer
    expires = gateway.clock.now() + timedelta(seconds=2592000)
    assert source.token_data() == {"api": "current", "has_token": True, "expires_at": expires.isoformat()}
    assert first in source.secrets()
    assert first not in repr(source)
    assert first not in repr(source.token_data())

    await source.async_revoke()
    assert source.token_data() == {"api": "current", "has_token": False, "expires_at": None}
    assert first not in source.secrets()
    gateway.clock.advance(2)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, DAY, NEXT)
    assert source.requests == {"myelectricaldata_token": 2, "myelectricaldata": 2}
    assert len(med_config(gateway.state).bearer) == 2  # a new token was asked for
    assert source.remaining_budget() == 48

    old = legacy(gateway)
    assert old.client_id == ""
    assert old.token_data() == {"api": "legacy", "has_token": True, "expires_at": None}
    assert DEMO_TOKEN not in repr(old.token_data())


@pytest.mark.parametrize("token", [None, "", "   "])
def test_the_legacy_api_needs_a_token(token: str | None) -> None:
    """A blank token (spaces pasted into the form) is no token: refused here, not sent as an empty header."""
    with pytest.raises(ValueError, match="the legacy MyElectricalData API needs a token"):
        MyElectricalData(None, [P0], api=MedApi.LEGACY, token=token)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("client_id", "client_secret"), [(None, "secret"), ("id", ""), ("  ", "secret"), ("id", " \t")]
)
def test_the_current_api_needs_a_client_id_and_a_secret(client_id: str | None, client_secret: str) -> None:
    with pytest.raises(ValueError, match="the current MyElectricalData API needs a client id and a client secret"):
        MyElectricalData(None, [P0], client_id=client_id, client_secret=client_secret)  # type: ignore[arg-type]


# --- the START -> END shift ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, [1, 2], {"grandeur": None}, {"grandeur": {"points": []}}])
def test_shift_leaves_a_body_without_grandeur_list_as_it_is(body: object) -> None:
    assert shift_to_interval_end(body) is body


def test_shift_moves_readable_points_and_leaves_the_rest_for_the_parser() -> None:
    good = {"v": "400", "d": "2026-11-01 00:00:00", "p": "PT30M", "n": "B"}
    body = {
        "usage_point_id": P0,
        "grandeur": [
            "not a grandeur",
            {"unite": "W", "points": None},
            {
                "unite": "W",
                "points": [
                    good,
                    "not a point",
                    {"v": "1", "d": "2026-11-01 00:30:00", "p": "P1D"},
                    {"v": "2", "d": None, "p": "PT30M"},
                    {"v": "3", "d": "2026-11-01T01:00:00", "p": "PT30M"},
                    {"v": "4", "d": "2026-11-01 01:30:00", "p": "PT10M"},
                ],
            },
        ],
    }
    assert shift_to_interval_end(body) == {
        "usage_point_id": P0,
        "grandeur": [
            "not a grandeur",
            {"unite": "W", "points": None},
            {
                "unite": "W",
                "points": [
                    {**good, "d": "2026-11-01 00:30:00"},
                    "not a point",
                    {"v": "1", "d": "2026-11-01 00:30:00", "p": "P1D"},
                    {"v": "2", "d": None, "p": "PT30M"},
                    {"v": "3", "d": "2026-11-01T01:00:00", "p": "PT30M"},
                    {"v": "4", "d": "2026-11-01 01:40:00", "p": "PT10M"},
                ],
            },
        ],
    }
    assert good["d"] == "2026-11-01 00:00:00"  # the gateway's body is not modified in place
