"""The entry's Store: the compact encodings (version 2) and the reading of version 1 files."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import json
from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.enedis.api import Direction, Reading
from custom_components.enedis.ledger import CurveState, DayCurve, day_bounds
from custom_components.enedis.store import STORAGE_VERSION, EnedisStore, EntryCache, Refusal, SeriesCache
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

    loaded.refused["load_curve"] = Refusal(since=date(2026, 11, 22), next_try=date(2026, 11, 29))
    await store.async_save()
    saved = hass_storage["enedis.entry2"]
    assert (saved["version"], saved["minor_version"]) == (STORAGE_VERSION, 1)
    assert saved["data"]["prms"]["12345678901234"]["series"]["consumption"]["refused"] == {
        "load_curve": {"since": "2026-11-22", "next_try": "2026-11-29", "lifted": False}
    }
    store.async_unload()
    again = EnedisStore(hass, "entry2")
    reloaded = (await again.async_load()).prm("12345678901234").series[Direction.CONSUMPTION]
    assert reloaded.refused == {"load_curve": Refusal(date(2026, 11, 22), date(2026, 11, 29))}
    assert reloaded == loaded
    again.async_unload()
