"""The consometers proxy source against a real Prosody server and the fake proxy bot (both protocol generations)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
import logging

import pytest
from slixmpp import JID

from custom_components.enedis.api import (
    AuthError,
    BeforeActivationError,
    CommunicationError,
    ConsentError,
    Direction,
    Measure,
    Series,
    ServerError,
)
from custom_components.enedis.api.errors import WrongDirectionError
from custom_components.enedis.api.xmpp import (
    CONSOMETERS_CONTRACT,
    CONSOMETERS_LEGACY_CONTRACT,
    PROXY_JID,
    ConsometersProxy,
    Generation,
    ProxyUnreachableError,
)
from tests.fake_consometers.bot import curve_truth
from tests.fake_enedis import data
from tests.xmpp.conftest import PASSWORD, USER_JID, ProxyFactory, SourceFactory
from tests.xmpp.prosody import Prosody

PRM = "22516914714270"
PROD_PRM = "10284856584123"
FALL_BACK = date(2026, 10, 25)
SPRING_FORWARD = date(2026, 3, 29)
GENERATIONS = {"head": Generation.QUOALISE, "seed": Generation.LEGACY}


def hourly_wh(points: list[tuple[datetime, datetime, float]]) -> dict[datetime, float]:
    """Energy per UTC hour of (start, end, W) intervals (each within one hour)."""
    hours: dict[datetime, float] = defaultdict(float)
    for start, end, watts in points:
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        hours[hour] += watts * (end - start).total_seconds() / 3600
    return dict(hours)


def assert_curve_is_truth(series: Series, prm: str, direction: data.Direction, start: date, end: date) -> None:
    truth = curve_truth(prm, direction, start, end)
    assert [r.end.astimezone(UTC) for r in series.readings] == [e for e, _ in truth]
    assert [r.value for r in series.readings] == [w for _, w in truth]
    got = hourly_wh([(r.start, r.end, r.value) for r in series.readings])
    want = hourly_wh([(e - timedelta(minutes=30), e, w) for e, w in truth])
    assert got.keys() == want.keys()
    assert all(abs(got[h] - want[h]) <= 1 for h in want)


@pytest.mark.parametrize("generation", ["head", "seed"])
async def test_generation_from_disco_and_dst_days_equal_the_truth(
    make_proxy: ProxyFactory, make_source: SourceFactory, generation: str
) -> None:
    bot = await make_proxy(generation)
    bot.allowed.add((USER_JID, PRM))
    source = make_source()
    await source.async_open()
    assert await source.async_check() is GENERATIONS[generation]
    assert source.contract is (CONSOMETERS_CONTRACT if generation == "head" else CONSOMETERS_LEGACY_CONTRACT)
    for day, count in ((FALL_BACK, 50), (SPRING_FORWARD, 46)):
        series = await source.async_fetch_window(
            PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(days=1)
        )
        assert len(series.readings) == count
        assert_curve_is_truth(series, PRM, data.CONS, day, day + timedelta(days=1))
        assert series.energy_wh() == data.daily_wh(PRM, data.CONS, day)
    assert source.request_count == 2


async def test_daily_and_production_equal_the_truth(make_proxy: ProxyFactory, make_source: SourceFactory) -> None:
    bot = await make_proxy("head")
    bot.allowed |= {(USER_JID, PRM), (USER_JID, PROD_PRM)}
    source = make_source()
    start, end = date(2026, 10, 20), date(2026, 11, 2)
    daily = await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, start, end)
    assert [r.start.date() for r in daily.readings] == [start + timedelta(days=i) for i in range((end - start).days)]
    assert [r.value for r in daily.readings] == [data.daily_wh(PRM, data.CONS, r.start.date()) for r in daily.readings]
    assert [r.duration_h for r in daily.readings].count(25) == 1  # 2026-10-25
    curve = await source.async_fetch_window(
        PROD_PRM, Direction.PRODUCTION, Measure.LOAD_CURVE, FALL_BACK, FALL_BACK + timedelta(days=2)
    )
    assert_curve_is_truth(curve, PROD_PRM, data.PROD, FALL_BACK, FALL_BACK + timedelta(days=2))
    with pytest.raises(WrongDirectionError) as refused:
        await source.async_fetch_window(PRM, Direction.PRODUCTION, Measure.DAILY_ENERGY, start, end)
    assert refused.value.code == "ADAM-ERR0069"
    assert refused.value.prm == PRM


@pytest.mark.parametrize("generation", ["head", "seed"])
async def test_payload_split_over_several_stanzas(
    make_proxy: ProxyFactory, make_source: SourceFactory, generation: str
) -> None:
    bot = await make_proxy(generation)
    bot.allowed.add((USER_JID, PRM))
    source = make_source()
    window = (FALL_BACK - timedelta(days=2), FALL_BACK + timedelta(days=1))
    whole = await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, *window)
    bot.behaviour.chunk = 7
    split = await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, *window)
    assert split == whole
    assert len(split.readings) == 48 + 48 + 50
    assert_curve_is_truth(split, PRM, data.CONS, *window)


@pytest.mark.parametrize("generation", ["head", "seed"])
async def test_upstream_errors_are_data_connect_errors(
    make_proxy: ProxyFactory, make_source: SourceFactory, generation: str
) -> None:
    bot = await make_proxy(generation)
    source = make_source()
    day = date(2026, 11, 10)
    with pytest.raises(ConsentError) as no_consent:  # no authorize message completed for this JID and PRM
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(1))
    assert no_consent.value.prm == PRM
    bot.allowed.add((USER_JID, PRM))
    bot.behaviour.fail_next = ("ADAM-ERR0123", "The requested period cannot be anterior to the meter's activation")
    with pytest.raises(BeforeActivationError) as before:
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(1))
    assert before.value.code == "ADAM-ERR0123"
    bot.behaviour.fail_next = (None, "<html>Bad gateway</html>")
    with pytest.raises(ServerError):
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(1))
    series = await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(1))
    assert len(series.readings) == 48


async def test_wrong_password_is_an_auth_error_and_never_logged(
    make_proxy: ProxyFactory, make_source: SourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await make_proxy("head")
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-Password-0123"
    source = make_source(password=wrong)
    with pytest.raises(AuthError):
        await source.async_check(5)
    good = make_source()
    assert await good.async_check(5) is Generation.QUOALISE
    assert "SEND:" in caplog.text  # slixmpp's stream log was captured...
    for secret in (wrong, PASSWORD):
        assert secret not in caplog.text  # ...without the passwords
        assert secret not in repr(source)
    assert "**REDACTED**" in caplog.text  # the SASL payload was there, and removed


async def test_proxy_offline_and_no_server(
    prosody: Prosody, make_proxy: ProxyFactory, make_source: SourceFactory
) -> None:
    await make_proxy("head", start=False)
    source = make_source()
    with pytest.raises(ProxyUnreachableError):
        await source.async_check(5)
    nowhere = make_source(port=prosody.port + 1 if prosody.port < 65535 else 1)
    with pytest.raises(CommunicationError) as no_server:
        await nowhere.async_check(1.5)
    assert not isinstance(no_server.value, ProxyUnreachableError)


async def test_tls_is_required_unless_plain(make_proxy: ProxyFactory, make_source: SourceFactory) -> None:
    await make_proxy("head")
    source = make_source(plain=False)  # the test server offers no TLS: no credentials are sent
    with pytest.raises(CommunicationError, match="no TLS") as refused:
        await source.async_check(5)
    assert not isinstance(refused.value, AuthError)


async def test_timeout(make_proxy: ProxyFactory, make_source: SourceFactory) -> None:
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    bot.behaviour.delay = 3.0
    source = make_source(request_timeout=1.0, generation=Generation.QUOALISE)
    day = date(2026, 11, 10)
    with pytest.raises(CommunicationError, match="did not answer"):
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, day, day + timedelta(1))


@pytest.mark.parametrize("generation", ["head", "seed"])
async def test_consent_message_matched_by_state_or_jid(
    make_proxy: ProxyFactory, make_source: SourceFactory, generation: str
) -> None:
    bot = await make_proxy(generation)
    source = make_source()
    await source.async_open()
    uri = await source.async_get_authorize_uri("state-1", redirect_uri="https://ha.invalid/cb")
    assert uri.startswith("https://")
    call = bot.behaviour.calls[-1]
    assert call.node == "get_authorize_uri"
    assert call.fields.get("name" if generation == "head" else "state") == (
        "Home Assistant" if generation == "head" else "state-1"
    )
    if generation == "seed":
        # A consent for another request (another state) is not ours.
        bot.authorizations[list(bot.authorizations)[-1]].state = "someone-else"
        bot.complete_authorization(["12345678901234"])
        with pytest.raises(TimeoutError):
            await source.async_wait_authorization("state-1", 1.0)
        await source.async_get_authorize_uri("state-1")
    bot.behaviour.id_attribute = generation == "seed"
    bot.complete_authorization([PRM, PROD_PRM])
    assert await source.async_wait_authorization("state-1", 5.0) == (PRM, PROD_PRM)
    assert await source.async_get_prms() == [PRM, PROD_PRM]
    series = await source.async_fetch_window(
        PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, FALL_BACK, FALL_BACK + timedelta(days=1)
    )
    assert len(series.readings) == 50


async def test_server_restart_mid_requests(
    prosody: Prosody, make_proxy: ProxyFactory, make_source: SourceFactory
) -> None:
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    source = make_source()
    await source.async_open()
    day = date(2026, 11, 1)
    first = await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(1))
    prosody.stop()
    await asyncio.sleep(0.3)
    assert not source.session.ready
    waiting = asyncio.create_task(
        source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(1))
    )
    await asyncio.sleep(0.5)
    assert not waiting.done()  # the request waits for the session instead of failing
    await prosody.async_start()
    again = await asyncio.wait_for(waiting, 15)
    assert again == first
    assert source.session.connections == 2


async def test_location_is_the_proxy_whatever_the_account_and_generation() -> None:
    """The key recorded with the cache: another account or the generation learnt after login restart nothing."""

    def location(jid: str, generation: Generation | None) -> str:
        return ConsometersProxy(jid, "secret-password", proxy_jid=PROXY_JID, generation=generation).location

    first = location("alice@example.org", None)
    assert first == f"consometers_xmpp {JID(PROXY_JID).bare}"
    assert location("bob@example.org", Generation.LEGACY) == first == location("alice@example.org", Generation.QUOALISE)
    assert "secret" not in first
    assert "alice" not in first
