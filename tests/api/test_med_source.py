"""MyElectricalData (current and legacy API) against the fake gateway's MED routes and the real capture."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
import json
from pathlib import Path

import pytest

from custom_components.enedis.api import Direction, Measure
from custom_components.enedis.api.errors import (
    AuthError,
    ConsentError,
    NoDataError,
    RateLimitError,
    ServerError,
    UnsupportedError,
    WrongDirectionError,
)
from custom_components.enedis.api.limiter import LimiterRegistry
from custom_components.enedis.api.med import (
    MED_CONTRACT,
    MIN_QUOTA_WAIT,
    MedApi,
    MyElectricalData,
    shift_to_interval_end,
)
from custom_components.enedis.api.parsers import parse_measure
from tests.fake_enedis import data
from tests.fake_enedis.med import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TOKEN,
    MedFailure,
    med_config,
    shift_to_interval_start,
)

from .conftest import Gateway
from .test_sources import assert_curve_matches_ground_truth

P0 = "22516914714270"
SELF = "12655648759651"
C, P = Direction.CONSUMPTION, Direction.PRODUCTION
FIXTURES = Path(__file__).parent.parent / "fixtures"


def current(gw: Gateway, **kwargs: object) -> MyElectricalData:
    return MyElectricalData(
        gw.session,
        [P0, SELF],
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        base_url=f"{gw.url}/med/api",
        registry=gw.registry,
        **kwargs,  # type: ignore[arg-type]
    )


def legacy(gw: Gateway, token: str = DEMO_TOKEN) -> MyElectricalData:
    return MyElectricalData(
        gw.session, [P0], api=MedApi.LEGACY, token=token, base_url=f"{gw.url}/med", registry=gw.registry
    )


def hourly_wh(readings: object) -> dict[datetime, float]:
    """Wh per UTC hour of half-hour power readings (W x 0.5 h)."""
    out: dict[datetime, float] = {}
    for r in readings:  # type: ignore[attr-defined]
        hour = r.start.replace(minute=0)
        out[hour] = out.get(hour, 0.0) + r.value * (r.end - r.start).total_seconds() / 3600
    return out


def test_real_capture_start_stamps_read_back_as_interval_ends() -> None:
    """The gateway's START stamps (the capture shifted as MED does) parse to the capture's own END-stamped series."""
    raw = json.loads((FIXTURES / "med-new__dc2026_courbe_de_charge_consommation_prod_capture.json").read_text())
    as_med_sends = shift_to_interval_start(json.loads(json.dumps(raw)))
    assert as_med_sends["grandeur"][0]["points"][0]["d"] == "2026-09-29 00:00:00"
    expected = parse_measure(raw, measure=Measure.LOAD_CURVE, direction=C, prm="99999999999991")
    got = parse_measure(
        shift_to_interval_end(as_med_sends), measure=Measure.LOAD_CURVE, direction=C, prm="99999999999991"
    )
    assert len(got.readings) == 96
    assert got.readings == expected.readings
    first = got.readings[0]
    assert first.start == datetime(2026, 9, 28, 22, 0, tzinfo=UTC)  # 00:00 Paris (CEST)
    assert first.end == datetime(2026, 9, 28, 22, 30, tzinfo=UTC)
    assert first.value == 4078
    # Read without the shift, every value would sit 30 minutes early.
    unshifted = parse_measure(as_med_sends, measure=Measure.LOAD_CURVE, direction=C, prm="99999999999991")
    assert unshifted.readings[0].end == datetime(2026, 9, 28, 22, 0, tzinfo=UTC)


async def test_current_api_matches_ground_truth_to_the_watt_hour(gateway: Gateway) -> None:
    source = current(gateway)
    start, end = date(2026, 10, 20), date(2026, 10, 27)  # the autumn DST change inside
    curve = await source.async_fetch_window(P0, C, Measure.LOAD_CURVE, start, end)
    assert_curve_matches_ground_truth(curve.readings, P0, data.CONS, start, end)
    daily = await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, start, end)
    assert [r.value for r in daily.readings] == [
        data.daily_wh(P0, data.CONS, start + timedelta(days=i)) for i in range(7)
    ]
    hours = hourly_wh(curve.readings)
    assert len(hours) == 7 * 24 + 1
    assert abs(sum(hours.values()) - sum(r.value for r in daily.readings)) <= len(hours)  # 1 Wh per hour at most
    pmax = await source.async_fetch_window(P0, C, Measure.MAX_POWER, start, end)
    truth = [data.max_power(P0, start + timedelta(days=i)) for i in range(7)]
    assert [(r.value, r.at) for r in pmax.readings] == [(v, at.replace(tzinfo=data.PARIS)) for v, at in truth if at]
    prod = await source.async_fetch_window(SELF, P, Measure.LOAD_CURVE, start, end)
    assert_curve_matches_ground_truth(prod.readings, SELF, data.PROD, start, end)
    # One token call, then four counted calls on one budget (the gateway counted them; it sends no quota header).
    assert source.requests == {"myelectricaldata_token": 1, "myelectricaldata": 4}
    assert gateway.state.count("/med/api/accounts/token") == 1
    assert med_config(gateway.state).calls[DEMO_CLIENT_ID] == (date(2026, 11, 22), 4)
    assert source.rate_limit == {}


async def test_legacy_api_matches_the_current_one(gateway: Gateway) -> None:
    start, end = date(2026, 10, 24), date(2026, 10, 27)
    old, new = legacy(gateway), current(gateway)
    for measure in (Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER):
        a = await old.async_fetch_window(P0, C, measure, start, end)
        b = await new.async_fetch_window(P0, C, measure, start, end)
        assert a.readings == b.readings
        assert a.readings
    paths = {r.path for r in gateway.state.requests}
    assert "/med/consumption_load_curve/22516914714270/start/2026-10-24/end/2026-10-27/" in paths


UTC_MIDNIGHT = datetime(2026, 11, 23, tzinfo=UTC)
"""When the gateway's counters of 2026-11-22 (the fixtures' day) expire: they are keyed by the UTC date."""


async def test_current_api_spent_quota_answers_200_and_blocks_until_midnight_utc(gateway: Gateway) -> None:
    """The real gateway's spent quota: HTTP 200 ``{"success": false, "error": {"code": "RATE_LIMIT_EXCEEDED"}}``."""
    source = current(gateway)
    med_config(gateway.state).daily_limit = 2
    day, next_day = date(2026, 11, 1), date(2026, 11, 2)
    for _ in range(2):
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, next_day)
        gateway.clock.advance(2)
    with pytest.raises(RateLimitError) as caught:
        await source.async_fetch_window(P0, C, Measure.LOAD_CURVE, day, next_day)
    err = caught.value
    assert (err.status, err.code, err.local, err.prm) == (200, "RATE_LIMIT_EXCEEDED", False, P0)
    assert err.description == "Daily rate limit exceeded (2/2). Use cache to increase limit."
    assert err.retry_at == UTC_MIDNIGHT
    assert err.retry_after == (UTC_MIDNIGHT - gateway.clock.now()).total_seconds()
    assert source.rate_limit == {}  # no X-RateLimit-* header: the body alone says it
    sent = gateway.state.count("/med/api/enedis")
    assert sent == 3

    # Blocked until midnight UTC, past Paris midnight (23:00 UTC), whatever the measure: nothing is sent.
    gateway.clock.advance((UTC_MIDNIGHT - gateway.clock.now()).total_seconds() - 60)
    for measure in (Measure.DAILY_ENERGY, Measure.LOAD_CURVE):
        with pytest.raises(RateLimitError) as local:
            await source.async_fetch_window(P0, C, measure, day, next_day)
        assert local.value.local
    assert gateway.state.count("/med/api/enedis") == sent
    # The fake counts per UTC date too: at 00:59 in Paris another client of the account is still refused.
    gateway.state.today, gateway.state.time_of_day = date(2026, 11, 23), time(0, 59)
    other_client = MyElectricalData(
        gateway.session,
        [P0],
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        base_url=f"{gateway.url}/med/api",
        registry=LimiterRegistry(gateway.clock),
    )
    with pytest.raises(RateLimitError) as other:
        await other_client.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, next_day)
    assert not other.value.local
    assert other.value.retry_at == gateway.clock.now() + MIN_QUOTA_WAIT  # a minute before the reset: 5 minutes

    # At midnight UTC the source asks again and the gateway answers.
    gateway.clock.advance(60)
    gateway.state.time_of_day = time(1, 0)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, next_day)
    assert gateway.state.count("/med/api/enedis") == sent + 2
    assert med_config(gateway.state).calls[DEMO_CLIENT_ID] == (date(2026, 11, 23), 1)


async def test_current_api_documented_429_gives_the_reset_time_and_blocks(gateway: Gateway) -> None:
    """The shape the gateway's (removed) documentation described: headers and a 429 whose detail says the reset."""
    source = current(gateway)
    app_config = med_config(gateway.state)
    app_config.daily_limit = 2
    app_config.quota_answer, app_config.rate_limit_headers = "429", True
    day = date(2026, 11, 1)
    for _ in range(2):
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
        gateway.clock.advance(2)
    with pytest.raises(RateLimitError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    assert caught.value.status == 429
    assert caught.value.retry_at == UTC_MIDNIGHT
    assert source.rate_limit["X-RateLimit-Reset"] == str(int(UTC_MIDNIGHT.timestamp()))
    sent = gateway.state.count("/med/api/enedis")
    with pytest.raises(RateLimitError) as local:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    assert local.value.local
    assert gateway.state.count("/med/api/enedis") == sent  # blocked until the reset: nothing sent


async def test_legacy_api_quota_409(gateway: Gateway) -> None:
    med_config(gateway.state).daily_limit = 1
    source = legacy(gateway)
    day = date(2026, 11, 1)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    gateway.clock.advance(2)
    with pytest.raises(RateLimitError) as caught:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    assert caught.value.status == 409
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > gateway.clock.now()


async def test_expired_bearer_renewed_once_and_bad_credentials(gateway: Gateway) -> None:
    source = current(gateway)
    day = date(2026, 11, 1)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    med_config(gateway.state).expire_bearers()
    gateway.clock.advance(2)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    assert source.requests["myelectricaldata_token"] == 2
    bad = MyElectricalData(
        gateway.session,
        [P0],
        client_id=DEMO_CLIENT_ID,
        client_secret="wrong-secret-value",
        base_url=f"{gateway.url}/med/api",
        registry=gateway.registry,
    )
    with pytest.raises(AuthError) as caught:
        await bad.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    assert "wrong-secret-value" not in str(caught.value)
    with pytest.raises(AuthError):
        await legacy(gateway, token="not-a-token").async_fetch_window(
            P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1)
        )


async def test_answers_without_quota_headers_keep_the_last_ones(gateway: Gateway) -> None:
    """A refused token call or a 401 carries no ``X-RateLimit-*``: the gateway's last reported quota stays readable."""
    source = current(gateway)
    config = med_config(gateway.state)
    config.rate_limit_headers = True  # as documented (the real gateway sends none)
    prms = config.clients[DEMO_CLIENT_ID][1]
    day, next_day = date(2026, 11, 1), date(2026, 11, 2)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, next_day)
    first = dict(source.rate_limit)
    assert set(first) == {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
    assert first["X-RateLimit-Remaining"] == "49"

    # The secret was regenerated on the gateway's site: the token call is refused (401, no quota headers).
    config.clients[DEMO_CLIENT_ID] = ("regenerated-secret", prms)
    await source.async_revoke()
    gateway.clock.advance(2)
    with pytest.raises(AuthError):
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, next_day)
    assert source.requests == {"myelectricaldata_token": 2, "myelectricaldata": 1}
    assert source.rate_limit == first

    # An answer carrying them replaces them.
    config.clients[DEMO_CLIENT_ID] = (DEMO_CLIENT_SECRET, prms)
    gateway.clock.advance(2)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, next_day)
    second = dict(source.rate_limit)
    assert second["X-RateLimit-Remaining"] == "48"

    # The bearer expires and the secret changes again: the GET's 401 and the token call's 401 both leave them.
    config.clients[DEMO_CLIENT_ID] = ("regenerated-again", prms)
    config.expire_bearers()
    gateway.clock.advance(2)
    with pytest.raises(AuthError):
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, next_day)
    assert source.requests == {"myelectricaldata_token": 4, "myelectricaldata": 3}
    assert source.rate_limit == second


async def test_contract_location_secrets_and_unsupported(gateway: Gateway) -> None:
    source = current(gateway)
    assert source.location == f"myelectricaldata {gateway.url}/med/api"
    assert DEMO_CLIENT_SECRET in source.secrets()
    assert DEMO_CLIENT_SECRET not in repr(source)
    assert legacy(gateway).secrets() == (DEMO_TOKEN,)
    assert await source.async_get_prms() == [P0, SELF]
    assert MED_CONTRACT.policy.quotas[-1].limit == 50
    assert not MED_CONTRACT.serves(P, Measure.MAX_POWER)
    assert not MED_CONTRACT.serves_index
    with pytest.raises(UnsupportedError):
        await source.async_fetch_window(P0, P, Measure.MAX_POWER, date(2026, 11, 1), date(2026, 11, 2))
    with pytest.raises(UnsupportedError):
        await source.async_get_contract(P0)
    with pytest.raises(ValueError, match="client secret"):
        MyElectricalData(gateway.session, [P0], client_id="x")


async def test_relayed_enedis_refusals_keep_their_meaning(gateway: Gateway) -> None:
    """A consumer asked for production: both APIs relay Enedis' ADAM-ERR0069 (the engine's direction probe)."""
    day = date(2026, 11, 1)
    for source in (current(gateway), legacy(gateway)):
        with pytest.raises(WrongDirectionError):
            await source.async_fetch_window(P0, P, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
        gateway.clock.advance(2)
    with pytest.raises(ConsentError):  # a PRM the legacy token does not cover: 403, the credentials were accepted
        await MyElectricalData(
            gateway.session,
            [P0],
            api=MedApi.LEGACY,
            token=DEMO_TOKEN,
            base_url=f"{gateway.url}/med",
            registry=gateway.registry,
        ).async_fetch_window("99999999999999", C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))


async def test_gateway_refusals_answered_http_200_are_typed_by_their_code(gateway: Gateway) -> None:
    """The fake answers like the real gateway (HTTP 200, ``success: false``): a PRM outside the account is refused
    (``ACCESS_DENIED``), an Enedis failure (``ENEDIS_ERROR``) is retried and then served, and Enedis' own refusal
    relayed in an ``ENEDIS_ERROR`` message keeps its meaning."""
    config = med_config(gateway.state)
    config.clients[DEMO_CLIENT_ID] = (DEMO_CLIENT_SECRET, (P0,))
    source = current(gateway)
    day = date(2026, 11, 1)
    week = (day, day + timedelta(days=7))

    with pytest.raises(ConsentError) as denied:
        await source.async_fetch_window(SELF, C, Measure.DAILY_ENERGY, *week)
    assert (denied.value.status, denied.value.code, denied.value.prm) == (200, "ACCESS_DENIED", SELF)
    assert "PDL introuvable ou non associé à votre compte" in denied.value.description

    config.failures.append(MedFailure(route="consumption/detail", prm=P0, start=day.isoformat()))
    gateway.clock.advance(2)
    with pytest.raises(ServerError) as failed:
        await source.async_fetch_window(P0, C, Measure.LOAD_CURVE, *week)
    assert (failed.value.status, failed.value.code, failed.value.retryable) == (200, "ENEDIS_ERROR", True)
    assert config.failed == [("consumption/detail", P0, "2026-11-01", "2026-11-08")]
    gateway.clock.advance(2)
    served = await source.async_fetch_window(P0, C, Measure.LOAD_CURVE, *week)  # asked again: served
    assert len(served.readings) == 7 * 48

    config.failures += [
        MedFailure(route="consumption/daily", upstream="no_data_found: Pas de mesure trouvée"),
        MedFailure(route="production/daily", upstream="ADAM-ERR0069: sens de mesure incorrect"),
    ]
    gateway.clock.advance(2)
    with pytest.raises(NoDataError) as empty:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, *week)
    assert empty.value.description == "Failed to fetch 2026-11-01 to 2026-11-08: no_data_found: Pas de mesure trouvée"
    gateway.clock.advance(2)
    with pytest.raises(WrongDirectionError):
        await source.async_fetch_window(P0, P, Measure.DAILY_ENERGY, *week)
    assert not [r for r in gateway.state.requests if r.path.startswith("/med/") and r.status != 200]
