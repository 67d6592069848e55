"""Tests of the tariff module (pure functions, real strings and numbers, no mocks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
import json
import math
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.enedis import tariffs
from custom_components.enedis.api.calendar import PARIS, day_bounds
from custom_components.enedis.api.models import Direction, IndexSeries, Reading, Register, RegisterValue
from custom_components.enedis.api.parsers import parse_local_datetime
from custom_components.enedis.ledger import CurveState, DayInput, build_hours, hourly_from_curve
from custom_components.enedis.tariffs import (
    HPHC_REGISTER_CLASSES,
    TEMPO_CLASSES,
    TEMPO_OFFPEAK,
    TEMPO_REGISTER_CLASSES,
    OffpeakFormatError,
    OffpeakWindow,
    PricePeriod,
    convert_price,
    daily_register_energy,
    format_offpeak,
    hourly_compensation,
    hourly_cost,
    month_hours,
    parse_offpeak,
    priced_hours,
    reconcile_split,
    round_series,
    round_split,
    split_offpeak,
    split_tempo,
    tempo_colour,
    tempo_day,
)
from tests.fake_enedis.data import OFFPEAK_HOURS as FAKE_OFFPEAK_HOURS

HOUR = timedelta(hours=1)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)
WINTER = date(2026, 1, 15)
SUMMER = date(2026, 7, 15)


def fixed(moment: datetime) -> datetime:
    """A UTC instant as the parser gives it: Paris wall time with a fixed offset."""
    local = moment.astimezone(PARIS)
    offset = local.utcoffset()
    assert offset is not None
    return local.astimezone(timezone(offset))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local wall-clock time (not in the autumn repeat) as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def curve(
    start: datetime, end: datetime, step_min: int, watts: Callable[[int], float] = lambda k: 1000 + k
) -> tuple[Reading, ...]:
    """Readings of ``step_min`` minutes from ``start`` to ``end`` (UTC instants), value ``watts(k)``."""
    step = timedelta(minutes=step_min)
    readings: list[Reading] = []
    k = 0
    moment = start
    while moment < end:
        readings.append(Reading(start=fixed(moment), end=fixed(moment + step), value=watts(k)))
        moment += step
        k += 1
    return tuple(readings)


def day_curve(day: date, step_min: int = 30, watts: Callable[[int], float] = lambda k: 1000 + k) -> tuple[Reading, ...]:
    return curve(*day_bounds(day), step_min, watts)


def energy_between(readings: tuple[Reading, ...], lower: datetime, upper: datetime) -> float:
    """Wh of ``readings`` inside ``[lower, upper)``."""
    return sum(r.value * max(min(r.end, upper) - max(r.start, lower), timedelta(0)) / HOUR for r in readings)


def hours_of_day(day: date) -> list[datetime]:
    lower, upper = day_bounds(day)
    return [lower + i * HOUR for i in range(round((upper - lower) / HOUR))]


def assert_split_matches_ledger(
    readings: tuple[Reading, ...], offpeak: Mapping[datetime, float], peak: Mapping[datetime, float]
) -> None:
    total = hourly_from_curve(readings)
    assert list(offpeak) == list(total)
    assert list(peak) == list(total)
    for hour, wh in total.items():
        assert hour.tzinfo is UTC
        assert offpeak[hour] + peak[hour] == pytest.approx(wh, abs=1e-9)
        assert offpeak[hour] >= 0
        assert peak[hour] >= 0


# --- off-peak strings from the real fixtures -------------------------------------------------------------

OFFPEAK_KEYS = {"offpeak_hours", "plageHeuresCreuses"}


def _offpeak_strings(node: Any) -> Iterator[str]:
    """Every ``offpeak_hours`` / ``plageHeuresCreuses`` string of a JSON body (a schema's ``example`` too)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in OFFPEAK_KEYS:
                if isinstance(value, str):
                    yield value
                elif isinstance(value, dict) and isinstance(value.get("example"), str):
                    yield value["example"]
            yield from _offpeak_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _offpeak_strings(item)


def fixture_offpeak_strings() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in sorted(FIXTURES.rglob("*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        found.extend((path.name, text) for text in _offpeak_strings(body))
    return found


FIXTURE_OFFPEAK = fixture_offpeak_strings()

# What each real string means (the strings themselves are read from the fixture files above).
EXPECTED_WINDOWS: dict[str, tuple[OffpeakWindow, ...]] = {
    "HC (0H54-6H54;11H54-13H54)": (OffpeakWindow(54, 414), OffpeakWindow(714, 834)),
    "HC (23H30-7H30)": (OffpeakWindow(1410, 450),),
    "HC (22H50-6H50)": (OffpeakWindow(1370, 410),),
    "HC (1H30-8H00;12H30-14H00)": (OffpeakWindow(90, 480), OffpeakWindow(750, 840)),
    "HC (23h00-7h30)": (OffpeakWindow(1380, 450),),
    "HC (22H00-6H00)": (OffpeakWindow(1320, 360),),
}


def test_fixtures_hold_the_known_offpeak_strings() -> None:
    files = {name for name, _ in FIXTURE_OFFPEAK}
    assert {
        "apiEnedis__contracts_v4_capture.json",
        "apiEnedis__contracts_v4_offpeak_HC_23H30-7H30.json",
        "myelectricaldatapy__contracts_v5_via_med.json",
        "eddie__contracts_v5.json",
        "med-new__spec_enedis_v5_08-contract.json",
    } <= files
    assert len({text for _, text in FIXTURE_OFFPEAK}) >= 5


@pytest.mark.parametrize(("name", "text"), FIXTURE_OFFPEAK, ids=[f"{n}:{t}" for n, t in FIXTURE_OFFPEAK])
def test_every_fixture_offpeak_string_parses_and_formats_back(name: str, text: str) -> None:
    windows = parse_offpeak(text)
    assert windows
    if text in EXPECTED_WINDOWS:
        assert windows == EXPECTED_WINDOWS[text]
    # The canonical form is the Enedis one (upper-case H).
    assert format_offpeak(windows) == text.replace("h", "H")
    assert parse_offpeak(format_offpeak(windows)) == windows
    # A whole normal day always splits into the window lengths.
    off_minutes = sum(window.minutes for window in windows)
    offpeak, peak = split_offpeak(day_curve(WINTER, 10, lambda _: 600), windows)
    assert sum(offpeak.values()) == pytest.approx(600 * off_minutes / 60, abs=1e-9)
    assert sum(peak.values()) == pytest.approx(600 * (1440 - off_minutes) / 60, abs=1e-9)


def test_fake_enedis_offpeak_string() -> None:
    assert parse_offpeak(FAKE_OFFPEAK_HOURS) == (OffpeakWindow(1320, 360),)


# --- parse / format --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # v5 forms
        ("HC (22H00-6H00)", ((1320, 360),)),
        ("HC (23h00-7h30)", ((1380, 450),)),
        ("HC (1H30-8H00;12H30-14H00)", ((90, 480), (750, 840))),
        # plausible 2026 plageHeuresCreuses variants: no wrapper, other separators, spacing, zeros
        ("22H00-6H00", ((1320, 360),)),
        ("HC(22H00-06H00)", ((1320, 360),)),
        ("  hc ( 22h00 - 06h00 )  ", ((1320, 360),)),
        ("22:00-06:00", ((1320, 360),)),
        ("22:00:00-06:00:00", ((1320, 360),)),
        ("HC: 22H00-6H00", ((1320, 360),)),
        ("HC (22 H 00 - 6 H 00)", ((1320, 360),)),
        ("22H-6H", ((1320, 360),)),
        ("22-6", ((1320, 360),)),
        ("22h00 \u2013 6h00", ((1320, 360),)),
        ("22h00 à 6h00", ((1320, 360),)),
        ("HC (1H30-8H00 ; 12H30-14H00)", ((90, 480), (750, 840))),
        ("1H30-8H00,12H30-14H00", ((90, 480), (750, 840))),
        ("01:30-08:00, 12:30-14:00", ((90, 480), (750, 840))),
        ("HC (1H30-8H00) HC (12H30-14H00)", ((90, 480), (750, 840))),
        ("HC (12H30-14H00;1H30-8H00)", ((90, 480), (750, 840))),  # sorted by start
        ("1H30-8H00 12H30-14H00", ((90, 480), (750, 840))),
        ("1H30-8H00/12H30-14H00", ((90, 480), (750, 840))),
        # 24H00 is midnight; touching windows are fine
        ("HC (12H00-24H00)", ((720, 0),)),
        ("HC (22H00-24H00;0H00-6H00)", ((0, 360), (1320, 0))),
        ("HC (2H00-4H00;4H00-6H00)", ((120, 240), (240, 360))),
        # a whole day, split in two touching windows, is exactly 24 h
        ("HC (6H00-22H00;22H00-6H00)", ((360, 1320), (1320, 360))),
    ],
)
def test_parse_offpeak_variants(text: str, expected: tuple[tuple[int, int], ...]) -> None:
    windows = parse_offpeak(text)
    assert tuple((w.start, w.end) for w in windows) == expected
    assert parse_offpeak(format_offpeak(windows)) == windows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("HC", "no off-peak window"),
        ("HC ()", "no off-peak window"),
        ("HC (;)", "no off-peak window"),
        ("HP (22H00-6H00)", "unexpected"),
        ("HC (22H00)", "unexpected"),
        ("HC (22H00-6H00;garbage)", "unexpected"),
        ("HC (22H5-6H00)", "unexpected"),
        ("HC (123H00-6H00)", "unexpected"),
        ("HC (25H00-6H00)", "hour 25 > 24"),
        ("HC (22H00-30H00)", "hour 30 > 24"),
        ("HC (22H60-6H00)", "minute 60 > 59"),
        ("22:00-06:75", "minute 75 > 59"),
        ("HC (24H30-6H00)", "past midnight"),
        ("22:00:30-06:00:00", "seconds"),
        ("HC (22H00-22H00)", "zero-length"),
        ("HC (0H00-24H00)", "zero-length"),
        ("HC (22H00-6H00;5H00-7H00)", "overlap"),
        ("HC (22H00-6H00;23H00-1H00)", "overlap"),
        ("HC (22H00-6H00;22H00-6H00)", "overlap"),
        ("HC (1H00-3H00;2H00-4H00)", "overlap"),
        ("HC (0H00-20H00;10H00-8H00)", "more than 24 h"),
    ],
)
def test_parse_offpeak_rejects(text: str, message: str) -> None:
    with pytest.raises(OffpeakFormatError, match=message):
        parse_offpeak(text)


def test_offpeak_format_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse_offpeak("")


def test_offpeak_window_validation_and_helpers() -> None:
    night = OffpeakWindow(1320, 360)
    assert night.crosses_midnight
    assert night.minutes == 480
    assert night.segments() == ((0, 360), (1320, 1440))
    assert night.contains(0)
    assert night.contains(1439.5)
    assert night.contains(359)
    assert not night.contains(360)
    assert not night.contains(720)
    assert str(night) == "22H00-6H00"
    evening = OffpeakWindow(720, 0)
    assert evening.crosses_midnight
    assert evening.minutes == 720
    assert evening.segments() == ((720, 1440),)
    noon = OffpeakWindow(750, 840)
    assert not noon.crosses_midnight
    assert noon.segments() == ((750, 840),)
    for start, end in [(0, 0), (-1, 5), (5, 1440), (1440, 0)]:
        with pytest.raises(OffpeakFormatError):
            OffpeakWindow(start, end)
    with pytest.raises(OffpeakFormatError, match="minute of the day"):
        OffpeakWindow(True, 5)  # noqa: FBT003


def test_format_offpeak() -> None:
    assert format_offpeak([OffpeakWindow(750, 840), OffpeakWindow(90, 480)]) == "HC (1H30-8H00;12H30-14H00)"
    assert format_offpeak(TEMPO_OFFPEAK) == "HC (22H00-6H00)"
    assert format_offpeak([OffpeakWindow(0, 59)]) == "HC (0H00-0H59)"
    with pytest.raises(OffpeakFormatError, match="no off-peak window"):
        format_offpeak([])
    with pytest.raises(OffpeakFormatError, match="overlap"):
        format_offpeak([OffpeakWindow(1320, 360), OffpeakWindow(300, 400)])


# --- HP/HC split ----------------------------------------------------------------------------------------

NIGHT = parse_offpeak("HC (22H00-6H00)")


_EPOCH_2026 = int(datetime(2026, 3, 28, tzinfo=UTC).timestamp())  # the spring change (29 March) is inside


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 240 * 3600),  # a start within ten days around the spring change, any second
            st.integers(-600, 7200),  # length: empty, reversed, short, across hours
            st.integers(0, 9000),
        ),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 1439)), min_size=0, max_size=2),
    st.booleans(),
)
def test_the_whole_seconds_split_is_the_datetime_split(
    intervals: list[tuple[int, int, int]], raw_windows: list[tuple[int, int]], autumn: bool
) -> None:
    """`split_offpeak` splits curves with whole-second bounds (every source's) in integer seconds: the same numbers,
    to the last bit, as its datetime path (DST changes, windows across midnight, duplicates, empty intervals)."""
    base = int(datetime(2026, 10, 22, tzinfo=UTC).timestamp()) if autumn else _EPOCH_2026
    unique = {(float(base + start), float(base + start + length)): float(value) for start, length, value in intervals}
    windows: list[OffpeakWindow] = []
    for first, length in raw_windows:
        window = OffpeakWindow(first, (first + length) % 1440)
        try:
            windows = list(_validated_windows([*windows, window]))
        except OffpeakFormatError:
            continue
    spans = sorted(span for window in windows for span in window.segments())
    fast = tariffs._split_whole_seconds(unique, spans)
    reference = tariffs._split_datetimes(unique, spans)
    assert fast == reference
    assert [list(part) for part in fast] == [list(part) for part in reference]  # same order


def _validated_windows(windows: list[OffpeakWindow]) -> list[OffpeakWindow]:
    """The windows as `split_offpeak` accepts them (no overlap), through its own check."""
    return list(parse_offpeak(format_offpeak(windows))) if windows else []


def test_a_curve_with_fractions_of_a_second_is_split_by_the_datetime_path() -> None:
    """Bounds that are not whole seconds (no source sends them) still split exactly as the ledger counts them."""
    start = paris(2026, 1, 15, 21, 50) + timedelta(microseconds=250_000)
    readings = curve(start, start + 2 * HOUR, 30, lambda k: [600, 900, 1500, 3000][k])
    offpeak, peak = split_offpeak(readings, NIGHT)
    assert_split_matches_ledger(readings, offpeak, peak)
    for local_hour, part in ((21, peak), (22, offpeak), (23, offpeak)):
        lower = paris(2026, 1, 15, local_hour)
        assert part[lower] == pytest.approx(energy_between(readings, lower, lower + HOUR), abs=1e-9)
        assert part[lower] > 0


def test_aligned_winter_day_splits_on_local_hours() -> None:
    readings = day_curve(WINTER, 30)
    offpeak, peak = split_offpeak(readings, NIGHT)
    assert_split_matches_ledger(readings, offpeak, peak)
    total = hourly_from_curve(readings)
    for hour in hours_of_day(WINTER):
        local_hour = hour.astimezone(PARIS).hour
        if local_hour >= 22 or local_hour < 6:
            assert (offpeak[hour], peak[hour]) == (total[hour], 0.0)
        else:
            assert (offpeak[hour], peak[hour]) == (0.0, total[hour])
    # Local 00:00-06:00 is 23:00-05:00 UTC in winter; the first half-hours are 1000 W and 1001 W.
    assert offpeak[utc(2026, 1, 14, 23)] == 1000.5
    assert peak[utc(2026, 1, 15, 5)] == (1012 + 1013) / 2
    assert sum(offpeak.values()) == pytest.approx(sum((1000 + k) / 2 for k in [*range(12), *range(44, 48)]))


def test_summer_day_uses_summer_offset() -> None:
    readings = day_curve(SUMMER, 60, lambda _: 1000)
    offpeak, peak = split_offpeak(readings, NIGHT)
    # Local 06:00 is 04:00 UTC in summer; local 22:00 is 20:00 UTC.
    assert offpeak[utc(2026, 7, 15, 3)] == 1000
    assert peak[utc(2026, 7, 15, 4)] == 1000
    assert peak[utc(2026, 7, 15, 19)] == 1000
    assert offpeak[utc(2026, 7, 15, 20)] == 1000
    assert sum(offpeak.values()) == 8000
    assert sum(peak.values()) == 16000


def test_window_starting_at_50_splits_half_hours_by_time() -> None:
    # HC (22H50-6H50), 30-min steps on the half-hour: 22:30-23:00 local is 10 min off-peak, 20 min peak.
    windows = parse_offpeak("HC (22H50-6H50)")
    readings = day_curve(WINTER, 30, lambda _: 1200)
    offpeak, peak = split_offpeak(readings, windows)
    assert_split_matches_ledger(readings, offpeak, peak)
    hour_22 = paris(2026, 1, 15, 22)  # 21:00 UTC
    assert offpeak[hour_22] == pytest.approx(1200 * 10 / 60)
    assert peak[hour_22] == pytest.approx(1200 * 50 / 60)
    hour_6 = paris(2026, 1, 15, 6)
    assert offpeak[hour_6] == pytest.approx(1200 * 50 / 60)
    assert peak[hour_6] == pytest.approx(1200 * 10 / 60)
    assert sum(offpeak.values()) == pytest.approx(1200 * 8, abs=1e-9)


def test_misaligned_steps_cross_the_window_and_the_hour() -> None:
    # 30-min steps starting at 21:50 local against a window opening at 22:00: the reading 21:50-22:20 is
    # 10 min of peak in the 21h local hour and 20 min of off-peak in the 22h one.
    start = paris(2026, 1, 15, 21, 50)
    readings = curve(start, start + 2 * HOUR, 30, lambda k: [600, 900, 1500, 3000][k])
    offpeak, peak = split_offpeak(readings, NIGHT)
    assert_split_matches_ledger(readings, offpeak, peak)
    hour_21, hour_22, hour_23 = utc(2026, 1, 15, 20), utc(2026, 1, 15, 21), utc(2026, 1, 15, 22)
    assert peak == pytest.approx({hour_21: 600 / 6, hour_22: 0.0, hour_23: 0.0})
    assert offpeak == pytest.approx({hour_21: 0.0, hour_22: 600 / 3 + 900 / 2 + 1500 / 6, hour_23: 1500 / 3 + 3000 / 2})


@pytest.mark.parametrize("step_min", [5, 10, 15, 30, 60])
def test_ten_minute_steps_against_a_54_minute_window(step_min: int) -> None:
    # HC (0H54-6H54;11H54-13H54) (a real contract): never aligned with the steps.
    windows = parse_offpeak("HC (0H54-6H54;11H54-13H54)")
    readings = day_curve(WINTER, step_min, lambda k: 500 + 7 * (k % 11))
    offpeak, peak = split_offpeak(readings, windows)
    assert_split_matches_ledger(readings, offpeak, peak)
    # Whole hours of the windows are all off-peak, whole hours outside all peak.
    assert peak[paris(2026, 1, 15, 3)] == 0.0
    assert offpeak[paris(2026, 1, 15, 9)] == 0.0
    # 00:54-01:00: 6 of the 60 minutes; 06:00-06:54: 54 minutes.
    assert offpeak[paris(2026, 1, 15, 0)] == pytest.approx(
        energy_between(readings, paris(2026, 1, 15, 0, 54), paris(2026, 1, 15, 1)), abs=1e-9
    )
    assert offpeak[paris(2026, 1, 15, 6)] == pytest.approx(
        energy_between(readings, paris(2026, 1, 15, 6), paris(2026, 1, 15, 6, 54)), abs=1e-9
    )


def test_spring_day_has_46_half_hours_and_loses_an_off_peak_hour() -> None:
    readings = day_curve(SPRING, 30, lambda _: 1000)
    assert len(readings) == 46
    offpeak, peak = split_offpeak(readings, NIGHT)
    assert_split_matches_ledger(readings, offpeak, peak)
    assert len(offpeak) == 23
    # Local 00:00-06:00 lasts 5 real hours (02:00-03:00 does not exist), plus 22:00-24:00.
    assert sum(offpeak.values()) == pytest.approx(7000)
    assert sum(peak.values()) == pytest.approx(16000)
    # 23H30-7H30: 00:00-07:30 is 6.5 h, plus 23:30-24:00.
    offpeak, peak = split_offpeak(readings, parse_offpeak("HC (23H30-7H30)"))
    assert sum(offpeak.values()) == pytest.approx(7000)
    # A window inside the missing hour holds nothing; one across it only its real part.
    offpeak, _ = split_offpeak(readings, parse_offpeak("HC (2H00-3H00)"))
    assert sum(offpeak.values()) == 0
    offpeak, _ = split_offpeak(readings, parse_offpeak("HC (2H30-3H30)"))
    assert sum(offpeak.values()) == pytest.approx(500)
    assert offpeak[utc(2026, 3, 29, 1)] == pytest.approx(500)  # 03:00-03:30 CEST


def test_autumn_day_has_50_half_hours_and_both_2am_hours_follow_the_wall_clock() -> None:
    readings = day_curve(AUTUMN, 30, lambda k: 2000 + 10 * k)
    assert len(readings) == 50
    offpeak, peak = split_offpeak(readings, parse_offpeak("HC (2H00-3H00)"))
    assert_split_matches_ledger(readings, offpeak, peak)
    assert len(offpeak) == 25
    # Local 02:00-03:00 happens at 00:00 UTC (CEST) and again at 01:00 UTC (CET): both are off-peak.
    assert {hour for hour, wh in offpeak.items() if wh} == {utc(2026, 10, 25, 0), utc(2026, 10, 25, 1)}
    assert offpeak[utc(2026, 10, 25, 0)] == (2000 + 40 + 2000 + 50) / 2
    assert offpeak[utc(2026, 10, 25, 1)] == (2000 + 60 + 2000 + 70) / 2
    constant = day_curve(AUTUMN, 30, lambda _: 1000)
    offpeak, peak = split_offpeak(constant, NIGHT)
    assert sum(offpeak.values()) == pytest.approx(9000)  # 00:00-06:00 lasts 7 h, plus 22:00-24:00
    assert sum(peak.values()) == pytest.approx(16000)


@pytest.mark.parametrize("day", [WINTER, SPRING, SUMMER, AUTUMN])
@pytest.mark.parametrize("text", sorted(EXPECTED_WINDOWS))
@pytest.mark.parametrize("step_min", [10, 15, 30])
def test_split_matches_ledger_on_every_real_contract(day: date, text: str, step_min: int) -> None:
    readings = day_curve(day, step_min)
    offpeak, peak = split_offpeak(readings, parse_offpeak(text))
    assert_split_matches_ledger(readings, offpeak, peak)


def test_split_edge_cases() -> None:
    start = utc(2026, 1, 15, 22)  # 23:00 local, off-peak
    reading = Reading(start=fixed(start), end=fixed(start + HOUR), value=1000)
    empty = Reading(start=fixed(start), end=fixed(start), value=5000)
    reversed_ = Reading(start=fixed(start + HOUR), end=fixed(start), value=5000)
    offpeak, peak = split_offpeak([reading, reading, empty, reversed_], NIGHT)
    assert (offpeak, peak) == ({start: 1000.0}, {start: 0.0})
    # No window (Base contract): everything is peak.
    assert split_offpeak([reading], ()) == ({start: 0.0}, {start: 1000.0})
    assert split_offpeak([], NIGHT) == ({}, {})
    naive = datetime(2026, 1, 15, 10)
    with pytest.raises(ValueError, match="naive"):
        split_offpeak([Reading(start=naive, end=naive + HOUR, value=1)], NIGHT)
    with pytest.raises(OffpeakFormatError, match="overlap"):
        split_offpeak([reading], [OffpeakWindow(0, 120), OffpeakWindow(60, 180)])


# --- whole-Wh rounding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [WINTER, SPRING, AUTUMN])
@pytest.mark.parametrize("text", ["HC (22H50-6H50)", "HC (0H54-6H54;11H54-13H54)", "HC (1H30-8H00;12H30-14H00)"])
def test_round_split_adds_up_to_the_ledger_hours(day: date, text: str) -> None:
    readings = day_curve(day, 10, lambda k: 333 + 17 * (k % 13))
    hours = build_hours([DayInput(day, readings, CurveState.COMPLETE)])
    offpeak, peak = split_offpeak(readings, parse_offpeak(text))
    off_r, peak_r = round_split(offpeak, peak, hours)
    assert list(off_r) == list(hours)
    for hour, wh in hours.items():
        assert off_r[hour] + peak_r[hour] == wh
        assert off_r[hour] >= 0
        assert peak_r[hour] >= 0
        assert off_r[hour].is_integer()
        assert abs(off_r[hour] - offpeak[hour]) < 2
    assert abs(sum(off_r.values()) - sum(offpeak.values())) <= 1


def test_round_split_clamps_and_skips_unsplit_hours() -> None:
    h0, h1, h2 = utc(2026, 1, 15, 10), utc(2026, 1, 15, 11), utc(2026, 1, 15, 12)
    # The off-peak running total asks for 2 Wh in an hour of 1 Wh: clamped; h2 is not in the split.
    off_r, peak_r = round_split({h0: 1.6, h1: 0.4}, {h0: 0.0, h1: 0.2}, {h0: 1.0, h1: 1.0, h2: 5.0})
    assert off_r == {h0: 1.0, h1: 1.0}
    assert peak_r == {h0: 0.0, h1: 0.0}
    # The running total restarts every local day.
    midnight = paris(2026, 1, 16)
    off_r, _ = round_split({midnight - HOUR: 0.4, midnight: 0.4}, {}, {midnight - HOUR: 1.0, midnight: 1.0})
    assert off_r == {midnight - HOUR: 0.0, midnight: 0.0}
    for bad in (-1.0, 1.5):
        with pytest.raises(ValueError, match="whole non-negative"):
            round_split({h0: 0.0}, {h0: 0.0}, {h0: bad})


def test_round_series_keeps_whole_day_totals() -> None:
    hours = hours_of_day(WINTER)
    series = {"offpeak": dict.fromkeys(hours[:3], 1000 / 3), "peak": dict.fromkeys(hours, 10.25)}
    rounded = round_series(series)
    assert rounded["offpeak"] == {hours[0]: 333.0, hours[1]: 334.0, hours[2]: 333.0}
    assert sum(rounded["peak"].values()) == round(10.25 * 24)
    assert all(value.is_integer() for value in rounded["peak"].values())


# --- index registers -------------------------------------------------------------------------------------


def sge_index() -> IndexSeries:
    """The real SGE Tempo index response (April 2023, 6 supplier classes + distributor BASE)."""
    root = ET.parse(FIXTURES / "sge-tiers__cmdv3_C5-INDEX_response.xml").getroot()  # noqa: S314 - trusted fixture
    registers: list[Register] = []
    for calendar in root.iter("calendrier"):
        for klass in calendar.iter("classeTemporelle"):
            values = tuple(
                RegisterValue(at=parse_local_datetime(v.findtext("d", "")), value_wh=int(v.findtext("v", "")))
                for v in klass.iter("valeur")
            )
            registers.append(
                Register(
                    calendar_id=calendar.findtext("idCalendrier", ""),
                    calendar_label=calendar.findtext("libelleCalendrier", ""),
                    class_id=klass.findtext("idClasseTemporelle", ""),
                    class_label=klass.findtext("libelleClasseTemporelle", ""),
                    code=klass.findtext("codeCadran", ""),
                    values=values,
                )
            )
    return IndexSeries(prm="09111642617347", direction=Direction.CONSUMPTION, registers=tuple(registers))


def test_daily_register_energy_on_the_real_tempo_index() -> None:
    index = sge_index()
    days = daily_register_energy(index, TEMPO_REGISTER_CLASSES)
    # 30 daily values (04-01 .. 04-30) give 29 days.
    assert list(days) == [date(2023, 4, 1) + timedelta(days=i) for i in range(29)]
    assert days[date(2023, 4, 1)]["blue_peak"] == 1439264 - 1422334
    assert days[date(2023, 4, 4)]["blue_peak"] == 0  # a day of another colour
    assert all(set(classes) == set(TEMPO_CLASSES) for classes in days.values())
    # The six supplier registers add up to the distributor BASE register, day by day.
    (base,) = index.distributor_registers()
    base_values = [v.value_wh for v in base.values]
    for i, classes in enumerate(days.values()):
        assert sum(classes.values()) == base_values[i + 1] - base_values[i]
    # Distributor registers never count, even when mapped.
    assert daily_register_energy(index, {"BASE": "base"}) == {}
    # Grouping several registers into one class adds them up.
    grouped = daily_register_energy(
        index, {klass: "offpeak" if klass.endswith("HC") else "peak" for klass in TEMPO_REGISTER_CLASSES}
    )
    for day, classes in grouped.items():
        assert classes["offpeak"] == sum(days[day][c] for c in ("blue_offpeak", "white_offpeak", "red_offpeak"))
        assert classes["offpeak"] + classes["peak"] == sum(days[day].values())


def register(class_id: str, values: Mapping[datetime, int], calendar: str = "FC000012") -> Register:
    return Register(
        calendar_id=calendar,
        calendar_label="",
        class_id=class_id,
        class_label="",
        code="",
        values=tuple(RegisterValue(at=fixed(at), value_wh=v) for at, v in values.items()),
    )


def midnights(first: date, count: int) -> list[datetime]:
    return [day_bounds(first + timedelta(days=i))[0] for i in range(count)]


def test_daily_register_energy_gaps_meter_change_and_dst_days() -> None:
    stamps = midnights(date(2026, 3, 27), 6)  # 03-27 .. 04-01, through the spring change
    hp = register("HP", dict(zip(stamps, [1000, 1500, 2100, 2800, 100, 600], strict=True)))
    hc = register("HC", {at: 5000 + 300 * i for i, at in enumerate(stamps) if i != 1})  # 03-28 missing
    off_midnight = register("HC", {stamps[0] + HOUR: 1})  # not at a local midnight: ignored
    index = IndexSeries(prm="x", direction=Direction.CONSUMPTION, registers=(hp, hc, off_midnight))
    days = daily_register_energy(index, HPHC_REGISTER_CLASSES)
    # 03-27 and 03-28 lack an HC value, 03-30 goes down (meter change): left out.
    assert days == {
        date(2026, 3, 29): {"peak": 700.0, "offpeak": 300.0},
        date(2026, 3, 31): {"peak": 500.0, "offpeak": 300.0},
    }
    # Unmapped classes are ignored; nothing mapped gives nothing.
    assert daily_register_energy(index, {"HP": "peak"})[date(2026, 3, 28)] == {"peak": 600.0}
    assert daily_register_energy(index, {}) == {}


def test_daily_register_energy_across_a_calendar_change() -> None:
    # HP/HC until 05-03 00:00, then Tempo: the old registers stop and the new ones start that midnight.
    stamps = midnights(date(2026, 5, 1), 5)
    hp = register("HP", dict(zip(stamps[:3], [100, 200, 300], strict=True)))
    hc = register("HC", dict(zip(stamps[:3], [10, 20, 30], strict=True)))
    blue = register("BUHP", dict(zip(stamps[2:], [0, 50, 80], strict=True)), "FC000050")
    blue_hc = register("BUHC", dict(zip(stamps[2:], [0, 5, 7], strict=True)), "FC000050")
    index = IndexSeries(prm="x", direction=Direction.CONSUMPTION, registers=(hp, hc, blue, blue_hc))
    days = daily_register_energy(index, {**HPHC_REGISTER_CLASSES, **TEMPO_REGISTER_CLASSES})
    assert days == {
        date(2026, 5, 1): {"peak": 100.0, "offpeak": 10.0},
        date(2026, 5, 2): {"peak": 100.0, "offpeak": 10.0},
        date(2026, 5, 3): {"blue_peak": 50.0, "blue_offpeak": 5.0},
        date(2026, 5, 4): {"blue_peak": 30.0, "blue_offpeak": 2.0},
    }


# --- reconciliation ------------------------------------------------------------------------------------


def test_reconcile_scales_each_class_to_the_registers() -> None:
    readings = day_curve(WINTER, 30, lambda k: 800 + 5 * k)
    offpeak, peak = split_offpeak(readings, NIGHT)
    curve_off, curve_peak = sum(offpeak.values()), sum(peak.values())
    registers = {WINTER: {"offpeak": round(curve_off) + 37.0, "peak": round(curve_peak) - 12.0}}
    result = reconcile_split({"offpeak": offpeak, "peak": peak}, registers)
    assert sum(result["offpeak"].values()) == pytest.approx(registers[WINTER]["offpeak"])
    assert sum(result["peak"].values()) == pytest.approx(registers[WINTER]["peak"])
    factor = registers[WINTER]["offpeak"] / curve_off
    for hour, wh in offpeak.items():
        assert result["offpeak"][hour] == pytest.approx(wh * factor)
    # The sum over classes is the registers' total, 25 Wh above the curve.
    total = sum(result["offpeak"].values()) + sum(result["peak"].values())
    assert total == pytest.approx(sum(hourly_from_curve(readings).values()) + 25, abs=1)
    rounded = round_series(result)
    assert sum(rounded["offpeak"].values()) == registers[WINTER]["offpeak"]
    assert sum(rounded["peak"].values()) == registers[WINTER]["peak"]


def test_reconcile_spreads_register_energy_the_curve_lacks() -> None:
    hours = hours_of_day(WINTER)
    peak = {h: float(100 * (i + 1)) for i, h in enumerate(hours)}  # 100 .. 2400 Wh, total 30000
    offpeak = dict.fromkeys(hours, 0.0)
    result = reconcile_split({"offpeak": offpeak, "peak": peak}, {WINTER: {"offpeak": 3000.0, "peak": 30000.0}})
    assert result["peak"] == peak
    for i, hour in enumerate(hours):
        assert result["offpeak"][hour] == pytest.approx(3000 * 100 * (i + 1) / 30000)
    # Nothing at all in the curve: spread evenly; a class the split does not have is created.
    zero = dict.fromkeys(hours, 0.0)
    result = reconcile_split({"peak": zero}, {WINTER: {"offpeak": 240.0, "peak": 0.0}})
    assert result["offpeak"] == dict.fromkeys(hours, 10.0)
    assert result["peak"] == zero


def test_reconcile_leaves_other_days_and_classes_alone() -> None:
    day1, day2 = hours_of_day(WINTER), hours_of_day(WINTER + timedelta(days=1))
    offpeak = dict.fromkeys(day1 + day2, 10.0)
    peak = dict.fromkeys(day1 + day2, 20.0)
    extra = dict.fromkeys(day1, 1.0)
    registers = {
        WINTER: {"offpeak": 480.0, "peak": 240.0},  # offpeak x2, peak x0.5
        date(2026, 2, 1): {"offpeak": 99.0},  # no curve hours that day: nothing to reconcile
    }
    result = reconcile_split({"offpeak": offpeak, "peak": peak, "extra": extra}, registers)
    assert all(result["offpeak"][h] == 20.0 for h in day1)
    assert all(result["peak"][h] == 10.0 for h in day1)
    assert all(result["offpeak"][h] == 10.0 for h in day2)
    assert all(result["peak"][h] == 20.0 for h in day2)
    assert result["extra"] == extra
    assert set(result) == {"offpeak", "peak", "extra"}
    assert list(result["offpeak"]) == sorted(result["offpeak"])


def test_reconcile_skips_days_the_split_does_not_cover() -> None:
    # A partial curve (a hole) would otherwise be scaled up to the whole day's register energy.
    hours = hours_of_day(WINTER)[:20]
    split = {"offpeak": dict.fromkeys(hours, 10.0), "peak": dict.fromkeys(hours, 20.0)}
    assert reconcile_split(split, {WINTER: {"offpeak": 999.0, "peak": 999.0}}) == split
    # A Tempo day of unknown colour: its hours are in no series, so the calendar days it touches stay as is.
    readings = curve(*day_bounds(WINTER), 30, lambda _: 1000)
    series, unknown = split_tempo(*split_offpeak(readings, TEMPO_OFFPEAK), {WINTER: "bleu"})
    assert unknown == {WINTER - timedelta(days=1)}
    registers = {WINTER: dict.fromkeys(TEMPO_CLASSES, 0.0) | {"white_offpeak": 6000.0, "blue_peak": 16000.0}}
    assert reconcile_split(series, registers) == series


def test_reconcile_on_dst_days_uses_local_days() -> None:
    for day in (SPRING, AUTUMN):
        hours = hours_of_day(day)
        split = {"offpeak": dict.fromkeys(hours, 5.0), "peak": dict.fromkeys(hours, 10.0)}
        result = reconcile_split(split, {day: {"offpeak": 2.0 * len(hours), "peak": 0.0}})
        assert result["offpeak"] == dict.fromkeys(hours, 2.0)
        assert result["peak"] == dict.fromkeys(hours, 0.0)


# --- Tempo ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (paris(2026, 1, 15, 5, 59), date(2026, 1, 14)),
        (paris(2026, 1, 15, 6), date(2026, 1, 15)),
        (paris(2026, 1, 15, 23, 59), date(2026, 1, 15)),
        (paris(2026, 1, 16), date(2026, 1, 15)),
        (utc(2026, 1, 15, 5), date(2026, 1, 15)),  # 06:00 CET
        (utc(2026, 7, 15, 4), date(2026, 7, 15)),  # 06:00 CEST
        (utc(2026, 7, 15, 3), date(2026, 7, 14)),
        (utc(2026, 3, 29, 3, 30), date(2026, 3, 28)),  # 05:30 CEST on the spring day
        (utc(2026, 3, 29, 4), date(2026, 3, 29)),
        (utc(2026, 10, 25, 0, 30), date(2026, 10, 24)),  # 02:30 CEST
        (utc(2026, 10, 25, 1, 30), date(2026, 10, 24)),  # 02:30 CET, the second time
        (utc(2026, 10, 25, 5), date(2026, 10, 25)),  # 06:00 CET
        (fixed(utc(2026, 1, 15, 5)), date(2026, 1, 15)),
    ],
)
def test_tempo_day(instant: datetime, expected: date) -> None:
    assert tempo_day(instant) == expected


def test_tempo_day_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        tempo_day(datetime(2026, 1, 15, 7))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bleu", "blue"),
        ("BLEU", "blue"),
        ("Blue", "blue"),
        ("BLUE", "blue"),
        ("TEMPO_BLEU", "blue"),
        ("tempo-bleu", "blue"),
        ("Jour Bleu", "blue"),
        ("blanc", "white"),
        ("WHITE", "white"),
        ("TEMPO_BLANC", "white"),
        ("rouge", "red"),
        (" Red ", "red"),
        ("TEMPO_ROUGE", "red"),
        ("UNKNOWN", None),
        ("NON_DEFINI", None),
        ("", None),
        ("vert", None),
        (None, None),
    ],
)
def test_tempo_colour(value: str | None, expected: str | None) -> None:
    assert tempo_colour(value) == expected


def test_split_tempo_follows_the_06_00_day() -> None:
    # Two local days of constant 1000 W, HC 22:00-06:00.
    first, second = date(2026, 1, 15), date(2026, 1, 16)
    lower, _ = day_bounds(first)
    _, upper = day_bounds(second)
    readings = curve(lower, upper, 30, lambda _: 1000)
    offpeak, peak = split_offpeak(readings, TEMPO_OFFPEAK)
    colours = {date(2026, 1, 14): "BLUE", first: "rouge", second: "TEMPO_BLANC"}
    series, unknown = split_tempo(offpeak, peak, colours)
    assert set(series) == set(TEMPO_CLASSES)
    assert unknown == set()
    # 15th 00:00-06:00 belongs to the blue 14th; 06:00-22:00 is red peak; 22:00-06:00 (16th) red off-peak.
    assert sum(series["blue_offpeak"].values()) == 6000
    assert sum(series["blue_peak"].values()) == 0
    assert sum(series["red_peak"].values()) == 16000
    assert sum(series["red_offpeak"].values()) == 8000
    assert min(series["red_peak"]) == paris(2026, 1, 15, 6) == utc(2026, 1, 15, 5)
    assert max(series["red_offpeak"]) == paris(2026, 1, 16, 5)
    assert sum(series["white_peak"].values()) == 16000
    assert sum(series["white_offpeak"].values()) == 2000  # 22:00-24:00 of the 16th
    assert sum(sum(s.values()) for s in series.values()) == pytest.approx(48000)
    # Unknown colours: hours go nowhere and the Tempo days are reported.
    series, unknown = split_tempo(offpeak, peak, {first: "red", second: "???"})
    assert unknown == {date(2026, 1, 14), second}
    assert sum(sum(s.values()) for s in series.values()) == 24000
    assert set(series["red_offpeak"]) | set(series["red_peak"]) == {utc(2026, 1, 15, 5) + i * HOUR for i in range(24)}


def test_split_tempo_on_dst_days() -> None:
    # Spring: the Tempo day 03-28 06:00 -> 03-29 06:00 lasts 23 h; autumn 10-24 -> 10-25 lasts 25 h.
    for day, length in ((SPRING, 23), (AUTUMN, 25)):
        eve = day - timedelta(days=1)
        start = paris(eve.year, eve.month, eve.day, 6)
        end = paris(day.year, day.month, day.day, 6)
        readings = curve(start, end, 30, lambda _: 1000)
        offpeak, peak = split_offpeak(readings, TEMPO_OFFPEAK)
        series, unknown = split_tempo(offpeak, peak, {eve: "blanc"})
        assert unknown == set()
        assert len(series["white_offpeak"]) + len(series["white_peak"]) == 2 * length
        assert sum(series["white_peak"].values()) == 16000
        assert sum(series["white_offpeak"].values()) == pytest.approx((length - 16) * 1000)


def test_tempo_split_reconciles_with_the_six_registers() -> None:
    readings = day_curve(WINTER, 30, lambda k: 900 + k)
    offpeak, peak = split_offpeak(readings, TEMPO_OFFPEAK)
    series, _ = split_tempo(offpeak, peak, {WINTER - timedelta(days=1): "bleu", WINTER: "rouge"})
    registers = {WINTER: dict.fromkeys(TEMPO_CLASSES, 0.0) | {"blue_offpeak": 6000.0, "red_peak": 15000.0}}
    registers[WINTER]["red_offpeak"] = 2000.0
    result = round_series(reconcile_split(series, registers))
    assert {name: sum(hours.values()) for name, hours in result.items()} == registers[WINTER]


# --- prices and costs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0.2516, "€/kWh", 0.2516),
        (0.2516, "EUR/kWh", 0.2516),
        (0.2516, " eur / kwh ", 0.2516),
        (0.2516, "euros/kWh", 0.2516),
        (25.16, "c€/kWh", 0.2516),
        (25.16, "ct/kWh", 0.2516),
        (25.16, "cts/kWh", 0.2516),
        (251.6, "€/MWh", 0.2516),
        (251.6, "EUR/MWh", 0.2516),
        (-4.5, "€/MWh", -0.0045),
    ],
)
def test_convert_price(value: float, unit: str, expected: float) -> None:
    assert convert_price(value, unit) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("value", "unit"), [(1, "€/Wh"), (1, "kWh"), (1, ""), (1, "$/kWh"), (math.nan, "€/kWh")])
def test_convert_price_rejects(value: float, unit: str) -> None:
    with pytest.raises(ValueError, match=r"unit|not a number"):
        convert_price(value, unit)


def test_month_hours() -> None:
    assert month_hours(paris(2026, 1, 15)) == 744
    assert month_hours(paris(2026, 2, 15)) == 672
    assert month_hours(paris(2026, 3, 1)) == 743
    assert month_hours(paris(2026, 4, 30, 23)) == 720
    assert month_hours(paris(2026, 10, 31, 23)) == 745
    assert month_hours(paris(2026, 12, 31, 23)) == 744
    # 2026-02-28 23:00 UTC is March 1st local.
    assert month_hours(utc(2026, 2, 28, 23)) == 743


def month_energy(month_start: date, watts: float = 1000) -> dict[datetime, float]:
    following = (month_start + timedelta(days=32)).replace(day=1)
    lower, upper = day_bounds(month_start)[0], day_bounds(following)[0]
    return {lower + i * HOUR: watts for i in range(round((upper - lower) / HOUR))}


def test_hourly_cost_base_and_hphc_with_a_price_change() -> None:
    hours = hours_of_day(date(2026, 1, 31)) + hours_of_day(date(2026, 2, 1))
    offpeak = {h: 1234.0 if h.astimezone(PARIS).hour < 6 else 0.0 for h in hours}
    peak = {h: 0.0 if h.astimezone(PARIS).hour < 6 else 567.0 for h in hours}
    periods = [
        PricePeriod(start=fixed(paris(2026, 2, 1)), prices={"offpeak": 0.1696, "peak": 0.2146}),
        PricePeriod(start=fixed(paris(2025, 8, 1)), prices={"offpeak": 0.2068, "peak": 0.2700}),
    ]
    costs = hourly_cost({"offpeak": offpeak, "peak": peak}, periods)
    assert list(costs) == hours
    for hour in hours:
        old = hour < paris(2026, 2, 1)
        expected = offpeak[hour] / 1000 * (0.2068 if old else 0.1696) + peak[hour] / 1000 * (0.2700 if old else 0.2146)
        assert costs[hour] == pytest.approx(expected, abs=0.001)
    assert costs[paris(2026, 1, 31, 3)] == pytest.approx(1.234 * 0.2068)
    assert costs[paris(2026, 2, 1, 3)] == pytest.approx(1.234 * 0.1696)
    assert costs[paris(2026, 2, 1, 12)] == pytest.approx(0.567 * 0.2146)
    base = hourly_cost({"base": {hours[0]: 2500.0}}, [PricePeriod(fixed(paris(2026, 1, 1)), {"base": 0.1952})])
    assert base == {hours[0]: pytest.approx(0.488)}


def test_hourly_cost_skips_hours_before_the_first_period_and_checks_prices() -> None:
    hours = hours_of_day(WINTER)
    energy = {"peak": dict.fromkeys(hours, 1000.0), "offpeak": dict.fromkeys(hours, 0.0)}
    periods = [PricePeriod(start=paris(2026, 1, 15, 12), prices={"peak": 0.25})]
    costs = hourly_cost(energy, periods)
    assert min(costs) == paris(2026, 1, 15, 12)
    assert len(costs) == 12
    assert all(cost == pytest.approx(0.25) for cost in costs.values())
    assert hourly_cost(energy, []) == {}
    # A class with energy but no price: the hour gets no cost at all (not 0, not the priced part), and says why.
    mixed = {"peak": {hours[-1]: 1000.0, hours[-2]: 1000.0}, "offpeak": {hours[-1]: 1.0, hours[-2]: 0.0}}
    assert hourly_cost(mixed, periods, monthly_fee=30.0).keys() == {hours[-2]}
    costs, unpriced = priced_hours(mixed, periods, monthly_fee=30.0)
    assert list(unpriced) == [hours[-1]]
    assert "no 'offpeak' price" in unpriced[hours[-1]]
    assert costs[hours[-2]] == pytest.approx(0.25 + 30.0 / month_hours(hours[-2]))
    with pytest.raises(ValueError, match="not on the hour"):
        hourly_cost({"peak": {paris(2026, 1, 15, 13, 30): 1.0}}, periods)
    with pytest.raises(ValueError, match="naive"):
        PricePeriod(start=datetime(2026, 1, 1), prices={})


@pytest.mark.parametrize(
    ("month", "count"), [(date(2026, 1, 1), 744), (date(2026, 3, 1), 743), (date(2026, 10, 1), 745)]
)
def test_monthly_fee_sums_to_the_fee_over_a_month(month: date, count: int) -> None:
    fee = 15.47
    energy = month_energy(month)
    assert len(energy) == count
    periods = [PricePeriod(start=fixed(paris(2025, 8, 1)), prices={"base": 0.1952})]
    costs = hourly_cost({"base": energy}, periods, monthly_fee=fee)
    assert len(costs) == count
    assert sum(costs.values()) == pytest.approx(fee + count * 0.1952, abs=1e-9)
    fees_only = hourly_cost({"base": dict.fromkeys(energy, 0.0)}, periods, monthly_fee=fee)
    assert sum(fees_only.values()) == pytest.approx(fee, abs=1e-9)
    assert all(value == pytest.approx(fee / count) for value in fees_only.values())


def test_monthly_fee_follows_each_local_month() -> None:
    energy = month_energy(date(2026, 2, 1)) | month_energy(date(2026, 3, 1))
    periods = [PricePeriod(start=utc(2020, 1, 1), prices={"base": 0.0})]
    costs = hourly_cost({"base": energy}, periods, monthly_fee=12.0)
    february = [cost for hour, cost in costs.items() if hour.astimezone(PARIS).month == 2]
    march = [cost for hour, cost in costs.items() if hour.astimezone(PARIS).month == 3]
    assert len(february) == 672
    assert len(march) == 743
    assert sum(february) == pytest.approx(12.0, abs=1e-9)
    assert sum(march) == pytest.approx(12.0, abs=1e-9)
    assert costs[day_bounds(date(2026, 3, 1))[0]] == pytest.approx(12 / 743)


def test_hourly_compensation() -> None:
    hours = hours_of_day(SUMMER)
    production = {h: 2000.0 if 8 <= h.astimezone(PARIS).hour < 18 else 0.0 for h in hours}
    periods = [PricePeriod(start=fixed(paris(2026, 1, 1)), prices={"feed_in": convert_price(4.0, "c€/kWh")})]
    earned = hourly_compensation(production, periods)
    assert sum(earned.values()) == pytest.approx(20 * 0.04)
    assert earned[paris(2026, 7, 15, 12)] == pytest.approx(0.08)
    # No feed-in price: no compensation row (never 0 EUR for energy that was produced).
    assert hourly_compensation(production, [PricePeriod(start=utc(2026, 1, 1), prices={"base": 0.2})]) == {
        hour: 0.0 for hour, wh in production.items() if not wh
    }


# --- property: the split always adds up to the ledger ----------------------------------------------------

_BASES = [paris(2026, 1, 15), utc(2026, 3, 28, 22), utc(2026, 10, 24, 21), paris(2026, 7, 15)]


@st.composite
def windows_strategy(draw: st.DrawFn) -> tuple[OffpeakWindow, ...]:
    count = draw(st.integers(min_value=1, max_value=3))
    bounds = sorted(draw(st.sets(st.integers(min_value=0, max_value=1439), min_size=2 * count, max_size=2 * count)))
    if draw(st.booleans()):  # rotate: the last window crosses midnight
        bounds = bounds[1:] + bounds[:1]
    return tuple(OffpeakWindow(bounds[2 * i], bounds[2 * i + 1]) for i in range(count))


@st.composite
def readings_strategy(draw: st.DrawFn) -> tuple[Reading, ...]:
    base = draw(st.sampled_from(_BASES))
    step = timedelta(minutes=draw(st.sampled_from([5, 10, 15, 30, 60])))
    start = base + timedelta(minutes=draw(st.integers(min_value=0, max_value=59)))
    count = draw(st.integers(min_value=0, max_value=80))
    values = draw(st.lists(st.floats(min_value=0, max_value=20_000), min_size=count, max_size=count))
    readings = [
        Reading(start=fixed(start + i * step), end=fixed(start + (i + 1) * step), value=value)
        for i, value in enumerate(values)
    ]
    duplicate: bool = draw(st.booleans())
    if readings and duplicate:
        readings.append(readings[draw(st.integers(min_value=0, max_value=len(readings) - 1))])
    return tuple(readings)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(readings=readings_strategy(), windows=windows_strategy())
def test_property_split_adds_up_to_consumption(
    readings: tuple[Reading, ...], windows: tuple[OffpeakWindow, ...]
) -> None:
    offpeak, peak = split_offpeak(readings, windows)
    assert_split_matches_ledger(readings, offpeak, peak)
    assert parse_offpeak(format_offpeak(windows)) == tuple(sorted(windows, key=lambda w: w.start))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day=st.sampled_from([WINTER, SPRING, SUMMER, AUTUMN]),
    step_min=st.sampled_from([10, 15, 30]),
    values=st.lists(st.integers(min_value=0, max_value=9000), min_size=1, max_size=20),
    windows=windows_strategy(),
)
def test_property_round_split_is_exact_and_non_negative(
    day: date, step_min: int, values: list[int], windows: tuple[OffpeakWindow, ...]
) -> None:
    readings = day_curve(day, step_min, lambda k: values[k % len(values)])
    hours = build_hours([DayInput(day, readings, CurveState.COMPLETE)])
    offpeak, peak = split_offpeak(readings, windows)
    off_r, peak_r = round_split(offpeak, peak, hours)
    assert list(off_r) == list(hours)
    running_exact = running_rounded = 0.0
    for hour, wh in hours.items():
        assert off_r[hour] + peak_r[hour] == wh
        assert off_r[hour] >= 0
        assert peak_r[hour] >= 0
        running_exact += offpeak[hour]
        running_rounded += off_r[hour]
        assert abs(running_rounded - running_exact) <= 2.5 + 1e-9
