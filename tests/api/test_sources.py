"""The sources against the fake Enedis gateway: request counts, DST, tokens, errors, quotas."""

from __future__ import annotations

from datetime import date, timedelta
import itertools
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from custom_components.enedis.api import (
    ConsoApi,
    DataConnect,
    Direction,
    Measure,
)
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.errors import (
    ApiNotSubscribedError,
    AuthError,
    BeforeActivationError,
    CommunicationError,
    ConsentError,
    InvalidResponseError,
    NoDataError,
    RateLimitError,
    RequestError,
    ServerError,
    UnrecognizedResponseError,
    UnsupportedError,
    WrongDirectionError,
)
from custom_components.enedis.api.limiter import ENEDIS_QUOTAS
from custom_components.enedis.api.parsers import parse_contract_v5, parse_measure, parse_token
from tests.fake_enedis import data

from .conftest import TODAY, Gateway

P0 = "22516914714270"
C, P = Direction.CONSUMPTION, Direction.PRODUCTION
CLIENT_ID, CLIENT_SECRET = "demo-client-id", "demo-client-secret"


def dataconnect(gw: Gateway, **kwargs: object) -> DataConnect:
    return DataConnect(gw.session, CLIENT_ID, CLIENT_SECRET, base_url=gw.url, registry=gw.registry, **kwargs)  # type: ignore[arg-type]


V5_PATHS = {
    Measure.LOAD_CURVE: "/metering_data_clc/v5/consumption_load_curve",
    Measure.DAILY_ENERGY: "/metering_data_dc/v5/daily_consumption",
    Measure.MAX_POWER: "/metering_data_dcmp/v5/daily_consumption_max_power",
}
CONSO_LEGACY_TYPES = {
    Measure.LOAD_CURVE: "consumption_load_curve",
    Measure.DAILY_ENERGY: "daily_consumption",
    Measure.MAX_POWER: "consumption_max_power",
}


async def v5_body(gw: Gateway, path: str, params: dict[str, str], *, conso: bool = False) -> object:
    """A v5 body of the fake gateway, asked by hand: no source requests v5 any more (issue 11), the parsers read it."""
    if conso:
        url, token = f"{gw.conso_url}{path}", gw.state.demo_conso_token()
    else:
        url = f"{gw.url}{path}"
        async with gw.session.post(
            f"{gw.url}/oauth2/v3/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": aiohttp.BasicAuth(CLIENT_ID, CLIENT_SECRET).encode()},
        ) as response:
            token, _ = parse_token(await response.json())
    async with gw.session.get(url, params=params, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
        return await response.json()


def v5_window(start: date, end: date) -> dict[str, str]:
    return {"usage_point_id": P0, "start": start.isoformat(), "end": end.isoformat()}


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def assert_curve_matches_ground_truth(series_readings: object, prm: str, direction: str, start: date, end: date):
    readings = list(series_readings)  # type: ignore[call-overload]
    expected = [
        (end_utc, watts) for day in days(start, end) for end_utc, watts in data.curve_points(prm, direction, day)
    ]
    assert [(r.end, r.value) for r in readings] == expected
    for reading in readings:
        assert reading.end - reading.start == timedelta(minutes=30)
    for a, b in itertools.pairwise(readings):
        assert a.end == b.start


async def test_730_days_of_curve_cost_105_calls_and_match_ground_truth(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    start = TODAY - timedelta(days=730)
    series = await source.async_get_series(P0, C, Measure.LOAD_CURVE, start, TODAY)
    assert gateway.state.count("/courbe_de_charge_consommation") == 105
    assert gateway.state.count("/oauth2/v3/token") == 1
    assert source.requests == {"mesure_synchrone_auto/v2": 105, "oauth2/v3": 1}
    assert gateway.state.count("", 429) == 0
    # Every day's integral equals the gateway's daily energy (published up to yesterday).
    per_day: dict[date, float] = {}
    for reading in series.readings:
        day = reading.start.astimezone(PARIS).date()
        per_day[day] = per_day.get(day, 0) + reading.energy_wh
    assert sorted(per_day) == days(start, TODAY)
    for day in (start, date(2025, 3, 30), date(2025, 10, 26), TODAY - timedelta(days=1)):
        assert per_day[day] == data.daily_wh(P0, data.CONS, day)
    assert len(series.readings) == sum(len(data.curve_points(P0, data.CONS, d)) for d in days(start, TODAY))


async def test_three_years_of_daily_energy_in_at_most_4_calls(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    series = await source.async_get_series(P0, C, Measure.DAILY_ENERGY, date(2020, 1, 1), TODAY)
    assert gateway.state.count("/consommation_quotidienne") <= 4
    assert series.readings[0].start.date() == date(2023, 11, 7)
    assert len(series.readings) == (TODAY - date(2023, 11, 7)).days
    for reading in series.readings:
        day = reading.start.astimezone(PARIS).date()
        assert reading.value == data.daily_wh(P0, data.CONS, day)
        assert reading.end.astimezone(PARIS).date() == day + timedelta(days=1)


@pytest.mark.parametrize(("day", "points", "hours"), [(date(2026, 3, 29), 46, 23), (date(2026, 10, 25), 50, 25)])
async def test_dst_days(gateway: Gateway, day: date, points: int, hours: int) -> None:
    source = dataconnect(gateway)
    curve = await source.async_fetch_window(P0, C, Measure.LOAD_CURVE, day, day + timedelta(days=1))
    assert len(curve.readings) == points
    assert len({r.start for r in curve.readings}) == points
    assert_curve_matches_ground_truth(curve.readings, P0, data.CONS, day, day + timedelta(days=1))
    assert curve.energy_wh() == data.daily_wh(P0, data.CONS, day)
    daily = await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    assert daily.readings[0].duration_h == hours
    assert daily.readings[0].value == curve.energy_wh()


async def test_v5_and_2026_give_identical_series(gateway: Gateway) -> None:
    start, end = date(2026, 10, 22), date(2026, 10, 29)  # includes the autumn DST day
    new = await dataconnect(gateway).async_get_series(P0, C, Measure.LOAD_CURVE, start, end)
    body = await v5_body(gateway, V5_PATHS[Measure.LOAD_CURVE], v5_window(start, end))
    old = parse_measure(body, measure=Measure.LOAD_CURVE, direction=C, prm=P0)
    assert new.readings == old.readings
    assert gateway.state.count("/metering_data_clc/v5/consumption_load_curve") == 1
    for measure in (Measure.DAILY_ENERGY, Measure.MAX_POWER):
        a = await dataconnect(gateway).async_fetch_window(P0, C, measure, start, end)
        body = await v5_body(gateway, V5_PATHS[measure], v5_window(start, end))
        b = parse_measure(body, measure=measure, direction=C, prm=P0)
        assert a.readings == b.readings


async def test_max_power_is_above_the_curve(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    start, end = date(2026, 11, 1), date(2026, 11, 8)
    peaks = await source.async_fetch_window(P0, C, Measure.MAX_POWER, start, end)
    curve = await source.async_fetch_window(P0, C, Measure.LOAD_CURVE, start, end)
    assert [r.start.astimezone(PARIS).date() for r in peaks.readings] == days(start, end)
    params = parse_qs(urlsplit(str(gateway.state.requests[1].path)).query) or gateway.state.requests[1].query
    assert params["mesuresPas"] in ("P1D", ["P1D"])
    for peak in peaks.readings:
        assert peak.at is not None
        assert peak.start <= peak.at < peak.end
        assert peak.value >= max(r.value for r in curve.readings if peak.start <= r.start < peak.end)


async def test_index_registers_follow_daily_energy(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    start, end = date(2026, 10, 20), date(2026, 10, 30)
    index = await source.async_get_index(P0, C, start, end)
    classes = {r.class_id: r for r in index.supplier_registers()}
    assert set(classes) == {"HC", "HP"}
    for day in days(start, end - timedelta(days=1)):
        delta = 0
        for register in classes.values():
            by_day = {v.at.astimezone(PARIS).date(): v.value_wh for v in register.values}
            delta += by_day[day + timedelta(days=1)] - by_day[day]
        assert delta == data.daily_wh(P0, data.CONS, day)


async def test_token_cached_renewed_before_expiry_and_once_on_401(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    day = TODAY - timedelta(days=3)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, TODAY)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, TODAY)
    assert gateway.state.count("/oauth2/v3/token") == 1
    gateway.clock.advance(12600 - 59)  # inside the 60 s margin: renewed before it expires
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, TODAY)
    assert gateway.state.count("/oauth2/v3/token") == 2
    gateway.state.revoke_tokens()  # Enedis forgets our token: one 401, one renewal, success
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, TODAY)
    assert gateway.state.count("/oauth2/v3/token") == 3
    assert gateway.state.count("/consommation_quotidienne", 401) == 1


async def test_bad_client_credentials(gateway: Gateway) -> None:
    source = DataConnect(gateway.session, CLIENT_ID, "wrong-secret", base_url=gateway.url, registry=gateway.registry)
    with pytest.raises(AuthError) as info:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    assert "wrong-secret" not in str(info.value)
    assert "wrong-secret" not in repr(source)
    assert gateway.state.count("/consommation_quotidienne") == 0


@pytest.mark.parametrize(
    ("client", "direction", "measure", "error"),
    [
        (8, C, Measure.DAILY_ENERGY, ConsentError),
        (5, C, Measure.DAILY_ENERGY, WrongDirectionError),
        (0, P, Measure.LOAD_CURVE, WrongDirectionError),
        (2, C, Measure.LOAD_CURVE, NoDataError),
    ],
)
async def test_sandbox_client_behaviours(
    gateway: Gateway, client: int, direction: Direction, measure: Measure, error: type[Exception]
) -> None:
    prm = data.prms_for_client(client)[0]
    with pytest.raises(error) as info:
        await dataconnect(gateway).async_fetch_window(prm, direction, measure, TODAY - timedelta(days=3), TODAY)
    assert info.value.prm == prm  # the caller learns which PRM was refused


async def test_consent_error_names_the_prm_for_every_call(gateway: Gateway) -> None:
    """Client 8 revoked its consent: contract, index and measures all say which PRM, through both sources."""
    prm = data.prms_for_client(8)[0]
    source = dataconnect(gateway)
    with pytest.raises(ConsentError) as info:
        await source.async_get_contract(prm)
    assert info.value.prm == prm
    with pytest.raises(ConsentError) as info:
        await source.async_get_index(prm, C, TODAY - timedelta(days=3), TODAY)
    assert info.value.prm == prm
    gateway_source = conso(gateway, gateway.state.make_conso_token([prm], 4102444800))
    with pytest.raises(ConsentError) as info:
        await gateway_source.async_fetch_window(prm, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=3), TODAY)
    assert (info.value.prm, info.value.code) == (prm, "ADAM-DC-0008")
    assert prm not in str(info.value)  # not in the message: diagnostics and logs mask PRMs themselves


async def test_before_activation(gateway: Gateway) -> None:
    gateway.state.today = date(2020, 1, 10)
    gateway.clock._now = gateway.clock._now.replace(year=2020, month=1, day=10)
    prm = data.prms_for_client(1)[0]
    source = dataconnect(gateway)
    with pytest.raises(BeforeActivationError):
        await source.async_fetch_window(prm, C, Measure.DAILY_ENERGY, date(2019, 8, 1), date(2019, 9, 1))
    series = await source.async_fetch_window(prm, C, Measure.DAILY_ENERGY, date(2019, 8, 27), date(2019, 9, 1))
    assert len(series.readings) == 5


async def test_holes_and_disabled_curve_leave_no_readings(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    holes_prm = data.prms_for_client(4)[0]
    start, end = date(2026, 11, 2), date(2026, 11, 16)  # two weeks: 4 hole days (Tue, Wed)
    series = await source.async_get_series(holes_prm, C, Measure.DAILY_ENERGY, start, end)
    present = {r.start.astimezone(PARIS).date() for r in series.readings}
    assert present == {d for d in days(start, end) if d.weekday() not in (1, 2)}
    # The load curve of a PRM whose curve is not enabled: every window is "no data", nothing is returned.
    disabled = await source.async_get_series(data.prms_for_client(2)[0], C, Measure.LOAD_CURVE, start, end)
    assert disabled.readings == ()


async def test_self_consumption_and_production(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    prm = data.prms_for_client(6)[0]
    start, end = date(2026, 6, 1), date(2026, 6, 3)
    cons = await source.async_fetch_window(prm, C, Measure.LOAD_CURVE, start, end)
    prod = await source.async_fetch_window(prm, P, Measure.LOAD_CURVE, start, end)
    assert_curve_matches_ground_truth(prod.readings, prm, data.PROD, start, end)
    assert all(a.value == 0 or b.value == 0 for a, b in zip(cons.readings, prod.readings, strict=True))
    contract = await source.async_get_contract(prm)
    assert contract.has_production
    assert contract.has_consumption


async def test_contract_2026_and_v5(gateway: Gateway) -> None:
    contract = await dataconnect(gateway).async_get_contract(P0)
    expected = data.contract(P0)
    assert expected is not None
    assert contract.prm == P0
    assert contract.offpeak_hours == "HC (22H00-6H00)"
    assert contract.last_activation_date == expected.last_activation_date
    assert contract.subscribed_power_kva == expected.subscribed_power_kva
    assert gateway.state.count("/situation_contrat_auto/v1/") == 1
    legacy = parse_contract_v5(
        await v5_body(gateway, "/customers_upc/v5/usage_points/contracts", {"usage_point_id": P0}), P0
    )
    assert legacy.offpeak_hours == contract.offpeak_hours
    assert legacy.subscribed_power_kva == contract.subscribed_power_kva
    assert legacy.meter_type == "AMM"
    # comptage_auto not subscribed on DataHub: the contract still comes, without off-peak hours.
    gateway.state.unsubscribed_apis.add("comptage_auto")
    partial = await dataconnect(gateway).async_get_contract(P0)
    assert partial.offpeak_hours is None
    assert partial.subscribed_power_kva == contract.subscribed_power_kva
    gateway.state.unsubscribed_apis.add("situation_contrat_auto")
    with pytest.raises(ApiNotSubscribedError) as info:
        await dataconnect(gateway).async_get_contract(P0)
    assert info.value.api == "situation_contrat_auto/v1"
    address = await dataconnect(gateway).async_get_address(P0)
    assert address.postal_code_city or address.street


async def test_consent_v2_then_subscribed_services(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    authorize = source.authorize_url("abc3", duration="P1Y")
    assert authorize.startswith(gateway.url)
    response = await gateway.session.get(authorize, allow_redirects=False)
    accept = response.headers.get("Location") or ""
    if not accept:
        page = await response.text()
        accept = page.split("id='accept' href='", 1)[1].split("'", 1)[0].replace("&amp;", "&")
    redirect = await gateway.session.get(
        accept if accept.startswith("http") else gateway.url + accept, allow_redirects=False
    )
    query = parse_qs(urlsplit(redirect.headers["Location"]).query)
    assert query["state"] == ["abc3"]
    autorisation_id = query["autorisation_id"][0]
    source = dataconnect(gateway, authorization_ids=(autorisation_id,))
    assert await source.async_get_prms() == list(data.prms_for_client(3))
    services = await source.async_get_subscribed_services(autorisation_id)
    assert {s.prm for s in services} == set(data.prms_for_client(3))
    assert all(s.active for s in services)


async def test_configured_prms_without_consent_id(gateway: Gateway) -> None:
    assert await dataconnect(gateway, prms=(P0,)).async_get_prms() == [P0]
    assert gateway.state.count() == 0


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("technical_error", ServerError),
        ("plain_500", ServerError),
        ("html_error", ServerError),
        ("malformed_json", InvalidResponseError),
        ("throttle", RateLimitError),
    ],
)
async def test_faults_become_typed_errors(gateway: Gateway, kind: str, error: type[Exception]) -> None:
    source = dataconnect(gateway)
    gateway.state.add_fault(kind)  # type: ignore[arg-type]
    with pytest.raises(error) as info:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    assert getattr(info.value, "retryable", False)
    assert CLIENT_SECRET not in str(info.value)


async def test_a_429_blocks_the_api_until_the_hint_without_more_requests(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    gateway.state.add_fault("throttle")
    window = (TODAY - timedelta(days=2), TODAY)
    with pytest.raises(RateLimitError) as first:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, *window)
    assert not first.value.local
    sent = gateway.state.count("/consommation_quotidienne")
    with pytest.raises(RateLimitError) as second:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, *window)
    assert second.value.local
    assert gateway.state.count("/consommation_quotidienne") == sent
    gateway.clock.advance((second.value.retry_after or 0) + 1)
    await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, *window)


async def test_hourly_quota_exhausted_sends_nothing(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    # Spend the hour's budget through the limiter the source shares.
    limiter = gateway.registry.get(urlsplit(gateway.url).netloc, "mesure_synchrone_auto/v2", ENEDIS_QUOTAS)
    for _ in range(1000):
        await limiter.acquire()
    with pytest.raises(RateLimitError) as info:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    assert info.value.local
    assert gateway.state.count("/consommation_quotidienne") == 0
    status = source.quota_status()
    assert any(v["remaining"]["1000/3600s"] == 0 for v in status.values())  # type: ignore[index]


async def test_timeout_and_unreachable_host(gateway: Gateway) -> None:
    source = dataconnect(gateway, request_timeout=0.2)
    gateway.state.add_fault("delay", delay=1.0)
    with pytest.raises(CommunicationError):
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    closed = DataConnect(
        gateway.session, CLIENT_ID, CLIENT_SECRET, base_url="http://127.0.0.1:9", registry=gateway.registry
    )
    with pytest.raises(CommunicationError) as info:
        await closed.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    assert CLIENT_SECRET not in str(info.value)


async def test_invalid_prm_and_unsupported_measures_send_nothing(gateway: Gateway) -> None:
    source = dataconnect(gateway)
    with pytest.raises(RequestError):
        await source.async_fetch_window("123", C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    with pytest.raises(UnsupportedError):
        await source.async_fetch_window(P0, P, Measure.MAX_POWER, TODAY - timedelta(days=2), TODAY)
    with pytest.raises(ValueError):
        await source.async_fetch_window(P0, C, Measure.INDEX, TODAY - timedelta(days=2), TODAY)
    assert gateway.state.count() == 0


# --- Conso API --------------------------------------------------------------------------------------


def conso(gateway: Gateway, token: str | None = None, **kwargs: object) -> ConsoApi:
    return ConsoApi(
        gateway.session,
        token or gateway.state.demo_conso_token(),
        base_url=gateway.conso_url,
        registry=gateway.registry,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_conso_api_both_type_families(gateway: Gateway) -> None:
    start, end = date(2026, 10, 24), date(2026, 10, 27)
    modern = conso(gateway)
    assert P0 in await modern.async_get_prms()
    for measure in (Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER):
        a = await modern.async_fetch_window(P0, C, measure, start, end)
        legacy = {"prm": P0, "start": start.isoformat(), "end": end.isoformat()}
        body = await v5_body(gateway, f"/{CONSO_LEGACY_TYPES[measure]}", legacy, conso=True)
        b = parse_measure(body, measure=measure, direction=C, prm=P0)
        assert a.readings == b.readings
        assert a.readings
    curve = await modern.async_fetch_window(P0, C, Measure.LOAD_CURVE, start, end)
    assert_curve_matches_ground_truth(curve.readings, P0, data.CONS, start, end)
    paths = {r.path for r in gateway.state.requests}
    assert "/conso/api/courbe_de_charge_consommation" in paths
    assert "/conso/api/consumption_load_curve" in paths
    with pytest.raises(UnsupportedError):
        await modern.async_get_contract(P0)


async def test_conso_api_errors(gateway: Gateway) -> None:
    token = gateway.state.conso_token_for_client(0)
    source = conso(gateway, token)
    other = data.prms_for_client(3)[0]
    with pytest.raises(AuthError) as info:  # PRM not in the token
        await source.async_fetch_window(other, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    assert token not in str(info.value)
    assert token not in repr(source)
    gateway.state.add_fault("technical_error")
    with pytest.raises(ServerError) as server_error:  # Enedis error wrapped by Conso API: unwrapped
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    assert server_error.value.code == "technical_error"
    with pytest.raises(NoDataError):
        await conso(gateway, gateway.state.conso_token_for_client(2)).async_fetch_window(
            data.prms_for_client(2)[0], C, Measure.LOAD_CURVE, TODAY - timedelta(days=2), TODAY
        )


@pytest.mark.parametrize("path", ["", "/conso", "/conso/api/v2"])
async def test_conso_api_wrong_url_is_not_no_data(gateway: Gateway, path: str) -> None:
    """A base URL that misses the API answers the server's own 404 page: a typed error, never "no data".

    Also through `async_get_series`, which skips the windows Enedis answers "no data" (issue 10 #4).
    """
    token = gateway.state.conso_token_for_client(0)
    source = ConsoApi(gateway.session, token, base_url=gateway.url + path, registry=gateway.registry)
    with pytest.raises(UnrecognizedResponseError) as info:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=2), TODAY)
    assert info.value.status == 404
    assert token not in str(info.value)
    with pytest.raises(UnrecognizedResponseError):
        await source.async_get_series(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=30), TODAY)
    assert [r.status for r in gateway.state.requests] == [404, 404]
    # The same gateway's real "no data" (client 2 has no load curve) still is no data.
    client2 = data.prms_for_client(2)[0]
    real = conso(gateway, gateway.state.conso_token_for_client(2))
    series = await real.async_get_series(client2, C, Measure.LOAD_CURVE, TODAY - timedelta(days=3), TODAY)
    assert series.readings == ()
    assert gateway.state.requests[-1].status == 404


async def test_conso_api_budget_stops_at_90_per_12_hours(gateway: Gateway) -> None:
    source = conso(gateway)
    for i in range(90):
        day = TODAY - timedelta(days=i + 2)
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, day, day + timedelta(days=1))
    with pytest.raises(RateLimitError) as info:
        await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, TODAY - timedelta(days=1), TODAY)
    assert info.value.local
    assert info.value.retry_after is not None
    assert info.value.retry_after <= 12 * 3600
    assert gateway.state.count("/conso/api/") == 90  # never reached Conso API's ban threshold (100)
    assert gateway.state.count("", 429) == 0
