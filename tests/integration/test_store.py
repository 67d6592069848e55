"""The entry's Store: the compact encodings, the codec tables, and the reading of version 1 and 2 files."""

from __future__ import annotations

from collections.abc import AsyncIterator
import copy
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime, time, timedelta
import gc
import json
from pathlib import Path
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis import state
from custom_components.enedis.api import ConsoApi, Contract, DataConnect, Direction, Measure, Reading
from custom_components.enedis.api.calendar import PARIS, day_bounds
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.ledger import CurveState, DayCurve, HourRun
from custom_components.enedis.state import (
    AccessRefusal,
    DayAttempts,
    EntryCache,
    MeasureProgress,
    MeasureRefusal,
    PrmCache,
    SeriesCache,
    _hours_from_json,
    _hours_to_json,
    migrate_series,
)
from custom_components.enedis.store import SAVE_DELAY, STORAGE_VERSION, EnedisStore
from tests.fake_enedis.rte import RTE_TEMPO_PATH
from tests.fake_enedis.state import FakeState
from tests.unit.test_ledger import AUTUMN, SPRING, WINTER, curve, day_curve, ramp

from .common import (
    async_import_demo_credentials,
    async_statistics,
    async_step,
    data_connect_entry,
    install_registry,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

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


def _reference_hours_to_json(hours: dict[datetime, float]) -> list[list[Any]]:
    """The written hours' encoding as first written: one hour at a time (`state._hours_to_json` must give the same)."""
    runs: list[tuple[int, list[str]]] = []
    previous: int | None = None
    for hour in sorted(hours):
        stamp = int(hour.timestamp())
        if previous is None or stamp != previous + 3600:
            runs.append((stamp, []))
        value = hours[hour]
        runs[-1][1].append(str(int(value)) if value.is_integer() else repr(value))
        previous = stamp
    return [[stamp, ",".join(values)] for stamp, values in runs]


def test_written_hours_encoding_is_the_per_hour_one() -> None:
    """Runs found from the hours' differences and C-level number text: the same JSON as the per-hour loop, for hours
    in any order, with gaps, whole, fractional, tiny and negative values (-0.0 reads back equal)."""
    rng = random.Random(11)  # noqa: S311  (reproducible test data)
    start = datetime(2024, 10, 26, 22, tzinfo=UTC)
    values = [0.0, 1.0, 250.0, 1e6, 10.05, 2.5, 1 / 3, 1e-05, -5.0, 100.0, 0.1, 1234.5]
    hours = {start + timedelta(hours=i): rng.choice(values) for i in range(3000) if rng.random() > 0.01}
    shuffled = dict(rng.sample(list(hours.items()), len(hours)))
    encoded = _hours_to_json(shuffled)
    assert encoded == _reference_hours_to_json(hours)
    assert len(encoded) > 10  # the gaps made runs
    assert _hours_from_json(json.loads(json.dumps(encoded))) == hours
    assert _hours_to_json({}) == []
    assert _hours_to_json({start: -0.0}) == [[int(start.timestamp()), "-0"]]
    assert _hours_from_json(_hours_to_json({start: -0.0})) == {start: 0.0}


def test_written_hours_are_one_run_read_as_one_and_shared_by_a_copy() -> None:
    """What a statistic holds is one run of hours (`ledger.HourRun`): encoded as the dict of the same hours was (the
    file format is unchanged), read back as a run (version 1's ``{"epoch": Wh}`` too), and shared by the cache's copy
    (immutable: the Store copies the cache at each save, every few seconds during a backfill); a mapping of runs with
    gaps (an older version's) stays a dict, and a copy owns it."""
    start = datetime(2024, 10, 26, 22, tzinfo=UTC)
    run = HourRun(start, [0.0, 1.0, 250.0, 1e6, 10.05, 1 / 3, -5.0, 1e-05] * 100)
    as_dict = dict(run.items())
    encoded = _hours_to_json(run)
    assert encoded == _hours_to_json(as_dict) == _reference_hours_to_json(as_dict)
    read = _hours_from_json(json.loads(json.dumps(encoded)))
    assert isinstance(read, HourRun)
    assert read == run
    version_1 = {str(int(hour.timestamp())): value for hour, value in reversed(as_dict.items())}
    assert isinstance(_hours_from_json(version_1), HourRun)
    assert _hours_from_json(version_1) == run
    gaps = _hours_from_json([[int(start.timestamp()), "1,2"], [int(start.timestamp()) + 4 * 3600, "3"]])
    assert type(gaps) is dict
    assert gaps == {start: 1.0, start + timedelta(hours=1): 2.0, start + timedelta(hours=4): 3.0}
    assert _hours_to_json(HourRun()) == []
    off_the_hour = _hours_from_json([[int(start.timestamp()) + 1800, "1,2"]])  # not written so: read as it says
    assert type(off_the_hour) is dict
    assert list(off_the_hour) == [start + timedelta(minutes=30), start + timedelta(minutes=90)]
    series = SeriesCache(written=run, extra_written={"consumption_cost": run, "consumption_peak": gaps})
    copied = series.copy()
    assert copied.written is run
    assert copied.extra_written["consumption_cost"] is run
    assert copied.extra_written["consumption_peak"] == gaps
    assert copied.extra_written["consumption_peak"] is not gaps


def test_a_days_curve_is_encoded_once_while_it_lives(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Store saves the whole cache every few seconds during a backfill: a stored day's curve (immutable) is
    encoded once, and its JSON is dropped with the curve."""
    curve = DayCurve.of(day_curve(WINTER, watts=lambda k: 4321.0 + k))
    encoded = state._curve_to_json(curve)
    calls: list[DayCurve] = []

    def encode(day: DayCurve) -> list[Any]:
        calls.append(day)
        return ["encoded again"]

    monkeypatch.setattr(state, "_encode_curve", encode)
    assert state._curve_to_json(curve) == encoded
    assert calls == []
    refetched = DayCurve.of(day_curve(WINTER, watts=lambda k: 4322.0 + k))  # other readings: encoded
    assert state._curve_to_json(refetched) == ["encoded again"]
    assert calls == [refetched]
    del curve, refetched
    gc.collect()
    assert DayCurve.of(day_curve(WINTER, watts=lambda k: 4321.0 + k)) not in state._CURVE_JSON


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
        "max_power": {
            WINTER: Reading(
                start=peak_start, end=peak_end, value=6123.0, at=peak_start + timedelta(hours=19, seconds=7)
            )
        },
        "registers": {WINTER: {"HC": 12_000.0, "HP": 24_123.5}, date(2026, 1, 16): {"BUHC": 1.25}},
        "progress": {
            Measure.LOAD_CURVE: MeasureProgress(history_done=True, floor=date(2025, 1, 1)),
            Measure.DAILY_ENERGY: MeasureProgress(
                fetched={WINTER, date(2026, 1, 16), date(2026, 1, 19)}, history_done=True, floor=date(2024, 1, 2)
            ),
            Measure.MAX_POWER: MeasureProgress(
                fetched={WINTER, date(2026, 1, 19)}, history_done=True, probe=(date(2023, 11, 1), date(2024, 5, 1))
            ),
            Measure.INDEX: MeasureProgress(fetched={WINTER, date(2026, 1, 16), date(2026, 1, 20)}, history_done=True),
        },
        "refused": {"load_curve": MeasureRefusal(since=date(2026, 1, 10), next_try=date(2026, 1, 17), lifted=True)},
        "last_poll_day": date(2026, 1, 20),
        "curve_frontier": date(2025, 12, 1),
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
            Direction.PRODUCTION: SeriesCache(
                daily={WINTER: 2_000.0}, progress={Measure.LOAD_CURVE: MeasureProgress(history_done=True)}
            ),
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


def _progress_values() -> dict[str, Any]:
    """A value for every field of `MeasureProgress`, none of them its default."""
    return {
        "fetched": {WINTER, date(2026, 1, 16)},
        "history_done": True,
        "floor": date(2024, 1, 2),
        "probe": (date(2023, 11, 1), date(2024, 5, 1)),
    }


FULL = [
    (SeriesCache, _series_values),
    (PrmCache, _prm_values),
    (EntryCache, _entry_values),
    (Contract, _contract_values),
    (MeasureProgress, _progress_values),
]
CODED = [FULL[0], FULL[1], FULL[2], FULL[4]]
"""The classes whose codec table drives their JSON and their copy."""


@pytest.mark.parametrize(("cls", "values"), FULL, ids=[cls.__name__ for cls, _ in FULL])
def test_the_samples_set_every_field(cls: type[Any], values: Any) -> None:
    """A field added to the cache without a value here fails: it gets one, so the tests below check its codec."""
    sample = values()
    assert set(sample) == {f.name for f in fields(cls)}
    default = cls(prm="12345678901234") if cls is Contract else cls()
    for f in fields(cls):
        if f.name != "prm":
            assert sample[f.name] != getattr(default, f.name), f"{cls.__name__}.{f.name} is its default"


@pytest.mark.parametrize(("cls", "values"), CODED, ids=[cls.__name__ for cls, _ in CODED])
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


@pytest.mark.parametrize(("cls", "values"), CODED, ids=[cls.__name__ for cls, _ in CODED])
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


def _legacy_progress(raw: dict[str, Any]) -> dict[str, Any]:
    """A version 3 series' JSON with its progress in the keys of versions 1 and 2 (``daily_fetched``...)."""
    raw = dict(raw)
    progress = raw.pop("progress")
    for measure, key in (("daily_energy", "daily"), ("max_power", "max_power"), ("index", "index")):
        raw[f"{key}_fetched"] = progress[measure]["fetched"]
        raw[f"{key}_history_done"] = progress[measure]["history_done"]
    raw["curve_done"] = progress["load_curve"]["history_done"]
    raw["floors"] = {m: p["floor"] for m, p in progress.items() if p["floor"] is not None}
    raw["probes"] = {m: p["probe"] for m, p in progress.items() if p["probe"] is not None}
    return raw


def test_legacy_progress_keys_are_migrated_whole() -> None:
    """Every day asked, flag, floor and probe of a version 1 or 2 series lands in its measure's progress."""
    series = SeriesCache(**_series_values())
    legacy = json.loads(json.dumps(_legacy_progress(series.to_json())))
    assert legacy["daily_fetched"]
    assert legacy["floors"]
    assert legacy["probes"]
    assert legacy["curve_done"]
    migrated = migrate_series(legacy)
    assert not {"daily_fetched", "index_history_done", "curve_done", "floors", "probes"} & set(migrated)
    assert SeriesCache.from_json(legacy) == series
    assert SeriesCache.from_json(legacy).progress == series.progress
    assert migrate_series(series.to_json()) == series.to_json()  # version 3: as it is


def _version_1(series: SeriesCache) -> dict[str, Any]:
    """``series`` as version 1 wrote it: readings as [start, end, W] lists, hours as {"epoch": Wh}."""
    raw = _legacy_progress(series.to_json())
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
    assert (saved["version"], saved["minor_version"]) == (STORAGE_VERSION, 1) == (3, 1)
    consumption = saved["data"]["prms"]["12345678901234"]["series"]["consumption"]
    assert "daily_fetched" not in consumption
    assert consumption["progress"]["daily_energy"]["history_done"] is False
    assert isinstance(consumption["curve"]["2026-01-15"][2], str)
    assert isinstance(consumption["written"], list)
    store.async_unload()


async def test_a_save_encodes_in_short_executor_jobs_the_same_json(
    hass: HomeAssistant, hass_storage: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statistic's written hours, then each series, in an executor job of its own (the event loop runs between
    them): the file is the one-job encoding's, and nothing encoded ahead is left behind."""
    store = EnedisStore(hass, "entry1")
    cache = await store.async_load()
    for prm in ("12345678901234", "22222222222222"):
        cache.prm(prm).series[Direction.CONSUMPTION] = _series()
    cache.prm("22222222222222").series[Direction.PRODUCTION] = _series()
    cache.prm("22222222222222").contract_day = WINTER
    jobs: list[str] = []
    add_job = hass.async_add_executor_job

    def counted(target: Any, *args: Any) -> Any:
        jobs.append(target.__name__)
        return add_job(target, *args)

    encode_hours = state._encode_hours
    encoded: list[int] = []

    def encode(hours: dict[datetime, float]) -> list[list[Any]]:
        encoded.append(len(hours))
        return encode_hours(hours)

    monkeypatch.setattr(hass, "async_add_executor_job", counted)
    monkeypatch.setattr(state, "_encode_hours", encode)
    await store.async_save()
    assert jobs == ["encode_hours_ahead"] * 6 + ["to_json"] * 3  # written + consumption_cost, for 3 series
    assert len(encoded) == 6  # once each: the series' jobs use what was encoded ahead
    assert hass_storage["enedis.entry1"]["data"] == json.loads(json.dumps(cache.to_json()))
    assert state._HOURS_JSON == {}
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
        progress={
            Measure.DAILY_ENERGY: MeasureProgress(fetched=set(days), history_done=True, floor=start),
            Measure.MAX_POWER: MeasureProgress(fetched=set(days), history_done=True),
            Measure.INDEX: MeasureProgress(fetched=set(days), history_done=True),
            Measure.LOAD_CURVE: MeasureProgress(history_done=True, probe=(start, today)),
        },
        curve_frontier=start,
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
    progress = series.progress
    assert progress[Measure.DAILY_ENERGY].fetched == set(series.daily)  # the days with data are not asked again
    assert progress[Measure.MAX_POWER].fetched == set() == progress[Measure.INDEX].fetched
    assert [p.history_done for p in progress.values()] == [False] * 4
    assert not series.curve_done
    assert series.curve_frontier == today - timedelta(days=10)  # resumes below the complete run
    assert [p.floor for p in progress.values()] == [None] * 4
    assert [p.probe for p in progress.values()] == [None] * 4
    assert [series.given_up, series.attempts] == [set(), {}]
    assert series.refused == {}  # a refusal was the old source's answer too

    nothing = _done_series(today, complete_from=None)  # the wrong URL's "nothing" for every day
    nothing.restart_history(today)
    assert nothing.curve_frontier is None  # the whole curve again, newest week first
    assert nothing.progress[Measure.DAILY_ENERGY].fetched == set()


def test_location_names_the_place_not_the_credentials() -> None:
    """The key recorded with the cache: the same strings as the versions before `location` (no restart at upgrade)."""
    session: Any = None  # nothing is sent: the sources only keep it

    def conso(token: str, url: str) -> str:
        return ConsoApi(session, token, base_url=url).location

    assert conso("SECRET-TOKEN", "https://conso.boris.sh/api/") == "conso_api https://conso.boris.sh/api"
    assert conso("another", "https://conso.boris.sh/api") == conso("SECRET-TOKEN", "https://conso.boris.sh/api/")
    assert conso("t", " https://conso.boris.sh/api/ ") == "conso_api https://conso.boris.sh/api"  # as stored before
    assert conso("SECRET-TOKEN", "http://127.0.0.1:8788/conso/api") != conso(
        "SECRET-TOKEN", "https://conso.boris.sh/api"
    )
    assert "SECRET" not in conso("SECRET-TOKEN", "https://conso.boris.sh/api")
    assert ConsoApi(session, "t").location == "conso_api https://conso.boris.sh/api"

    def data_connect(environment: str, secret: str = "SECRET", base_url: str | None = None) -> str:  # noqa: S107
        return DataConnect(session, "client", secret, environment=environment, base_url=base_url).location

    assert data_connect("sandbox") == "data_connect sandbox"
    assert data_connect("sandbox", "another secret") == data_connect("sandbox")
    assert data_connect("production") == "data_connect production"
    assert data_connect("sandbox", base_url="http://127.0.0.1:8788") == "data_connect sandbox http://127.0.0.1:8788"
    assert "SECRET" not in data_connect("production")
    assert DataConnect(session, "c", "s", environment="sandbox").reauth_restores_access is False
    assert DataConnect(session, "c", "s").reauth_restores_access is True
    assert ConsoApi(session, "t").reauth_restores_access is True


async def test_load_restarts_history_when_the_source_changed(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    today = date(2026, 11, 22)
    old = EntryCache(backfill_requests=40, last_backfill_request=1.0)
    old.prm("12345678901234").series[Direction.CONSUMPTION] = _done_series(today, None)
    old.prm("12345678901234").absent.add(Direction.PRODUCTION)
    hass_storage["enedis.entry1"] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": "enedis.entry1",
        "data": old.to_json(),
    }

    # A cache written before the source was recorded adopts the entry's: nothing is forgotten.
    store = EnedisStore(hass, "entry1")
    cache = await store.async_load("conso_api https://conso.example.org", today)
    assert cache.source == "conso_api https://conso.example.org"
    assert cache.prm("12345678901234").series[Direction.CONSUMPTION].progress[Measure.DAILY_ENERGY].history_done
    await store.async_save()
    # Same source: nothing is forgotten either.
    cache = await store.async_load("conso_api https://conso.example.org", today)
    assert cache.prm("12345678901234").series[Direction.CONSUMPTION].progress[Measure.DAILY_ENERGY].history_done
    # Another one: the import starts again, first burst included.
    cache = await store.async_load("conso_api https://conso.boris.sh/api", today)
    series = cache.prm("12345678901234").series[Direction.CONSUMPTION]
    assert not series.progress[Measure.DAILY_ENERGY].history_done
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
    consumption = data["prms"]["12345678901234"]["series"]["consumption"]
    consumption = data["prms"]["12345678901234"]["series"]["consumption"] = _legacy_progress(consumption)
    del consumption["refused"]  # as the code before the field wrote it
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


# --- a real file of the previous release ----------------------------------------------------------------------------

V2_FILE = Path(__file__).parent / "data" / "store_version_2.json"
"""Written by the release before format 3 (commit cdaa2fa): Data Connect sandbox, client 6's self-consumption PRM,
HP/HC with its index, one month of history fully imported on 2026-11-22 at 12:00 (18 requests)."""
P6 = "12655648759651"


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(today=date(2026, 11, 22), time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def test_version_2_file_of_the_previous_release_needs_no_request(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, hass_storage: dict[str, Any]
) -> None:
    """The upgrade reads today's files whole: nothing is asked again, the statistics come back from the cache."""
    freezer.move_to(datetime.combine(date(2026, 11, 22), time(12, 30), tzinfo=PARIS))
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry(
        [P6],
        curve_history_months=1,
        daily_history_months=1,
        tariff_option="hphc",
        measures=["load_curve", "daily_energy", "max_power", "production"],
    )
    entry.add_to_hass(hass)
    file = json.loads(V2_FILE.read_text())
    assert file["version"] == 2
    key = f"enedis.{entry.entry_id}"
    hass_storage[key] = {**file, "key": key}
    legacy = file["data"]["prms"][P6]["series"]

    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator: EnedisCoordinator = entry.runtime_data
    # The first refresh after the start (the next one is tomorrow's poll): imports and reconciles from the cache.
    await async_step(hass, freezer, coordinator)
    assert coordinator._rebuilt
    assert not coordinator._reconcile

    # No refetch after the upgrade: not a single Enedis request (RTE's Tempo calendar is asked by the comparator's
    # daily run for the days after the shipped calendar: not Enedis, once a day).
    assert gateway.state.count() - gateway.state.count(RTE_TEMPO_PATH) == 0
    assert coordinator.data.prms[P6].backfill_progress == 100
    for direction in (Direction.CONSUMPTION, Direction.PRODUCTION):
        raw = legacy[direction.value]
        series = coordinator.store.cache.prm(P6).series[direction]
        for measure, fetched_key, done_key in (
            (Measure.DAILY_ENERGY, "daily_fetched", "daily_history_done"),
            (Measure.MAX_POWER, "max_power_fetched", "max_power_history_done"),
            (Measure.INDEX, "index_fetched", "index_history_done"),
        ):
            assert series.progress[measure].fetched == {date.fromisoformat(d) for d in raw[fetched_key]}
            assert series.progress[measure].history_done is raw[done_key]
        assert series.curve_done is raw["curve_done"] is True
        assert len(series.curve) == len(raw["curve"]) == 31
        # The recorder was empty: the reconciliation wrote every hour the cache says was written, no request.
        rows = await async_statistics(hass, f"enedis:{P6}_{direction.value}")
        assert {datetime.fromtimestamp(r["start"], UTC) for r in rows} == set(series.written)
    await coordinator.store.async_save()
    saved = hass_storage[key]
    assert saved["version"] == STORAGE_VERSION == 3
    assert "daily_fetched" not in saved["data"]["prms"][P6]["series"]["consumption"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_change_after_unload_is_saved_at_once_and_leaves_no_timer(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A refresh still running when the entry unloads may change the cache after the unload's save: it is saved at
    once, and no delayed-save timer outlives the entry (it would fire after the entry is gone)."""
    store = EnedisStore(hass, "entry3")
    await store.async_load()
    await store.async_save()  # the unload's save: the next scheduled one would otherwise wait SAVE_DELAY
    store.async_unload()
    store.cache.prm("12345678901234").history_start = WINTER
    store.async_schedule_save()
    assert store._unsub_save is None
    await hass.async_block_till_done()
    assert hass_storage["enedis.entry3"]["data"]["prms"]["12345678901234"]["history_start"] == WINTER.isoformat()


async def test_a_save_scheduled_during_the_unloads_save_is_written_at_once(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The unload saves, then unloads the store; a refresh ending meanwhile (the XMPP session, closed by the same
    unload, ends its request at once) schedules a save while that save runs: it is coalesced behind it, so the
    unload writes it at once instead of leaving a delayed-save timer to outlive the entry."""
    store = EnedisStore(hass, "entry6")
    await store.async_load()
    saving = hass.async_create_task(store.async_save())  # the unload's save, under way
    store.cache.prm("12345678901234").history_start = WINTER
    store.async_schedule_save()
    assert store._unsub_save is not None  # coalesced: the last save started just now
    await saving
    assert "12345678901234" not in hass_storage["enedis.entry6"]["data"]["prms"]
    store.async_unload()
    assert store._unsub_save is None
    await hass.async_block_till_done()
    assert hass_storage["enedis.entry6"]["data"]["prms"]["12345678901234"]["history_start"] == WINTER.isoformat()


async def test_a_pending_save_is_written_when_home_assistant_stops(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant does not unload entries when it stops: a change waiting for its coalesced save (SAVE_DELAY after
    the last one) is written at Home Assistant's final write, not lost with the process."""
    store = EnedisStore(hass, "entry4")
    await store.async_load()
    await store.async_save()
    store.cache.prm("12345678901234").history_start = WINTER
    store.async_schedule_save()
    assert store._unsub_save is not None  # coalesced: the last save was just now
    await hass.async_block_till_done()
    assert "12345678901234" not in hass_storage["enedis.entry4"]["data"]["prms"]

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert hass_storage["enedis.entry4"]["data"]["prms"]["12345678901234"]["history_start"] == WINTER.isoformat()
    assert store._unsub_save is None
    store.async_unload()


async def test_removing_the_entry_deletes_the_file_and_cancels_a_pending_save(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    """An entry removed while a save waits: the file is deleted and the pending save never writes it back."""
    store = EnedisStore(hass, "entry5")
    await store.async_load()
    await store.async_save()
    store.cache.prm("12345678901234").history_start = WINTER
    store.async_schedule_save()
    await store.async_remove()
    assert "enedis.entry5" not in hass_storage
    freezer.tick(timedelta(seconds=SAVE_DELAY + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert "enedis.entry5" not in hass_storage
    store.async_unload()
