"""The Paris calendar: every conversion between instants and Enedis' local days, in one place.

Pure (no I/O, nothing from Home Assistant); the library and the integration both use it. Enedis counts days in
Europe/Paris local time: a local day runs from local midnight to local midnight and lasts 23, 24 or 25 hours.

Rules kept here:

* Instants are aware datetimes. A naive datetime is refused (`to_utc` raises ``ValueError``): ``astimezone``
  would read it as the host's local time, which is not Paris on most servers.
* Bounds and moments the integration computes with (day bounds, local midnights, poll times) are aware UTC.
* Paris wall-clock values handed out as data (readings, register stamps, what the parsers return) carry the
  FIXED offset of their instant (``+01:00`` or ``+02:00``, `to_paris`, `paris_instant`), never
  ``ZoneInfo("Europe/Paris")``: Python subtracts and compares two datetimes sharing one ``ZoneInfo`` by wall
  clock, which would make the 23 h and 25 h DST days 24 h long and mis-order the repeated autumn hour. Never
  rebuild a value with ``tzinfo=PARIS`` after arithmetic; `PARIS` is for conversions (``astimezone``) and for
  building a wall-clock time once (`paris_datetime`).
* Paris changes its offset on a whole UTC hour (01:00 UTC), so a local midnight is always a whole UTC hour and
  a local day a whole number of UTC hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
"""The zone Enedis counts days in."""

_FIXED: dict[timedelta, timezone] = {}


def fixed_offset(offset: timedelta) -> timezone:
    """The fixed-offset tzinfo of ``offset``, one shared object per offset (cheap to compare and copy)."""
    tz = _FIXED.get(offset)
    if tz is None:
        tz = _FIXED[offset] = timezone(offset)
    return tz


def _aware(moment: datetime) -> datetime:
    """``moment`` itself; refuses naive datetimes (``astimezone`` would read them as the host's time)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = f"naive datetime {moment.isoformat()}"
        raise ValueError(msg)
    return moment


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; refuses naive datetimes (``ValueError``)."""
    if moment.tzinfo is UTC:  # what the integration computes with (called ~200 times per imported day)
        return moment
    return _aware(moment).astimezone(UTC)


def utc_hour(moment: datetime) -> datetime:
    """``moment`` in UTC, which must be on the hour (``ValueError`` otherwise)."""
    hour = moment if moment.tzinfo is UTC else to_utc(moment)
    if hour.minute or hour.second or hour.microsecond:
        msg = f"{moment.isoformat()} is not on the hour"
        raise ValueError(msg)
    return hour


def paris_offset(instant: datetime) -> timedelta:
    """Paris' UTC offset at an aware ``instant`` (1 h in winter, 2 h in summer)."""
    return _aware(instant).astimezone(PARIS).utcoffset() or timedelta(0)


def to_paris(instant: datetime) -> datetime:
    """An aware ``instant`` as Paris wall clock with the FIXED offset of that instant (exact arithmetic)."""
    local = _aware(instant).astimezone(PARIS)  # one conversion: parsers call this per reading
    return local.replace(tzinfo=fixed_offset(local.utcoffset() or timedelta(0)), fold=0)


def paris_instant(stamp: float) -> datetime:
    """The instant ``stamp`` (UTC epoch seconds) as `to_paris` gives it (the form the parsers return)."""
    local = datetime.fromtimestamp(stamp, PARIS)
    return local.replace(tzinfo=fixed_offset(local.utcoffset() or timedelta(0)), fold=0)


def local_day(instant: datetime) -> date:
    """The Paris (Enedis) calendar day of an aware instant."""
    return _aware(instant).astimezone(PARIS).date()


def paris_datetime(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """The Paris wall-clock time ``hour:minute`` of ``day``, as aware UTC.

    A time repeated by the autumn change is its first occurrence (summer time); a time inside the spring gap
    (02:00-03:00 on the last Sunday of March) is read with the winter offset, i.e. one hour later in wall clock
    (``zoneinfo``'s rule for ``fold=0``). The integration only builds whole local days and hours 6 to 22.
    """
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def local_midnight_utc(day: date) -> datetime:
    """Local midnight at the start of ``day``, as aware UTC (always a whole UTC hour)."""
    return paris_datetime(day)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight of ``day`` and of the next day, as aware UTC datetimes (23, 24 or 25 h apart)."""
    return local_midnight_utc(day), local_midnight_utc(day + timedelta(days=1))


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """`day_bounds` as Paris wall clock with fixed offsets (the bounds of a parsed daily reading)."""
    start, end = day_bounds(day)
    return to_paris(start), to_paris(end)


def wall_instants(naive: datetime) -> tuple[datetime, ...]:
    """The UTC instants a naive Paris wall-clock time denotes, in order.

    One instant normally; two for a time in the hour repeated by the autumn change (summer time first); none
    for a time inside the spring gap, which does not exist in Paris.
    """
    first = naive.replace(tzinfo=PARIS, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=PARIS, fold=1).astimezone(UTC)
    if first == second:
        return (first,)
    if first < second:  # repeated hour of the autumn change
        return (first, second)
    return ()  # spring gap: zoneinfo maps it to two different instants in the wrong order


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError  # pragma: no cover - day 28 always exists
