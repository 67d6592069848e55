"""The entry's Store: the compact encodings (version 2) and the reading of version 1 files."""

from __future__ import annotations

import copy
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
import json
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.enedis.api import Contract, Direction, Reading
from custom_components.enedis.api.calendar import day_bounds
from custom_components.enedis.ledger import CurveState, DayCurve
from custom_components.enedis.store import (
    STORAGE_VERSION,
    AccessRefusal,
    DayAttempts,
    EnedisStore,
    EntryCache,
    MeasureRefusal,
    PrmCache,
    SeriesCache,
    source_key,
)
from tests.unit.test_ledger import AUTUMN, SPRING, WINTER, curve, day_curve, ramp

HOUR = timedelta(hours=1)


def _hours(first: datetime, values: list[float]) -> dict[datetime, float]:
    return {first + i * HOUR: value for i, value in enumerate(values)}


def _series() -> SeriesCache:
    misaligned_day = date(2026, 1, 16)
    lower, upper = day_bounds(misaligned_day)
    holed = day_curve(date(2026, 1, 17), watts=ramp(300.5, 0.25))
    return SeriesCache(
        curve={
            WINTER: DayCurve.of(day_curve(WINTER)),
            SPRING: DayCurve.of(day_curve(SPRING)),
            AUTUMN: DayCurve.of(day_curve(AUTUMN, 10)),
            misaligned_day: DayCurve.of(curve(lower - timedelta(minutes=10), upper + timedelta(minutes=20), 30)),
            date(2026, 1, 17): DayCurve.of(holed[:5] + holed[9:]),
        },
        curve_state={WINTER: CurveState.COMPLETE, date(2026, 1, 17): CurveState.PARTIAL},
        daily={WINTER: 36_123.0},
        written=_hours(datetime(2026, 1, 14, 23, tzinfo=UTC), [1.0, 0.0, 250.0, 1e6])
        | _hours(datetime(2026, 1, 16, 23, tzinfo=UTC), [5.0, 7.0]),
        extra_written={"consumption_cost": _hours(datetime(2026, 1, 14, 23, tzinfo=UTC), [0.1, 2.675, 1 / 3])},
        anchor=datetime(2026, 1, 1, 23, tzinfo=UTC),
    )


def test_series_round_trip_and_encodings() -> None:
    series = _series()
    raw = json.loads(json.dumps(series.to_json()))
    assert SeriesCache.from_json(raw) == series
    # A day whose readings follow each other with one step: [first start, step, "W,W,..."].
    first = day_bounds(WINTER)[0].timestamp()
    assert raw["curve"]["2026-01-15"] == [int(first), 1800, ",".join(str(1000 + k) for k in range(48))]
    assert len(raw["curve"]["2026-03-29"][2].split(",")) == 46
    assert len(raw["curve"]["2026-10-25"][2].split(",")) == 150  # 25 h of 10 minutes
    # Not one step (a hole): "start,end,W;..." triples.
    (text,) = raw["curve"]["2026-01-17"]
    assert len(text.split(";")) == 44
    assert text.split(";")[0].split(",")[2] == "300.5"
    # Written hours: one entry per run of consecutive hours.
    assert raw["written"] == [
        [int(datetime(2026, 1, 14, 23, tzinfo=UTC).timestamp()), "1,0,250,1000000"],
        [int(datetime(2026, 1, 16, 23, tzinfo=UTC).timestamp()), "5,7"],
    ]
    assert raw["extra_written"]["consumption_cost"][0][1] == "0.1,2.675,0.3333333333333333"


# --- every field: a value other than its default, a codec that keeps it, a copy that owns its containers -----------


def _series_values() -> dict[str, Any]:
    """A value for EVERY field of `SeriesCache`, none of them its default (a new field must be added here)."""
    peak_start, peak_end = day_bounds(WINTER)
    return {
        "curve": _series().curve,
        "curve_state": {
            WINTER: CurveState.COMPLETE,
            date(2026, 1, 17): CurveState.PARTIAL,
            date(2026, 1, 18): CurveState.MISSING,
        },
        "daily": {WINTER: 36_123.0, date(2026, 1, 16): 0.5},
        "daily_fetched": {WINTER, date(2026, 1, 16), date(2026, 1, 19)},
        "max_power": {
            WINTER: Reading(
                start=peak_start, end=peak_end, value=6123.0, at=peak_start + timedelta(hours=19, seconds=7)
            )
        },
        "max_power_fetched": {WINTER, date(2026, 1, 19)},
        "registers": {WINTER: {"HC": 12_000.0, "HP": 24_123.5}, date(2026, 1, 16): {"BUHC": 1.25}},
        "index_fetched": {WINTER, date(2026, 1, 16), date(2026, 1, 20)},
        "index_history_done": True,
        "floors": {"load_curve": date(2025, 1, 1), "daily_energy": date(2024, 1, 2)},
        "probes": {"max_power": (date(2023, 11, 1), date(2024, 5, 1))},
        "refused": {"load_curve": MeasureRefusal(since=date(2026, 1, 10), next_try=date(2026, 1, 17), lifted=True)},
        "last_poll_day": date(2026, 1, 20),
        "curve_frontier": date(2025, 12, 1),
        "curve_done": True,
        "daily_history_done": True,
        "max_power_history_done": True,
        "attempts": {date(2026, 1, 17): DayAttempts(2, date(2026, 1, 21)), date(2026, 1, 18): DayAttempts(1, None)},
        "given_up": {date(2025, 12, 24)},
        "anchor": datetime(2026, 1, 1, 23, tzinfo=UTC),
        "written": _series().written,
        "extra_written": {
            "consumption_cost": _hours(datetime(2026, 1, 14, 23, tzinfo=UTC), [0.1, 2.675]),
            "consumption_offpeak": _hours(datetime(2026, 1, 15, 1, tzinfo=UTC), [400.0]),
        },
    }


def _contract_values() -> dict[str, Any]:
    """A value for every field of `Contract` (kept by `PrmCache`), none of them its default."""
    return {
        "prm": "12345678901234",
        "segment": "C5",
        "subscribed_power_kva": 9.0,
        "offpeak_hours": "HC (22H00-6H00)",
        "distribution_tariff": "BTINFMUDT",
        "meter_type": "AMM",
        "contract_type": "CARD-S",
        "contract_status": "SERVC",
        "usage_point_status": "com",
        "last_activation_date": date(2015, 6, 1),
        "production_activation_date": date(2021, 3, 4),
        "last_tariff_change_date": date(2022, 7, 8),
        "last_power_change_date": date(2023, 9, 10),
        "services_level": "2",
        "has_production": True,
        "has_consumption": False,
        "unavailable_apis": ("comptage_auto/v1",),
    }


def _prm_values() -> dict[str, Any]:
    """A value for every field of `PrmCache`, none of them its default."""
    return {
        "series": {
            Direction.CONSUMPTION: SeriesCache(**_series_values()),
            Direction.PRODUCTION: SeriesCache(daily={WINTER: 2_000.0}, curve_done=True),
        },
        "absent": {Direction.PRODUCTION},
        "history_start": date(2024, 2, 29),
        "contract": Contract(**_contract_values()),
        "contract_day": date(2026, 1, 19),
        "refusal": AccessRefusal("not_holder", datetime(2026, 1, 20, 7, 30, 1, tzinfo=UTC), "ADAM-DC-0007"),
    }


def _entry_values() -> dict[str, Any]:
    """A value for every field of `EntryCache`, none of them its default."""
    return {
        "prms": {"12345678901234": PrmCache(**_prm_values()), "22516914714270": PrmCache()},
        "requests_day": date(2026, 1, 20),
        "requests_today": 37,
        "last_backfill_request": 1_768_900_000.25,
        "backfill_requests": 12,
        "source": "conso_api https://conso.example.org",
    }


FULL = [
    (SeriesCache, _series_values),
    (PrmCache, _prm_values),
    (EntryCache, _entry_values),
    (Contract, _contract_values),
]


@pytest.mark.parametrize(("cls", "values"), FULL, ids=[cls.__name__ for cls, _ in FULL])
def test_the_samples_set_every_field(cls: type[Any], values: Any) -> None:
    """A field added to the cache without a value here fails: it gets one, so the tests below check its codec."""
    sample = values()
    assert set(sample) == {f.name for f in fields(cls)}
    default = cls(prm="12345678901234") if cls is Contract else cls()
    for f in fields(cls):
        if f.name != "prm":
            assert sample[f.name] != getattr(default, f.name), f"{cls.__name__}.{f.name} is its default"


@pytest.mark.parametrize(("cls", "values"), FULL[:3], ids=[cls.__name__ for cls, _ in FULL[:3]])
def test_every_field_round_trips(cls: type[Any], values: Any) -> None:
    """`to_json` / `from_json` keep every field (through real JSON text, as the Store writes it)."""
    cache = cls(**values())
    loaded = cls.from_json(json.loads(json.dumps(cache.to_json())))
    for f in fields(cls):
        assert getattr(loaded, f.name) == getattr(cache, f.name), f"{cls.__name__}.{f.name}"


def _changed(value: Any) -> Any:
    """Another value of the same immutable type (None stays None)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 100
    if isinstance(value, date):  # datetimes too
        return value + timedelta(days=1)
    if isinstance(value, str):
        return value + "x"
    return value


def _mutate(value: Any) -> None:
    """Change in place every mutable object reachable from ``value``: containers (nested ones first) and the fields of
    mutable dataclasses (`DayAttempts`, `MeasureRefusal`, the caches themselves)."""
    if isinstance(value, dict):
        for item in value.values():
            _mutate(item)
        value.clear()
    elif isinstance(value, set | list):
        value.clear()
    elif is_dataclass(value) and not isinstance(value, type) and not value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        for f in fields(value):
            current = getattr(value, f.name)
            if isinstance(current, dict | set | list) or is_dataclass(current):
                _mutate(current)
            else:
                setattr(value, f.name, _changed(current))


@pytest.mark.parametrize(("cls", "values"), FULL[:3], ids=[cls.__name__ for cls, _ in FULL[:3]])
def test_copy_keeps_every_field_and_owns_its_containers(cls: type[Any], values: Any) -> None:
    """`copy()` is what the executor serialises while the event loop goes on mutating the cache: every field is
    copied, and nothing the copy holds can be changed through the original (nor the reverse)."""
    original = cls(**values())
    before = copy.deepcopy(original)
    copied = original.copy()
    for f in fields(cls):
        assert getattr(copied, f.name) == getattr(original, f.name), f"{cls.__name__}.{f.name} not copied"
    _mutate(copied)
    assert copied != before  # the mutation reached every container
    for f in fields(cls):
        assert getattr(original, f.name) == getattr(before, f.name), f"{cls.__name__}.{f.name} shared by the copy"
    # And the reverse: the loop mutating the original does not change the copy being serialised.
    copied = original.copy()
    _mutate(original)
    for f in fields(cls):
        assert getattr(copied, f.name) == getattr(before, f.name), f"{cls.__name__}.{f.name} shared by the copy"


def test_empty_series_round_trip() -> None:
    series = SeriesCache(curve={WINTER: DayCurve()})
    raw = json.loads(json.dumps(series.to_json()))
    assert raw["curve"]["2026-01-15"] == [""]
    assert raw["written"] == []
    assert SeriesCache.from_json(raw) == series


def _version_1(series: SeriesCache) -> dict[str, Any]:
    """``series`` as version 1 wrote it: readings as [start, end, W] lists, hours as {"epoch": Wh}."""
    raw = series.to_json()
    raw["curve"] = {
        day.isoformat(): [[r.start.timestamp(), r.end.timestamp(), r.value] for r in readings]
        for day, readings in series.curve.items()
    }
    raw["written"] = {str(int(hour.timestamp())): wh for hour, wh in series.written.items()}
    raw["extra_written"] = {
        key: {str(int(hour.timestamp())): v for hour, v in hours.items()} for key, hours in series.extra_written.items()
    }
    return raw


async def test_version_1_file_is_read_then_rewritten_compact(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    series = _series()
    old = EntryCache()
    old.prm("12345678901234").series[Direction.CONSUMPTION] = series
    data = old.to_json()
    data["prms"]["12345678901234"]["series"]["consumption"] = _version_1(series)
    hass_storage["enedis.entry1"] = {"version": 1, "minor_version": 1, "key": "enedis.entry1", "data": data}

    store = EnedisStore(hass, "entry1")
    cache = await store.async_load()
    loaded = cache.prm("12345678901234").series[Direction.CONSUMPTION]
    assert loaded == series
    assert loaded.curve[WINTER][0] == Reading(
        start=day_bounds(WINTER)[0], end=day_bounds(WINTER)[0] + timedelta(minutes=30), value=1000
    )

    await store.async_save()
    saved = hass_storage["enedis.entry1"]
    assert (saved["version"], saved["minor_version"]) == (STORAGE_VERSION, 1) == (2, 1)
    consumption = saved["data"]["prms"]["12345678901234"]["series"]["consumption"]
    assert isinstance(consumption["curve"]["2026-01-15"][2], str)
    assert isinstance(consumption["written"], list)
    store.async_unload()


def _done_series(today: date, complete_from: date | None) -> SeriesCache:
    """A series whose history import is done: every day asked, the curve complete from ``complete_from`` on."""
    start = today - timedelta(days=60)
    days = [start + timedelta(days=i) for i in range(60)]
    complete = [d for d in days if complete_from is not None and d >= complete_from]
    return SeriesCache(
        curve={d: DayCurve.of(day_curve(d)) for d in complete},
        curve_state={d: CurveState.COMPLETE if d in complete else CurveState.MISSING for d in days},
        daily=dict.fromkeys(complete, 1000.0),
        daily_fetched=set(days),
        max_power_fetched=set(days),
        index_fetched=set(days),
        daily_history_done=True,
        max_power_history_done=True,
        index_history_done=True,
        curve_frontier=start,
        curve_done=True,
        floors={"daily_energy": start},
        probes={"load_curve": (start, today)},
        refused={"load_curve": MeasureRefusal(since=today - timedelta(days=3), next_try=today + timedelta(days=4))},
        given_up={days[-20]},
        written={datetime(2026, 1, 1, tzinfo=UTC): 5.0},
        anchor=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_restart_history_forgets_answers_keeps_data() -> None:
    """Issue 10 #4: after a source change the backfill asks again for every day without data, and only those."""
    today = date(2026, 11, 22)
    series = _done_series(today, complete_from=today - timedelta(days=10))
    kept = (dict(series.curve), dict(series.daily), dict(series.written), series.anchor)
    series.restart_history(today)
    assert (series.curve, series.daily, series.written, series.anchor) == kept
    assert series.daily_fetched == set(series.daily)  # the days with data are not asked again
    assert series.max_power_fetched == set() == series.index_fetched
    assert [series.daily_history_done, series.max_power_history_done, series.index_history_done] == [False] * 3
    assert not series.curve_done
    assert series.curve_frontier == today - timedelta(days=10)  # resumes below the complete run
    assert [series.floors, series.probes, series.given_up, series.attempts] == [{}, {}, set(), {}]
    assert series.refused == {}  # a refusal was the old source's answer too

    nothing = _done_series(today, complete_from=None)  # the wrong URL's "nothing" for every day
    nothing.restart_history(today)
    assert nothing.curve_frontier is None  # the whole curve again, newest week first
    assert nothing.daily_fetched == set()


def test_source_key_names_the_place_not_the_credentials() -> None:
    conso = {"source": "conso_api", "token": "SECRET-TOKEN", "base_url": "https://conso.boris.sh/api/", "prms": []}
    assert source_key(conso) == "conso_api https://conso.boris.sh/api"
    assert source_key({**conso, "token": "another"}) == source_key(conso)
    assert source_key({**conso, "base_url": "http://127.0.0.1:8788/conso/api"}) != source_key(conso)
    dc = {"source": "data_connect", "auth_implementation": "cred", "environment": "sandbox", "prms": []}
    assert source_key(dc) == "data_connect sandbox"
    assert source_key({**dc, "environment": "production"}) != source_key(dc)
    assert "SECRET" not in source_key(conso)


async def test_load_restarts_history_when_the_source_changed(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    today = date(2026, 11, 22)
    old = EntryCache(backfill_requests=40, last_backfill_request=1.0)
    old.prm("12345678901234").series[Direction.CONSUMPTION] = _done_series(today, None)
    old.prm("12345678901234").absent.add(Direction.PRODUCTION)
    hass_storage["enedis.entry1"] = {"version": 2, "minor_version": 1, "key": "enedis.entry1", "data": old.to_json()}

    # A cache written before the source was recorded adopts the entry's: nothing is forgotten.
    store = EnedisStore(hass, "entry1")
    cache = await store.async_load("conso_api https://conso.example.org", today)
    assert cache.source == "conso_api https://conso.example.org"
    assert cache.prm("12345678901234").series[Direction.CONSUMPTION].daily_history_done
    await store.async_save()
    # Same source: nothing is forgotten either.
    cache = await store.async_load("conso_api https://conso.example.org", today)
    assert cache.prm("12345678901234").series[Direction.CONSUMPTION].daily_history_done
    # Another one: the import starts again, first burst included.
    cache = await store.async_load("conso_api https://conso.boris.sh/api", today)
    series = cache.prm("12345678901234").series[Direction.CONSUMPTION]
    assert not series.daily_history_done
    assert not series.curve_done
    assert cache.prm("12345678901234").absent == set()
    assert (cache.backfill_requests, cache.last_backfill_request) == (0, None)
    assert cache.source == "conso_api https://conso.boris.sh/api"
    await store.async_save()
    assert hass_storage["enedis.entry1"]["data"]["source"] == "conso_api https://conso.boris.sh/api"
    store.async_unload()


def test_access_refusal_round_trip() -> None:
    """A PRM Enedis refused stays refused across a restart; files written before the field read as not refused."""
    cache = EntryCache()
    refusal = AccessRefusal("consent_missing", datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC), "ADAM-DC-0008")
    cache.prm("26584978546985").refusal = refusal
    cache.prm("22516914714270")
    raw = json.loads(json.dumps(cache.copy().to_json()))
    assert raw["prms"]["26584978546985"]["refusal"] == {
        "reason": "consent_missing",
        "since": "2026-11-22T11:00:03+00:00",
        "code": "ADAM-DC-0008",
    }
    loaded = EntryCache.from_json(raw)
    assert loaded.prm("26584978546985").refusal == refusal
    assert loaded.prm("22516914714270").refusal is None
    del raw["prms"]["26584978546985"]["refusal"]
    assert EntryCache.from_json(raw).prm("26584978546985").refusal is None


async def test_refused_field_added_without_a_version_change(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """A version 2 file written before ``refused`` existed still loads (nothing refused); the field round-trips."""
    series = _series()
    before = EntryCache()
    before.prm("12345678901234").series[Direction.CONSUMPTION] = series
    data = json.loads(json.dumps(before.to_json()))
    del data["prms"]["12345678901234"]["series"]["consumption"]["refused"]  # as the previous code wrote it
    hass_storage["enedis.entry2"] = {"version": 2, "minor_version": 1, "key": "enedis.entry2", "data": data}

    store = EnedisStore(hass, "entry2")
    loaded = (await store.async_load()).prm("12345678901234").series[Direction.CONSUMPTION]
    assert loaded == series
    assert loaded.refused == {}

    loaded.refused["load_curve"] = MeasureRefusal(since=date(2026, 11, 22), next_try=date(2026, 11, 29))
    await store.async_save()
    saved = hass_storage["enedis.entry2"]
    assert (saved["version"], saved["minor_version"]) == (STORAGE_VERSION, 1)
    assert saved["data"]["prms"]["12345678901234"]["series"]["consumption"]["refused"] == {
        "load_curve": {"since": "2026-11-22", "next_try": "2026-11-29", "lifted": False}
    }
    store.async_unload()
    again = EnedisStore(hass, "entry2")
    reloaded = (await again.async_load()).prm("12345678901234").series[Direction.CONSUMPTION]
    assert reloaded.refused == {"load_curve": MeasureRefusal(date(2026, 11, 22), date(2026, 11, 29))}
    assert reloaded == loaded
    again.async_unload()
