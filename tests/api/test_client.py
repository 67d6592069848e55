"""The "Enedis data connect client" API over the library's sources, against the fake gateway."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.client import EnedisApiHelper, EnedisClient, InvalidAccess, local
from custom_components.enedis.api.errors import ConsentError, EnedisError, ServerError
from custom_components.enedis.api.med import MyElectricalData
from tests.fake_enedis import data
from tests.fake_enedis.med import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

from .conftest import Gateway
from .test_med_source import current
from .test_sources import CLIENT_ID, CLIENT_SECRET

P0 = "22516914714270"
HOLES = "42900589957123"  # no data on Tuesdays and Wednesdays
PROD = "24880057139941"  # production only


def client(gw: Gateway, consumption: str | None = P0, production: str | None = None, **kw: str) -> EnedisClient:
    return EnedisClient(
        consumption,
        production,
        kw.get("client_id", CLIENT_ID),
        kw.get("client_secret", CLIENT_SECRET),
        session=gw.session,
        base_url=gw.url,
        registry=gw.registry,
    )


async def test_connect_getters_counters_and_close(gateway: Gateway) -> None:
    c = client(gateway)
    assert not c.is_connected()
    assert c.get_requests_count() == 0
    await c.connect()
    assert c.is_connected()
    assert c.get_requests_count() == 1  # the token request
    assert gateway.state.count("/oauth2/v3/token") == 1
    assert c.get_consumption_prm() == P0
    assert c.get_production_prm() is None
    assert c.get_client_id() == CLIENT_ID
    assert CLIENT_SECRET not in repr(c)
    assert CLIENT_SECRET not in str(c.get_token_data())
    await c.close()
    assert not c.is_connected()

    bad = client(gateway, client_secret="wrong-secret")
    with pytest.raises(InvalidAccess):
        await bad.connect()
    assert bad.get_errors_count() == 1
    assert not bad.is_connected()


async def test_helper_values_equal_the_ground_truth(gateway: Gateway) -> None:
    helper = EnedisApiHelper(client(gateway))
    start, end = date(2026, 10, 24), date(2026, 10, 27)  # the autumn DST change inside
    daily = await helper.get_daily_consumption(start, end)  # connects by itself
    assert daily == {day: data.daily_wh(P0, data.CONS, day) for day in (start + timedelta(i) for i in range(3))}
    curve = await helper.get_consumption_load_curve(start, end)
    truth = [
        (stamp, watts) for i in range(3) for stamp, watts in data.curve_points(P0, data.CONS, start + timedelta(i))
    ]
    assert [(k, v) for k, v in curve.items()] == [(local(stamp), watts) for stamp, watts in truth]
    first = next(iter(curve))
    assert first == datetime(2026, 10, 24, 0, 30, tzinfo=PARIS)  # keyed by the interval's END, aware
    assert first.utcoffset() == timedelta(hours=2)
    october_night = [k for k in curve if k.hour == 2 and k.minute == 30 and k.day == 25]
    assert [k.utcoffset() for k in october_night] == [timedelta(hours=2), timedelta(hours=1)]  # both kept
    assert len(curve) == 48 + 50 + 48
    pmax = await helper.get_max_daily_consumed_power(start, end)
    peaks = [data.max_power(P0, start + timedelta(i)) for i in range(3)]
    assert pmax == {local(at.replace(tzinfo=PARIS)): value for value, at in peaks}  # type: ignore[misc]
    assert helper.client.get_requests_count() == 4  # one token, three measures


async def test_missing_days_absent_value_error_and_one_retry_on_expiry(gateway: Gateway) -> None:
    c = client(gateway, HOLES)
    helper = EnedisApiHelper(c)
    start, end = date(2026, 11, 2), date(2026, 11, 9)  # Monday to Monday
    daily = await helper.get_daily_consumption(start, end)
    assert sorted(daily) == [date(2026, 11, d) for d in (2, 5, 6, 7, 8)]  # Tuesday 3 and Wednesday 4 absent
    assert 0 not in daily.values()
    with pytest.raises(ValueError, match="after"):
        await helper.get_daily_consumption(end, start)
    with pytest.raises(ValueError, match="production PRM"):
        await helper.get_daily_production(start, end)
    gateway.state.revoke_tokens()  # the token expires
    before = c.get_requests_count()
    gateway.clock.advance(1)
    await helper.get_daily_consumption(start, end)
    assert c.get_requests_count() == before + 3  # refused call, new token, the call again
    assert c.get_errors_count() == 0


async def test_production_and_another_source(gateway: Gateway) -> None:
    helper = EnedisApiHelper(client(gateway, None, PROD))
    day = date(2026, 11, 2)
    produced = await helper.get_daily_production(day, day + timedelta(days=2))
    assert produced == {d: data.daily_wh(PROD, data.PROD, d) for d in (day, day + timedelta(1))}
    med = MyElectricalData(
        gateway.session,
        [P0],
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        base_url=f"{gateway.url}/med/api",
        registry=gateway.registry,
    )
    c = EnedisClient.for_source(med, P0, None, client_id=DEMO_CLIENT_ID)
    await c.connect()
    assert gateway.state.count("/med/api/accounts/token") == 1
    curve = await EnedisApiHelper(c).get_consumption_load_curve(day, day + timedelta(days=1))
    assert list(curve.values()) == [w for _, w in data.curve_points(P0, data.CONS, day)]
    assert next(iter(curve)) == datetime(2026, 11, 2, 0, 30, tzinfo=PARIS)


async def test_a_client_needs_a_prm(gateway: Gateway) -> None:
    with pytest.raises(ValueError, match=r"^give at least one PRM \(consumption or production\)$"):
        client(gateway, None, None)
    with pytest.raises(ValueError, match="at least one PRM"):
        client(gateway, "", "")
    med = MyElectricalData(gateway.session, [P0], client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    with pytest.raises(ValueError, match="at least one PRM"):
        EnedisClient.for_source(med, None, None, client_id=DEMO_CLIENT_ID)
    assert gateway.state.requests == []


async def test_a_server_failure_on_connect_is_not_invalid_access(gateway: Gateway) -> None:
    """A 500 of the token endpoint is a `ServerError` (retryable), counted, not connected; the next connect works."""
    c = client(gateway)
    gateway.state.add_fault("technical_error", path="/oauth2/v3/token")
    with pytest.raises(EnedisError) as raised:
        await c.connect()
    assert type(raised.value) is ServerError
    assert raised.value.retryable
    assert raised.value.status == 500
    assert CLIENT_SECRET not in str(raised.value)
    assert not c.is_connected()
    assert c.get_errors_count() == 1
    assert c.get_requests_count() == 1
    await c.connect()
    assert c.is_connected()
    assert c.get_errors_count() == 1
    assert gateway.state.count("/oauth2/v3/token", status=500) == 1
    assert gateway.state.count("/oauth2/v3/token", status=200) == 1


async def test_close_revokes_the_source_token(gateway: Gateway) -> None:
    """MyElectricalData forgets its bearer token on close: connecting again asks the gateway for a new one."""
    med = current(gateway)
    c = EnedisClient.for_source(med, P0, None, client_id=DEMO_CLIENT_ID)
    await c.connect()
    await c.connect()  # the token is kept while connected
    assert gateway.state.count("/med/api/accounts/token") == 1
    await c.close()
    assert not c.is_connected()
    assert med.token_data()["has_token"] is False
    await c.connect()
    assert gateway.state.count("/med/api/accounts/token") == 2
    assert DEMO_CLIENT_SECRET not in repr(c) + str(c.get_token_data())


async def test_helper_errors_propagate_typed_and_are_counted(gateway: Gateway) -> None:
    """A revoked consent reaches the caller as `ConsentError` naming the PRM, counted once per failed call."""
    c = client(gateway)
    helper = EnedisApiHelper(c)
    day = date(2026, 11, 2)
    await c.connect()
    token = next(iter(gateway.state.tokens))
    gateway.state.revoke_consent(P0)
    for failures in (1, 2):
        with pytest.raises(ConsentError) as raised:
            await helper.get_daily_consumption(day, day + timedelta(days=1))
        assert raised.value.prm == P0
        assert raised.value.status == 403
        assert c.get_errors_count() == failures
    text = str(raised.value) + repr(raised.value)
    assert CLIENT_SECRET not in text
    assert token not in text
    assert c.is_connected()  # a PRM's consent, not the credentials
    assert c.get_requests_count() == 3  # the token, then one refused call each time


async def test_production_load_curve_equals_the_ground_truth(gateway: Gateway) -> None:
    helper = EnedisApiHelper(client(gateway, None, PROD))
    day = date(2026, 11, 2)
    curve = await helper.get_production_load_curve(day, day + timedelta(days=1))
    assert list(curve.items()) == [(local(stamp), watts) for stamp, watts in data.curve_points(PROD, data.PROD, day)]
    assert next(iter(curve)) == datetime(2026, 11, 2, 0, 30, tzinfo=PARIS)
    assert len(curve) == 48
    with pytest.raises(ValueError, match="consumption PRM"):
        await helper.get_consumption_load_curve(day, day + timedelta(days=1))
