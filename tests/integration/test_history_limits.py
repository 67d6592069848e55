"""The edges of the history, against the fake gateway at the real URLs: where Enedis stops serving, what it refuses.

- The oldest day Enedis serves (a meter's activation, Enedis' history horizon) is not always known in advance: a
  window starting before it is refused (ADAM-ERR0123, ADAM-ERR0125) and the coordinator bisects between the refused
  start and the newest start known to work, each probe fetching real data, until it finds that day.
- The index registers (HP/HC) have their own errors: a meter without index ("no data"), an API no longer subscribed.
- Old days whose curve stays incomplete are asked again a few times, then given up (reported in diagnostics).

Every expectation is computed from the gateway's ground truth (`tests.fake_enedis.data`) or by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import Direction, Measure
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.ledger import CurveState
from custom_components.enedis.planner import OLD_PARTIAL_ATTEMPTS
from custom_components.enedis.state import SeriesCache
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState

from .common import (
    assert_continuous,
    async_import_demo_credentials,
    async_run_until,
    async_statistics,
    async_step,
    conso_entry,
    data_connect_entry,
    floors,
    install_registry,
    probes,
    truth_hours,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
P1 = "11453290002823"  # client 1: activated on 2019-08-27 (data.CLIENT1_ACTIVATION)
TODAY = date(2026, 11, 22)
TWO_MONTHS = {"curve_history_months": 2, "daily_history_months": 2}
CURVE = "courbe_de_charge_consommation"
DAILY = "consommation_quotidienne"
MAX_POWER = "puissance_conso_max_quotidienne"
INDEX = "index_consommation"


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    """The fake gateway; its today and time of day follow the freezer (``today=None`` reads the frozen clock)."""
    state = FakeState(clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def setup(hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry) -> EnedisCoordinator:
    install_registry(hass, freezer)
    if entry.data["source"] == "data_connect":
        await async_import_demo_credentials(hass)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    return coordinator


async def backfill(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: EnedisCoordinator, prm: str
) -> None:
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[prm].backfill_progress >= 100)
    assert coordinator.last_update_success


def calls(gateway: FakeGateway, resource: str, since: int = 0) -> list[Any]:
    return [r for r in gateway.state.requests[since:] if r.path.endswith(f"/{resource}")]


def window(request: Any) -> tuple[str, str]:
    return request.query["dateDebut"], request.query["dateFin"]


def bisection(gateway: FakeGateway, resource: str) -> list[Any]:
    """The requests of the bisection: the first refused window and every later request inside it."""
    requests = calls(gateway, resource)
    first = next(r for r in requests if r.status == 400)
    start, end = window(first)
    later = requests[requests.index(first) :]
    return [r for r in later if start <= r.query["dateDebut"] and r.query["dateFin"] <= end]


def assert_found_in_log2(gateway: FakeGateway, resource: str, oldest: date) -> None:
    """The oldest served day was found in at most ceil(log2(window)) probes after the refused window."""
    steps = bisection(gateway, resource)
    start, end = window(steps[0])
    span = (date.fromisoformat(end) - date.fromisoformat(start)).days
    assert 2 <= len(steps) <= math.ceil(math.log2(span)) + 1, [window(r) for r in steps]
    for request in steps:
        refused = request.query["dateDebut"] < oldest.isoformat()
        assert request.status == (400 if refused else 200), window(request)
    assert {r.status for r in steps} == {400, 200}  # each probe fetched real data or was refused


def series_of(coordinator: EnedisCoordinator, prm: str) -> SeriesCache:
    return coordinator.store.cache.prm(prm).series[Direction.CONSUMPTION]


async def test_activation_found_by_bisection_without_losing_a_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """Conso API has no contract data, so the activation of client 1's meter (2019-08-27) is learnt from Enedis:
    two months back from 2019-10-17 start before it, the windows holding it answer ADAM-ERR0123, and the bisection
    finds the activation day for each measure, keeping every day after it."""
    today = date(2019, 10, 17)
    activation = data.CLIENT1_ACTIVATION
    freezer.move_to(paris(today, 12))
    coordinator = await setup(hass, freezer, conso_entry(gateway.state.conso_token_for_client(1), [P1], **TWO_MONTHS))
    await backfill(hass, freezer, coordinator, P1)

    series = series_of(coordinator, P1)
    assert floors(series) == {"load_curve": activation, "daily_energy": activation, "max_power": activation}
    assert probes(series) == {}
    days = days_between(activation, today)
    assert {day for day, state in series.curve_state.items() if state is CurveState.COMPLETE} == set(days)
    assert series.daily == {day: data.daily_wh(P1, data.CONS, day) for day in days}
    assert {day: reading.value for day, reading in series.max_power.items()} == {
        day: data.max_power(P1, day)[0]  # type: ignore[index]
        for day in days
    }
    for resource in (CURVE, DAILY, MAX_POWER):
        refused = [r for r in calls(gateway, resource) if r.status == 400]
        assert refused, resource
        assert all(r.query["dateDebut"] < activation.isoformat() for r in refused)
        assert_found_in_log2(gateway, resource, activation)
    # The hourly statistics: every hour from the activation's midnight, as the gateway measured it.
    rows = await async_statistics(hass, f"enedis:{P1}_consumption", since=paris(date(2019, 1, 1), 0))
    assert datetime.fromtimestamp(rows[0]["start"], UTC) == paris(activation, 0)
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert got == pytest.approx(truth_hours(P1, data.CONS, days), abs=1e-6)
    assert_continuous(rows)

    # Learnt for good: the next days' polls never ask before the activation again.
    sent = gateway.state.count()
    for _ in range(30):
        await async_step(hass, freezer, coordinator)
    later = gateway.state.requests[sent:]
    assert later
    assert all(r.status == 200 for r in later)
    assert all(r.query["dateDebut"] >= activation.isoformat() for r in later if "dateDebut" in r.query)


async def test_stricter_horizon_found_by_bisection_for_daily_measures_and_registers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """`import_history` asks for the whole of Enedis' history, which the integration takes as 36 months and 15 days
    for daily measures; this Enedis serves 36 months only. The oldest window of daily energy, maximum power and index
    registers (which probe on their own) answers ADAM-ERR0125, and the bisection finds the horizon, 2023-11-22,
    losing no day after it. (The load curve's refusals take the same path: see the activation test.)"""
    horizon = date(2023, 11, 22)
    gateway.state.history_margin_days = 0
    freezer.move_to(paris(TODAY, 12))
    entry = data_connect_entry(
        [P0], daily_history_months=1, tariff_option="hphc", measures=["daily_energy", "max_power"]
    )
    coordinator = await setup(hass, freezer, entry)
    await hass.services.async_call(DOMAIN, "import_history", {"prm": P0, "start": "2020-01-01"}, blocking=True)
    await backfill(hass, freezer, coordinator, P0)

    series = series_of(coordinator, P0)
    assert floors(series) == {"daily_energy": horizon, "max_power": horizon, "index": horizon}
    assert probes(series) == {}
    days = days_between(horizon, TODAY)
    assert series.daily == {day: data.daily_wh(P0, data.CONS, day) for day in days}
    assert set(series.max_power) == set(days)
    assert series.registers == {
        day: dict(zip(("HC", "HP"), data.daily_split_wh(P0, data.CONS, day), strict=True)) for day in days
    }
    for resource in (DAILY, MAX_POWER, INDEX):
        assert_found_in_log2(gateway, resource, horizon)
    assert not calls(gateway, CURVE)
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert datetime.fromtimestamp(rows[0]["start"], UTC) == paris(horizon, 0)
    assert_continuous(rows)


async def test_meter_without_index_registers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """HP/HC on a meter whose index Enedis does not serve ("no data"): asked once for the history, recorded, and the
    split follows the off-peak windows; the daily energy and the curve are imported as usual."""
    gateway.state.no_index_prms.add(P0)
    freezer.move_to(paris(TODAY, 12))
    entry = data_connect_entry([P0], curve_history_months=1, daily_history_months=1, tariff_option="hphc")
    coordinator = await setup(hass, freezer, entry)
    await backfill(hass, freezer, coordinator, P0)

    index_calls = calls(gateway, INDEX)
    assert [(r.status, window(r)) for r in index_calls] == [(404, ("2026-10-22", "2026-11-22"))]
    series = series_of(coordinator, P0)
    assert series.registers == {}
    assert series.progress[Measure.INDEX].history_done
    assert set(series.progress[Measure.INDEX].fetched) == set(days_between(date(2026, 10, 22), TODAY))
    assert any("no_data_found" in message for _, message in coordinator.errors)
    consumption = await async_statistics(hass, f"enedis:{P0}_consumption")
    offpeak = {row["start"]: row["state"] for row in await async_statistics(hass, f"enedis:{P0}_consumption_offpeak")}
    peak = {row["start"]: row["state"] for row in await async_statistics(hass, f"enedis:{P0}_consumption_peak")}
    assert len(consumption) == 31 * 24 + 1  # 2026-10-22 .. 11-21, with the 25-hour 2026-10-25
    for row in consumption:
        hour = datetime.fromtimestamp(row["start"], UTC).astimezone(PARIS).hour
        assert offpeak[row["start"]] + peak[row["start"]] == pytest.approx(row["state"], abs=1e-9)
        assert (offpeak if data.is_offpeak(hour) else peak)[row["start"]] == pytest.approx(row["state"], abs=1e-9)


async def test_index_of_an_unsubscribed_api_comes_back_once_subscribed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    """The application loses its subscription to the metering API: the day's poll is refused (403) and a repair issue
    names the API; nothing is marked fetched, so once subscribed again the missing days' registers come back."""
    freezer.move_to(paris(TODAY, 12))
    entry = data_connect_entry([P0], curve_history_months=1, daily_history_months=1, tariff_option="hphc")
    coordinator = await setup(hass, freezer, entry)
    await backfill(hass, freezer, coordinator, P0)
    series = series_of(coordinator, P0)
    assert TODAY - timedelta(days=1) in series.registers

    gateway.state.unsubscribed_apis.add("mesure_synchrone_auto")
    tomorrow = TODAY + timedelta(days=1)
    sent = gateway.state.count()
    # No busy loop while nothing may be asked: a handful of refreshes until the next day's evening.
    await async_run_until(hass, freezer, coordinator, lambda: dt_util.utcnow() >= paris(tomorrow, 23), max_steps=30)
    refused = calls(gateway, INDEX, sent)
    assert [r.status for r in refused] == [403]  # asked once that day
    assert issue_registry.async_get_issue(DOMAIN, "api_not_subscribed_mesure_synchrone_auto_v2") is not None
    assert TODAY not in series.progress[Measure.INDEX].fetched
    assert TODAY not in series.registers

    gateway.state.unsubscribed_apis.clear()
    day_after = tomorrow + timedelta(days=1)
    sent = gateway.state.count()
    await async_run_until(hass, freezer, coordinator, lambda: dt_util.utcnow() >= paris(day_after, 23))
    assert {r.status for r in calls(gateway, INDEX, sent)} == {200}
    for day in (TODAY, tomorrow):
        assert series.registers[day] == dict(zip(("HC", "HP"), data.daily_split_wh(P0, data.CONS, day), strict=True))
        assert day in series.progress[Measure.INDEX].fetched


async def test_old_incomplete_days_are_given_up_after_three_more_attempts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """Every load-curve answer misses its last point: each backfill window's last day stays incomplete. Those older
    than the daily poll's 14 days are asked again alone, 3 times, then given up (listed as missing), and the history
    import reaches 100 %; they are never asked again."""
    gateway.state.add_fault("truncated_day", count=None, path=CURVE)
    freezer.move_to(paris(TODAY, 12))
    coordinator = await setup(hass, freezer, data_connect_entry([P0], **TWO_MONTHS))
    await backfill(hass, freezer, coordinator, P0)

    # The backfill's windows end on 2026-11-22, 11-15, ... back to 09-22: their last days, by hand.
    last_days = [date(2026, 11, 21) - timedelta(days=7 * i) for i in range(9)]
    assert last_days[-1] == date(2026, 9, 26)
    old = [day for day in last_days if day < TODAY - timedelta(days=14)]
    series = series_of(coordinator, P0)
    assert set(old) <= series.given_up
    assert all(series.curve_state[day] is CurveState.PARTIAL for day in old)
    assert not set(old) & set(series.attempts)
    requests = calls(gateway, CURVE)
    for day in old:
        alone = [r for r in requests if window(r) == (day.isoformat(), (day + timedelta(days=1)).isoformat())]
        # The day the daily poll still reaches (15 days back) may be given up by its book-keeping first.
        if day < TODAY - timedelta(days=15):
            assert len(alone) == OLD_PARTIAL_ATTEMPTS, day
        else:
            assert len(alone) <= OLD_PARTIAL_ATTEMPTS, day
    assert set(old) <= set(coordinator.data.prms[P0].missing_days)
    assert coordinator.data.prms[P0].backfill_progress == 100

    sent = gateway.state.count()
    await async_run_until(hass, freezer, coordinator, lambda: dt_util.utcnow() >= paris(TODAY + timedelta(days=1), 23))
    assert all(r.query["dateDebut"] > old[0].isoformat() for r in calls(gateway, CURVE, sent))
