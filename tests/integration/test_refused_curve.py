"""A PRM that refuses its load curve (sandbox client 2), at the fake gateway's request log, over simulated weeks.

Without the refusal logic the integration asked 106 load-curve windows covering 24 months, all refused, then
retried the last 14 days every day. Now: the first refused answers stop the walk, the curve is asked again once a
week (one request), daily energy keeps feeding the statistics, and a repair issue says how to enable the curve.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import Direction, Measure
from custom_components.enedis.api.calendar import PARIS, months_before
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState

from .common import (
    assert_continuous,
    async_import_demo_credentials,
    async_run_until,
    async_statistics,
    conso_entry,
    data_connect_entry,
    install_registry,
    truth_hours,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P2 = "32320647321714"
CURVE = "/courbe_de_charge_consommation"
ISSUE = f"load_curve_refused_{P2}_consumption"
START = date(2026, 11, 22)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


def _sync(gateway: FakeGateway) -> None:
    now = dt_util.now(PARIS)
    gateway.state.today = now.date()
    gateway.state.time_of_day = now.time()


async def _go_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, coordinator: EnedisCoordinator, end
) -> None:
    """Run every refresh due until ``end`` (the coordinator's own schedule: polls, midnights, re-asks)."""
    while dt_util.utcnow() < end:
        step = min(coordinator.update_interval or timedelta(seconds=1), end - dt_util.utcnow())
        freezer.tick(step + timedelta(milliseconds=1))
        _sync(gateway)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def _curve_windows(gateway: FakeGateway) -> list[tuple[str, str, int]]:
    return [
        (r.query["dateDebut"], r.query["dateFin"], r.status) for r in gateway.state.requests if r.path.endswith(CURVE)
    ]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


async def _energy_by_day(hass: HomeAssistant) -> dict[date, float]:
    rows = await async_statistics(hass, f"enedis:{P2}_consumption")
    assert_continuous(rows)
    by_day: dict[date, float] = {}
    for row in rows:
        day = datetime.fromtimestamp(row["start"], UTC).astimezone(PARIS).date()
        by_day[day] = by_day.get(day, 0.0) + row["state"] * 1000
    return by_day


async def _issue_text(hass: HomeAssistant, issue: ir.IssueEntry, language: str) -> str:
    strings = await async_get_translations(hass, language, "issues", {DOMAIN})
    prefix = f"component.{DOMAIN}.issues.{issue.translation_key}"
    placeholders = issue.translation_placeholders or {}
    return f"{strings[prefix + '.title']}\n{strings[prefix + '.description']}".format(**placeholders)


async def test_refused_curve_asked_once_a_week_daily_energy_still_imported(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    """Conso API, default history (24 months of curve, 36 of daily energy), the curve refused as 404 no_data_found."""
    freezer.move_to(paris(START, 12))
    _sync(gateway)
    install_registry(hass, freezer)
    entry = conso_entry(gateway.state.conso_token_for_client(2), [P2])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P2].backfill_progress >= 100)
    # The newest week came back empty and the daily energy of those 7 days exists: refused after ONE curve request.
    assert _curve_windows(gateway) == [("2026-11-15", "2026-11-22", 404)]
    issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key == "load_curve_refused"
    english = await _issue_text(hass, issue, "en")
    assert P2 in english
    assert "Gérer l'accès à mes données" in english
    assert "Enregistrement de la consommation horaire" in english
    assert "Collecte de la consommation horaire" in english
    assert "https://mon-compte-particulier.enedis.fr/enregistrement-collect-donnees" in english
    french = await _issue_text(hass, issue, "fr")
    assert "Activez la consommation horaire" in french
    assert "l'enregistrement de la consommation horaire" in french
    assert "la collecte de la consommation horaire" in french
    assert "une fois par semaine" in french

    # Daily energy feeds the statistics for the whole 36 months (one bar per day), equal to the ground truth.
    history = _days(months_before(START, 36), START)
    by_day = await _energy_by_day(hass)
    assert set(by_day) == set(history)
    assert all(by_day[day] == pytest.approx(data.daily_wh(P2, data.CONS, day), abs=0.5) for day in history)

    # A restart a few days later: repair issues are not persistent, the cache's refusal creates it again.
    await _go_to(hass, freezer, gateway, coordinator, paris(date(2026, 11, 25), 12))
    ir.async_delete_issue(hass, DOMAIN, ISSUE)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await _go_to(hass, freezer, gateway, coordinator, paris(date(2026, 11, 25), 13))
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None

    # A simulated month: the curve is asked again once a week (the newest week, one request), nothing else.
    end = START + timedelta(days=30)
    await _go_to(hass, freezer, gateway, coordinator, paris(end, 23))
    assert _curve_windows(gateway) == [
        ("2026-11-15", "2026-11-22", 404),
        ("2026-11-22", "2026-11-29", 404),
        ("2026-11-29", "2026-12-06", 404),
        ("2026-12-06", "2026-12-13", 404),
        ("2026-12-13", "2026-12-20", 404),
    ]
    # N = 1 + ceil(30 / 7) - 1 = 5 curve requests in 30 days (it was 106 for the backfill, then 1-2 a day).
    assert len(_curve_windows(gateway)) == 5
    assert gateway.state.count("", 429) == 0
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    assert coordinator.data.prms[P2].missing_days == ()  # days with daily energy are not "missing"
    by_day = await _energy_by_day(hass)
    history = _days(months_before(START, 36), end)
    assert set(by_day) == set(history)
    assert all(by_day[day] == pytest.approx(data.daily_wh(P2, data.CONS, day), abs=0.5) for day in history)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_curve_enabled_later_is_imported_and_the_issue_goes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    """Data Connect, the curve refused with ADAM-ERR0075, then enabled by the customer from 1 December."""
    gateway.state.curve_refusal = "ADAM-ERR0075"
    freezer.move_to(paris(START, 12))
    _sync(gateway)
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry([P2], curve_history_months=2, daily_history_months=2)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P2].backfill_progress >= 100)
    assert _curve_windows(gateway) == [("2026-11-15", "2026-11-22", 400)]  # ADAM-ERR0075: refused at once
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    last_power = ("sensor", DOMAIN, f"{P2}_last_power")
    assert er.async_get(hass).async_get_entity_id(*last_power) is None  # no Last power without a curve
    await _go_to(hass, freezer, gateway, coordinator, paris(date(2026, 11, 29), 23))
    assert _curve_windows(gateway)[1:] == [("2026-11-22", "2026-11-29", 400)]

    # The customer enables the load curve; Enedis records it from 1 December (nothing before).
    enabled = date(2026, 12, 1)
    gateway.state.curve_enabled_from[P2] = enabled
    await _go_to(hass, freezer, gateway, coordinator, paris(date(2026, 12, 6), 23))
    assert _curve_windows(gateway)[2:] == [
        ("2026-11-29", "2026-12-06", 200),  # the weekly re-ask brings readings: the refusal is lifted
        ("2026-11-22", "2026-11-29", 404),  # the backfill resumes: 9 empty days with daily energy, it stops there
    ]
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    assert coordinator.data.prms[P2].last_power is not None
    entity = er.async_get(hass).async_get_entity_id(*last_power)  # created with the first reading
    assert entity is not None
    assert float(hass.states.get(entity).state) >= 0
    series = coordinator.store.cache.prm(P2).series[Direction.CONSUMPTION]
    assert series.refused == {}
    assert series.progress[Measure.LOAD_CURVE].floor == enabled

    # The next days: one curve request a day (the daily poll), never again for the days before 1 December.
    await _go_to(hass, freezer, gateway, coordinator, paris(date(2026, 12, 10), 23))
    later = _curve_windows(gateway)[4:]
    assert [(start, end) for start, end, _ in later] == [
        ("2026-12-05", "2026-12-07"),
        ("2026-12-06", "2026-12-08"),
        ("2026-12-07", "2026-12-09"),
        ("2026-12-08", "2026-12-10"),
    ]

    # Statistics: hourly from 1 December (the curve, exact), one daily bar per day before.
    by_day = await _energy_by_day(hass)
    rows = await async_statistics(hass, f"enedis:{P2}_consumption")
    hours = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    curve_days = _days(enabled, date(2026, 12, 10))
    truth = truth_hours(P2, data.CONS, curve_days)
    assert all(hours[hour] == pytest.approx(wh, abs=1) for hour, wh in truth.items())
    for day in _days(months_before(START, 2), date(2026, 12, 10)):
        assert by_day[day] == pytest.approx(data.daily_wh(P2, data.CONS, day), abs=1), day
    for day in _days(enabled - timedelta(days=5), enabled):  # days before the curve keep one daily bar at midnight
        midnight = datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)
        assert hours[midnight] == pytest.approx(data.daily_wh(P2, data.CONS, day), abs=1)
        assert all(wh == 0 for h, wh in hours.items() if h.astimezone(PARIS).date() == day and h != midnight)

    # `import_history` walks on through the weeks without curve, to the date given (here the 2-month option's start,
    # 10 October, is older still).
    await hass.services.async_call(DOMAIN, "import_history", {"prm": P2, "start": "2026-11-01"}, blocking=True)
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P2].backfill_progress >= 100)
    assert [(start, end) for start, end, _ in _curve_windows(gateway)[8:]] == [
        ("2026-11-15", "2026-11-22"),
        ("2026-11-08", "2026-11-15"),
        ("2026-11-01", "2026-11-08"),
        ("2026-10-25", "2026-11-01"),
        ("2026-10-18", "2026-10-25"),
        ("2026-10-11", "2026-10-18"),
        ("2026-10-10", "2026-10-11"),
    ]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_adam_err0075_alone_stops_the_walk(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    """Without daily energy to compare with (not imported), ADAM-ERR0075 by itself is a refusal."""
    gateway.state.curve_refusal = "ADAM-ERR0075"
    freezer.move_to(paris(START, 12))
    _sync(gateway)
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry([P2], curve_history_months=2, daily_history_months=2, measures=["load_curve"])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P2].backfill_progress >= 100)
    assert _curve_windows(gateway) == [("2026-11-15", "2026-11-22", 400)]
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    # The next day's poll (between 08:00 and 11:00) has nothing to ask: the series sleeps until midnight.
    await _go_to(hass, freezer, gateway, coordinator, paris(START + timedelta(days=1), 11, 1))
    assert coordinator.update_interval > timedelta(hours=12)
    await _go_to(hass, freezer, gateway, coordinator, paris(START + timedelta(days=6), 23))
    assert gateway.state.count("/mesure_synchrone_auto/") == 1
    # A week on, the re-ask: one request.
    await _go_to(hass, freezer, gateway, coordinator, paris(START + timedelta(days=7), 23))
    assert _curve_windows(gateway)[1:] == [("2026-11-22", "2026-11-29", 400)]
    assert gateway.state.count("/mesure_synchrone_auto/") == 2
    await hass.config_entries.async_unload(entry.entry_id)
