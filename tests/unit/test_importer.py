"""The importer's incremental compute gives exactly what a full recompute gives (no Home Assistant running).

`importer.compute_import` keeps, per series, each day's result and what each statistic holds, and recomputes only
the days whose inputs changed and the hours that move. The reference here is the full computation, done from the
ledger's and the tariff series' whole-series functions: `build_hours`, `build_consumption_tariffs` /
`build_production_compensation`, `choose_origin`, `publish`. Random sequences of changes (curves, states, new and
older days, removed days, registers, Tempo colours, price periods, the end of the history) are applied to one
series, and after each the rows to write, the written hours, the origin and the report must be identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
import gc
import random

import pytest

from custom_components.enedis.api import Direction
from custom_components.enedis.api.calendar import PARIS, day_bounds
from custom_components.enedis.importer import ComputedImport, ImportJob, ImportMemo, compute_import
from custom_components.enedis.ledger import (
    TOLERANCE_KWH,
    CurveState,
    DayCurve,
    DayInput,
    HourValues,
    Publication,
    build_hours,
    choose_origin,
    day_hours,
    publish,
)
from custom_components.enedis.tariff_series import (
    TariffConfig,
    TariffResult,
    build_consumption_tariffs,
    build_production_compensation,
)
from custom_components.enedis.tariffs import TEMPO_CLASSES, PricePeriod, parse_offpeak

from .recorder_table import assert_holds, assert_same_tables, recorder_after

START = date(2026, 3, 20)  # the series spans the spring DST change (29 March)
HPHC_PRICES = {"offpeak": 0.2068, "peak": 0.27, "feed_in": 0.1276}
TEMPO_PRICES = {name: 0.1 + i / 100 for i, name in enumerate(TEMPO_CLASSES) if name != "red_peak"}  # one missing
COLOURS = ("bleu", "blanc", "rouge")


def periods(prices: dict[str, float], changed: dict[str, float]) -> tuple[PricePeriod, ...]:
    """Two periods, the second from the middle of a day (its hours are priced at both)."""
    return (
        PricePeriod(datetime(2026, 1, 1, tzinfo=PARIS), prices),
        PricePeriod(datetime(2026, 4, 2, 14, 30, tzinfo=PARIS), changed),
    )


CONFIGS = {
    "hphc": (
        Direction.CONSUMPTION,
        TariffConfig(
            "hphc",
            parse_offpeak("HC (22H30-6H30)"),
            periods(HPHC_PRICES, {**HPHC_PRICES, "peak": 0.29}),
            15.0,
        ),
    ),
    "tempo": (
        Direction.CONSUMPTION,
        TariffConfig("tempo", (), periods(TEMPO_PRICES, {**TEMPO_PRICES, "blue_peak": 0.2}), 12.0),
    ),
    "base": (Direction.CONSUMPTION, TariffConfig("base", (), periods({"base": 0.25}, {"peak": 0.3}), 0.0)),
    "production": (
        Direction.PRODUCTION,
        TariffConfig("hphc", (), periods({"feed_in": 0.1276}, {"offpeak": 0.2}), 0.0),
    ),
}


def day_curve(rng: random.Random, day: date, holes: int = 0) -> DayCurve:
    """30-minute readings of local ``day`` (random watts), ``holes`` of them left out."""
    lower, upper = day_bounds(day)
    count = int((upper - lower) / timedelta(minutes=30))
    skipped = set(rng.sample(range(count), holes))
    spans = []
    for k in range(count):
        if k in skipped:
            continue
        start = lower + timedelta(minutes=30 * k)
        spans.append((start.timestamp(), (start + timedelta(minutes=30)).timestamp(), float(rng.randint(0, 3000))))
    return DayCurve(spans)


def random_day(rng: random.Random, day: date) -> DayInput:
    kind = rng.choices(["complete", "partial", "missing", "pending", "not_wanted"], [6, 1, 1, 1, 1])[0]
    daily = float(rng.randint(5000, 40000)) if rng.random() < 0.8 else None
    if kind == "complete":
        return DayInput(day, day_curve(rng, day), CurveState.COMPLETE, daily)
    if kind == "partial":
        return DayInput(day, day_curve(rng, day, holes=rng.randint(1, 10)), CurveState.PARTIAL, daily)
    if kind == "missing":
        return DayInput(day, (), CurveState.MISSING, daily)
    if kind == "pending":
        return DayInput(day, (), CurveState.PENDING, daily)
    return DayInput(day, (), CurveState.NOT_WANTED, daily)


def random_registers(rng: random.Random, entry: DayInput) -> dict[str, float]:
    total = entry.daily_wh or 20000.0
    offpeak = total * rng.choice([0.33, 0.34, 0.5, 0.9])  # near the curve's split (used) or far (not used)
    return {"HC": round(offpeak), "HP": round(total - offpeak)}


@dataclass
class Series:
    """A series' inputs as the coordinator keeps them, and what one chain of imports wrote."""

    days: dict[date, DayInput]
    registers: dict[date, dict[str, float]]
    colours: dict[date, str]
    config: TariffConfig
    complete: bool = False
    written: dict[str, dict[datetime, float]] = field(default_factory=dict)
    origin: datetime | None = None
    memo: ImportMemo | None = None

    def job(self, direction: Direction, *, memo: bool) -> ImportJob:
        return ImportJob(
            inputs=list(self.days.values()),
            direction=direction,
            previous=dict(self.written),
            origin=self.origin,
            complete=self.complete,
            config=self.config,
            colours=dict(self.colours),
            registers=dict(self.registers),
            memo=self.memo if memo else None,
        )

    def apply(self, origin: datetime | None, publications: dict[str, Publication]) -> None:
        """What the importer does with the result: each statistic's written hours, then the origin."""
        if origin is None:
            return
        for key, publication in publications.items():
            self.written[key] = publication.written
        self.origin = origin


def full_recompute(job: ImportJob) -> tuple[datetime | None, dict[str, Publication], TariffResult]:
    """The whole series recomputed from the ledger's and the tariff series' whole-series functions."""
    hours = build_hours(job.inputs)
    if job.direction is Direction.CONSUMPTION:
        tariffs = build_consumption_tariffs(job.inputs, hours, job.config, job.colours, job.registers)
    else:
        tariffs = build_production_compensation(hours, job.config)
    written = [hour for hours_written in job.previous.values() for hour in hours_written]
    origin = choose_origin(hours, job.origin, oldest_written=min(written, default=None), complete=job.complete)
    if origin is None:
        return None, {}, tariffs
    current = {"": hours, **tariffs.series}
    return (
        origin,
        {key: publish(job.previous.get(key, {}), values, origin, job.origin) for key, values in current.items()},
        tariffs,
    )


def change(rng: random.Random, series: Series) -> str:
    """Apply one random change to the series' inputs; returns its name."""
    ordered = sorted(series.days)
    kind = rng.choices(
        ["curve", "state", "newer", "older", "remove", "registers", "colour", "complete", "prices", "nothing"],
        [4, 2, 4, 2, 1, 2, 2, 1, 1, 1],
    )[0]
    if kind == "curve":
        day = rng.choice(ordered)
        entry = series.days[day]
        if entry.curve_state is CurveState.COMPLETE:
            series.days[day] = replace(entry, curve=day_curve(rng, day))
        else:
            series.days[day] = replace(entry, daily_wh=float(rng.randint(5000, 40000)))
        return kind
    if kind == "state":
        day = rng.choice(ordered)
        series.days[day] = random_day(rng, day)
        return kind
    if kind == "newer":  # the daily poll: the next day (or two), sometimes the day before again
        for _ in range(rng.randint(1, 2)):
            day = max(series.days) + timedelta(days=1)
            series.days[day] = random_day(rng, day)
        return kind
    if kind == "older":  # the backfill: a week older than the oldest day
        oldest = min(series.days)
        for i in range(1, rng.randint(2, 8)):
            series.days[oldest - timedelta(days=i)] = random_day(rng, oldest - timedelta(days=i))
        return kind
    if kind == "remove" and len(ordered) > 3:
        series.days.pop(rng.choice(ordered))
        return kind
    if kind == "registers":
        day = rng.choice(ordered)
        if day in series.registers and rng.random() < 0.3:
            del series.registers[day]
        else:
            series.registers[day] = random_registers(rng, series.days[day])
        return kind
    if kind == "colour":
        day = rng.choice(ordered)
        series.colours[day] = rng.choice(COLOURS)
        return kind
    if kind == "complete":
        series.complete = not series.complete
        return kind
    if kind == "prices":
        first, second = series.config.periods
        moved = replace(second, start=second.start + timedelta(hours=rng.choice([-30, -5, 7, 49])))
        series.config = replace(series.config, periods=(first, moved))
        return kind
    return "nothing"


def assert_same(
    incremental: ComputedImport,
    reference: tuple[datetime | None, dict[str, Publication], TariffResult],
    job: ImportJob,
) -> None:
    """The incremental import writes what the full recompute writes, or (when the origin moved back over energy: a
    `SumShift` instead of rewriting every row) leaves the recorder holding the same rows."""
    origin, publications, tariffs = reference
    assert incremental.origin == origin
    assert incremental.publications.keys() == publications.keys()
    for key, publication in publications.items():
        got = incremental.publications[key]
        if got.shift is None:
            assert got.rows == publication.rows, key
        else:
            assert job.origin is not None
            assert origin is not None
            assert got.shift.start == job.origin, key
            previous = job.previous.get(key, {})
            table = recorder_after(previous, job.origin, got)
            assert_same_tables(table, recorder_after(previous, job.origin, publication), 2 * TOLERANCE_KWH)
            assert_holds(table, got.written, origin, TOLERANCE_KWH)
        assert got.written == publication.written, key
        assert list(got.written) == list(publication.written), key  # same order (the Store writes it as is)
        assert got.newest_first == publication.newest_first, key
    report = incremental.tariffs
    assert report.unsplit_days == tariffs.unsplit_days
    assert report.unknown_colour_days == tariffs.unknown_colour_days
    assert report.unpriced_hours == tariffs.unpriced_hours
    assert report.unpriced == tariffs.unpriced


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("name", list(CONFIGS))
def test_incremental_compute_equals_a_full_recompute(name: str, seed: int) -> None:
    rng = random.Random(f"{name}-{seed}")  # noqa: S311 (a reproducible sequence, not a secret)
    direction, config = CONFIGS[name]
    days = {START + timedelta(days=i): random_day(rng, START + timedelta(days=i)) for i in range(20)}
    registers = {day: random_registers(rng, entry) for day, entry in days.items() if rng.random() < 0.5}
    colours = {day - timedelta(days=1): rng.choice(COLOURS) for day in days if rng.random() < 0.8}
    incremental = Series(dict(days), dict(registers), dict(colours), config)
    reference = Series(dict(days), dict(registers), dict(colours), config)
    reused = rows = 0
    for _ in range(30):
        change(rng, incremental)
        reference.days, reference.registers = dict(incremental.days), dict(incremental.registers)
        reference.colours, reference.config = dict(incremental.colours), incremental.config
        reference.complete = incremental.complete
        previous = incremental.memo
        computed = compute_import(incremental.job(direction, memo=True))
        expected = full_recompute(reference.job(direction, memo=False))
        assert_same(computed, expected, incremental.job(direction, memo=False))
        incremental.apply(computed.origin, computed.publications)
        incremental.memo = computed.memo
        reference.apply(expected[0], expected[1])
        assert incremental.written == reference.written
        assert incremental.origin == reference.origin
        rows += sum(len(p.rows) for p in computed.publications.values())
        if previous is not None:
            reused += sum(1 for day, result in computed.memo.days.items() if previous.days.get(day) is result)
    # The memo did its work: most days were taken from it, not recomputed; and rows were written.
    assert reused > 10 * 30
    assert rows > 0


def test_steady_state_recomputes_only_the_new_day() -> None:
    """A new day after two years: the other days are the memo's own results, and only its hours are written."""
    rng = random.Random(1)  # noqa: S311
    direction, config = CONFIGS["hphc"]
    days = {}
    for i in range(730):
        day = START + timedelta(days=i)
        days[day] = DayInput(day, day_curve(rng, day), CurveState.COMPLETE, 1000.0 + i)
    series = Series(days, {}, {}, config, complete=True)
    first = compute_import(series.job(direction, memo=True))
    series.apply(first.origin, first.publications)
    series.memo = first.memo
    new_day = max(days) + timedelta(days=1)
    series.days[new_day] = DayInput(new_day, day_curve(rng, new_day), CurveState.COMPLETE, None)
    second = compute_import(series.job(direction, memo=True))
    assert [day for day, result in second.memo.days.items() if first.memo.days.get(day) is not result] == [new_day]
    lower, upper = day_bounds(new_day)
    hours = int((upper - lower) / timedelta(hours=1))
    assert {key: len(p.rows) for key, p in second.publications.items()} == {
        "": hours,
        "consumption_offpeak": hours,
        "consumption_peak": hours,
        "consumption_cost": hours,
    }
    assert all(row.start >= lower.astimezone(UTC) for p in second.publications.values() for row in p.rows)
    assert_same(second, full_recompute(series.job(direction, memo=False)), series.job(direction, memo=False))


def test_registers_arriving_recompute_only_the_days_they_can_change() -> None:
    """The meter's index registers arrive for every day early in a backfill, when most days still wait for their
    curve: only an HP/HC split of a complete curve takes them (`tariff_series.uses_registers`), so only those days
    are computed again, and the result is still a full recompute's."""
    rng = random.Random(7)  # noqa: S311
    direction, config = CONFIGS["hphc"]
    days = {}
    for i in range(40):
        day = START + timedelta(days=i)
        if i >= 35:
            days[day] = DayInput(day, day_curve(rng, day), CurveState.COMPLETE, 20000.0 + i)
        else:
            days[day] = DayInput(day, (), CurveState.PENDING if i % 2 else CurveState.NOT_WANTED, 20000.0 + i)
    series = Series(days, {}, {}, config)
    first = compute_import(series.job(direction, memo=True))
    series.apply(first.origin, first.publications)
    series.memo = first.memo
    series.registers = {day: random_registers(rng, entry) for day, entry in days.items()}
    second = compute_import(series.job(direction, memo=True))
    recomputed = [day for day, result in second.memo.days.items() if first.memo.days.get(day) is not result]
    assert recomputed == sorted(day for day, entry in days.items() if entry.curve_state is CurveState.COMPLETE)
    assert_same(second, full_recompute(series.job(direction, memo=False)), series.job(direction, memo=False))


def test_each_day_of_the_memo_is_one_object_the_cycle_collector_walks() -> None:
    """Every full pass of the collector walks what the memo keeps (~1,100 days per series for as long as Home
    Assistant runs): a day is one tracked object, whose fields are untracked values or objects kept elsewhere (the
    cache's curve, the bill the bill sensors keep, the `CurveState` member); its hours read as the dicts they were."""
    rng = random.Random(2)  # noqa: S311
    direction, config = CONFIGS["hphc"]
    days = {
        START + timedelta(days=i): DayInput(START + timedelta(days=i), day_curve(rng, START + timedelta(days=i)))
        for i in range(3)
    }
    days = {day: replace(entry, curve_state=CurveState.COMPLETE) for day, entry in days.items()}
    series = Series(days, {START: {"HC": 4000.0, "HP": 9000.0}}, {}, config, complete=True)
    computed = compute_import(series.job(direction, memo=True))
    gc.collect()  # the collector stops tracking a tuple of untracked values: one level of tuples per collection
    gc.collect()
    for day, result in computed.memo.days.items():
        elsewhere = {id(days[day].curve), id(result.bill), id(result.curve_state)}
        walked = [ref for ref in gc.get_referents(result) if gc.is_tracked(ref) and not isinstance(ref, type)]
        assert {id(ref) for ref in walked} <= elsewhere, [type(ref).__name__ for ref in walked]
        assert result.bill is not None
        kept = [result.hours, *result.series.values()]
        assert len(kept) == 4  # the energy, off-peak, peak and cost hours
        assert all(isinstance(values, HourValues) for values in kept)
        assert result.hours == dict(zip(result.hours.hours, result.hours.hour_values, strict=True))
        assert result.hours == day_hours(days[day])
        assert result.values("consumption_offpeak") == result.series["consumption_offpeak"]
        assert result.values("nothing") == {}
        assert next(reversed(result.hours)) == result.hours.hours[-1]
        with pytest.raises(KeyError):
            result.hours[datetime(2000, 1, 1, tzinfo=UTC)]
