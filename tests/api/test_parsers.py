"""Unit tests of the pure parsers: DST days, steps, holes, malformed bodies, error mapping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import itertools
import json
from typing import Any

import pytest

from custom_components.enedis.api import errors, parsers
from custom_components.enedis.api.calendar import PARIS, local_day_bounds, to_paris
from custom_components.enedis.api.errors import InvalidResponseError
from custom_components.enedis.api.models import Direction, Measure
from custom_components.enedis.api.parsers import (
    parse_address_2026,
    parse_address_v5,
    parse_contract_2026,
    parse_contract_v5,
    parse_error,
    parse_index,
    parse_local_datetime,
    parse_local_day,
    parse_measure,
    parse_step,
    parse_subscribed_services,
    parse_token,
)

PRM = "12345678901234"
CONS, PROD = Direction.CONSUMPTION, Direction.PRODUCTION
CURVE, DAILY, PMAX = Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER
NOW = datetime(2026, 7, 17, 4, 0, tzinfo=UTC)


def paris(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=PARIS, fold=fold)  # type: ignore[misc]


def body_2026(
    points: list[dict[str, Any]],
    *,
    metier: str = "CONS",
    unite: str = "W",
    physique: str = "PA",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "idPrm": PRM,
        "etapeMetier": "BRUT",
        "periode": {"dateDebut": "2026-01-01", "dateFin": "2026-01-02"},
        "grandeur": [
            {
                "grandeurMetier": metier,
                "grandeurPhysique": physique,
                "unite": unite,
                "points": points,
                "calendrier": [],
            }
        ],
        "contexte": [],
        **extra,
    }


def body_v5(points: list[dict[str, Any]], *, unit: str | None = "W", aggregate: str = "average") -> dict[str, Any]:
    reading: dict[str, Any] = {"usage_point_id": PRM, "start": "x", "end": "y", "quality": "BRUT"}
    if unit is not None:
        reading["reading_type"] = {"unit": unit, "measurement_kind": "power", "aggregate": aggregate}
    reading["interval_reading"] = points
    return {"meter_reading": reading}


def day_stamps(day: date, step_min: int = 30) -> list[str]:
    """End stamps of one local day as Enedis writes them (wall clock, repeated hour written twice)."""
    start = local_day_bounds(day)[0].astimezone(UTC)
    end = local_day_bounds(day)[1].astimezone(UTC)
    stamps = []
    t = start + timedelta(minutes=step_min)
    while t <= end:
        stamps.append(t.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"))
        t += timedelta(minutes=step_min)
    return stamps


def curve(stamps: list[str], step: str | None = "PT30M", value: Any = "1000") -> list[dict[str, Any]]:
    return [{"v": value, "d": s, **({"p": step} if step else {})} for s in stamps]


# ------------------------------------------------------------ DST load curves


@pytest.mark.parametrize("shape", ["2026", "v5"])
def test_spring_dst_day_has_46_half_hours(shape: str) -> None:
    stamps = day_stamps(date(2026, 3, 29))
    assert len(stamps) == 46
    assert stamps[2:4] == ["2026-03-29 01:30:00", "2026-03-29 03:00:00"]
    if shape == "2026":
        body = body_2026(curve(stamps))
    else:
        body = body_v5([{"value": "1000", "date": s, "interval_length": "PT30M"} for s in stamps])
    series = parse_measure(body, measure=CURVE, direction=CONS, prm=PRM)
    assert len(series.readings) == 46
    assert series.readings[0].start == paris(2026, 3, 29)
    assert series.readings[-1].end == paris(2026, 3, 30)
    assert (series.readings[-1].end - series.readings[0].start) == timedelta(hours=23)
    third, fourth = series.readings[2], series.readings[3]
    assert third.end.astimezone(UTC) == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert fourth.start == third.end
    assert fourth.end.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert all(r.duration_h == 0.5 for r in series.readings)
    assert series.energy_wh() == 23_000


def test_autumn_dst_day_has_50_ordered_half_hours() -> None:
    stamps = day_stamps(date(2026, 10, 25))
    assert len(stamps) == 50
    assert stamps[3:7] == [
        "2026-10-25 02:00:00",
        "2026-10-25 02:30:00",
        "2026-10-25 02:00:00",
        "2026-10-25 02:30:00",
    ]
    points = [{"v": str(100 * (i + 1)), "d": s, "p": "PT30M"} for i, s in enumerate(stamps)]
    series = parse_measure(body_2026(points), measure=CURVE, direction=CONS)
    readings = series.readings
    assert len(readings) == 50
    utc_ends = [r.end.astimezone(UTC) for r in readings]
    assert utc_ends == sorted(set(utc_ends))
    assert utc_ends[3:7] == [datetime(2026, 10, 25, h, m, tzinfo=UTC) for h, m in ((0, 0), (0, 30), (1, 0), (1, 30))]
    assert all(a.end == b.start for a, b in itertools.pairwise(readings))
    assert readings[-1].end - readings[0].start == timedelta(hours=25)
    assert readings[0].start == paris(2026, 10, 25)
    assert readings[-1].end == paris(2026, 10, 26)
    assert [r.value for r in readings] == [100.0 * (i + 1) for i in range(50)]
    assert series.energy_wh() == pytest.approx(sum(100 * (i + 1) * 0.5 for i in range(50)))
    # the second 02:00 is the +01:00 one
    assert readings[5].end.utcoffset() == timedelta(hours=1)
    assert readings[3].end.utcoffset() == timedelta(hours=2)


def test_autumn_repeated_stamp_after_a_hole_still_resolves() -> None:
    stamps = ["2026-10-25 02:00:00", "2026-10-25 02:00:00"]
    series = parse_measure(body_2026(curve(stamps, value=None)), measure=CURVE, direction=CONS)
    assert [h[1].astimezone(UTC).hour for h in series.holes] == [0, 1]


def test_stamp_repeated_outside_dst_is_rejected() -> None:
    stamps = ["2026-01-10 10:00:00", "2026-01-10 10:00:00"]
    with pytest.raises(InvalidResponseError, match="does not follow"):
        parse_measure(body_2026(curve(stamps)), measure=CURVE, direction=CONS)


def test_stamp_going_backwards_is_rejected() -> None:
    stamps = ["2026-01-10 10:30:00", "2026-01-10 10:00:00"]
    with pytest.raises(InvalidResponseError):
        parse_measure(body_2026(curve(stamps)), measure=CURVE, direction=CONS)


def test_third_occurrence_of_repeated_stamp_is_rejected() -> None:
    stamps = ["2026-10-25 02:00:00"] * 3
    with pytest.raises(InvalidResponseError):
        parse_measure(body_2026(curve(stamps)), measure=CURVE, direction=CONS)


def test_stamp_in_spring_gap_is_rejected() -> None:
    with pytest.raises(InvalidResponseError, match="does not exist"):
        parse_measure(body_2026(curve(["2026-03-29 02:30:00"])), measure=CURVE, direction=CONS)


def test_iso_stamps_with_offset_are_accepted() -> None:
    stamps = ["2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T01:30:00Z"]
    series = parse_measure(body_2026(curve(stamps)), measure=CURVE, direction=CONS)
    assert [r.end.astimezone(UTC).strftime("%H:%M") for r in series.readings] == ["00:30", "01:00", "01:30"]


def test_overlapping_intervals_are_rejected() -> None:
    points = [
        {"v": "1", "d": "2026-01-10 10:00:00", "p": "PT30M"},
        {"v": "1", "d": "2026-01-10 10:15:00", "p": "PT30M"},
    ]
    with pytest.raises(InvalidResponseError, match="overlaps"):
        parse_measure(body_2026(points), measure=CURVE, direction=CONS)


# ------------------------------------------------------------ steps


@pytest.mark.parametrize(("step", "minutes"), [("PT5M", 5), ("PT10M", 10), ("PT15M", 15), ("PT60M", 60), ("PT1H", 60)])
def test_explicit_steps(step: str, minutes: int) -> None:
    stamps = day_stamps(date(2026, 1, 10), minutes)
    series = parse_measure(body_2026(curve(stamps, step)), measure=CURVE, direction=CONS)
    assert len(series.readings) == 24 * 60 // minutes
    assert all(r.end - r.start == timedelta(minutes=minutes) for r in series.readings)
    assert series.readings[0].start == paris(2026, 1, 10)
    assert series.energy_wh() == pytest.approx(24_000)


def test_mixed_steps() -> None:
    points = [
        {"v": "600", "d": "2026-01-10 01:00:00", "p": "PT60M"},
        {"v": "300", "d": "2026-01-10 01:30:00", "p": "PT30M"},
        {"v": "100", "d": "2026-01-10 01:40:00", "p": "PT10M"},
    ]
    series = parse_measure(body_2026(points), measure=CURVE, direction=CONS)
    assert [r.duration_h for r in series.readings] == [1.0, 0.5, pytest.approx(1 / 6)]
    assert series.readings[0].start == paris(2026, 1, 10)


def test_missing_steps_are_inferred_from_spacing() -> None:
    stamps = ["2026-01-10 00:15:00", "2026-01-10 00:30:00", "2026-01-11 00:15:00", "2026-01-11 00:30:00"]
    series = parse_measure(
        body_v5([{"value": "4", "date": s} for s in stamps], unit=None), measure=CURVE, direction=CONS
    )
    assert [r.end - r.start for r in series.readings] == [timedelta(minutes=15)] * 4


def test_single_point_without_step_defaults_to_30_minutes() -> None:
    series = parse_measure(body_v5([{"value": "4", "date": "2026-01-10 00:30:00"}]), measure=CURVE, direction=CONS)
    assert series.readings[0].start == paris(2026, 1, 10)


def test_first_point_far_from_next_defaults_to_30_minutes() -> None:
    stamps = ["2026-01-10 00:30:00", "2026-01-12 00:30:00"]
    series = parse_measure(body_v5([{"value": "4", "date": s} for s in stamps]), measure=CURVE, direction=CONS)
    assert [r.duration_h for r in series.readings] == [0.5, 0.5]


@pytest.mark.parametrize("step", ["P1D", "PT2H", "30M", "PT0M", "", 30])
def test_bad_curve_steps(step: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_measure(
            body_2026(
                curve(["2026-01-10 10:00:00"], step=None) and [{"v": "1", "d": "2026-01-10 10:00:00", "p": step}]
            ),
            measure=CURVE,
            direction=CONS,
        )


def test_parse_step() -> None:
    assert parse_step("PT30M") == timedelta(minutes=30)
    assert parse_step("P1D") == timedelta(days=1)
    assert parse_step("PT1H30M") == timedelta(minutes=90)
    assert parse_step("pt45s") == timedelta(seconds=45)
    for bad in ("P", "PT", "1H", None):
        with pytest.raises(InvalidResponseError):
            parse_step(bad)


def test_parse_step_remembers_a_few_steps_and_never_a_wrong_one() -> None:
    """Every point of a load curve carries its step: the parsed ones are remembered, a bounded few (a body cannot grow
    the memory with made-up durations), and a remembered step is the same answer, for bad text too."""
    for _ in range(2):  # the second round answers from what the first remembered
        assert [parse_step(f"PT{n}M") for n in range(1, 200)] == [timedelta(minutes=n) for n in range(1, 200)]
        assert parse_step("PT30M") == timedelta(minutes=30)
        assert parse_step(" pt1h ") == timedelta(hours=1)
        for bad in ("PT0M", "P", "PT-5M"):
            with pytest.raises(InvalidResponseError):
                parse_step(bad)
    assert len(parsers._STEPS) <= parsers._STEPS_KEPT


# ------------------------------------------------------------ values and holes


HOLES = [None, "", "  ", "null", "NULL", " null "]
"""Every way a value says "no measure": JSON null, empty or blank, the text "null" (a null turned into text)."""
SHAPES = ["2026", "v5", "v5_unwrapped"]
"""Data Connect 2026 (also what Conso API's French types pass through), v5 wrapped, v5 unwrapped (Conso API's
legacy types)."""


def shaped(shape: str, points: list[tuple[Any, str]], measure: Measure, direction: Direction = CONS) -> dict[str, Any]:
    """A body of ``shape`` for (value, stamp) points; load-curve points carry their step."""
    unit, physique, aggregate = {
        CURVE: ("W", "PA", "average"),
        DAILY: ("Wh", "EA", "sum"),
        PMAX: ("VA", "PMA", "maximum"),
    }[measure]
    curve_step = measure is CURVE
    if shape == "2026":
        points_2026 = [{"v": v, "d": d, **({"p": "PT30M"} if curve_step else {})} for v, d in points]
        return body_2026(points_2026, unite=unit, physique=physique, metier="CONS" if direction is CONS else "PROD")
    points_v5 = [{"value": v, "date": d, **({"interval_length": "PT30M"} if curve_step else {})} for v, d in points]
    body = body_v5(points_v5, unit=unit, aggregate=aggregate)
    return body if shape == "v5" else body["meter_reading"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("hole", HOLES)
def test_a_hole_keeps_the_rest_of_the_curve_window(shape: str, hole: object) -> None:
    stamps = day_stamps(date(2026, 1, 10))
    values: list[object] = [str(100 + i) for i in range(len(stamps))]
    values[20] = hole
    series = parse_measure(shaped(shape, list(zip(values, stamps, strict=True)), CURVE), measure=CURVE, direction=CONS)
    assert [r.value for r in series.readings] == [100.0 + i for i in range(48) if i != 20]
    assert series.holes == ((paris(2026, 1, 10, 10), paris(2026, 1, 10, 10, 30)),)
    assert series.readings[-1].end == paris(2026, 1, 11)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("hole", HOLES)
@pytest.mark.parametrize("measure", [DAILY, PMAX])
def test_a_hole_keeps_the_rest_of_the_daily_window(shape: str, hole: object, measure: Measure) -> None:
    days = [date(2026, 1, 10) + timedelta(days=i) for i in range(7)]
    stamps = [f"{day} 18:42:00" if measure is PMAX else day.isoformat() for day in days]
    values: list[object] = [str(1000 * (i + 1)) for i in range(7)]
    values[3] = hole
    series = parse_measure(
        shaped(shape, list(zip(values, stamps, strict=True)), measure), measure=measure, direction=CONS
    )
    assert [r.value for r in series.readings] == [1000.0, 2000.0, 3000.0, 5000.0, 6000.0, 7000.0]
    assert [r.start for r in series.readings] == [paris(d.year, d.month, d.day) for d in days if d != days[3]]
    assert series.holes == ((paris(2026, 1, 13), paris(2026, 1, 14)),)


@pytest.mark.parametrize("measure", [CURVE, DAILY, PMAX])
@pytest.mark.parametrize("direction", [CONS, PROD])
def test_empty_grandeur_is_no_data_not_an_error(measure: Measure, direction: Direction) -> None:
    """``"grandeur": []`` is valid (Swagger: "un tableau vide est renvoyé pour ce cas"): an empty Series."""
    body = {
        "idPrm": PRM,
        "etapeMetier": "BRUT",
        "periode": {"dateDebut": "2026-01-10", "dateFin": "2026-01-17"},
        "grandeur": [],
        "contexte": [],
    }
    series = parse_measure(body, measure=measure, direction=direction, prm=PRM)
    assert (series.prm, series.direction, series.measure) == (PRM, direction, measure)
    assert series.readings == ()
    assert series.holes == ()
    assert series.quality == "BRUT"
    # The same answer as a series without points, in every shape.
    for shape in SHAPES:
        assert parse_measure(shaped(shape, [], measure, direction), measure=measure, direction=direction) == series
    del body["idPrm"]
    assert parse_measure(body, measure=measure, direction=direction, prm=PRM).prm == PRM
    with pytest.raises(InvalidResponseError, match="another PRM"):
        parse_measure({**body, "idPrm": "99999999999999"}, measure=measure, direction=direction, prm=PRM)


@pytest.mark.parametrize("hole", [None, "", "  "])
def test_null_or_empty_values_are_holes(hole: object) -> None:
    points = curve(["2026-01-10 00:30:00", "2026-01-10 01:00:00", "2026-01-10 01:30:00"])
    points[1]["v"] = hole
    series = parse_measure(body_2026(points), measure=CURVE, direction=CONS)
    assert len(series.readings) == 2
    assert series.holes == ((paris(2026, 1, 10, 0, 30), paris(2026, 1, 10, 1)),)
    assert series.energy_wh() == 1000


def test_missing_value_key_is_a_hole() -> None:
    series = parse_measure(body_2026([{"d": "2026-01-10 00:30:00", "p": "PT30M"}]), measure=CURVE, direction=CONS)
    assert series.readings == ()
    assert len(series.holes) == 1


@pytest.mark.parametrize("value", [1234, 1234.0, "1234", "1234.0", " 1234 ", "1.234e3"])
def test_numeric_values_are_accepted(value: object) -> None:
    series = parse_measure(body_2026(curve(["2026-01-10 00:30:00"], value=value)), measure=CURVE, direction=CONS)
    assert series.readings[0].value == 1234.0


@pytest.mark.parametrize("value", ["abc", "12,5", "nan", "inf", "-5", -5, True, [1], {"v": 1}, float("nan"), "1_000"])
def test_bad_values_are_rejected(value: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_measure(body_2026(curve(["2026-01-10 00:30:00"], value=value)), measure=CURVE, direction=CONS)


@pytest.mark.parametrize(("unit", "factor"), [("W", 1), ("kW", 1000), ("w", 1)])
def test_curve_units(unit: str, factor: int) -> None:
    body = body_2026(curve(["2026-01-10 00:30:00"], value="1.5"), unite=unit)
    assert parse_measure(body, measure=CURVE, direction=CONS).readings[0].value == 1.5 * factor


@pytest.mark.parametrize(
    ("measure", "unit", "stamp"),
    [
        (CURVE, "Wh", "2026-01-10 00:30:00"),
        (CURVE, "VA", "2026-01-10 00:30:00"),
        (DAILY, "W", "2026-01-10"),
        (PMAX, "Wh", "2026-01-10 10:00:00"),
        (CURVE, "MW", "2026-01-10 00:30:00"),
        (CURVE, 3, "2026-01-10 00:30:00"),
    ],
)
def test_wrong_units_are_rejected(measure: Measure, unit: Any, stamp: str) -> None:
    with pytest.raises(InvalidResponseError):
        parse_measure(body_2026([{"v": "1", "d": stamp}], unite=unit), measure=measure, direction=CONS)


def test_kwh_daily_and_kva_max_power_are_converted() -> None:
    daily = parse_measure(body_2026([{"v": "1.5", "d": "2026-01-10"}], unite="kWh"), measure=DAILY, direction=CONS)
    assert daily.readings[0].value == 1500
    assert daily.unit == "Wh"
    peak = parse_measure(body_2026([{"v": "6", "d": "2026-01-10 10:00:00"}], unite="kVA"), measure=PMAX, direction=CONS)
    assert peak.readings[0].value == 6000
    assert peak.unit == "VA"


# ------------------------------------------------------------ daily and max power


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)])
def test_daily_readings_span_the_local_day(day: date, hours: int) -> None:
    series = parse_measure(body_2026([{"v": "1000", "d": day.isoformat()}], unite="Wh"), measure=DAILY, direction=CONS)
    reading = series.readings[0]
    assert reading.start == paris(day.year, day.month, day.day)
    assert reading.duration_h == hours
    assert reading.at is None


def test_daily_accepts_local_midnight_stamps() -> None:
    points = [{"v": "1", "d": "2026-01-10 00:00:00"}, {"v": "2", "d": "2026-01-11T00:00:00+01:00"}]
    series = parse_measure(body_2026(points, unite="Wh"), measure=DAILY, direction=CONS)
    assert [r.start for r in series.readings] == [paris(2026, 1, 10), paris(2026, 1, 11)]


@pytest.mark.parametrize("stamp", ["2026-01-10 10:00:00", 20260110, "10/01/2026", "2026-13-01"])
def test_daily_rejects_non_days(stamp: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_measure(body_2026([{"v": "1", "d": stamp}], unite="Wh"), measure=DAILY, direction=CONS)


def test_daily_rejects_repeated_days_and_records_holes() -> None:
    points = [{"v": "1", "d": "2026-01-10"}, {"v": "1", "d": "2026-01-10"}]
    with pytest.raises(InvalidResponseError, match="repeats"):
        parse_measure(body_2026(points, unite="Wh"), measure=DAILY, direction=CONS)
    holes = parse_measure(body_2026([{"v": None, "d": "2026-03-29"}], unite="Wh"), measure=DAILY, direction=CONS)
    assert holes.holes == ((paris(2026, 3, 29), paris(2026, 3, 30)),)


def test_max_power_on_dst_days_and_holes() -> None:
    points = [
        {"v": "5000", "d": "2026-10-25 02:30:00"},
        {"v": None, "d": "2026-10-26 08:00:00"},
        {"v": "4000", "d": "2026-10-27 19:01:02"},
    ]
    series = parse_measure(body_2026(points, unite="VA", physique="PMA"), measure=PMAX, direction=CONS)
    # PEP 495: an ambiguous ZoneInfo time never compares equal across zones, so compare in UTC
    assert series.readings[0].at is not None
    assert series.readings[0].at.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert series.readings[0].duration_h == 25
    assert series.holes == ((paris(2026, 10, 26), paris(2026, 10, 27)),)
    assert series.readings[1].at == paris(2026, 10, 27, 19, 1, 2)


def test_max_power_monthly_step() -> None:
    points = [{"v": "5000", "d": "2026-02-14 19:00:00"}, {"v": "6000", "d": "2026-03-29 19:00:00"}]
    series = parse_measure(body_2026(points, unite="VA", pas="P1M"), measure=PMAX, direction=CONS)
    assert [(r.start, r.end) for r in series.readings] == [
        (paris(2026, 2, 1), paris(2026, 3, 1)),
        (paris(2026, 3, 1), paris(2026, 4, 1)),
    ]
    dec = parse_measure(
        body_2026([{"v": "1", "d": "2026-12-24 19:00:00"}], unite="VA", pas="P1M"),
        measure=PMAX,
        direction=CONS,
    )
    assert dec.readings[0].end == paris(2027, 1, 1)


@pytest.mark.parametrize("stamp", ["2026-01-10", None])
def test_max_power_needs_a_time(stamp: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_measure(body_2026([{"v": "1", "d": stamp}], unite="VA"), measure=PMAX, direction=CONS)


def test_daily_rejects_missing_stamp() -> None:
    with pytest.raises(InvalidResponseError, match="day string"):
        parse_measure(body_2026([{"v": "1"}], unite="Wh"), measure=DAILY, direction=CONS)


def test_curve_rejects_day_stamps() -> None:
    with pytest.raises(InvalidResponseError, match="without time"):
        parse_measure(body_2026(curve(["2026-01-10"])), measure=CURVE, direction=CONS)


# ------------------------------------------------------------ shapes, PRM, direction


def test_unwrapped_v5_body() -> None:
    body = body_v5([{"value": "10", "date": "2026-01-10"}], unit="Wh", aggregate="sum")["meter_reading"]
    series = parse_measure(body, measure=DAILY, direction=CONS, prm=PRM)
    assert series.readings[0].value == 10
    assert series.prm == PRM


def test_v5_aggregate_mismatch_is_rejected() -> None:
    body = body_v5([{"value": "10", "date": "2026-01-10"}], unit="Wh", aggregate="average")
    with pytest.raises(InvalidResponseError, match="aggregate"):
        parse_measure(body, measure=DAILY, direction=CONS)


def test_wrong_prm_is_rejected() -> None:
    with pytest.raises(InvalidResponseError, match="another PRM"):
        parse_measure(body_2026(curve(["2026-01-10 00:30:00"])), measure=CURVE, direction=CONS, prm="99999999999999")


def test_missing_prm_uses_the_requested_one_or_fails() -> None:
    body = body_2026(curve(["2026-01-10 00:30:00"]))
    del body["idPrm"]
    assert parse_measure(body, measure=CURVE, direction=CONS, prm=PRM).prm == PRM
    with pytest.raises(InvalidResponseError, match="no PRM"):
        parse_measure(body, measure=CURVE, direction=CONS)


def test_wrong_direction_grandeur_is_rejected() -> None:
    body = body_2026(curve(["2026-01-10 00:30:00"]), metier="PROD")
    with pytest.raises(InvalidResponseError, match="no CONS grandeur"):
        parse_measure(body, measure=CURVE, direction=CONS)
    assert parse_measure(body, measure=CURVE, direction=PROD).direction is PROD


def test_grandeur_is_chosen_by_direction_then_physical_quantity() -> None:
    body = body_2026([{"v": "1", "d": "2026-01-10 10:00:00"}], unite="VA", physique="PMA")
    extra = {
        "grandeurMetier": "CONS",
        "grandeurPhysique": "PMA1",
        "unite": "VA",
        "points": [{"v": "9", "d": "2026-01-10 11:00:00"}],
    }
    prod = {"grandeurMetier": "PROD", "grandeurPhysique": "PMA", "unite": "VA", "points": []}
    body["grandeur"] = [prod, extra, *body["grandeur"]]
    assert parse_measure(body, measure=PMAX, direction=CONS).readings[0].value == 1
    body["grandeur"].append(dict(body["grandeur"][-1]))
    with pytest.raises(InvalidResponseError, match="several"):
        parse_measure(body, measure=PMAX, direction=CONS)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        42,
        {},
        {"foo": 1},
        {"meter_reading": []},
        {"idPrm": PRM},
        {"idPrm": PRM, "grandeur": {}},
        {"idPrm": PRM, "grandeur": ["x"]},
        {"idPrm": PRM, "grandeur": [{"grandeurMetier": "CONS", "points": "x"}]},
        {"idPrm": PRM, "grandeur": [{"grandeurMetier": "CONS", "points": ["x"]}]},
        {"idPrm": {"x": 1}, "grandeur": []},
        {"idPrm": True, "grandeur": []},
        {"meter_reading": {"usage_point_id": PRM, "reading_type": "W", "interval_reading": []}},
        {"meter_reading": {"usage_point_id": PRM, "interval_reading": {}}},
        {"meter_reading": {"usage_point_id": PRM, "interval_reading": [1]}},
        {"status": 404, "message": "The Enedis API returned an error", "error": {}},
    ],
)
def test_malformed_measure_bodies(body: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_measure(body, measure=CURVE, direction=CONS)


def test_index_measure_is_refused_by_parse_measure() -> None:
    with pytest.raises(InvalidResponseError, match="parse_index"):
        parse_measure(body_2026([]), measure=Measure.INDEX, direction=CONS)


def test_empty_points_give_an_empty_series() -> None:
    series = parse_measure(body_2026([]), measure=CURVE, direction=CONS)
    assert series.readings == ()
    assert series.quality == "BRUT"


# ------------------------------------------------------------ datetime helpers


def test_local_datetime_helpers() -> None:
    assert parse_local_datetime("2026-10-25 02:30:00").utcoffset() == timedelta(hours=2)
    assert parse_local_datetime("2026-10-25 02:30:00", fold=1).utcoffset() == timedelta(hours=1)
    assert parse_local_datetime("2026-07-01T12:00:00.5+0200") == paris(2026, 7, 1, 12, 0, 0, 500000)
    assert parse_local_datetime("2026-07-01T10:00:00Z") == paris(2026, 7, 1, 12)
    assert parse_local_day("2026-07-01") == date(2026, 7, 1)
    assert parse_local_day("2026-06-30T22:00:00Z") == date(2026, 7, 1)
    with pytest.raises(InvalidResponseError):
        parse_local_day("2026-07-01 10:00:00")
    with pytest.raises(InvalidResponseError, match="bad offset"):
        parse_local_datetime("2026-07-01T10:00:00+2500")
    start, end = local_day_bounds(date(2026, 3, 29))
    assert end - start == timedelta(hours=23)
    assert to_paris(datetime(2026, 1, 1, tzinfo=UTC)).utcoffset() == timedelta(hours=1)


def test_returned_datetimes_sort_and_subtract_exactly() -> None:
    a = parse_local_datetime("2026-10-25 02:30:00")
    b = parse_local_datetime("2026-10-25 02:00:00", fold=1)
    assert a < b
    assert b - a == timedelta(minutes=30)
    assert a.astimezone(UTC) == paris(2026, 10, 25, 2, 30).astimezone(UTC)


# ------------------------------------------------------------ index


def sge_index_body(direction: str = "CONS") -> dict[str, Any]:
    """JSON equivalent of ``sge-tiers__cmdv3_C5-INDEX_response.xml`` (first two days, two classes)."""

    def values(*pairs: tuple[str, int | str]) -> list[dict[str, Any]]:
        return [{"d": d, "v": v, "iv": 0} for d, v in pairs]

    return {
        "idPrm": "09111642617347",
        "periode": {"dateDebut": "2023-04-01", "dateFin": "2023-05-01"},
        "grandeur": [],
        "contexte": [
            {
                "etapeMetier": "BRUT",
                "contexteReleve": "COL",
                "typeReleve": "AQ",
                "grandeur": [
                    {
                        "grandeurMetier": direction,
                        "grandeurPhysique": "EA",
                        "unite": "Wh",
                        "points": [],
                        "calendrier": [
                            {
                                "idCalendrier": "FC000050",
                                "libelleCalendrier": "6 cadrans",
                                "classeTemporelle": [
                                    {
                                        "idClasseTemporelle": "BUHP",
                                        "libelleClasseTemporelle": "Bleu Heures Pleines",
                                        "codeCadran": "IDX_EAS_F2",
                                        "valeur": values(
                                            ("2023-04-01 00:00:00", 1422334),
                                            ("2023-04-02 00:00:00", "1439264"),
                                        ),
                                    },
                                    {
                                        "idClasseTemporelle": "BUHC",
                                        "libelleClasseTemporelle": "Bleu Heures Creuses",
                                        "codeCadran": "IDX_EAS_F1",
                                        "valeur": values(("2023-04-01 00:00:00", 1000), ("2023-04-02 00:00:00", None)),
                                    },
                                ],
                            },
                            {
                                "idCalendrier": "DI000001",
                                "libelleCalendrier": "Sans différenciation temporelle",
                                "classeTemporelle": [
                                    {
                                        "idClasseTemporelle": "BASE",
                                        "libelleClasseTemporelle": "Base",
                                        "codeCadran": "IDX_EAS_D1",
                                        "valeur": values(("2023-04-01 00:00:00", 1423334)),
                                    }
                                ],
                            },
                        ],
                        "cadranTotalisateur": {
                            "codeCadran": "IDX_EAS_T",
                            "valeur": values(("2023-04-01 00:00:00", 1423334), ("2023-04-02 00:00:00", 1440264.0)),
                        },
                    }
                ],
            }
        ],
    }


@pytest.mark.parametrize("hole", HOLES)
def test_index_hole_values_are_skipped(hole: object) -> None:
    body = sge_index_body()
    body["contexte"][0]["grandeur"][0]["calendrier"][0]["classeTemporelle"][0]["valeur"][0]["v"] = hole
    supplier = parse_index(body, direction=CONS).supplier_registers()
    assert [(v.at, v.value_wh) for v in supplier[0].values] == [(paris(2023, 4, 2), 1439264)]


def test_index_like_the_sge_analogue() -> None:
    index = parse_index(sge_index_body(), direction=CONS, prm="09111642617347")
    assert index.quality == "BRUT"
    supplier = index.supplier_registers()
    assert [(r.class_id, r.code) for r in supplier] == [("BUHP", "IDX_EAS_F2"), ("BUHC", "IDX_EAS_F1")]
    assert supplier[0].values[1].value_wh == 1439264
    assert supplier[0].values[0].at == paris(2023, 4, 1)
    assert supplier[0].calendar_label == "6 cadrans"
    assert len(supplier[1].values) == 1  # the null value is skipped, not 0
    assert [r.class_id for r in index.distributor_registers()] == ["BASE"]
    assert index.totaliser is not None
    assert index.totaliser.code == "IDX_EAS_T"
    assert [v.value_wh for v in index.totaliser.values] == [1423334, 1440264]


def test_index_merges_contexts_and_rejects_conflicts() -> None:
    body = sge_index_body()
    body["contexte"].append(json.loads(json.dumps(body["contexte"][0])))
    index = parse_index(body, direction=CONS)
    assert len(index.registers) == 3
    assert len(index.registers[0].values) == 2
    body["contexte"][1]["grandeur"][0]["cadranTotalisateur"]["valeur"][0]["v"] = 1
    with pytest.raises(InvalidResponseError, match="two different values"):
        parse_index(body, direction=CONS)


def test_index_direction_prm_and_empty() -> None:
    with pytest.raises(InvalidResponseError, match="wrong direction"):
        parse_index(sge_index_body("PROD"), direction=CONS)
    assert parse_index(sge_index_body("PROD"), direction=PROD).registers
    with pytest.raises(InvalidResponseError, match="another PRM"):
        parse_index(sge_index_body(), direction=CONS, prm=PRM)
    empty = parse_index({"idPrm": PRM, "grandeur": [], "contexte": []}, direction=CONS)
    assert empty.registers == ()
    assert empty.totaliser is None
    assert parse_index({"contexte": []}, direction=CONS, prm=PRM).prm == PRM
    with pytest.raises(InvalidResponseError, match="no PRM"):
        parse_index({"contexte": []}, direction=CONS)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["contexte"][0]["grandeur"][0].update(unite="kWh"),
        lambda b: b["contexte"][0]["grandeur"][0]["calendrier"][0]["classeTemporelle"][0]["valeur"][0].update(v="1.5"),
        lambda b: b["contexte"][0]["grandeur"][0]["calendrier"][0]["classeTemporelle"][0]["valeur"][0].update(v=-1),
        lambda b: b["contexte"][0]["grandeur"][0]["calendrier"][0]["classeTemporelle"][0]["valeur"][0].update(v=True),
        lambda b: b["contexte"][0]["grandeur"][0]["calendrier"][0]["classeTemporelle"][0]["valeur"][0].update(d=None),
        lambda b: b["contexte"][0]["grandeur"][0]["calendrier"][0]["classeTemporelle"][0].pop("codeCadran"),
        lambda b: b["contexte"][0]["grandeur"][0]["calendrier"][0].pop("idCalendrier"),
        lambda b: b["contexte"][0]["grandeur"][0]["cadranTotalisateur"].pop("codeCadran"),
        lambda b: b.update(contexte={}),
    ],
)
def test_index_malformed(mutate: Any) -> None:
    body = sge_index_body()
    mutate(body)
    with pytest.raises(InvalidResponseError):
        parse_index(body, direction=CONS)


# ------------------------------------------------------------ contracts, addresses


def contracts_v5(*ids: str, **contract: Any) -> dict[str, Any]:
    return {
        "customer": {
            "customer_id": "1",
            "usage_points": [
                {
                    "usage_point": {"usage_point_id": i, "usage_point_status": "com", "meter_type": "AMM"},
                    "contracts": {
                        "subscribed_power": "9 kVA",
                        "last_activation_date": "2013-08-14+01:00",
                        **contract,
                    },
                }
                for i in ids
            ],
        }
    }


def test_contract_v5_picks_the_matching_usage_point() -> None:
    body = contracts_v5("11111111111111", PRM, subscribed_power="12 kVA")
    contract = parse_contract_v5(body, PRM)
    assert contract.prm == PRM
    assert contract.subscribed_power_kva == 12
    assert contract.last_activation_date == date(2013, 8, 14)
    assert contract.has_consumption
    assert not contract.has_production
    with pytest.raises(InvalidResponseError, match="matches"):
        parse_contract_v5(body, "22222222222222")


@pytest.mark.parametrize(
    ("power", "expected"),
    [
        ("9 kVA", 9.0),
        ("6kva", 6.0),
        ("9000 VA", 9.0),
        ("7,5 kVA", 7.5),
        (12, 12.0),
        (None, None),
        ("<masque>", None),
    ],
)
def test_subscribed_power_forms(power: object, expected: float | None) -> None:
    assert parse_contract_v5(contracts_v5(PRM, subscribed_power=power), PRM).subscribed_power_kva == expected


@pytest.mark.parametrize(
    "body",
    [
        contracts_v5(PRM, subscribed_power="beaucoup"),
        contracts_v5(PRM, last_activation_date="14/08/2013"),
        contracts_v5(PRM, segment=["C5"]),
        contracts_v5(PRM, segment=False),
        {"customer": {"usage_points": []}},
        {"customer": []},
        None,
    ],
)
def test_contract_v5_malformed(body: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_contract_v5(body, PRM)


SITUATION_CONS = {
    "usage_point_id": PRM,
    "contract_type": "Contrat GRD-F",
    "distribution_tariff": "Tarif BT<=36kVA Base",
    "subscribed_power": {"unit": "kVA", "value": "9"},
    "segment": "C5",
}
SITUATION_PROD = {"usage_point_id": "<masque>", "contract_type": "Contrat GRD-A", "segment": "P4"}
COMPTAGE = {
    "dispositifComptage": {"typeComptage": {"code": "AMM", "libelle": "Compteur Linky"}},
    "compteurs": [],
    "relais": {"plageHeuresCreuses": "HC (22H00-6H00)"},
}


def test_contract_2026_full_merge() -> None:
    synth = {
        "segments": [{"segment": "C5"}, {"segment": "P4"}],
        "consumption_last_activation_date": "2018-08-31T00:00:00+0200",
        "generation_last_activation_date": "2024-07-31T00:00:00+0200",
        "services_level": "Communicant (ouvert aux services)",
    }
    contract = parse_contract_2026([SITUATION_PROD, SITUATION_CONS], synth, COMPTAGE, prm=PRM)
    assert contract.segment == "C5"
    assert contract.subscribed_power_kva == 9
    assert contract.offpeak_hours == "HC (22H00-6H00)"
    assert contract.meter_type == "AMM"
    assert contract.last_activation_date == date(2018, 8, 31)
    assert contract.production_activation_date == date(2024, 7, 31)
    assert contract.has_production
    assert contract.has_consumption


def test_contract_2026_variants() -> None:
    only_prod = parse_contract_2026(SITUATION_PROD, prm=PRM)
    assert only_prod.has_production
    assert not only_prod.has_consumption
    assert only_prod.segment == "P4"
    empty = parse_contract_2026([], prm=PRM)
    assert not empty.has_consumption
    assert empty.segment is None
    plain = parse_contract_2026(
        [SITUATION_CONS],
        {"segments": [{"segment": "C5"}]},
        {"dispositifComptage": {"typeComptage": "CBE"}},
        prm=PRM,
    )
    assert plain.meter_type == "CBE"
    assert not plain.has_production
    assert plain.offpeak_hours is None
    label = parse_contract_2026(
        [SITUATION_CONS], None, {"dispositifComptage": {"typeComptage": {"libelle": "Linky"}}}, prm=PRM
    )
    assert label.meter_type == "Linky"
    by_segment = parse_contract_2026([SITUATION_CONS], {"segments": [{"segment": "P4"}]}, prm=PRM)
    assert by_segment.has_production
    masked = parse_contract_2026(
        [{**SITUATION_CONS, "subscribed_power": {"unit": "kVA", "value": "<masque>"}}], prm=PRM
    )
    assert masked.subscribed_power_kva is None


@pytest.mark.parametrize(
    ("situation", "synth", "comptage"),
    [
        ([{**SITUATION_CONS, "usage_point_id": "99999999999999"}], None, None),
        ("x", None, None),
        (["x"], None, None),
        ([SITUATION_CONS], [], None),
        ([SITUATION_CONS], {"segments": "C5"}, None),
        ([SITUATION_CONS], None, {"relais": "x"}),
        ([{**SITUATION_CONS, "subscribed_power": {"unit": "MW", "value": "9"}}], None, None),
    ],
)
def test_contract_2026_malformed(situation: object, synth: object, comptage: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_contract_2026(situation, synth, comptage, prm=PRM)


def test_addresses() -> None:
    address = parse_address_2026(
        {
            "address": {
                "number_street_name": "1 rue X",
                "postal_code_city": "75001 PARIS",
                "insee_code": "75101",
            }
        }
    )
    assert (address.street, address.postal_code, address.city, address.insee_code) == (
        "1 rue X",
        "75001",
        "PARIS",
        "75101",
    )
    with pytest.raises(InvalidResponseError):
        parse_address_2026({"adresse": {}})
    body = {
        "customer": {
            "usage_points": [
                {"usage_point": {"usage_point_id": PRM, "usage_point_addresses": {"locality": "Lieu-dit"}}}
            ]
        }
    }
    v5 = parse_address_v5(body, PRM)
    assert v5.street == "Lieu-dit"
    assert v5.postal_code_city is None
    with pytest.raises(InvalidResponseError):
        parse_address_v5({"customer": {"usage_points": [{"usage_point": {"usage_point_id": PRM}}]}})


# ------------------------------------------------------------ services, token


def test_subscribed_services() -> None:
    body = {
        "nbTotalServices": 2,
        "serviceSouscrit": [
            {
                "id": "1",
                "injection": False,
                "soutirage": True,
                "serviceCode": "ACCES",
                "dateDebut": "2026-10-05",
                "dateFin": "2029-10-05",
                "etatCode": "ACTIF",
                "pointId": PRM,
                "mesuresTypeCode": "CDC",
                "autorisation": {"autorisationId": 58249, "autorisationType": "EXPLICITE"},
            },
            {"pointId": PRM, "etatCode": "termine", "injection": "true"},
        ],
    }
    first, second = parse_subscribed_services(body)
    assert (first.prm, first.state, first.consumption, first.production) == (PRM, "ACTIF", True, False)
    assert first.start == date(2026, 10, 5)
    assert first.authorization_id == "58249"
    assert first.active
    assert (second.state, second.production, second.consumption, second.active) == (
        "TERMINE",
        True,
        False,
        False,
    )
    assert parse_subscribed_services({"nbTotalServices": 3}) == []


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"serviceSouscrit": {}},
        {"serviceSouscrit": [{"etatCode": "ACTIF"}]},
        {"serviceSouscrit": [{"pointId": PRM}]},
        {"serviceSouscrit": [{"pointId": PRM, "etatCode": "ACTIF", "soutirage": "oui"}]},
    ],
)
def test_subscribed_services_malformed(body: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_subscribed_services(body)


@pytest.mark.parametrize(("expires", "seconds"), [(12600, 12600.0), ("12600", 12600.0), (3599.5, 3599.5)])
def test_token(expires: object, seconds: float) -> None:
    assert parse_token({"access_token": "abc.def", "expires_in": expires}) == ("abc.def", seconds)


@pytest.mark.parametrize(
    "body",
    [
        {"access_token": "SECRET-TOKEN"},
        {"access_token": "SECRET-TOKEN", "expires_in": "soon"},
        {"access_token": "SECRET-TOKEN", "expires_in": True},
        {"access_token": "SECRET-TOKEN", "expires_in": 0},
        {"access_token": "SECRET-TOKEN", "expires_in": float("inf")},
        {"access_token": "", "expires_in": 10},
        {"expires_in": 10},
        {"error": "invalid_client"},
        "SECRET-TOKEN",
    ],
)
def test_token_malformed_never_leaks(body: object) -> None:
    with pytest.raises(InvalidResponseError) as info:
        parse_token(body)
    assert "SECRET-TOKEN" not in str(info.value)


# ------------------------------------------------------------ errors


def err(status: int, body: object, **kwargs: Any) -> errors.EnedisError:
    text = body if isinstance(body, str) else json.dumps(body)
    return parse_error(status, text, now=NOW, **kwargs)


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, {"fault": {"code": 900901, "message": "Invalid Credentials"}}, errors.AuthError, "900901"),
        (401, {"fault": {"code": 900902, "message": "Missing Credentials"}}, errors.AuthError, "900902"),
        (
            403,
            {"error": "ADAM_DC_0008", "error_description": "No consent"},
            errors.ConsentError,
            "ADAM_DC_0008",
        ),
        (
            403,
            {"error": "ADAM-ERR0061", "error_description": "not holder"},
            errors.NotHolderError,
            "ADAM-ERR0061",
        ),
        (
            403,
            {"code": "403", "message": "Le client n'est pas titulaire du point demandé"},
            errors.NotHolderError,
            "403",
        ),
        (404, {"code": "404", "message": "Pas de mesure trouvée pour ce point"}, errors.NoDataError, "404"),
        (404, {"error": "STM-ERR-0000014", "error_description": "x"}, errors.NoDataError, "STM-ERR-0000014"),
        (404, {"error": "STM-ERR-0000020", "error_description": "x"}, errors.NoDataError, "STM-ERR-0000020"),
        (400, {"error": "ADAM-ERR0125", "error_description": "x"}, errors.HistoryLimitError, "ADAM-ERR0125"),
        (400, {"error": "ADAM-DC-0016", "error_description": "x"}, errors.HistoryLimitError, "ADAM-DC-0016"),
        (400, {"error": "ADAM-DC-0015", "error_description": "x"}, errors.WindowTooLongError, "ADAM-DC-0015"),
        (400, {"error": "ADAM-ERR0126", "error_description": "x"}, errors.WindowTooLongError, "ADAM-ERR0126"),
        (
            400,
            {"error": "ADAM-ERR0075", "error_description": "x"},
            errors.CurveNotEnabledError,
            "ADAM-ERR0075",
        ),
        (
            400,
            {"error": "invalid_request", "error_description": "Start date parameter is required"},
            errors.InvalidDatesError,
            "invalid_request",
        ),
        (
            400,
            {"error": "invalid_request", "error_description": "usage_point_id is required"},
            errors.RequestError,
            "invalid_request",
        ),
        (400, {"error": "ADAM-XYZ", "error_description": "x"}, errors.RequestError, "ADAM-XYZ"),
        (405, {"status": 405, "message": "Seule la méthode GET est autorisée"}, errors.RequestError, None),
        (
            400,
            {"status": 400, "message": "Paramètres invalides", "error": {"issues": [], "name": "ZodError"}},
            errors.RequestError,
            None,
        ),
        (
            500,
            {"error": "ADAM-DC-0500", "error_description": "Technical Exception"},
            errors.ServerError,
            "ADAM-DC-0500",
        ),
        (
            500,
            {"status": 500, "message": "Impossible de rafraîchir le token. Réessayez plus tard"},
            errors.ServerError,
            None,
        ),
        (502, "", errors.ServerError, None),
        (
            503,
            {"error": 503, "error_description": "Service unavailable for the moment."},
            errors.ServerError,
            "503",
        ),
        (504, "<html><body><h1>504 Gateway Time-out</h1></body></html>", errors.ServerError, None),
        (200, "not json at all", errors.InvalidResponseError, None),
        (200, "", errors.InvalidResponseError, None),
        (302, "", errors.InvalidResponseError, None),
        (
            200,
            {"error": "ADAM-ERR0069", "error_description": "x"},
            errors.WrongDirectionError,
            "ADAM-ERR0069",
        ),
        (
            404,
            {"fault": {"code": 900906, "message": "No matching resource found"}},
            errors.RequestError,
            "900906",
        ),
        (400, [1, 2], errors.UnrecognizedResponseError, None),
        (404, {"detail": "Not found"}, errors.UnrecognizedResponseError, None),
        (
            400,
            {"error": "ADAM-DC-0009", "error_description": "consent start"},
            errors.OutOfRangeError,
            "ADAM-DC-0009",
        ),
    ],
)
def test_error_mapping(status: int, body: object, cls: type[errors.EnedisError], code: str | None) -> None:
    error = err(status, body)
    assert type(error) is cls
    assert error.code == code
    assert error.status == status
    assert error.description


NGINX_404 = (
    "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center>"
    "<hr><center>nginx</center></body></html>"
)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, "404: Not Found"),  # aiohttp's (Home Assistant's own, when the URL points at it)
        (404, NGINX_404),
        (404, ""),
        (404, {"detail": "Not Found"}),  # FastAPI / Django REST
        (404, {"statusCode": 404, "message": "Cannot GET /consommation_quotidienne", "error": "Not Found"}),  # NestJS
        (404, {"timestamp": "2026-11-22T10:00:00Z", "status": 404, "error": "Not Found", "path": "/x"}),  # Spring
        (404, {"status": 404, "message": "Not Found", "path": "/x"}),  # not only Conso API's keys
        (404, "Pas de mesure trouvée pour ce point"),  # the right words, but not in an Enedis body
        (404, [1, 2]),
        (405, "405: Method Not Allowed"),
        (400, "<html><body><h1>400 Bad Request</h1></body></html>"),
    ],
)
def test_error_that_is_not_enedis_is_unrecognised(status: int, body: object) -> None:
    """A page or another API's JSON is neither "no data" nor a request Enedis refused (issue 10 #4)."""
    error = err(status, body)
    assert type(error) is errors.UnrecognizedResponseError
    assert isinstance(error, errors.InvalidResponseError)
    assert error.status == status
    assert not error.retryable
    assert error.description.startswith("not an Enedis or gateway answer")
    assert "<" not in error.description


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (404, {"error": "no_data_found", "error_description": "no measure found for this usage point"}, "NoDataError"),
        (404, {"error": "no_data_found"}, "NoDataError"),  # a known code is enough
        (404, {"code": "404", "message": "Pas de mesure trouvée pour ce point"}, "NoDataError"),  # Swagger
        # Conso API relaying an Enedis 404 whose body was text: the gateway's wrapper is recognisable.
        (404, {"status": 404, "message": "The Enedis API returned an error", "error": "Not Found"}, "NoDataError"),
        (404, {"fault": {"code": 900906, "message": "No matching resource found"}}, "RequestError"),
        # Statuses that mean the same whatever the body: credentials, a firewall, quotas, server trouble.
        (401, "401: Unauthorized", "AuthError"),
        (403, "<html><body>Access denied</body></html>", "AuthError"),
        (429, "<html><body>Too Many Requests</body></html>", "RateLimitError"),
        (408, "Request Timeout", "ServerError"),
        (502, NGINX_404.replace("404", "502"), "ServerError"),
    ],
)
def test_error_recognised_or_meaningful_status(status: int, body: object, cls: str) -> None:
    assert type(err(status, body)).__name__ == cls


def test_error_html_is_stripped_and_truncated() -> None:
    page = (
        "<!DOCTYPE html><html><head><style>p{}</style><script>x()</script></head><body><p>Service&nbsp;down "
        + "x" * 500
        + "</p></body></html>"
    )
    error = err(503, page)
    assert "<" not in error.description
    assert "p{}" not in error.description
    assert error.description.startswith("Service down")
    assert len(error.description) <= 300


def test_api_not_subscribed_names_the_api() -> None:
    error = err(
        403,
        {
            "code": "900908",
            "message": "Resource forbidden ",
            "description": "API Subscription validation failed.",
        },
        api="synth_contrat_auto/v1",
    )
    assert isinstance(error, errors.ApiNotSubscribedError)
    assert error.api == "synth_contrat_auto/v1"
    assert not error.retryable


def test_quota_q4_2020_body() -> None:
    body = {"error": "429", "error_description": "Quota Q4 reached  Call threshold allowed on 0:-30:-40"}
    error = err(429, body)
    assert isinstance(error, errors.RateLimitError)
    assert error.code == "429"
    assert error.retry_after is None
    assert error.retryable


def test_quota_q3_defaults_to_one_second() -> None:
    error = err(429, {"error": "429", "error_description": "Quota Q3 reached"})
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 1.0


def test_next_access_time_in_the_past_is_zero_not_negative() -> None:
    body = {
        "code": "900804",
        "message": "Message throttled out",
        "nextAccessTime": "2026-Jul-17 03:00:00+0000 UTC",
    }
    error = err(429, body)
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 0
    assert error.retry_at == datetime(2026, 7, 17, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("next_access", "expected"),
    [
        ("2026-Jul-17 05:00:00+0000 UTC", datetime(2026, 7, 17, 5, tzinfo=UTC)),
        ("2026-Jul-17 07:00:00+0200", datetime(2026, 7, 17, 5, tzinfo=UTC)),
        ("2026-07-17T05:00:00Z", datetime(2026, 7, 17, 5, tzinfo=UTC)),
        ("2026-07-17 05:00:00", datetime(2026, 7, 17, 5, tzinfo=UTC)),
        (1784264400000, datetime(2026, 7, 17, 5, tzinfo=UTC)),
        ("1784264400", datetime(2026, 7, 17, 5, tzinfo=UTC)),
        ("2026-Foo-17 05:00:00", None),
        ("2026-07-17", None),
        ("garbage", None),
        (1e300, None),
        ({"x": 1}, None),
    ],
)
def test_next_access_time_forms(next_access: object, expected: datetime | None) -> None:
    error = err(429, {"code": "900804", "message": "Message throttled out", "nextAccessTime": next_access})
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_at == expected
    if expected is not None:
        assert error.retry_after == (expected - NOW).total_seconds()
    else:
        assert error.retry_after is None


def test_next_access_time_from_the_description() -> None:
    body = {
        "fault": {
            "code": 900800,
            "message": "Message throttled out",
            "description": "You can access API after 2026-Jul-17 04:30:00+0000 UTC",
        }
    }
    error = err(429, body)
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 1800


@pytest.mark.parametrize(
    ("header", "after"),
    [
        ("120", 120.0),
        ("Fri, 17 Jul 2026 04:10:00 GMT", 600.0),
        ("Fri, 17 Jul 2026 03:10:00 GMT", 0.0),
        ("whenever", None),
    ],
)
def test_retry_after_header(header: str, after: float | None) -> None:
    error = err(429, "Too many requests", headers={"Content-Type": "text/plain", "retry-after": header})
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == after
    assert (error.retry_at is None) == (after is None)


def test_retry_after_header_without_zone_is_utc() -> None:
    error = err(429, "", headers={"Retry-After": "Fri, 17 Jul 2026 04:10:00"})
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 600


def test_rate_limit_without_now_uses_the_clock() -> None:
    error = parse_error(429, json.dumps({"code": "900804", "nextAccessTime": "2000-Jan-01 00:00:00+0000 UTC"}))
    assert error.retry_after == 0


def test_quota_without_429_status_is_still_a_rate_limit() -> None:
    assert type(err(500, {"error": "x", "error_description": "Daily quota exceeded"})) is errors.RateLimitError


def test_deeply_nested_wrappers_stop() -> None:
    node: dict[str, Any] = {"error": "ADAM-ERR0069", "error_description": "x"}
    for _ in range(10):
        node = {"status": 400, "message": "wrapped", "error": node}
    error = err(400, node)
    assert type(error) is errors.RequestError
    assert error.description == "wrapped"


def test_curve_rejects_missing_stamp() -> None:
    with pytest.raises(InvalidResponseError, match="date string"):
        parse_measure(body_2026([{"v": "1", "p": "PT30M"}]), measure=CURVE, direction=CONS)


def test_error_code_that_is_not_a_scalar_is_dropped() -> None:
    error = err(400, {"code": {"nested": 1}, "message": "Bad"})
    assert type(error) is errors.RequestError
    assert error.code is None
    assert error.description == "Bad"


def test_rate_limit_with_unrelated_headers_has_no_hint() -> None:
    error = err(429, "", headers={"Content-Type": "text/plain"})
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after is None
    assert error.retry_at is None
    assert error.description == "empty HTTP 429 response"
