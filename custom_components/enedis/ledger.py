"""Hourly energy ledger: stored Enedis readings to Home Assistant long-term statistics rows.

Pure computation (no I/O, nothing from Home Assistant). The integration feeds it, per Enedis day, the load
curve readings, the state of that curve and the daily energy, and gets back hourly rows for an external
statistic with ``has_sum=True``: ``state`` is the kWh of the hour and ``sum`` a running total in kWh.

Rules:

* Time. Enedis days are Europe/Paris local days (23 h or 25 h on DST days). Everything is bucketed by UTC
  hour; a Paris midnight is always a whole UTC hour, so a local day is a whole number of UTC hours. A load
  curve reading that straddles a UTC hour (misaligned steps, e.g. starting at ``:50``) is split by time. The
  conversions (day bounds, local days, fixed offsets) are `api.calendar`'s.
* Per day (`build_hours`): a COMPLETE curve gives its hours; a PENDING curve (not fetched yet) gives nothing;
  otherwise a known daily energy gives ONE row at the day's local midnight, else a PARTIAL curve gives its
  hours, else nothing. Each day only ever fills its own hours, so days never compete for an hour.
* Sums (`build_rows`) start at 0 at the series' ORIGIN, its oldest row in the recorder: ``sum(h)`` is the energy
  of the hours ``origin <= k <= h``, so the oldest row's sum equals its state and sums never decrease. Home
  Assistant's Energy dashboard shows a period's energy as sum(end) - sum(before the period), and 0 before the
  first row: any other offset would appear as energy in the oldest period. Hours older than the origin are HELD
  (not written) until `choose_origin` moves the origin back to them (see there: bounded rewrites).
* Precision. Hourly energies are whole Wh (rounded cumulatively within each day, so every hour is within
  1 Wh and the day total within 0.5 Wh of the readings); sums are accumulated in Wh, where float additions of
  integers are exact, and converted to kWh at the end.

Rewrites (`rows_to_write`) compare what was last written (with the origin it was written from) with what should
be there now. The caller must persist `written_hours` (not the bare `build_hours` result) as the next
``previous``: it keeps the hours that were zeroed, whose rows still exist in the recorder and whose sums must keep
following later changes. `publish` does the three steps for one statistic.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import partial
from itertools import accumulate, repeat
import math
from operator import add, truediv
from typing import overload

from .api.calendar import day_bounds, local_day, paris_instant, to_utc, utc_hour
from .api.models import Reading

HOUR = timedelta(hours=1)
_HOUR_S = 3600.0
_HOUR = 3600
ORIGIN_GROWTH = 2
"""The origin moves back to older hours once the series' span (newest hour - oldest known hour) has grown this many
times since it was last moved (or when the history is complete): the sum of every row already written moves then
(by one `SumShift`, an update the recorder makes itself, when the importer's memo holds the last publication;
otherwise each row is rewritten, so a newest-first backfill writes each row about twice in all: 1 + 1/2 + 1/4 ...,
never O(n^2))."""
TOLERANCE_KWH = 1e-9
"""Two rows whose state and sum differ by less than this (kWh) are the same row."""


class CurveState(StrEnum):
    """What is known of a local day's load curve."""

    PENDING = "pending"
    """Not fetched yet (the backfill has not reached the day): hold the day."""
    COMPLETE = "complete"
    """The readings cover the whole local day without a gap."""
    PARTIAL = "partial"
    """Fetched, with at least one reading but a hole somewhere."""
    MISSING = "missing"
    """Fetched, without any reading."""
    NOT_WANTED = "not_wanted"
    """Curve disabled, outside the 24-month curve horizon, or not imported."""


class DayCurve(Sequence[Reading]):
    """The load curve readings of one local day, stored compactly: (start, end, W) as UTC epoch seconds in one array.

    The coordinator keeps up to two years of curve per PRM and direction in memory. As `Reading` objects (each with
    two datetimes) that is ~35 000 objects per direction, ~250 bytes each, that Python's cycle collector walks at
    every full collection; here it is one object and 24 bytes per reading. The ledger reads the numbers directly
    (`spans`); indexing and iteration give `Reading` objects on demand, as the parsers build them (`paris_instant`).
    Immutable.
    """

    __slots__ = ("__weakref__", "_data")  # weak references: the Store keeps each curve's JSON while it lives

    def __init__(self, spans: Iterable[tuple[float, float, float]] = ()) -> None:
        data = array("d")
        for start, end, value in spans:
            data.extend((start, end, value))
        self._data = data

    @classmethod
    def of(cls, readings: Iterable[Reading]) -> DayCurve:
        """The compact form of ``readings`` (aware bounds, in their order)."""
        return cls(curve_spans(readings))

    def spans(self) -> Iterator[tuple[float, float, float]]:
        """(start, end, W) per reading, UTC epoch seconds, in order."""
        values = iter(self._data)
        return zip(values, values, values, strict=True)

    def energy_wh(self) -> float:
        """Energy of the readings in Wh (average W x length)."""
        return sum(value * ((end - start) / _HOUR_S) for start, end, value in self.spans())

    def __len__(self) -> int:
        return len(self._data) // 3

    @overload
    def __getitem__(self, index: int) -> Reading: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Reading, ...]: ...
    def __getitem__(self, index: int | slice) -> Reading | tuple[Reading, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end, value = self._data[3 * index : 3 * index + 3]
        return Reading(start=paris_instant(start), end=paris_instant(end), value=value)

    def __eq__(self, other: object) -> bool:
        """Equal to another `DayCurve` with the same numbers (compare ``tuple(curve)`` with readings)."""
        if isinstance(other, DayCurve):
            return self._data == other._data
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._data.tobytes())

    def __repr__(self) -> str:
        return f"DayCurve({len(self)} readings)"


class _HourItems(ItemsView[datetime, float]):
    """`HourValues.items()`: the pairs straight from its two tuples."""

    _mapping: HourValues

    def __iter__(self) -> Iterator[tuple[datetime, float]]:
        return zip(self._mapping.hours, self._mapping.hour_values, strict=True)


class HourValues(Mapping[datetime, float]):
    """A small mapping of hours to values (a day's hours: 23 to 25), frozen as two tuples, in the given order.

    The importer keeps every day's hours and tariff hours between imports (`importer.DayResult`: ~1,100 days per
    series, each with up to four such mappings). As dicts, every full pass of Python's cycle collector walked each of
    their ~100,000 keys and values; a tuple of datetimes or of floats is not even tracked by it. Lookups scan the
    tuple (fine for a day's hours); ``items()`` pairs the tuples directly.
    """

    __slots__ = ("hour_values", "hours")

    def __init__(self, mapping: Mapping[datetime, float]) -> None:
        self.hours = tuple(mapping)
        self.hour_values = tuple(mapping.values())

    @classmethod
    def of(cls, hours: tuple[datetime, ...], values: tuple[float, ...]) -> HourValues:
        """The mapping of ``hours`` to ``values`` (as many, in order), the tuples kept as they are (no copy)."""
        mapping = cls.__new__(cls)
        mapping.hours = hours
        mapping.hour_values = values
        return mapping

    def __getitem__(self, hour: datetime) -> float:
        try:
            return self.hour_values[self.hours.index(hour)]
        except ValueError:
            raise KeyError(hour) from None

    def __iter__(self) -> Iterator[datetime]:
        return iter(self.hours)

    def __reversed__(self) -> Iterator[datetime]:
        return reversed(self.hours)

    def __len__(self) -> int:
        return len(self.hours)

    def items(self) -> _HourItems:
        """The (hour, value) pairs, in order."""
        return _HourItems(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HourValues):
            return self.hours == other.hours and self.hour_values == other.hour_values
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # compared by value, as the dict it replaces

    def __repr__(self) -> str:
        return f"HourValues({dict(self.items())!r})"


_utc: Callable[[float], datetime] = partial(datetime.fromtimestamp, tz=UTC)
"""An hour of a run or a row's start from its UTC epoch seconds (a C-level call: made ~100,000 times a refresh when
an origin moves back)."""


class _RunItems(ItemsView[datetime, float]):
    """`HourRun.items()`: each hour made from its epoch, paired with its value."""

    _mapping: HourRun

    def __iter__(self) -> Iterator[tuple[datetime, float]]:
        return zip(self._mapping, self._mapping.array, strict=True)


class _RunValues(ValuesView[float]):
    """`HourRun.values()`: the array's values (no hour made)."""

    _mapping: HourRun

    def __iter__(self) -> Iterator[float]:
        return iter(self._mapping.array)


class HourRun(Mapping[datetime, float]):
    """Consecutive UTC hours, one value each, as the first hour's epoch seconds and one array of floats. Immutable.

    What a statistic holds in the recorder (`Publication.written`, the cache's written hours) is every hour from the
    series' origin to its newest hour (`contiguous_hours`): ~26,000 hours per statistic, six statistics for a
    self-consumption PRM with prices, kept for as long as Home Assistant runs and replaced at each import. As dicts,
    each import made ~26,000 datetimes and a dict of them per statistic, each save of the Store copied them, and
    every full pass of Python's cycle collector (a pause of the whole process) walked their ~310,000 references; an
    array holds raw numbers the collector never visits, and `publish_update` makes the next run without making an
    hour. Hours are made on demand when iterated; a lookup is arithmetic. Equal to any mapping of the same hours and
    values (a dict included).
    """

    __slots__ = ("_start", "_values")

    def __init__(self, start: datetime | None = None, values: Iterable[float] = ()) -> None:
        """The hours from ``start`` (an aware hour; None only without values), one per value."""
        self._values = array("d", values)
        if start is None:
            if self._values:
                msg = "a run of hours needs its first hour"
                raise ValueError(msg)
            self._start = 0.0
        else:
            self._start = utc_hour(start).timestamp()

    @classmethod
    def of(cls, start: float, values: array[float]) -> HourRun:
        """The hours from epoch ``start`` (a whole UTC hour), one per value, the array kept as it is (no copy)."""
        run = cls()
        run._start, run._values = start, values
        return run

    @property
    def start(self) -> datetime | None:
        """The first hour (None when empty)."""
        return _utc(self._start) if self._values else None

    @property
    def array(self) -> array[float]:
        """The values, in hour order (not to be changed)."""
        return self._values

    def epoch(self) -> float:
        """The first hour's UTC epoch seconds (meaningless when empty)."""
        return self._start

    def __len__(self) -> int:
        return len(self._values)

    def _stamps(self) -> range:
        start = int(self._start)
        return range(start, start + len(self._values) * _HOUR, _HOUR)

    def __iter__(self) -> Iterator[datetime]:
        return map(_utc, self._stamps())

    def __reversed__(self) -> Iterator[datetime]:
        return map(_utc, reversed(self._stamps()))

    def __getitem__(self, hour: datetime) -> float:
        if not isinstance(hour, datetime) or hour.tzinfo is None:
            raise KeyError(hour)
        index, rest = divmod(hour.timestamp() - self._start, _HOUR_S)
        if rest or not 0 <= index < len(self._values):
            raise KeyError(hour)
        return self._values[int(index)]

    def __contains__(self, hour: object) -> bool:
        if not isinstance(hour, datetime):
            return False
        try:
            self[hour]
        except KeyError:
            return False
        return True

    def items(self) -> _RunItems:
        """The (hour, value) pairs, in order."""
        return _RunItems(self)

    def values(self) -> _RunValues:
        """The values, in order."""
        return _RunValues(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HourRun):
            return self._values == other._values and (not self._values or self._start == other._start)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # compared by value, as the dict it replaces

    def __repr__(self) -> str:
        return f"HourRun({self.start!r}, {len(self)} hours)"


def run_of(hours: Mapping[datetime, float]) -> Mapping[datetime, float]:
    """``hours`` as a `HourRun` when they are consecutive UTC hours in order (what a statistic holds), else as given."""
    if isinstance(hours, HourRun):
        return hours
    stamps: list[float] = []
    for hour in hours:
        if hour.tzinfo is None:
            return hours
        stamps.append(hour.timestamp())
    if not stamps:
        return HourRun()
    base = stamps[0]
    if base % _HOUR_S or any(stamp != base + i * _HOUR_S for i, stamp in enumerate(stamps)):
        return hours
    return HourRun.of(base, array("d", hours.values()))


def oldest_hour(hours: Mapping[datetime, float]) -> datetime | None:
    """The oldest hour of ``hours`` (O(1) for a `HourRun`)."""
    if isinstance(hours, HourRun):
        return hours.start
    return min(hours, default=None)


def curve_spans(readings: Iterable[Reading]) -> Iterable[tuple[float, float, float]]:
    """(start, end, W) per load curve reading, UTC epoch seconds (read directly from a `DayCurve`).

    Raises ValueError for a naive datetime.
    """
    if isinstance(readings, DayCurve):
        return readings.spans()
    return ((to_utc(r.start).timestamp(), to_utc(r.end).timestamp(), r.value) for r in readings)


@dataclass(frozen=True, slots=True)
class DayInput:
    """Everything known about one local day of a series.

    ``curve`` holds the load curve readings of the day (W); only their part inside the day counts, so a
    reading straddling midnight should be given to both days. ``daily_wh`` is the day's energy, if known.
    """

    day: date
    curve: Sequence[Reading] = ()
    curve_state: CurveState = CurveState.PENDING
    daily_wh: float | None = None


@dataclass(frozen=True, slots=True)
class StatRow:
    """One hourly statistics row (``has_sum=True``)."""

    start: datetime
    """Aware UTC, on the hour."""
    state: float
    """Energy of the hour, kWh."""
    sum: float
    """Running total, kWh, from the series' origin (see `build_rows`)."""


def _intervals_in(readings: Iterable[Reading], lower: datetime, upper: datetime) -> list[tuple[datetime, datetime]]:
    """The non-empty UTC intervals of ``readings`` clipped to ``[lower, upper)``, sorted."""
    spans: list[tuple[datetime, datetime]] = []
    for reading in readings:
        start = max(to_utc(reading.start), lower)
        end = min(to_utc(reading.end), upper)
        if start < end:
            spans.append((start, end))
    spans.sort()
    return spans


def curve_state_of(day: date, readings: Sequence[Reading]) -> CurveState:
    """COMPLETE, PARTIAL or MISSING for the load curve ``readings`` of local ``day``.

    Only the part of each reading inside the day counts (readings outside it are ignored). Never returns
    PENDING or NOT_WANTED: those are decided by the caller, who knows what was fetched and wanted.
    """
    lower, upper = day_bounds(day)
    spans = _intervals_in(readings, lower, upper)
    if not spans:
        return CurveState.MISSING
    covered = lower
    for start, end in spans:
        if start > covered:
            return CurveState.PARTIAL
        covered = max(covered, end)
    return CurveState.COMPLETE if covered >= upper else CurveState.PARTIAL


def _hourly(
    readings: Iterable[Reading], lower: datetime | None = None, upper: datetime | None = None
) -> dict[datetime, float]:
    """UTC hour to Wh of ``readings`` (optionally clipped to ``[lower, upper)``), unrounded, by hour.

    Computed on UTC epoch seconds (whole seconds are exact in a float, and ``overlap / 3600`` is the same correctly
    rounded quotient as ``timedelta / timedelta``). An exact duplicate interval counts once (the last one wins).
    """
    low = -math.inf if lower is None else lower.timestamp()
    high = math.inf if upper is None else upper.timestamp()
    unique = {(start, end): value for start, end, value in curve_spans(readings)}
    hours: dict[float, float] = {}
    for (raw_start, raw_end), value in unique.items():
        start = max(raw_start, low)
        end = min(raw_end, high)
        hour = start - start % _HOUR_S
        while hour < end:
            overlap = min(end, hour + _HOUR_S) - max(start, hour)
            if overlap > 0:
                hours[hour] = hours.get(hour, 0.0) + value * (overlap / _HOUR_S)
            hour += _HOUR_S
    return {datetime.fromtimestamp(hour, UTC): wh for hour, wh in sorted(hours.items())}


def hourly_from_curve(readings: Iterable[Reading]) -> dict[datetime, float]:
    """UTC hour to Wh (unrounded) of load curve ``readings`` (average W over ``[start, end)``).

    A reading straddling a UTC hour is split in proportion to the time spent in each hour, so the energy is
    conserved. An interval given twice counts once; empty or reversed intervals count for nothing.
    """
    return _hourly(readings)


def _round_cumulative(hours: Mapping[datetime, float]) -> dict[datetime, float]:
    """Whole Wh per hour, rounding the running total: each hour within 1 Wh, the total within 0.5 Wh."""
    rounded: dict[datetime, float] = {}
    exact = 0.0
    previous = 0
    for hour in sorted(hours):
        exact += hours[hour]
        current = round(exact)
        rounded[hour] = float(current - previous)
        previous = current
    return rounded


def day_hours(entry: DayInput) -> dict[datetime, float]:
    """Rule 2 for one day: the UTC hours (whole Wh) the day contributes, sorted (`build_hours` is their union)."""
    state = entry.curve_state
    lower, upper = day_bounds(entry.day)
    if state is CurveState.PENDING:
        return {}
    if state is CurveState.COMPLETE:
        return _round_cumulative(_hourly(entry.curve, lower, upper))
    if entry.daily_wh is not None:
        return {lower: float(round(entry.daily_wh))}
    if state is CurveState.PARTIAL:
        return _round_cumulative(_hourly(entry.curve, lower, upper))
    return {}


def build_hours(days: Iterable[DayInput]) -> dict[datetime, float]:
    """UTC hour to Wh for all ``days`` (rule 2), sorted by hour.

    Per day: COMPLETE gives the curve's hours; PENDING gives nothing (held until the curve is fetched, so
    the day is written once); PARTIAL, MISSING or NOT_WANTED give one row at the local midnight with the
    daily energy when it is known, else the partial curve's hours for PARTIAL, else nothing. The given
    ``curve_state`` is trusted (see `curve_state_of`); a day's curve only counts inside the day. Hourly
    values are whole Wh. A day given twice is an error.
    """
    hours: dict[datetime, float] = {}
    seen: set[date] = set()
    for entry in days:
        if entry.day in seen:
            msg = f"day {entry.day.isoformat()} given twice"
            raise ValueError(msg)
        seen.add(entry.day)
        hours.update(day_hours(entry))
    return _by_hour(hours)


def _normalised(hours: Mapping[datetime, float]) -> dict[datetime, float]:
    """``hours`` keyed by UTC hours (equal aware keys are one key, so no hour can appear twice)."""
    normalised: dict[datetime, float] = {}
    for hour, value in hours.items():
        if hour.tzinfo is UTC and not (hour.minute or hour.second or hour.microsecond):
            normalised[hour] = value  # fast path: what this module produces
        else:
            normalised[utc_hour(hour)] = value
    return normalised


def _by_hour(hours: Mapping[datetime, float]) -> dict[datetime, float]:
    """``hours`` sorted by hour (sorting the keys, not ``items()``: no tuple per hour for the cycle collector)."""
    return {hour: hours[hour] for hour in sorted(hours)}


def _sums_wh(hours: Mapping[datetime, float], anchor: datetime) -> tuple[list[datetime], list[float], list[float]]:
    """(UTC hours, states Wh, anchored sums Wh) in hour order; ``hours`` normalised, ``anchor`` a UTC hour.

    Walks away from the anchor in both directions, so a row only ever depends on the hours between it and
    the anchor (in Wh, float additions of whole numbers are exact). Three flat lists rather than a tuple per
    hour: a 2-year series is ~18,000 hours, computed again at each import.
    """
    ordered = sorted(hours)
    states = [hours[hour] for hour in ordered]
    sums = [0.0] * len(ordered)
    split = bisect_left(ordered, anchor)
    behind = 0.0
    for i in range(split - 1, -1, -1):
        sums[i] = -behind
        behind += states[i]
    total = 0.0
    for i in range(split, len(ordered)):
        total += states[i]
        sums[i] = total
    return ordered, states, sums


def build_rows(hours: Mapping[datetime, float], anchor: datetime) -> list[StatRow]:
    """Statistics rows of ``hours`` (UTC hour to Wh), sorted by start, with sums counted from ``anchor``.

    ``sum(h)`` is the energy of the hours ``anchor <= k <= h`` for ``h >= anchor`` and minus the energy of
    the hours ``h < k < anchor`` for ``h < anchor``, so consecutive sums differ by exactly the later state.
    The integration only writes hours at or after the anchor (its origin, see `publish`): then the oldest
    row's sum is its state. Sums are accumulated in Wh.
    """
    return [
        StatRow(start=hour, state=value / 1000, sum=total / 1000)
        for hour, value, total in zip(*_sums_wh(_normalised(hours), utc_hour(anchor)), strict=True)
    ]


def _merged(previous: dict[datetime, float], current: dict[datetime, float]) -> dict[datetime, float]:
    merged = dict.fromkeys(previous, 0.0)
    merged.update(current)
    return merged


def written_hours(previous: Mapping[datetime, float], current: Mapping[datetime, float]) -> dict[datetime, float]:
    """What the recorder holds after writing `rows_to_write`: ``current``, plus 0 for each removed hour.

    Persist this as the next ``previous``: a zeroed row stays in the recorder, so its sum must keep following.
    """
    return _by_hour(_merged(_normalised(previous), _normalised(current)))


def rows_to_write(
    previous: Mapping[datetime, float],
    current: Mapping[datetime, float],
    anchor: datetime,
    previous_anchor: datetime | None = None,
) -> StatRows:
    """The rows to (re)write to go from ``previous`` (hours last written) to ``current`` (UTC hour to Wh).

    ``previous`` was written with sums from ``previous_anchor`` (default: ``anchor``), ``current`` is written
    from ``anchor``. A row is written when it is new or its state or sum moved by more than 1e-9 kWh. An hour of
    ``previous`` absent from ``current`` is written with state 0 and the sum carried from the hours before it,
    so no stale value stays in the recorder. Sorted by start.
    """
    anchor = utc_hour(anchor)
    old = _normalised(previous)
    old_hours, old_states, old_sums = _sums_wh(old, anchor if previous_anchor is None else utc_hour(previous_anchor))
    index = {hour: i for i, hour in enumerate(old_hours)}
    starts, states, sums = array("d"), array("d"), array("d")
    for hour, value, total in zip(*_sums_wh(_merged(old, _normalised(current)), anchor), strict=True):
        state, running = value / 1000, total / 1000
        i = index.get(hour)
        if (
            i is None
            or abs(old_states[i] / 1000 - state) > TOLERANCE_KWH
            or abs(old_sums[i] / 1000 - running) > TOLERANCE_KWH
        ):
            starts.append(hour.timestamp())
            states.append(state)
            sums.append(running)
    return StatRows.from_columns(starts, states, sums)


def choose_origin(
    hours: Iterable[datetime], origin: datetime | None, *, oldest_written: datetime | None, complete: bool
) -> datetime | None:
    """Where the sums of a series start from now on: its oldest row in the recorder (a UTC hour), or None.

    ``hours`` are the hours known now (e.g. `build_hours`' keys), ``origin`` the current one, ``oldest_written``
    the oldest hour the recorder holds for any statistic of the series, ``complete`` whether the history import
    is over (no older hour will come). Rules, so that every row's sum starts from 0 at the oldest row while a
    newest-first backfill stays cheap:

    * no origin yet: the oldest known hour (everything known is written at once);
    * rows written before the origin (earlier versions of this integration anchored sums 15 days back,
      negative before): the
      oldest written hour, so those rows are rewritten from 0 (the migration);
    * older hours than the origin are known: the origin moves back to the oldest of them once the history is
      complete, or once the span has grown `ORIGIN_GROWTH` times (``newest - oldest >= 2 x (newest - origin)``),
      which rewrites the whole series; until then those hours are held, out of the recorder.

    The origin never moves after ``oldest_written`` (the recorder's rows must all be counted).
    """
    known = sorted(utc_hour(hour) for hour in hours)
    if oldest_written is not None:
        oldest_written = utc_hour(oldest_written)
        if origin is None or oldest_written < utc_hour(origin):
            origin = oldest_written
    if not known:
        return origin
    oldest, newest = known[0], known[-1] + HOUR
    if origin is None:
        return oldest
    origin = utc_hour(origin)
    if oldest >= origin:
        return origin
    if complete or newest - oldest >= ORIGIN_GROWTH * (newest - origin):
        return oldest
    return origin


def contiguous_hours(hours: Mapping[datetime, float], start: datetime, end: datetime) -> dict[datetime, float]:
    """``hours`` (normalised UTC hours) with a 0 Wh row for every missing hour of ``[start, end)``, sorted.

    Home Assistant reads the energy of a period as the sum at its end minus the sum of the row one hour before the
    period's start, and when that hour has no row it takes the first row AFTER it (recorder
    ``_get_oldest_sum_statistic``): a gap before a period's first hour would drop that hour's energy from the total.
    So the series has a row for every hour: a day known only by its daily energy is its midnight row plus 23 rows of
    0, a hole is rows of 0 (their sums carried; the hole is still reported as a missing day).
    """
    first = utc_hour(start).timestamp()
    count = int((utc_hour(end).timestamp() - first) // _HOUR_S)
    filled = {datetime.fromtimestamp(first + i * _HOUR_S, UTC): 0.0 for i in range(count)}
    filled.update(hours)
    return _by_hour(filled)


def _consecutive_hours(first: float, count: int) -> array[float]:
    """``count`` starts an hour apart from ``first``, in whole seconds (UTC epoch)."""
    return array("d", range(int(first), int(first) + _HOUR * count, _HOUR))


class StatRows(Sequence[StatRow]):
    """Rows to write (`Publication.rows`), compact: their starts (UTC epoch seconds), states and sums in three arrays.

    They wait for the recorder for seconds to minutes (the writer queues a chunk once the recorder has committed the
    previous one): as ~26,000 `StatRow` objects per statistic, every full pass of Python's cycle collector (a pause
    of the whole process) walked each of them, and a re-import of six series made such passes last 55-73 ms
    (`benchmarks/statistics_import.py`). Indexing and iteration give `StatRow` on demand; equal to any sequence of
    the same rows (a list of `StatRow` included). The starts are made when the rows are read (the writer hands them
    to the recorder a chunk at a time): a whole publication is ~26,000 rows per statistic.
    """

    __slots__ = ("_starts", "_states", "_sums")

    def __init__(self, rows: Iterable[StatRow] = ()) -> None:
        self._starts = array("d")
        self._states = array("d")
        self._sums = array("d")
        for row in rows:
            self._starts.append(to_utc(row.start).timestamp())
            self._states.append(row.state)
            self._sums.append(row.sum)

    @classmethod
    def from_columns(cls, starts: array[float], states: array[float], sums: array[float]) -> StatRows:
        """The rows of these starts (UTC epoch seconds, whole hours), states and sums (same lengths; kept as they
        are: not to be changed after)."""  # noqa: D205, D209
        rows = cls()
        rows._starts, rows._states, rows._sums = starts, states, sums
        return rows

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> StatRow: ...
    @overload
    def __getitem__(self, index: slice) -> StatRows: ...
    def __getitem__(self, index: int | slice) -> StatRow | StatRows:
        if isinstance(index, slice):
            return StatRows.from_columns(self._starts[index], self._states[index], self._sums[index])
        return StatRow(_utc(self._starts[index]), self._states[index], self._sums[index])

    def __iter__(self) -> Iterator[StatRow]:
        return map(StatRow, map(_utc, self._starts), self._states, self._sums)

    def columns(self) -> Iterator[tuple[datetime, float, float]]:
        """Each row's start (aware UTC), state and sum, without making a `StatRow`: what the writer hands the
        recorder. Rows of consecutive hours (every publication's) get their starts by adding an hour to the
        previous one: a chunk of 1,000 rows in ~0.15 ms where making each start from its epoch took ~0.4 ms and
        making the rows first ~1.3 ms (a whole publication is ~26,000 rows per statistic)."""  # noqa: D205, D209
        starts = self._starts
        if starts and starts == _consecutive_hours(starts[0], len(starts)):
            hours: Iterator[datetime] = accumulate(repeat(HOUR, len(starts) - 1), add, initial=_utc(starts[0]))
        else:
            hours = map(_utc, starts)
        return zip(hours, self._states, self._sums, strict=True)

    def __eq__(self, other: object) -> bool:
        """Equal to a sequence of the same rows, in the same order."""
        if isinstance(other, StatRows):
            return self._starts == other._starts and self._states == other._states and self._sums == other._sums
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(mine == theirs for mine, theirs in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value: unhashable, as the list it replaces

    def __repr__(self) -> str:
        return f"StatRows({list(self)!r})"


@dataclass(frozen=True, slots=True)
class SumShift:
    """Add ``kwh`` to the sum of every row the recorder holds from ``start`` on (the recorder's own
    `async_adjust_statistics`: one SQL update), before a publication's rows are written."""  # noqa: D205, D209

    start: datetime
    """Aware UTC, on the hour: the former origin."""
    kwh: float
    """The energy (or cost) of the hours the origin moved back over."""


@dataclass(frozen=True, slots=True)
class Publication:
    """What to write for one statistic, and what the recorder then holds."""

    rows: StatRows
    """Rows to write, sorted by start."""
    written: Mapping[datetime, float]
    """The next ``previous`` (UTC hour to Wh): a `HourRun` (every hour from the origin to the newest)."""
    newest_first: bool
    """Write the rows' chunks newest first: rows are already in the recorder, whose sums must not decrease while
    they are rewritten. A first write goes oldest first: every prefix of it is already right."""
    shift: SumShift | None = None
    """Applied before the rows (`publish_update` when the origin moves back): the rows already in the recorder
    take the older hours' total into their sums at once, and only the hours whose own values moved are rows."""


def publish(
    previous: Mapping[datetime, float],
    current: Mapping[datetime, float],
    origin: datetime,
    previous_origin: datetime | None,
) -> Publication:
    """The rows of ``current`` at or after ``origin`` (older hours are held), against ``previous``.

    ``previous`` holds no hour before ``origin`` (`choose_origin` never moves the origin after the oldest written
    hour), so every row in the recorder counts from ``origin`` once these rows are written. Every hour from the
    origin to the newest one gets a row (`contiguous_hours`).
    """
    origin = utc_hour(origin)
    shown = {hour: wh for hour, wh in _normalised(current).items() if hour >= origin}
    newest = max((*shown, *_normalised(previous)), default=None)
    if newest is not None:
        shown = contiguous_hours(shown, origin, newest + HOUR)
    return Publication(
        rows=rows_to_write(previous, shown, origin, previous_origin),
        written=run_of(written_hours(previous, shown)),
        newest_first=bool(previous),
    )


@dataclass(frozen=True, slots=True)
class Published:
    """What one statistic holds in the recorder after a `publish`, as arrays: cheap to update (`publish_update`).

    ``written`` is `Publication.written`: every hour from ``origin`` to the newest, contiguous (`contiguous_hours`),
    in order; ``states`` (Wh, ``written``'s own array) and ``sums`` (Wh, from ``origin``) are its values and running
    totals. Immutable by convention: `publish_update` makes new arrays.

    Kept in memory between imports (six per self-consumption PRM with prices, ~26,000 hours each): ``states`` and
    ``sums`` are ``array("d")``, not lists, and ``written`` a `HourRun`. Python's cycle collector visits every object
    a list or a dict refers to at each full pass (a pause of the whole process); an array holds raw numbers it never
    visits (`benchmarks/statistics_import.py` prints the pass's duration).
    """

    origin: datetime
    written: HourRun
    states: array[float]
    sums: array[float]


def published(written: Mapping[datetime, float], origin: datetime) -> Published | None:
    """``written`` (a `Publication.written` from ``origin``) as `Published`; None when it is not contiguous from
    ``origin`` (hours written by an older version): then only `publish` applies.
    """  # noqa: D205
    origin = utc_hour(origin)
    run = run_of(written)
    if not isinstance(run, HourRun) or (run and run.epoch() != origin.timestamp()):
        return None
    return Published(origin, run, run.array, array("d", accumulate(run.array)))


_ZERO = array("d", [0.0])


def publish_update(
    before: Published,
    updates: Mapping[datetime, float],
    newest: datetime | None,
    origin: datetime | None = None,
    held: Iterable[HourValues] = (),
) -> tuple[Publication, Published]:
    """`publish` when the statistic was last published as ``before`` and its current hours changed only at
    ``updates`` (an hour no longer there given as 0.0); ``newest`` is the newest current hour.

    Same written hours as `publish(before.written, current, origin, before.origin)` and, applied to the recorder,
    the same rows, in time proportional to what moved: the hours from the first changed one on (their sums move with
    it), not the whole series. ``origin`` (default: unchanged) may move back (`choose_origin`): ``updates`` must then
    also give every current hour between it and the former origin (they were held), or ``held`` (each day's hours,
    in hour order, applied before ``updates``: ~13,000 hours a statistic when its imported span doubles, set a day at
    a time rather than hour by hour). Hours of ``updates`` before the origin are held, as in `publish`.

    When the origin moves back over hours holding energy, every row already written gets that energy added to its
    sum: `publish` rewrites each of them (~26,000 rows a statistic when the history completes), this gives a
    `SumShift` (the recorder adds it in one update) and rows only for the older hours and the hours whose own value
    moved. Equal to `publish`'s rows when the origin stays.
    """  # noqa: D205
    start = before.origin if origin is None else utc_hour(origin)
    if start > before.origin:
        msg = "the origin never moves forward (choose_origin)"
        raise ValueError(msg)
    base = start.timestamp()
    old_count = len(before.states)
    # The hours between the new origin and the oldest the recorder holds; none when it holds none (a statistic
    # without a row yet, e.g. a cost while no hour is priced: its rows start at its first hour, as in `publish`).
    shift = int((before.origin.timestamp() - base) // _HOUR_S) if old_count else 0
    count = shift + old_count
    if newest is not None and newest >= start:
        count = max(count, int((utc_hour(newest).timestamp() - base) // _HOUR_S) + 1)
    states = _ZERO * shift + before.states + _ZERO * (count - shift - old_count)
    kept = shift + old_count  # the first hour the recorder holds whose state moves (none: past them)
    for day in held:
        if not _set_older(states, day, base, shift):
            kept = _set_states(states, day.items(), base, shift, kept)
    kept = _set_states(states, updates.items(), base, shift, kept)
    first = 0 if shift else kept  # the first index whose state or sum may move: new hours are rows
    if first >= count:
        return Publication(rows=StatRows(), written=before.written, newest_first=bool(before.written)), before
    sums = before.sums[:first]
    sums.extend(accumulate(states[first:], initial=sums[-1] if sums else 0.0))
    del sums[first]  # the initial total
    written = HourRun.of(base, states)
    after = Published(start, written, states, sums)
    # The origin moved back over hours holding energy: the rows already written take it into their sums in the
    # recorder (one update). Those before ``kept`` kept their states: their sums there are theirs plus that energy
    # (to the last bits of the additions), not compared one by one (~26,000 hours a statistic when the history
    # completes); from ``kept`` on, each is compared with what the recorder will hold.
    moved_by = sums[shift - 1] if shift and old_count and sums[shift - 1] else 0.0
    rows = _moved_rows(before, after, first, shift, kept=kept, moved_by=moved_by)
    return Publication(
        rows=rows,
        written=written,
        newest_first=bool(before.written),
        shift=SumShift(before.origin, moved_by / 1000) if moved_by else None,
    ), after


def _set_states(
    states: array[float], updates: Iterable[tuple[datetime, float]], base: float, shift: int, kept: int
) -> int:
    """Set each hour's state (hours before the origin, at ``base``, are left out); returns ``kept`` lowered to the
    first hour from ``shift`` on (held by the recorder) whose state changed."""  # noqa: D205, D209
    for hour, value in updates:
        index = int((hour.timestamp() - base) // _HOUR_S)
        if index < 0:
            continue
        if states[index] != value:
            states[index] = value
            if index >= shift:
                kept = min(kept, index)
    return kept


def _set_older(states: array[float], day: HourValues, base: float, shift: int) -> bool:
    """Set a day's states in one slice when its hours are consecutive, from the origin (``base``) on and all older
    than ``shift`` (the recorder holds none of them: no row of its is compared); False when they are not."""  # noqa: D205, D209
    count = len(day.hours)
    if not count:
        return True
    first = day.hours[0].timestamp()
    index = int((first - base) // _HOUR_S)
    if index < 0 or index + count > shift or day.hours[-1].timestamp() - first != (count - 1) * _HOUR_S:
        return False
    states[index : index + count] = array("d", day.hour_values)
    return True


def _kwh(values: array[float]) -> array[float]:
    return array("d", map(truediv, values, repeat(1000.0)))


def _moved_rows(before: Published, after: Published, first: int, shift: int, *, kept: int, moved_by: float) -> StatRows:
    """`publish_update`'s rows: ``after``'s hours from ``first`` to ``shift`` (older than ``before``'s, new to the
    recorder), then from ``kept`` on each hour new or whose state or sum moved by more than `TOLERANCE_KWH`
    (``before``'s hours start at ``after``'s ``shift``, their sums raised by ``moved_by`` Wh in the recorder first:
    `SumShift`; the test of `rows_to_write`). ``before``'s hours before ``kept`` kept their states: not rows.

    Only the hours both hold from ``kept`` on are compared, one by one; the others are rows, taken whole."""  # noqa: D205, D209
    count = len(after.states)
    older = max(first, shift)  # rows [first, older): hours the recorder does not hold, older than its oldest
    low, high = max(older, kept), max(older, shift + len(before.states))  # the hours both hold, compared
    moved = [
        i
        for i, old_state, old_sum, state, running in zip(
            range(low, high),
            before.states[low - shift : high - shift],
            before.sums[low - shift : high - shift],
            after.states[low:high],
            after.sums[low:high],
            strict=True,
        )
        if abs(old_state / 1000 - state / 1000) > TOLERANCE_KWH
        or abs((old_sum + moved_by) / 1000 - running / 1000) > TOLERANCE_KWH
    ]
    base = after.written.epoch()
    if low == older and len(moved) == high - low:  # every hour from ``first`` on
        starts = _consecutive_hours(base + first * _HOUR, count - first)
        return StatRows.from_columns(starts, _kwh(after.states[first:]), _kwh(after.sums[first:]))
    if not moved:  # two runs of consecutive hours: the older ones, and those after ``before``'s newest
        starts = _consecutive_hours(base + first * _HOUR, older - first)
        starts.extend(_consecutive_hours(base + high * _HOUR, count - high))
        states = after.states[first:older] + after.states[high:]
        return StatRows.from_columns(starts, _kwh(states), _kwh(after.sums[first:older] + after.sums[high:]))
    indexes = [*range(first, older), *moved, *range(high, count)]
    return StatRows.from_columns(
        array("d", [base + i * _HOUR_S for i in indexes]),
        _kwh(array("d", map(after.states.__getitem__, indexes))),
        _kwh(array("d", map(after.sums.__getitem__, indexes))),
    )


def rows_to_repair(
    expected: Sequence[StatRow], recorded: Mapping[float, tuple[float | None, float | None]]
) -> tuple[list[StatRow], bool]:
    """Compare the rows the recorder should hold with those it holds (UTC epoch start -> (state, sum)).

    Returns the expected rows that are missing or differ by more than 1e-9 kWh, and whether the recorder holds
    rows that are not expected (an hour never written, e.g. older rows with other sums): those cannot be deleted
    one by one, so the caller clears the statistic and writes every expected row.
    """
    expected_starts = {row.start.timestamp() for row in expected}
    foreign = any(start not in expected_starts for start in recorded)
    if foreign:
        return list(expected), True
    differing: list[StatRow] = []
    for row in expected:
        held = recorded.get(row.start.timestamp())
        if (
            held is None
            or held[0] is None
            or held[1] is None
            or abs(held[0] - row.state) > TOLERANCE_KWH
            or abs(held[1] - row.sum) > TOLERANCE_KWH
        ):
            differing.append(row)
    return differing, False


def repair_rows(
    hours: Mapping[datetime, float], origin: datetime, recorded: Mapping[float, tuple[float | None, float | None]]
) -> tuple[list[StatRow], bool]:
    """`rows_to_repair` of the rows the recorder should hold for ``hours`` written from ``origin``."""
    return rows_to_repair(build_rows(hours, origin), recorded)


def daily_energy_from_hours(hours: Mapping[datetime, float]) -> dict[date, float]:
    """Local (Paris) day to Wh of ``hours`` (UTC hour to Wh), sorted by day."""
    days: dict[date, float] = {}
    for hour, value in sorted(_normalised(hours).items()):
        day = local_day(hour)
        days[day] = days.get(day, 0.0) + value
    return days
