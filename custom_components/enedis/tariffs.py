"""Tariffs: off-peak windows, HP/HC and Tempo splits, index reconciliation, prices and costs.

Pure computation (no I/O, nothing from Home Assistant), on the same conventions as `ledger`: series are
``{UTC hour: Wh}`` mappings keyed by aware UTC datetimes on the hour, and local days are Europe/Paris days.

Off-peak windows (`parse_offpeak`) come from the contract string Enedis gives (v5 ``offpeak_hours``, Data
Connect 2026 ``comptage_auto`` ``relais.plageHeuresCreuses``), e.g. ``HC (22H00-6H00)`` or
``HC (1H30-8H00;12H30-14H00)``. Membership is by LOCAL wall-clock time of each real instant: on the autumn
DST day the local 02:00-03:00 happens twice and both occurrences follow the windows; on the spring day the
local 02:00-03:00 does not exist and counts for nothing.

Splits of the load curve (`split_offpeak`) add up, hour by hour, to what `ledger.hourly_from_curve` gives for
the same readings. The meter's own registers (`daily_register_energy`) are the billing truth per tariff class;
`reconcile_split` rescales the curve split of each day to them (see there for which total to keep).

Tempo (`split_tempo`): the Tempo day runs 06:00 to 06:00 local and is named by the date it starts on; its
off-peak hours are 22:00-06:00 (`TEMPO_OFFPEAK`), so an off-peak night belongs to the Tempo day of the evening.

Costs (`priced_hours`, `hourly_cost`): energy x the price of the period in force at the hour, plus the monthly
subscription fee in force spread evenly over the hours of its local calendar month. An hour whose price is unknown
gets no cost at all (not 0, not a part): it is left out and reported.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import itertools
import math
import re

from .api.calendar import day_bounds, local_day, paris_offset, to_paris, to_utc, utc_hour
from .api.models import IndexSeries, Reading
from .ledger import curve_spans

HOUR = timedelta(hours=1)
DAY_MINUTES = 24 * 60

OFFPEAK = "offpeak"
PEAK = "peak"
BASE = "base"
FEED_IN = "feed_in"
"""Price key of the feed-in (production) tariff, used by `hourly_compensation`."""

TEMPO_CLASSES: tuple[str, ...] = (
    "blue_offpeak",
    "blue_peak",
    "white_offpeak",
    "white_peak",
    "red_offpeak",
    "red_peak",
)
"""The six Tempo classes, ``<colour>_<offpeak|peak>``."""

HPHC_REGISTER_CLASSES: Mapping[str, str] = {
    "HC": OFFPEAK,
    "HP": PEAK,
    "HCH": OFFPEAK,
    "HPH": PEAK,
    "HCB": OFFPEAK,
    "HPB": PEAK,
}
"""Supplier register classes of HP/HC calendars (also seasonal, H = winter, B = summer) to our classes."""

TEMPO_REGISTER_CLASSES: Mapping[str, str] = {
    "BUHC": "blue_offpeak",
    "BUHP": "blue_peak",
    "BCHC": "white_offpeak",
    "BCHP": "white_peak",
    "RHC": "red_offpeak",
    "RHP": "red_peak",
}
"""Supplier register classes of the Tempo calendar (``FC000050``, "6 cadrans") to our classes."""

BASE_REGISTER_CLASSES: Mapping[str, str] = {"BASE": BASE}
"""Supplier register class of a Base calendar."""


# --------------------------------------------------------------------------------------------- helpers


def _by_utc_hour(hours: Mapping[datetime, float]) -> dict[datetime, float]:
    """``hours`` keyed by UTC hours."""
    return {utc_hour(hour): value for hour, value in hours.items()}


def _sorted(hours: Mapping[datetime, float]) -> dict[datetime, float]:
    return dict(sorted(hours.items()))


# ------------------------------------------------------------------------------------ off-peak windows


class OffpeakFormatError(ValueError):
    """An off-peak hours string (or window) that cannot be used."""


def _hhmm(minute: int) -> str:
    return f"{minute // 60}H{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class OffpeakWindow:
    """One off-peak window in minutes of the local day, half-open ``[start, end)``.

    ``start > end`` means the window crosses midnight (``22H00-6H00`` is ``OffpeakWindow(1320, 360)``);
    ``end == 0`` means it ends at midnight. Both are 0 to 1439 and never equal (a zero-length window).
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < DAY_MINUTES:
                msg = f"off-peak window {name} must be a minute of the day (0-1439), got {value!r}"
                raise OffpeakFormatError(msg)
        if self.start == self.end:
            msg = f"zero-length off-peak window {_hhmm(self.start)}-{_hhmm(self.end)}"
            raise OffpeakFormatError(msg)

    @property
    def crosses_midnight(self) -> bool:
        """Whether the window runs past local midnight (or ends exactly at it)."""
        return self.start > self.end

    @property
    def minutes(self) -> int:
        """Length of the window in minutes (1 to 1439)."""
        return (self.end - self.start) % DAY_MINUTES

    def segments(self) -> tuple[tuple[int, int], ...]:
        """The window as one or two half-open minute ranges inside ``[0, 1440]``."""
        if self.start < self.end:
            return ((self.start, self.end),)
        if self.end == 0:
            return ((self.start, DAY_MINUTES),)
        return ((0, self.end), (self.start, DAY_MINUTES))

    def contains(self, minute: float) -> bool:
        """Whether the minute of the local day ``minute`` (0 <= minute < 1440) is inside the window."""
        return any(lower <= minute < upper for lower, upper in self.segments())

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


TEMPO_OFFPEAK: tuple[OffpeakWindow, ...] = (OffpeakWindow(22 * 60, 6 * 60),)
"""Tempo off-peak hours: 22:00 to 06:00 local, every day."""

_TIME = r"(?<!\d)(\d{1,2})\s*(?:[hH]\s*(\d{2})?|:\s*(\d{2})(?:\s*:\s*(\d{2}))?)?(?!\d)"
_WINDOW = re.compile(_TIME + r"\s*(?:[-\u2010\u2011\u2012\u2013\u2014]|\bà\b|\bto\b)\s*" + _TIME, re.IGNORECASE)
_NOISE = re.compile(r"\bHC\b\s*:?|[\s()\[\]{};,/]", re.IGNORECASE)


def _minute_of(hour_text: str, minute_text: str | None, second_text: str | None, where: str) -> int:
    """Minute of the day of a parsed time; ``24H00`` is midnight (0)."""
    hour = int(hour_text)
    minute = int(minute_text) if minute_text is not None else 0
    if hour > 24:
        msg = f"hour {hour} > 24 in off-peak hours {where!r}"
        raise OffpeakFormatError(msg)
    if minute > 59:
        msg = f"minute {minute} > 59 in off-peak hours {where!r}"
        raise OffpeakFormatError(msg)
    if second_text is not None and int(second_text) != 0:
        msg = f"seconds are not supported in off-peak hours {where!r}"
        raise OffpeakFormatError(msg)
    if hour == 24 and minute:
        msg = f"time 24H{minute:02d} is past midnight in off-peak hours {where!r}"
        raise OffpeakFormatError(msg)
    return (hour * 60 + minute) % DAY_MINUTES


def _validated(windows: Iterable[OffpeakWindow], where: str) -> tuple[OffpeakWindow, ...]:
    """``windows`` sorted by start; refuses a total over 24 h and overlapping windows (touching is fine)."""
    ordered = tuple(sorted(windows, key=lambda w: (w.start, w.end)))
    total = sum(window.minutes for window in ordered)
    if total > DAY_MINUTES:
        msg = f"off-peak windows total {total / 60:g} h, more than 24 h, in {where!r}"
        raise OffpeakFormatError(msg)
    spans = sorted(
        ((lower, upper, window) for window in ordered for lower, upper in window.segments()),
        key=lambda span: (span[0], span[1]),
    )
    for (_, upper, first), (lower, _, second) in itertools.pairwise(spans):
        if lower < upper:
            msg = f"off-peak windows {first} and {second} overlap in {where!r}"
            raise OffpeakFormatError(msg)
    return ordered


def parse_offpeak(text: str) -> tuple[OffpeakWindow, ...]:
    """Off-peak windows of an Enedis off-peak hours string, sorted by start.

    Accepts the v5 ``offpeak_hours`` form (``HC (22H00-6H00)``, ``HC (1H30-8H00;12H30-14H00)``, ``23h00-7h30``
    lower case) and its plausible variants, since the exact Data Connect 2026 ``plageHeuresCreuses`` format
    is not documented: with or without the ``HC ( )`` wrapper (``HC:`` too), ``H``/``h``/``:`` separators
    (``22:00-06:00``, ``22:00:00-06:00:00``), leading zeros, bare hours (``22H-6H``, ``22-6``), spaces,
    en dashes or ``à`` between the two times, windows separated by ``;``, ``,``, ``/`` or blanks, several
    ``HC ( )`` groups. ``24H00`` means midnight.

    Raises `OffpeakFormatError` for an empty string, text outside that grammar (anything but windows, the
    ``HC`` label, brackets and separators), no window, hour > 24, minute > 59, non-zero seconds, a
    zero-length window, overlapping windows, or a total over 24 h.
    """
    if not text or not text.strip():
        msg = "empty off-peak hours"
        raise OffpeakFormatError(msg)
    windows: list[OffpeakWindow] = []
    for match in _WINDOW.finditer(text):
        hour1, h_minute1, c_minute1, second1, hour2, h_minute2, c_minute2, second2 = match.groups()
        start = _minute_of(hour1, h_minute1 or c_minute1, second1, text)
        end = _minute_of(hour2, h_minute2 or c_minute2, second2, text)
        if start == end:
            msg = f"zero-length off-peak window {match.group(0).strip()!r} in {text!r}"
            raise OffpeakFormatError(msg)
        windows.append(OffpeakWindow(start, end))
    leftover = _NOISE.sub("", _WINDOW.sub("", text))
    if leftover:
        msg = f"unexpected {leftover[:20]!r} in off-peak hours {text!r}"
        raise OffpeakFormatError(msg)
    if not windows:
        msg = f"no off-peak window in {text!r}"
        raise OffpeakFormatError(msg)
    return _validated(windows, text)


def format_offpeak(windows: Iterable[OffpeakWindow]) -> str:
    """The canonical Enedis form of ``windows``, e.g. ``HC (1H30-8H00;12H30-14H00)`` (sorted by start).

    ``parse_offpeak(format_offpeak(w)) == w`` for any valid ``w`` sorted by start. Raises
    `OffpeakFormatError` for no window, overlapping windows or a total over 24 h.
    """
    given = tuple(windows)
    if not given:
        msg = "no off-peak window to format"
        raise OffpeakFormatError(msg)
    ordered = _validated(given, ";".join(str(w) for w in given))
    return "HC (" + ";".join(str(window) for window in ordered) + ")"


# ------------------------------------------------------------------------------------- HP/HC split


def _unique(readings: Iterable[Reading]) -> dict[tuple[float, float], float]:
    """W keyed by interval (UTC epoch seconds); an exact duplicate interval counts once, the last one wins (as the
    ledger)."""  # noqa: D205, D209
    return {(start, end): value for start, end, value in curve_spans(readings)}


def _as_datetimes(unique: Mapping[tuple[float, float], float]) -> dict[tuple[datetime, datetime], float]:
    """`_unique`'s intervals as aware UTC datetimes."""
    return {(datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC)): v for (s, e), v in unique.items()}


def _offpeak_time(lower: datetime, upper: datetime, spans: Sequence[tuple[int, int]]) -> timedelta:
    """Time of the UTC interval ``[lower, upper)``, inside ONE UTC hour, spent in the off-peak ``spans``.

    Paris changes its UTC offset on a UTC hour (01:00 UTC), so inside one UTC hour local wall-clock time is
    UTC plus a constant offset: the interval maps to one local wall-clock interval, at most one hour long,
    which crosses local midnight at most once.
    """
    offset = paris_offset(lower)
    local_lower = (lower + offset).replace(tzinfo=None)
    local_upper = local_lower + (upper - lower)
    midnight = datetime.combine(local_lower.date(), time(0))  # naive: local wall clock
    inside = timedelta(0)
    for day in (midnight, midnight + timedelta(days=1)):
        if day >= local_upper:
            break
        for first, last in spans:
            overlap = min(local_upper, day + timedelta(minutes=last)) - max(local_lower, day + timedelta(minutes=first))
            if overlap > timedelta(0):
                inside += overlap
    return inside


def split_offpeak(
    readings: Iterable[Reading], windows: Sequence[OffpeakWindow]
) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """(off-peak Wh per UTC hour, peak Wh per UTC hour) of load curve ``readings`` (average W).

    Each instant is off-peak when its local (Europe/Paris) wall-clock time is inside one of ``windows``; a
    reading crossing a window boundary or a UTC hour is split in proportion to time. Both mappings have the
    keys of ``ledger.hourly_from_curve(readings)`` (0.0 where a class has nothing) and, hour by hour,
    ``offpeak + peak`` equals it up to float rounding (an interval given twice counts once; empty or reversed
    intervals count for nothing). With non-negative readings both are non-negative. No window: all is peak.
    """
    spans = sorted(span for window in _validated(windows, ";".join(map(str, windows))) for span in window.segments())
    unique = _unique(readings)
    if all(start.is_integer() and end.is_integer() for start, end in unique):
        return _split_whole_seconds(unique, spans)
    return _split_datetimes(unique, spans)


def _split_datetimes(
    unique: Mapping[tuple[float, float], float], spans: Sequence[tuple[int, int]]
) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """`split_offpeak` with datetimes and timedeltas: any bounds (a fraction of a second included)."""
    offpeak: dict[datetime, float] = {}
    peak: dict[datetime, float] = {}
    for (start, end), value in _as_datetimes(unique).items():
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour < end:
            lower = max(start, hour)
            upper = min(end, hour + HOUR)
            length = upper - lower
            if length > timedelta(0):
                total = value * (length / HOUR)  # exactly the ledger's term
                inside = _offpeak_time(lower, upper, spans)
                if inside >= length:
                    off = total
                elif inside <= timedelta(0):
                    off = 0.0
                else:
                    off = total * (inside / length)
                offpeak[hour] = offpeak.get(hour, 0.0) + off
                peak[hour] = peak.get(hour, 0.0) + (total - off)
            hour += HOUR
    return _sorted(offpeak), _sorted(peak)


def _split_whole_seconds(
    unique: Mapping[tuple[float, float], float], spans: Sequence[tuple[int, int]]
) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """`split_offpeak` of readings whose bounds are whole epoch seconds (every source's), in integer seconds.

    The same terms, in the same order, as the general path (which works on datetimes and timedeltas): a reading's
    share of a UTC hour is ``value x (seconds / 3600)`` and its off-peak part ``share x (inside / seconds)``, ratios
    of the same integers (seconds here, microseconds there), so the results are identical, at a fraction of the
    cost (a day of curve is split at each import that computes it: ~1,100 days after a start).
    """
    windows = [(first * 60, last * 60) for first, last in spans]
    offsets: dict[int, int] = {}
    offpeak: dict[int, float] = {}
    peak: dict[int, float] = {}
    for (start_s, end_s), value in unique.items():
        start, end = int(start_s), int(end_s)
        hour = start - start % 3600
        while hour < end:
            lower, upper = max(start, hour), min(end, hour + 3600)
            length = upper - lower
            if length > 0:
                total = value * (length / 3600)  # exactly the ledger's term
                offset = offsets.get(hour)
                if offset is None:
                    offset = offsets[hour] = int(paris_offset(datetime.fromtimestamp(hour, UTC)).total_seconds())
                inside = _offpeak_seconds(lower + offset, upper + offset, windows)
                if inside >= length:
                    off = total
                elif inside <= 0:
                    off = 0.0
                else:
                    off = total * (inside / length)
                offpeak[hour] = offpeak.get(hour, 0.0) + off
                peak[hour] = peak.get(hour, 0.0) + (total - off)
            hour += 3600
    return _by_hour_stamp(offpeak), _by_hour_stamp(peak)


def _offpeak_seconds(local_lower: int, local_upper: int, windows: Sequence[tuple[int, int]]) -> int:
    """`_offpeak_time` in seconds: ``local_*`` are Paris wall-clock seconds since 1970-01-01 00:00 (naive)."""
    midnight = local_lower - local_lower % 86400
    inside = 0
    for day in (midnight, midnight + 86400):
        if day >= local_upper:
            break
        for first, last in windows:
            overlap = min(local_upper, day + last) - max(local_lower, day + first)
            if overlap > 0:
                inside += overlap
    return inside


def _by_hour_stamp(values: Mapping[int, float]) -> dict[datetime, float]:
    """``values`` keyed by UTC hour (epoch seconds) as aware UTC datetimes, sorted."""
    return {datetime.fromtimestamp(hour, UTC): value for hour, value in sorted(values.items())}


def _whole_wh(value: float, hour: datetime) -> int:
    if not float(value).is_integer() or value < 0:
        msg = f"hour {hour.isoformat()}: {value!r} is not a whole non-negative Wh"
        raise ValueError(msg)
    return int(value)


def round_split(
    offpeak: Mapping[datetime, float], peak: Mapping[datetime, float], hours: Mapping[datetime, float]
) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """Whole-Wh (off-peak, peak) per UTC hour, with ``offpeak + peak == hours[h]`` exactly, both >= 0.

    ``hours`` is the ledger's rounded consumption (whole Wh per UTC hour) of the same readings. The off-peak
    part is rounded on its running total within each local day, as the ledger rounds consumption, and
    clamped to ``[0, hours[h]]``; the peak part is the rest of the hour. The off-peak running total follows
    the split within 0.5 Wh, except after an hour too small to take its share (the ledger rounded it down):
    that shortfall (at most 2 Wh) is carried to the next hours of the day.
    Only hours of ``hours`` that appear in ``offpeak`` or ``peak`` are returned: an hour the split does not
    know (the ledger's daily-energy row of a day without a usable curve) is not split. Raises ValueError
    when an hour of ``hours`` is not a whole non-negative number of Wh.
    """
    off = _by_utc_hour(offpeak)
    on = _by_utc_hour(peak)
    rounded_off: dict[datetime, float] = {}
    rounded_peak: dict[datetime, float] = {}
    current: date | None = None
    exact = 0.0
    emitted = 0
    for hour, total_raw in sorted(_by_utc_hour(hours).items()):
        if hour not in off and hour not in on:
            continue
        total = _whole_wh(total_raw, hour)
        day = local_day(hour)
        if day != current:
            current, exact, emitted = day, 0.0, 0
        exact += off.get(hour, 0.0)
        part = min(max(round(exact) - emitted, 0), total)
        emitted += part
        rounded_off[hour] = float(part)
        rounded_peak[hour] = float(total - part)
    return rounded_off, rounded_peak


def round_series(series: Mapping[str, Mapping[datetime, float]]) -> dict[str, dict[datetime, float]]:
    """Each class of ``series`` in whole Wh, rounded on its running total within each local day.

    Every hour moves by less than 1 Wh and every class's day total by at most 0.5 Wh, so a day whose total is
    a whole number of Wh (a class reconciled to the registers) keeps it exactly.
    """
    rounded: dict[str, dict[datetime, float]] = {}
    for name, hours in series.items():
        out: dict[datetime, float] = {}
        current: date | None = None
        exact = 0.0
        emitted = 0
        for hour, value in sorted(_by_utc_hour(hours).items()):
            day = local_day(hour)
            if day != current:
                current, exact, emitted = day, 0.0, 0
            exact += value
            out[hour] = float(round(exact) - emitted)
            emitted = round(exact)
        rounded[name] = out
    return rounded


# ------------------------------------------------------------------------------------------ registers


def _midnight_values(values: Iterable[tuple[datetime, int]]) -> dict[date, int]:
    """Register values stamped exactly at a local midnight, keyed by that local date."""
    by_day: dict[date, int] = {}
    for at, value in values:
        local = to_paris(at)
        if local.time() == time(0):
            by_day[local.date()] = value
    return by_day


def daily_register_energy(index: IndexSeries, classes: Mapping[str, str]) -> dict[date, dict[str, float]]:
    """Local day to {our class: Wh} from the supplier registers (``FC...`` calendars) of ``index``.

    Registers hold cumulative Wh read at local midnight: the energy of day D is the value at D+1 00:00 minus
    the value at D 00:00 (values stamped at another time are ignored). ``classes`` maps register class ids
    to our classes (`HPHC_REGISTER_CLASSES`, `TEMPO_REGISTER_CLASSES`, `BASE_REGISTER_CLASSES`...); several
    registers mapped to one class add up, registers whose class is not mapped are ignored.

    A register counts on day D when it has values on both sides of the day (from its first to its last
    value), so a calendar change (HP/HC to Tempo) retires old registers and brings new ones without
    blanking every day. A day is left out when a counting register misses the value at D or at D+1, or goes
    down (meter change or reset). Sorted by day.
    """
    registers: list[tuple[str, dict[date, int], date, date]] = []
    for register in index.supplier_registers():
        target = classes.get(register.class_id)
        if target is None:
            continue
        by_day = _midnight_values((value.at, value.value_wh) for value in register.values)
        if by_day:
            registers.append((target, by_day, min(by_day), max(by_day)))
    if not registers:
        return {}
    first = min(register[2] for register in registers)
    last = max(register[3] for register in registers)
    result: dict[date, dict[str, float]] = {}
    day = first
    while day < last:
        following = day + timedelta(days=1)
        energy: dict[str, float] = {}
        usable = True
        for target, by_day, in_service, retired in registers:
            if not in_service <= day < retired:
                continue  # not in service that day
            before = by_day.get(day)
            after = by_day.get(following)
            if before is None or after is None or after < before:
                usable = False
                break
            energy[target] = energy.get(target, 0.0) + float(after - before)
        if usable and energy:
            result[day] = energy
        day = following
    return result


def _hours_in_day(day: date) -> int:
    lower, upper = day_bounds(day)
    return round((upper - lower) / HOUR)


def reconcile_split(
    split_hours: Mapping[str, Mapping[datetime, float]], register_days: Mapping[date, Mapping[str, float]]
) -> dict[str, dict[datetime, float]]:
    """The hourly class split of the curve, rescaled per local day to the registers' daily energy per class.

    ``split_hours`` is {class: {UTC hour: Wh}} (e.g. ``{"offpeak": ..., "peak": ...}`` from `split_offpeak`
    or the six Tempo series of `split_tempo`), ``register_days`` the output of `daily_register_energy`. For
    each local day with registers and with curve hours, each class the registers know is scaled so its day
    total equals the register's, keeping the shape of its hours. When the curve has nothing (<= 0 Wh) in a
    class that the registers say was used, the register energy is spread over the day's hours in proportion
    to the total consumption of each hour (evenly if that is zero too). Classes the registers do not know,
    days without registers and days the split does not cover hour by hour (a partial curve, hours of a Tempo
    day of unknown colour, which `split_tempo` leaves out) stay as the curve split: registers of a whole day
    cannot be compared with part of it.

    On a reconciled day the classes then add up to the registers' total, which differs from the curve's total
    (`ledger.hourly_from_curve`) by a few Wh: the curve is an average power sampled per step, the registers
    are the metrological, billed energy. The integration should keep the consumption statistic from the curve
    (it exists for every day, is written before registers are known, and must not be rewritten when they
    arrive) and use reconciled classes for the per-class statistics and costs, which then match the bill.
    Round the result with `round_series` (reconciled day totals are whole Wh and stay exact).
    """
    series = {name: _by_utc_hour(hours) for name, hours in split_hours.items()}
    result = {name: dict(hours) for name, hours in series.items()}
    hours_by_day: dict[date, set[datetime]] = {}
    for hours in series.values():
        for hour in hours:
            hours_by_day.setdefault(local_day(hour), set()).add(hour)
    for day, registers in register_days.items():
        day_hours = sorted(hours_by_day.get(day, ()))
        if len(day_hours) != _hours_in_day(day):
            continue  # the split does not cover the whole day: nothing to compare the registers with
        totals = [max(sum(hours.get(hour, 0.0) for hours in series.values()), 0.0) for hour in day_hours]
        grand_total = sum(totals)
        weights = [t / grand_total for t in totals] if grand_total > 0 else [1 / len(day_hours)] * len(day_hours)
        for name, register_wh in registers.items():
            curve = series.get(name, {})
            target = result.setdefault(name, {})
            curve_total = sum(curve.get(hour, 0.0) for hour in day_hours)
            if curve_total > 0:
                factor = register_wh / curve_total
                for hour in day_hours:
                    if hour in curve:
                        target[hour] = curve[hour] * factor
            else:
                for hour, weight in zip(day_hours, weights, strict=True):
                    target[hour] = register_wh * weight
    return {name: _sorted(hours) for name, hours in result.items()}


# ---------------------------------------------------------------------------------------------- Tempo


_COLOURS = {
    "bleu": "blue",
    "blue": "blue",
    "blanc": "white",
    "white": "white",
    "rouge": "red",
    "red": "red",
}


def tempo_colour(value: str | None) -> str | None:
    """``blue``, ``white`` or ``red`` for a colour in French or English, any case (``BLEU``, ``White``,
    ``TEMPO_ROUGE``, ``jour bleu``...); None for anything else (``UNKNOWN``, ``NON_DEFINI``, empty).
    """  # noqa: D205
    if not value:
        return None
    key = re.sub(r"[\s\-]+", "_", value.strip().casefold())
    for prefix in ("tempo_", "jour_"):
        key = key.removeprefix(prefix)
    return _COLOURS.get(key)


def tempo_day(instant: datetime) -> date:
    """The Tempo day of an aware ``instant``: its local date, or the day before when before 06:00 local."""
    local = to_paris(instant)
    return local.date() - timedelta(days=1) if local.hour < 6 else local.date()


def split_tempo(
    offpeak: Mapping[datetime, float], peak: Mapping[datetime, float], colours: Mapping[date, str]
) -> tuple[dict[str, dict[datetime, float]], set[date]]:
    """The six Tempo series (`TEMPO_CLASSES`, UTC hour to Wh) and the Tempo days whose colour is unknown.

    ``offpeak`` / ``peak`` is an HP/HC split on UTC hours (`split_offpeak` with the contract's windows; for a
    Tempo contract they are 22:00-06:00, `TEMPO_OFFPEAK`). Each hour goes to the colour of its Tempo day
    (`tempo_day`: Tempo days change at 06:00 local, a whole UTC hour, so no hour is split). ``colours`` maps
    Tempo days to colours (see `tempo_colour`); hours of a day without a known colour go in no series: their
    days are returned so the caller can report (or retry) them, never guessed.
    """
    known = {day: tempo_colour(value) for day, value in colours.items()}
    series: dict[str, dict[datetime, float]] = {name: {} for name in TEMPO_CLASSES}
    unknown: set[date] = set()
    for part, hours in ((OFFPEAK, offpeak), (PEAK, peak)):
        for hour, value in _by_utc_hour(hours).items():
            day = tempo_day(hour)
            colour = known.get(day)
            if colour is None:
                unknown.add(day)
                continue
            series[f"{colour}_{part}"][hour] = value
    return {name: _sorted(hours) for name, hours in series.items()}, unknown


# -------------------------------------------------------------------------------------- prices, costs


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """Prices in force from ``start`` (aware) until the next period's start.

    ``prices`` maps class keys (``base``, ``offpeak``, ``peak``, the six `TEMPO_CLASSES`, ``feed_in``) to
    EUR per kWh (see `convert_price`). ``monthly_fee`` is the subscription in force in the period (EUR TTC per
    month); None leaves it to the caller's ``monthly_fee`` (the options' single fee). ``known=False`` marks a
    period whose prices are unknown (after the shipped price data ends): none of its hours is priced.
    """

    start: datetime
    prices: Mapping[str, float]
    monthly_fee: float | None = None
    known: bool = True

    def __post_init__(self) -> None:
        to_utc(self.start)


_PRICE_UNITS: dict[str, float] = {
    "€/kwh": 1.0,
    "c€/kwh": 0.01,
    "ct/kwh": 0.01,
    "cts/kwh": 0.01,
    "c/kwh": 0.01,
    "ct€/kwh": 0.01,
    "cent/kwh": 0.01,
    "cents/kwh": 0.01,
    "€/mwh": 0.001,
}


def convert_price(value: float, unit: str) -> float:
    """``value`` in EUR/kWh, from ``€/kWh``, ``EUR/kWh``, ``c€/kWh``, ``ct/kWh``, ``€/MWh`` or ``EUR/MWh``.

    Case and blanks do not matter. Raises ValueError for an unknown unit or a non-finite value.
    """
    key = re.sub(r"\s+", "", unit).casefold()
    key = key.replace("euros", "€").replace("euro", "€").replace("eur", "€")
    factor = _PRICE_UNITS.get(key)
    if factor is None:
        msg = f"unknown price unit {unit!r} (use €/kWh, c€/kWh, ct/kWh or €/MWh)"
        raise ValueError(msg)
    if not math.isfinite(value):
        msg = f"price {value!r} is not a number"
        raise ValueError(msg)
    return value * factor


def month_hours(hour: datetime) -> int:
    """Number of hours in the local calendar month of ``hour`` (743 in March, 745 in October, DST)."""
    first = local_day(hour).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return round((day_bounds(following)[0] - day_bounds(first)[0]) / HOUR)


@dataclass(frozen=True, slots=True)
class PricedHour:
    """One priced hour: the period in force, the energy's cost and the subscription's share (EUR TTC)."""

    period: PricePeriod
    energy: float
    subscription: float


def _unknown_reason(period: PricePeriod) -> str:
    last = local_day(period.start) - timedelta(days=1)
    return f"no shipped price after {last.isoformat()}"


def price_each_hour(
    energy: Mapping[str, Mapping[datetime, float]], periods: Sequence[PricePeriod], monthly_fee: float = 0.0
) -> tuple[dict[datetime, PricedHour], dict[datetime, str]]:
    """`priced_hours` with each priced hour's parts (`PricedHour`): the one computation both rest on."""
    ordered = sorted(periods, key=lambda period: to_utc(period.start))
    starts = [to_utc(period.start) for period in ordered]
    costs: dict[datetime, float] = {}
    in_force: dict[datetime, PricePeriod] = {}
    unpriced: dict[datetime, str] = {}
    for name, hours in energy.items():
        for hour, wh in _by_utc_hour(hours).items():
            position = bisect_right(starts, hour) - 1
            if position < 0:
                continue
            period = ordered[position]
            if not period.known:
                unpriced.setdefault(hour, _unknown_reason(period))
                continue
            in_force[hour] = period
            price = period.prices.get(name)
            if price is None:
                if wh:
                    unpriced.setdefault(hour, f"no {name!r} price in the period from {starts[position].isoformat()}")
                costs.setdefault(hour, 0.0)
                continue
            costs[hour] = costs.get(hour, 0.0) + wh / 1000 * price
    for hour in unpriced:
        costs.pop(hour, None)
    return _with_fees(costs, in_force, monthly_fee), dict(sorted(unpriced.items()))


def _with_fees(
    costs: Mapping[datetime, float], in_force: Mapping[datetime, PricePeriod], monthly_fee: float
) -> dict[datetime, PricedHour]:
    """Each priced hour with its share of the subscription in force (the period's, else ``monthly_fee``)."""
    per_month: dict[date, int] = {}
    priced: dict[datetime, PricedHour] = {}
    for hour, euros in sorted(costs.items()):
        period = in_force[hour]
        fee = monthly_fee if period.monthly_fee is None else period.monthly_fee
        share = 0.0
        if fee:
            month = local_day(hour).replace(day=1)
            count = per_month.get(month)
            if count is None:
                count = per_month[month] = month_hours(hour)
            share = fee / count
        priced[hour] = PricedHour(period, euros, share)
    return priced


def priced_hours(
    energy: Mapping[str, Mapping[datetime, float]], periods: Sequence[PricePeriod], monthly_fee: float = 0.0
) -> tuple[dict[datetime, float], dict[datetime, str]]:
    """(EUR per UTC hour, the hours left out and why): the cost of ``energy`` at the prices of ``periods``.

    ``energy`` is {class key: {UTC hour: Wh}}. Each hour costs the sum over classes of Wh / 1000 x the class
    price of the period in force at the hour (the last one starting at or before the start of the hour). An
    hour is left out of the costs, never priced at 0 or in part, when a class has energy there but no price
    in the period in force (a 0 Wh hour without a price costs nothing), or when the period in force is not
    ``known`` (even at 0 Wh): the second mapping says why, for the caller to report. Hours before the first
    period get no cost and are left out silently (no price was given for them). The subscription (the
    period's ``monthly_fee``, else the ``monthly_fee`` argument, EUR per month) is spread evenly over the hours
    of each local calendar month (`month_hours`) and added to every priced hour, so a month priced in full
    under one fee carries exactly that fee. Sorted by hour.
    """
    priced, unpriced = price_each_hour(energy, periods, monthly_fee)
    return hour_costs(priced), unpriced


def hour_costs(priced: Mapping[datetime, PricedHour]) -> dict[datetime, float]:
    """EUR per priced hour (`price_each_hour`'s parts): its energy and its share of the subscription."""
    return {hour: part.energy + part.subscription for hour, part in priced.items()}


def hourly_cost(
    energy: Mapping[str, Mapping[datetime, float]], periods: Sequence[PricePeriod], monthly_fee: float = 0.0
) -> dict[datetime, float]:
    """EUR per UTC hour of ``energy`` ({class key: {UTC hour: Wh}}): `priced_hours` without its report.

    An hour where a class has energy but no price is left out (see `priced_hours`). Sorted by hour.
    """
    return priced_hours(energy, periods, monthly_fee)[0]


def hourly_compensation(production: Mapping[datetime, float], periods: Sequence[PricePeriod]) -> dict[datetime, float]:
    """EUR per UTC hour earned for ``production`` (UTC hour to Wh) at the ``feed_in`` price of each period.

    Hours of a period without a feed-in price are left out (`priced_hours`). Only the feed-in price counts:
    never a subscription, and a period whose consumption prices are unknown (``known=False``) still pays its
    feed-in price (the feed-in contract is not the shipped grid).
    """
    feed_in = [
        PricePeriod(period.start, {FEED_IN: period.prices[FEED_IN]} if FEED_IN in period.prices else {})
        for period in periods
    ]
    priced, _ = price_each_hour({FEED_IN: production}, feed_in)
    return {hour: part.energy for hour, part in priced.items()}
