"""Pure parsers: Enedis response bodies (decoded JSON, or raw text for errors) to typed models.

Every function here is pure and synchronous. Anything malformed raises `InvalidResponseError`; no
``KeyError``/``TypeError``/``ValueError`` escapes and no value is guessed.

Datetimes: Enedis stamps are Europe/Paris wall-clock strings without offset. They are resolved to exact
instants (the repeated hour of the autumn change is resolved *by order*) and returned as aware datetimes
carrying the Paris offset of that instant as a fixed-offset tzinfo (``+01:00`` or ``+02:00``). They compare
equal to the same instant expressed with ``calendar.PARIS`` but, unlike ``ZoneInfo`` datetimes sharing one
tzinfo, their subtraction and ordering are exact across DST changes (Python does wall-clock arithmetic
between datetimes that share a ``ZoneInfo``). The conversions themselves are `calendar`'s (`to_paris`,
`wall_instants`, `local_day_bounds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
import html
import json
import math
import re

from .calendar import fixed_offset, local_day, local_day_bounds, to_paris, wall_instants
from .errors import (
    ApiNotSubscribedError,
    AuthError,
    BeforeActivationError,
    ConsentError,
    CurveNotEnabledError,
    EnedisError,
    HistoryLimitError,
    InvalidDatesError,
    InvalidResponseError,
    NoDataError,
    NotHolderError,
    OutOfRangeError,
    RateLimitError,
    RequestError,
    ServerError,
    UnrecognizedResponseError,
    WindowTooLongError,
    WrongDirectionError,
)
from .models import (
    UNITS,
    Address,
    Contract,
    Direction,
    IndexSeries,
    Measure,
    Reading,
    Register,
    RegisterValue,
    Series,
    SubscribedService,
)

__all__ = [
    "DESCRIPTION_MAX_LEN",
    "parse_address_2026",
    "parse_address_v5",
    "parse_contract_2026",
    "parse_contract_v5",
    "parse_error",
    "parse_index",
    "parse_local_datetime",
    "parse_local_day",
    "parse_measure",
    "parse_step",
    "parse_subscribed_services",
    "parse_token",
]

DESCRIPTION_MAX_LEN = 300
"""Longest error description kept (longer server texts are truncated with an ellipsis)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CURVE_STEP = timedelta(hours=1)
_DEFAULT_CURVE_STEP = timedelta(minutes=30)

_STAMP_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?"
    r"\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?"
)
_STEP_RE = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_POWER_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(kVA|VA)?", re.IGNORECASE)
_POSTAL_CITY_RE = re.compile(r"(\d{5})\s+(.+)")
_MONTHS = {
    m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
_NEXT_ACCESS_RE = re.compile(
    r"(\d{4})-([A-Za-z]{3})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{2}:?\d{2})?",
)
_HTML_HINT_RE = re.compile(r"<\s*(?:!doctype|html|head|body|title|h1|p|div|br|pre)\b", re.IGNORECASE)
_HTML_DROP_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TAG_RE = re.compile(r"<[^>]*>")
_SPACES_RE = re.compile(r"\s+")

# Units: what each measure accepts, mapped to (canonical unit, factor to the canonical unit).
_UNIT_FACTORS: dict[Measure, dict[str, float]] = {
    Measure.DAILY_ENERGY: {"wh": 1.0, "kwh": 1000.0},
    Measure.LOAD_CURVE: {"w": 1.0, "kw": 1000.0},
    Measure.MAX_POWER: {"va": 1.0, "kva": 1000.0},
}
_V5_AGGREGATES = {Measure.DAILY_ENERGY: "sum", Measure.LOAD_CURVE: "average", Measure.MAX_POWER: "maximum"}
_PHYSICAL = {Measure.DAILY_ENERGY: "EA", Measure.LOAD_CURVE: "PA", Measure.MAX_POWER: "PMA"}
_BUSINESS = {Direction.CONSUMPTION: "CONS", Direction.PRODUCTION: "PROD"}

# --------------------------------------------------------------------------------------------- helpers


def _invalid(message: str) -> InvalidResponseError:
    return InvalidResponseError(message)


def _mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _invalid(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _sequence(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise _invalid(f"{what}: expected a list, got {type(value).__name__}")
    return value


def _opt_str(value: object, what: str) -> str | None:
    """A string field that may be absent/null; numbers are accepted and rendered, empty means absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _invalid(f"{what}: expected a string, got a boolean")
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise _invalid(f"{what}: expected a string, got {type(value).__name__}")
    value = value.strip()
    return value or None


def _req_str(value: object, what: str) -> str:
    text = _opt_str(value, what)
    if text is None:
        raise _invalid(f"{what}: missing")
    return text


def _is_masked(text: str) -> bool:
    """Values hidden by Enedis, e.g. ``<masque>``."""
    return text.startswith("<") and text.endswith(">")


def _parse_stamp(text: object, what: str) -> tuple[datetime, bool]:
    """Parse ``YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][offset]``: (naive or aware datetime, has-time flag)."""
    if not isinstance(text, str):
        raise _invalid(f"{what}: expected a date string, got {type(text).__name__}")
    match = _STAMP_RE.fullmatch(text.strip())
    if match is None:
        raise _invalid(f"{what}: unrecognised date {text[:40]!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tzinfo: timezone | None = None
    if offset is not None:
        if offset in {"Z", "UTC"}:
            tzinfo = UTC
        else:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            if delta >= timedelta(hours=24):
                raise _invalid(f"{what}: bad offset in {text[:40]!r}")
            tzinfo = fixed_offset(sign * delta)
    try:
        stamp = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=tzinfo,
        )
    except ValueError as err:
        raise _invalid(f"{what}: invalid date {text[:40]!r}") from err
    return stamp, hour is not None


def _paris_instants(naive: datetime, what: str) -> tuple[datetime, datetime | None]:
    """UTC instant(s) of a Paris wall-clock time: (first, second-if-ambiguous). Non-existent times raise."""
    instants = wall_instants(naive)
    if len(instants) == 1:
        return instants[0], None
    if instants:  # repeated hour of the autumn change
        return instants[0], instants[1]
    raise _invalid(f"{what}: {naive.isoformat(' ')} does not exist in Europe/Paris (spring DST gap)")


def parse_local_datetime(text: str, *, fold: int = 0) -> datetime:
    """Parse an Enedis local stamp (Paris wall clock, or ISO with offset) into an aware datetime.

    ``fold`` picks the occurrence of a time repeated by the autumn change (0: first, +02:00; 1: second).
    A time inside the spring gap raises `InvalidResponseError`.
    """
    stamp, _ = _parse_stamp(text, "datetime")
    if stamp.tzinfo is not None:
        return to_paris(stamp)
    first, second = _paris_instants(stamp, "datetime")
    return to_paris(second if fold and second is not None else first)


def parse_local_day(text: str) -> date:
    """Parse a local day ``YYYY-MM-DD`` (a stamp at local midnight, with or without offset, is accepted)."""
    stamp, has_time = _parse_stamp(text, "day")
    if stamp.tzinfo is not None:
        stamp = to_paris(stamp).replace(tzinfo=None)
        has_time = True
    if has_time and stamp.time() != datetime.min.time():
        raise _invalid(f"day: {text[:40]!r} is not a local day")
    return stamp.date()


def _local_month_bounds(day: date) -> tuple[datetime, datetime]:
    first = date(day.year, day.month, 1)
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return local_day_bounds(first)[0], local_day_bounds(nxt)[0]


_STEPS: dict[str, timedelta] = {}
"""Steps parsed so far (every point of a load curve carries its own, nearly always ``PT30M``): a few entries."""
_STEPS_KEPT = 32


def parse_step(text: object) -> timedelta:
    """Parse an ISO 8601 step such as ``PT30M``, ``PT1H`` or ``P1D`` into a positive timedelta."""
    if isinstance(text, str) and (known := _STEPS.get(text)) is not None:
        return known
    if not isinstance(text, str) or (match := _STEP_RE.fullmatch(text.strip().upper())) is None:
        raise _invalid(f"step: unrecognised duration {str(text)[:20]!r}")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    step = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if step <= timedelta(0):
        raise _invalid(f"step: {text!r} is not a positive duration")
    if len(_STEPS) < _STEPS_KEPT:  # bounded: a body cannot grow it with made-up durations
        _STEPS[text] = step
    return step


def _is_hole(raw: object) -> bool:
    """A value that says "no measure here": JSON null, an empty string, or the string ``"null"`` (any case).

    Clients type ``v`` as ``string | null``, and a null turned into text on its way (JavaScript's ``String(null)``)
    reads ``"null"``. Each is a hole for that point only: never 0, never a reason to drop the rest of the window.
    """
    if raw is None:
        return True
    if isinstance(raw, str):
        text = raw.strip()
        return not text or text.lower() == "null"
    return False


def _parse_value(raw: object, what: str) -> float | None:
    """A measure value: number or numeric string; a hole (`_is_hole`) is ``None``, never 0."""
    if _is_hole(raw):
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if text.isdigit():
            return float(int(text))
        if _NUMBER_RE.fullmatch(text) is None:
            raise _invalid(f"{what}: non-numeric value {text[:20]!r}")
        value = float(text)
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _invalid(f"{what}: non-numeric value of type {type(raw).__name__}")
    else:
        value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise _invalid(f"{what}: invalid value {raw!r}")
    return value


def _unit_factor(unit: object, measure: Measure) -> float:
    if unit is None:
        return 1.0  # v4 captures omit reading_type: the measure's own unit
    if not isinstance(unit, str):
        raise _invalid(f"unit: expected a string, got {type(unit).__name__}")
    factor = _UNIT_FACTORS[measure].get(unit.strip().lower())
    if factor is None:
        raise _invalid(f"unit {unit[:10]!r} does not fit {measure} (expected {UNITS[measure]})")
    return factor


# --------------------------------------------------------------------------------------------- measures


@dataclass(frozen=True, slots=True)
class _RawSeries:
    prm: str | None
    quality: str | None
    unit: object
    points: list[tuple[object, object, object]]  # (value, stamp, step)
    period_step: object


def _raw_2026(body: Mapping[str, object], measure: Measure, direction: Direction) -> _RawSeries:
    wanted = _BUSINESS[direction]
    prm = _opt_str(body.get("idPrm"), "idPrm")
    quality = _opt_str(body.get("etapeMetier"), "etapeMetier")
    grandeurs = [_mapping(g, "grandeur[]") for g in _sequence(body.get("grandeur"), "grandeur")]
    if not grandeurs:
        # "un tableau vide est renvoyé pour ce cas" (Swagger): an answer without any series is "no data for this
        # window", the same as a grandeur whose ``points`` is empty (see `parse_measure`).
        return _RawSeries(prm=prm, quality=quality, unit=None, points=[], period_step=body.get("pas"))
    matching = [g for g in grandeurs if g.get("grandeurMetier") == wanted]
    if len(matching) > 1:
        matching = [g for g in matching if g.get("grandeurPhysique") == _PHYSICAL[measure]]
    if not matching:
        found = sorted({str(g.get("grandeurMetier")) for g in grandeurs})
        raise _invalid(f"no {wanted} grandeur in the body (found {found}): wrong direction?")
    if len(matching) > 1:
        raise _invalid(f"several {wanted}/{_PHYSICAL[measure]} grandeurs in the body")
    grandeur = matching[0]
    points: list[tuple[object, object, object]] = []
    for item in _sequence(grandeur.get("points", []), "points"):
        point = _mapping(item, "points[]")
        points.append((point.get("v"), point.get("d"), point.get("p")))
    return _RawSeries(
        prm=prm,
        quality=quality,
        unit=grandeur.get("unite"),
        points=points,
        period_step=body.get("pas"),
    )


def _raw_v5(reading: Mapping[str, object], measure: Measure) -> _RawSeries:
    unit: object = None
    period_step: object = None
    reading_type = reading.get("reading_type")
    if reading_type is not None:
        rtype = _mapping(reading_type, "reading_type")
        unit = rtype.get("unit")
        aggregate = rtype.get("aggregate")
        if aggregate is not None and aggregate != _V5_AGGREGATES[measure]:
            raise _invalid(f"reading_type.aggregate {str(aggregate)[:20]!r} does not fit {measure}")
        period_step = rtype.get("measuring_period")
    points: list[tuple[object, object, object]] = []
    for item in _sequence(reading.get("interval_reading", []), "interval_reading"):
        point = _mapping(item, "interval_reading[]")
        points.append((point.get("value"), point.get("date"), point.get("interval_length")))
    return _RawSeries(
        prm=_opt_str(reading.get("usage_point_id"), "usage_point_id"),
        quality=_opt_str(reading.get("quality"), "quality"),
        unit=unit,
        points=points,
        period_step=period_step,
    )


def _curve_ends(raw: _RawSeries) -> list[datetime]:
    """End instants of a load curve's points, resolving repeated autumn stamps by order (strictly increasing)."""
    ends: list[datetime] = []
    previous: datetime | None = None
    for index, (_, stamp_raw, _) in enumerate(raw.points):
        what = f"point {index}"
        stamp, has_time = _parse_stamp(stamp_raw, what)
        if not has_time:
            raise _invalid(f"{what}: load-curve stamp without time {stamp_raw!r}")
        if stamp.tzinfo is not None:
            end = stamp.astimezone(UTC)
        else:
            first, second = _paris_instants(stamp, what)
            end = first
            if previous is not None and first <= previous and second is not None:
                end = second
        if previous is not None and end <= previous:
            raise _invalid(f"{what}: stamp {stamp_raw!r} does not follow the previous one")
        ends.append(end)
        previous = end
    return ends


def _curve_step(ends: list[datetime], index: int, step_raw: object, last_step: timedelta | None) -> timedelta:
    """A point's interval: its own step, else the spacing of the stamps (at most an hour), else the last one."""
    if step_raw is not None:
        step = parse_step(step_raw)
        if step > _MAX_CURVE_STEP:
            raise _invalid(f"point {index}: load-curve step {step_raw!r} is longer than one hour")
        return step
    end = ends[index]
    spacing = end - ends[index - 1] if index else (ends[1] - end if len(ends) > 1 else None)
    return spacing if spacing is not None and spacing <= _MAX_CURVE_STEP else last_step or _DEFAULT_CURVE_STEP


def _curve(raw: _RawSeries, factor: float) -> tuple[list[Reading], list[tuple[datetime, datetime]]]:
    ends = _curve_ends(raw)
    # Steps (per point, else inferred from spacing) and readings.
    readings: list[Reading] = []
    holes: list[tuple[datetime, datetime]] = []
    last_step: timedelta | None = None
    previous: datetime | None = None
    local_end = _EPOCH  # the previous point's end in Paris time (read only once ``previous`` is set)
    for index, (value_raw, _, step_raw) in enumerate(raw.points):
        what = f"point {index}"
        end = ends[index]
        step = _curve_step(ends, index, step_raw, last_step)
        start = end - step
        if previous is not None and start < previous:
            raise _invalid(f"{what}: interval overlaps the previous one")
        # A point starts where the previous one ended (nearly always): its start in Paris time is that end's.
        local_start = local_end if previous is not None and start == previous else to_paris(start)
        previous, last_step = end, step
        value = _parse_value(value_raw, what)
        local_end = to_paris(end)
        bounds = (local_start, local_end)
        if value is None:
            holes.append(bounds)
        else:
            readings.append(Reading(start=bounds[0], end=bounds[1], value=value * factor))
    return readings, holes


def _daily(raw: _RawSeries, factor: float, *, peak: bool) -> tuple[list[Reading], list[tuple[datetime, datetime]]]:
    monthly = peak and isinstance(raw.period_step, str) and raw.period_step.strip().upper() == "P1M"
    readings: list[Reading] = []
    holes: list[tuple[datetime, datetime]] = []
    previous: datetime | None = None
    for index, (value_raw, stamp_raw, _) in enumerate(raw.points):
        what = f"point {index}"
        at: datetime | None = None
        if peak:
            if not isinstance(stamp_raw, str) or not _parse_stamp(stamp_raw, what)[1]:
                raise _invalid(f"{what}: max-power stamp without time {stamp_raw!r}")
            at = parse_local_datetime(stamp_raw)
            day = at.date()
        else:
            if not isinstance(stamp_raw, str):
                raise _invalid(f"{what}: expected a day string")
            day = parse_local_day(stamp_raw)
        start, end = _local_month_bounds(day) if monthly else local_day_bounds(day)
        if previous is not None and start < previous:
            raise _invalid(f"{what}: {stamp_raw!r} repeats or precedes the previous period")
        previous = end
        value = _parse_value(value_raw, what)
        if value is None:
            holes.append((start, end))
        else:
            readings.append(Reading(start=start, end=end, value=value * factor, at=at))
    return readings, holes


def parse_measure(body: object, *, measure: Measure, direction: Direction, prm: str | None = None) -> Series:
    """Parse a measure body (Data Connect 2026, v5 ``meter_reading`` wrapped or not) into a `Series`.

    Load curve: ``d`` is the END of each interval, the step comes from each point (``p`` /
    ``interval_length``) or the spacing. Daily energy: one reading per local day. Max power: one reading per
    local day (month for ``pas=P1M``) with ``at`` = the peak.

    No data is an empty `Series`, not an error: a body whose ``grandeur`` is an empty list (the Swagger allows it:
    "un tableau vide est renvoyé pour ce cas"), whose series has no ``points``, or a v5 body without
    ``interval_reading``. `NoDataError` stays the error *answers* (404 "no data" bodies), which callers treat the
    same way (`MeteringSource.async_get_series` skips the window, the coordinator stores an empty result), so both
    mean "nothing for these days" downstream. A point whose value is null, empty or the string ``"null"`` is a
    hole (``Series.holes``, never 0) and the other points of the window are kept; a value that is present but not
    a measure (not a number, negative, infinite) still makes the body invalid, as a malformed stamp does.
    """
    if measure is Measure.INDEX:
        raise _invalid("index bodies are parsed by parse_index")
    data = _mapping(body, "measure body")
    if "idPrm" in data or "grandeur" in data:
        raw = _raw_2026(data, measure, direction)
    elif "meter_reading" in data:
        raw = _raw_v5(_mapping(data["meter_reading"], "meter_reading"), measure)
    elif "interval_reading" in data or "usage_point_id" in data:
        raw = _raw_v5(data, measure)
    else:
        raise _invalid(f"unrecognised measure body (keys: {sorted(data)[:8]})")
    if prm is not None and raw.prm is not None and raw.prm != prm.strip():
        raise _invalid("the body is for another PRM than the one requested")
    series_prm = raw.prm or (prm.strip() if prm else None)
    if not series_prm:
        raise _invalid("the body names no PRM")
    factor = _unit_factor(raw.unit, measure)
    if measure is Measure.LOAD_CURVE:
        readings, holes = _curve(raw, factor)
    else:
        readings, holes = _daily(raw, factor, peak=measure is Measure.MAX_POWER)
    readings.sort(key=lambda r: r.start)
    return Series(
        prm=series_prm,
        direction=direction,
        measure=measure,
        unit=UNITS[measure],
        readings=tuple(readings),
        holes=tuple(sorted(holes)),
        quality=raw.quality,
    )


# --------------------------------------------------------------------------------------------- index


def _index_value(raw: object, what: str) -> int | None:
    if _is_hole(raw):
        return None
    if isinstance(raw, bool):
        raise _invalid(f"{what}: boolean index value")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        raise _invalid(f"{what}: index value {str(raw)[:20]!r} is not an integer")
    if value < 0:
        raise _invalid(f"{what}: negative index value")
    return value


def _register_values(raw: object, what: str) -> list[RegisterValue]:
    values: list[RegisterValue] = []
    for index, item in enumerate(_sequence(raw if raw is not None else [], f"{what}.valeur")):
        entry = _mapping(item, f"{what}.valeur[{index}]")
        value = _index_value(entry.get("v"), f"{what}.valeur[{index}]")
        stamp = entry.get("d")
        if not isinstance(stamp, str):
            raise _invalid(f"{what}.valeur[{index}]: missing date")
        if value is not None:
            values.append(RegisterValue(at=parse_local_datetime(stamp), value_wh=value))
    return values


def _merge_values(old: tuple[RegisterValue, ...], new: list[RegisterValue], what: str) -> tuple[RegisterValue, ...]:
    by_time: dict[datetime, RegisterValue] = {v.at: v for v in old}
    for value in new:
        known = by_time.get(value.at)
        if known is not None and known.value_wh != value.value_wh:
            raise _invalid(f"{what}: two different values at {value.at.isoformat()}")
        by_time[value.at] = value
    return tuple(sorted(by_time.values(), key=lambda v: v.at))


def _calendar_registers(grandeur: Mapping[str, object], registers: dict[tuple[str, str, str], Register]) -> None:
    """Add a grandeur's supplier and distributor registers (``calendrier[].classeTemporelle[]``), merging windows."""
    for cal_item in _sequence(grandeur.get("calendrier", []), "calendrier"):
        calendar = _mapping(cal_item, "calendrier[]")
        cal_id = _req_str(calendar.get("idCalendrier"), "idCalendrier")
        cal_label = _opt_str(calendar.get("libelleCalendrier"), "libelleCalendrier") or ""
        for class_item in _sequence(calendar.get("classeTemporelle", []), "classeTemporelle"):
            klass = _mapping(class_item, "classeTemporelle[]")
            class_id = _req_str(klass.get("idClasseTemporelle"), "idClasseTemporelle")
            code = _req_str(klass.get("codeCadran"), "codeCadran")
            what = f"{cal_id}/{class_id}"
            key = (cal_id, class_id, code)
            old = registers.get(key)
            registers[key] = Register(
                calendar_id=cal_id,
                calendar_label=cal_label,
                class_id=class_id,
                class_label=_opt_str(klass.get("libelleClasseTemporelle"), "libelleClasseTemporelle") or "",
                code=code,
                values=_merge_values(old.values if old else (), _register_values(klass.get("valeur"), what), what),
            )


def _totaliser(grandeur: Mapping[str, object], totaliser: Register | None) -> Register | None:
    """The grandeur's totalising register (``cadranTotalisateur``) merged into the one read so far, if any."""
    total_raw = grandeur.get("cadranTotalisateur")
    if total_raw is None:
        return totaliser
    total = _mapping(total_raw, "cadranTotalisateur")
    code = _req_str(total.get("codeCadran"), "cadranTotalisateur.codeCadran")
    return Register(
        calendar_id="",
        calendar_label="",
        class_id="TOTAL",
        class_label="Totalisateur",
        code=code,
        values=_merge_values(
            totaliser.values if totaliser else (),
            _register_values(total.get("valeur"), "cadranTotalisateur"),
            "cadranTotalisateur",
        ),
    )


def parse_index(body: object, *, direction: Direction, prm: str | None = None) -> IndexSeries:
    """Parse ``index_consommation`` / ``index_production`` (Swagger §5.6) into an `IndexSeries`."""
    data = _mapping(body, "index body")
    body_prm = _opt_str(data.get("idPrm"), "idPrm")
    if prm is not None and body_prm is not None and body_prm != prm.strip():
        raise _invalid("the body is for another PRM than the one requested")
    series_prm = body_prm or (prm.strip() if prm else None)
    if not series_prm:
        raise _invalid("the body names no PRM")
    wanted = _BUSINESS[direction]
    contexts = [_mapping(c, "contexte[]") for c in _sequence(data.get("contexte", []), "contexte")]
    registers: dict[tuple[str, str, str], Register] = {}
    totaliser: Register | None = None
    quality: str | None = None
    seen_other = False
    for context in contexts:
        for item in _sequence(context.get("grandeur", []), "contexte[].grandeur"):
            grandeur = _mapping(item, "contexte[].grandeur[]")
            if grandeur.get("grandeurMetier") != wanted:
                seen_other = True
                continue
            quality = quality or _opt_str(context.get("etapeMetier"), "etapeMetier")
            if _unit_factor(grandeur.get("unite"), Measure.DAILY_ENERGY) != 1.0:
                raise _invalid("index registers must be in Wh")
            _calendar_registers(grandeur, registers)
            totaliser = _totaliser(grandeur, totaliser)
    if seen_other and not registers and totaliser is None:
        raise _invalid(f"no {wanted} grandeur in the index body: wrong direction?")
    return IndexSeries(
        prm=series_prm,
        direction=direction,
        registers=tuple(registers.values()),
        totaliser=totaliser,
        quality=quality,
    )


# --------------------------------------------------------------------------------------------- contracts


def _contract_date(raw: object, what: str) -> date | None:
    """``2013-08-14+01:00``, ``2018-08-31T00:00:00+0200``, ``2026-10-05``: the local (Paris) date."""
    text = _opt_str(raw, what)
    if text is None or _is_masked(text):
        return None
    stamp, has_time = _parse_stamp(text, what)
    if has_time and stamp.tzinfo is not None:
        return local_day(stamp)
    return stamp.date()


def _power_kva(raw: object, what: str) -> float | None:
    """``"9 kVA"``, ``{"unit": "kVA", "value": "12"}``, ``12`` -> kVA."""
    unit: object = None
    if isinstance(raw, Mapping):
        unit, raw = raw.get("unit"), raw.get("value")
    text = _opt_str(raw, what)
    if text is None or _is_masked(text):
        return None
    if unit is not None:
        text = f"{text} {_req_str(unit, f'{what}.unit')}"
    match = _POWER_RE.fullmatch(text)
    if match is None:
        raise _invalid(f"{what}: unrecognised power {text[:20]!r}")
    value = float(match.group(1).replace(",", "."))
    return value / 1000 if (match.group(2) or "kVA").lower() == "va" else value


def _usage_points(body: object) -> list[Mapping[str, object]]:
    data = _mapping(body, "customers body")
    customer = _mapping(data.get("customer", data), "customer")
    points = [_mapping(p, "usage_points[]") for p in _sequence(customer.get("usage_points"), "usage_points")]
    if not points:
        raise _invalid("no usage point in the body")
    return points


def _pick_usage_point(body: object, prm: str | None) -> tuple[Mapping[str, object], Mapping[str, object]]:
    """(entry, entry.usage_point) for ``prm``, or the only usage point of the body."""
    points = _usage_points(body)
    pairs = [(p, _mapping(p.get("usage_point"), "usage_point")) for p in points]
    if prm is not None:
        for pair in pairs:
            if _opt_str(pair[1].get("usage_point_id"), "usage_point_id") == prm.strip():
                return pair
    if len(pairs) == 1:
        return pairs[0]
    raise _invalid("no usage point of the body matches the requested PRM")


def parse_contract_v5(body: object, prm: str) -> Contract:
    """Parse ``customers_upc/v5/usage_points/contracts`` (also v3/v4 and gateways relaying it)."""
    entry, usage_point = _pick_usage_point(body, prm)
    contracts = _mapping(entry.get("contracts", {}), "contracts")
    return Contract(
        prm=prm,
        segment=_opt_str(contracts.get("segment"), "segment"),
        subscribed_power_kva=_power_kva(contracts.get("subscribed_power"), "subscribed_power"),
        offpeak_hours=_opt_str(contracts.get("offpeak_hours"), "offpeak_hours"),
        distribution_tariff=_opt_str(contracts.get("distribution_tariff"), "distribution_tariff"),
        meter_type=_opt_str(usage_point.get("meter_type"), "meter_type"),
        contract_type=_opt_str(contracts.get("contract_type"), "contract_type"),
        contract_status=_opt_str(contracts.get("contract_status"), "contract_status"),
        usage_point_status=_opt_str(usage_point.get("usage_point_status"), "usage_point_status"),
        last_activation_date=_contract_date(contracts.get("last_activation_date"), "last_activation_date"),
        last_tariff_change_date=_contract_date(
            contracts.get("last_distribution_tariff_change_date"), "last_distribution_tariff_change_date"
        ),
    )


def _is_production_contract(item: Mapping[str, object]) -> bool:
    contract_type = (_opt_str(item.get("contract_type"), "contract_type") or "").upper()
    segment = (_opt_str(item.get("segment"), "segment") or "").upper()
    return "GRD-A" in contract_type or segment.startswith("P")


def parse_contract_2026(
    situation: object,
    synth: object | None = None,
    comptage: object | None = None,
    *,
    prm: str,
) -> Contract:
    """Merge ``situation_contrat_auto`` (a list), ``synth_contrat_auto`` and ``comptage_auto``.

    A self-consumption PRM has two situation items: the GRD-F/C5 consumption contract (which gives the
    segment, tariff and power) and a GRD-A/P4 production contract (``has_production``).
    """
    items_raw = [situation] if isinstance(situation, Mapping) else _sequence(situation, "situation_contrat")
    items = [_mapping(i, "situation_contrat[]") for i in items_raw]
    for item in items:
        item_prm = _opt_str(item.get("usage_point_id"), "usage_point_id")
        if item_prm is not None and not _is_masked(item_prm) and item_prm != prm.strip():
            raise _invalid("the contract body is for another PRM than the one requested")
    production = [i for i in items if _is_production_contract(i)]
    consumption = [i for i in items if not _is_production_contract(i)]
    main: Mapping[str, object] = (consumption or production)[0] if items else {}

    synth_data: Mapping[str, object] = _mapping(synth, "synth_contrat") if synth is not None else {}
    production_date = _contract_date(
        synth_data.get("generation_last_activation_date"), "generation_last_activation_date"
    )
    segments = {
        (_opt_str(_mapping(s, "segments[]").get("segment"), "segment") or "").upper()
        for s in _sequence(synth_data.get("segments", []), "segments")
    }

    meter_type: str | None = None
    offpeak: str | None = None
    if comptage is not None:
        comptage_data = _mapping(comptage, "comptage")
        device = _mapping(comptage_data.get("dispositifComptage", {}), "dispositifComptage")
        kind = device.get("typeComptage")
        if isinstance(kind, Mapping):
            meter_type = _opt_str(kind.get("code"), "typeComptage.code") or _opt_str(
                kind.get("libelle"), "typeComptage.libelle"
            )
        else:
            meter_type = _opt_str(kind, "typeComptage")
        relay = _mapping(comptage_data.get("relais", {}), "relais")
        offpeak = _opt_str(relay.get("plageHeuresCreuses"), "plageHeuresCreuses")

    return Contract(
        prm=prm,
        segment=_opt_str(main.get("segment"), "segment"),
        subscribed_power_kva=_power_kva(main.get("subscribed_power"), "subscribed_power"),
        offpeak_hours=offpeak,
        distribution_tariff=_opt_str(main.get("distribution_tariff"), "distribution_tariff"),
        meter_type=meter_type,
        contract_type=_opt_str(main.get("contract_type"), "contract_type"),
        contract_status=_opt_str(main.get("contract_status"), "contract_status"),
        last_activation_date=_contract_date(
            synth_data.get("consumption_last_activation_date"), "consumption_last_activation_date"
        ),
        production_activation_date=production_date,
        last_power_change_date=_contract_date(
            synth_data.get("last_subscribed_power_change_date"), "last_subscribed_power_change_date"
        ),
        services_level=_opt_str(synth_data.get("services_level"), "services_level"),
        has_production=bool(production) or production_date is not None or any(s.startswith("P") for s in segments),
        has_consumption=bool(consumption),
    )


def _split_postal_city(text: str | None) -> tuple[str | None, str | None]:
    match = _POSTAL_CITY_RE.fullmatch(text) if text else None
    return (match.group(1), match.group(2).strip()) if match else (None, None)


def parse_address_2026(body: object) -> Address:
    """Parse ``donnees_generales_auto`` (``address{number_street_name, postal_code_city, insee_code}``)."""
    data = _mapping(body, "donnees_generales body")
    address = _mapping(data.get("address"), "address")
    postal_code_city = _opt_str(address.get("postal_code_city"), "postal_code_city")
    postal_code, city = _split_postal_city(postal_code_city)
    return Address(
        street=_opt_str(address.get("number_street_name"), "number_street_name"),
        postal_code_city=postal_code_city,
        insee_code=_opt_str(address.get("insee_code"), "insee_code"),
        city=city,
        postal_code=postal_code,
    )


def parse_address_v5(body: object, prm: str | None = None) -> Address:
    """Parse ``customers_upa/v5/usage_points/addresses`` (the usage point of ``prm``, or the only one)."""
    _, usage_point = _pick_usage_point(body, prm)
    address = _mapping(usage_point.get("usage_point_addresses"), "usage_point_addresses")
    street = _opt_str(address.get("street"), "street")
    locality = _opt_str(address.get("locality"), "locality")
    if locality:
        street = f"{street}, {locality}" if street else locality
    postal_code = _opt_str(address.get("postal_code"), "postal_code")
    city = _opt_str(address.get("city"), "city")
    return Address(
        street=street,
        postal_code_city=" ".join(p for p in (postal_code, city) if p) or None,
        insee_code=_opt_str(address.get("insee_code"), "insee_code"),
        city=city,
        postal_code=postal_code,
    )


# --------------------------------------------------------------------------------------------- consent, token


def _flag(raw: object, what: str) -> bool:
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
        return raw.strip().lower() == "true"
    raise _invalid(f"{what}: expected a boolean")


def parse_subscribed_services(body: object) -> list[SubscribedService]:
    """Parse ``POST subscribed_services/v1`` (``serviceSouscrit[]``; a count-only body gives ``[]``)."""
    data = _mapping(body, "subscribed_services body")
    services: list[SubscribedService] = []
    for index, item in enumerate(_sequence(data.get("serviceSouscrit", []), "serviceSouscrit")):
        what = f"serviceSouscrit[{index}]"
        entry = _mapping(item, what)
        authorization = _mapping(entry.get("autorisation", {}), f"{what}.autorisation")
        services.append(
            SubscribedService(
                prm=_req_str(entry.get("pointId"), f"{what}.pointId"),
                state=_req_str(entry.get("etatCode"), f"{what}.etatCode").upper(),
                consumption=_flag(entry.get("soutirage"), f"{what}.soutirage"),
                production=_flag(entry.get("injection"), f"{what}.injection"),
                service_code=_opt_str(entry.get("serviceCode"), f"{what}.serviceCode"),
                measure_type=_opt_str(entry.get("mesuresTypeCode"), f"{what}.mesuresTypeCode"),
                start=_contract_date(entry.get("dateDebut"), f"{what}.dateDebut"),
                end=_contract_date(entry.get("dateFin"), f"{what}.dateFin"),
                authorization_id=_opt_str(authorization.get("autorisationId"), f"{what}.autorisationId"),
            )
        )
    return services


def parse_token(body: object) -> tuple[str, float]:
    """``(access_token, expires_in seconds)`` from an OAuth2 token response. Never echoes the token."""
    data = _mapping(body, "token body")
    token = data.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise _invalid("token body without access_token")
    raw = data.get("expires_in")
    numeric = isinstance(raw, int | float) and not isinstance(raw, bool)
    if numeric or (isinstance(raw, str) and _NUMBER_RE.fullmatch(raw.strip())):
        expires_in = float(raw)  # type: ignore[arg-type]
    else:
        raise _invalid("token body without a numeric expires_in")
    if not math.isfinite(expires_in) or expires_in <= 0:
        raise _invalid("token body with a non-positive expires_in")
    return token.strip(), expires_in


# --------------------------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class _ErrorInfo:
    code: str | None = None
    description: str | None = None
    next_access: object = None


def _clean_text(text: str) -> str:
    """Strip HTML (when it looks like HTML), collapse whitespace and truncate."""
    if _HTML_HINT_RE.search(text):
        text = html.unescape(_HTML_TAG_RE.sub(" ", _HTML_DROP_RE.sub(" ", text)))
    text = _SPACES_RE.sub(" ", text).strip()
    if len(text) > DESCRIPTION_MAX_LEN:
        text = text[: DESCRIPTION_MAX_LEN - 1].rstrip() + "…"
    return text


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    text = _clean_text(raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False))
    return text or None


def _code(raw: object) -> str | None:
    if raw is None or isinstance(raw, bool | Mapping | list):
        return None
    text = str(raw).strip()
    return text or None


def _extract(node: object, depth: int = 0) -> _ErrorInfo:
    """Find the innermost Enedis code/description inside the known gateway wrappers."""
    if isinstance(node, str):
        return _ErrorInfo(description=_text(node))
    if not isinstance(node, Mapping) or depth > 6:
        return _ErrorInfo()
    wrapped = _extract_wrapped(node, depth)
    return wrapped if wrapped is not None else _extract_flat(node, depth)


def _extract_wrapped(node: Mapping[str, object], depth: int) -> _ErrorInfo | None:
    """The gateways' wrappers: enedisgateway's ``enedis_return`` / ``tag``, the WSO2 ``fault``; None: not one."""
    inner = node.get("enedis_return")
    if isinstance(inner, Mapping):  # enedisgateway (possibly nested "result_400")
        info = _extract(inner, depth + 1)
        if info.code:
            return info
    if "tag" in node and "error_code" in node:  # enedisgateway without a usable Enedis body
        code = _code(node.get("error_code"))
        if code is None or code.isdigit():
            code = _code(node.get("tag")) or code
        return _ErrorInfo(code=code, description=_text(node.get("description")))
    fault = node.get("fault")
    if isinstance(fault, Mapping):  # WSO2 gateway
        return _ErrorInfo(
            code=_code(fault.get("code")),
            description=_text(fault.get("description") or fault.get("message")),
            next_access=fault.get("nextAccessTime"),
        )
    return None


def _extract_flat(node: Mapping[str, object], depth: int) -> _ErrorInfo:
    """Conso API's relay, OAuth's ``error``, Swagger's ``code``, else a bare description."""
    error = node.get("error")
    if isinstance(error, Mapping) or ("status" in node and "message" in node and "code" not in node):
        if error is not None:  # Conso API relaying an Enedis body (dict or raw text)
            info = _extract(error, depth + 1)
            if info.code or info.description:
                return info
        return _ErrorInfo(description=_text(node.get("message")))
    if error is not None:  # OAuth style {"error", "error_description"}
        return _ErrorInfo(
            code=_code(error),
            description=_text(node.get("error_description") or node.get("description") or node.get("message")),
        )
    if "code" in node:  # Swagger / WSO2 {"code", "message", "description", "nextAccessTime"}
        return _ErrorInfo(
            code=_code(node.get("code")),
            description=_text(node.get("description") or node.get("message")),
            next_access=node.get("nextAccessTime"),
        )
    return _ErrorInfo(description=_text(node.get("detail") or node.get("message") or node.get("description")))


_STATUS_ALONE = frozenset({401, 403, 408, 429})
"""4xx statuses whose meaning does not depend on the body (a proxy's or firewall's page says the same)."""
_CONSO_API_KEYS = frozenset({"status", "message", "error"})


def _known_shape(node: object) -> bool:
    """Whether a decoded error body has one of the shapes Enedis and its gateways send.

    WSO2 ``{"fault": {...}}``; enedisgateway ``{tag, error_code}`` / ``{enedis_return: {...}}``; Conso API
    ``{status, message[, error]}`` and nothing else (so a framework's ``{timestamp, status, error, path}`` is not
    taken for it); Enedis / OAuth ``{error, error_description | error_uri}``; Swagger / WSO2 ``{code, message}``.
    """
    if not isinstance(node, Mapping):
        return False
    if isinstance(node.get("fault"), Mapping) or isinstance(node.get("enedis_return"), Mapping):
        return True
    if "tag" in node and "error_code" in node:
        return True
    status = node.get("status")
    if (
        isinstance(status, int)
        and not isinstance(status, bool)
        and isinstance(node.get("message"), str)
        and set(node) <= _CONSO_API_KEYS
    ):
        return True
    if node.get("error") is not None and ("error_description" in node or "error_uri" in node):
        return True
    return "code" in node and ("message" in node or "description" in node)


_CODE_MAP: dict[str, type[EnedisError]] = {
    "ADAM-DC-0008": ConsentError,
    "CLIENT-NOT-FOUND": ConsentError,
    "TOKEN-REFRESH-401": ConsentError,
    "ADAM-DC-0007": NotHolderError,
    "ADAM-ERR0061": NotHolderError,
    "900908": ApiNotSubscribedError,
    "900906": RequestError,
    "NO-DATA-FOUND": NoDataError,
    "STM-ERR-0000014": NoDataError,
    "STM-ERR-0000020": NoDataError,
    "ADAM-ERR0123": BeforeActivationError,
    "ADAM-ERR0125": HistoryLimitError,
    "ADAM-DC-0016": HistoryLimitError,
    "ADAM-DC-0015": WindowTooLongError,
    "ADAM-ERR0126": WindowTooLongError,
    "ADAM-DC-0009": OutOfRangeError,
    "ADAM-ERR0002": InvalidDatesError,
    "ADAM-ERR0069": WrongDirectionError,
    "ADAM-ERR0075": CurveNotEnabledError,
    "TECHNICAL-ERROR": ServerError,
    "INTERNAL-SERVER-ERROR": ServerError,
    "ADAM-DC-0500": ServerError,
    "STM-ERR-0000001": ServerError,
    "SERVER-ERROR": ServerError,
    "LINCS-INTERNAL-SERVER-ERROR": ServerError,
    "LIMIT-REACHED": RateLimitError,
    "429": RateLimitError,
    "INVALID-CLIENT": AuthError,
    "INVALID-GRANT": AuthError,
    "INVALID-TOKEN": AuthError,
    "UNAUTHORIZED-CLIENT": AuthError,
    "UNAUTHORIZED-USER": AuthError,
}


def _classify(code: str | None, description: str | None, status: int) -> type[EnedisError] | None:
    if code:
        key = code.strip().upper().replace("_", "-").replace(" ", "-")
        if key in _CODE_MAP:
            return _CODE_MAP[key]
        if key.isdigit() and len(key) == 6 and key.startswith("9009"):  # WSO2 authentication family
            return AuthError
        if key.isdigit() and len(key) == 6 and key.startswith("9008"):  # WSO2 throttling family
            return RateLimitError
        if key == "INVALID-REQUEST":
            return InvalidDatesError if "date" in (description or "").lower() else RequestError
    lowered = (description or "").lower()
    if "pas de mesure" in lowered or "no measure found" in lowered:
        return NoDataError
    if "n'est pas titulaire" in lowered or "not owner" in lowered:
        return NotHolderError
    if status == 429 or "quota" in lowered:
        return RateLimitError
    return None


def _parse_next_access(raw: object) -> datetime | None:
    """``2026-Jul-17 05:00:00+0000 UTC``, ISO 8601 or epoch (s/ms) -> aware UTC."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = raw / 1000 if raw > 1e11 else raw
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if text.isdigit():
        return _parse_next_access(int(text))
    match = _NEXT_ACCESS_RE.search(text)
    if match:
        year, month_name, day, hour, minute, second, offset = match.groups()
        month = _MONTHS.get(month_name.upper())
        if month is None:
            return None
        iso = f"{year}-{month:02d}-{int(day):02d}T{int(hour):02d}:{minute}:{second or '00'}{offset or '+0000'}"
        text = iso
    try:
        stamp, has_time = _parse_stamp(text.removesuffix(" UTC").removesuffix(" GMT"), "nextAccessTime")
    except InvalidResponseError:
        return None
    if not has_time:
        return None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _retry_hint(
    info: _ErrorInfo, headers: Mapping[str, str] | None, now: datetime | None
) -> tuple[float | None, datetime | None]:
    """(retry_after seconds >= 0, retry_at aware UTC) from nextAccessTime, Retry-After or the text."""
    current = (now or datetime.now(UTC)).astimezone(UTC)
    retry_at = _parse_next_access(info.next_access)
    if retry_at is None and info.description and "access api after" in info.description.lower():
        retry_at = _parse_next_access(info.description.lower().split("access api after", 1)[1])
    if retry_at is None and (header := _header(headers, "retry-after")) is not None:
        header = header.strip()
        if header.isdigit():
            return float(int(header)), current + timedelta(seconds=int(header))
        try:
            retry_at = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            retry_at = None
        if retry_at is not None and retry_at.tzinfo is None:
            retry_at = retry_at.replace(tzinfo=UTC)
    if retry_at is not None:
        return max(0.0, (retry_at - current).total_seconds()), retry_at.astimezone(UTC)
    if info.description and "quota q3" in info.description.lower():
        return 1.0, current + timedelta(seconds=1)  # Q3 is the per-second quota
    return None, None


def _by_status(status: int) -> type[EnedisError]:
    """The error an HTTP status means when neither a code nor a description decided."""
    if status in {401, 403}:
        return AuthError
    if status == 404:
        return NoDataError
    if status == 408 or status >= 500:
        return ServerError
    if 400 <= status < 500:
        return RequestError
    return InvalidResponseError  # 2xx/3xx: a body we cannot use


def parse_error(
    status: int,
    text: str,
    *,
    headers: Mapping[str, str] | None = None,
    api: str | None = None,
    now: datetime | None = None,
) -> EnedisError:
    """Map an error response (HTTP status + raw body) to the typed error of `errors`.

    Unwraps Conso API ``{status, message, error}``, enedisgateway ``{tag, error_code, enedis_return}``,
    WSO2 ``{fault}`` and Enedis ``{error, error_description}`` / ``{code, message}`` bodies. ``api`` names
    the API for `ApiNotSubscribedError`; ``now`` is the reference time for ``retry_after``.

    A known code or description decides first (``no_data_found``, ``ADAM-ERR0069``...). Otherwise the status
    decides, but a 4xx status is trusted only with a body in one of those shapes (`_known_shape`): a 404 is
    `NoDataError` only when Enedis or the gateway said it, and any other 4xx with a page or another API's JSON
    is `UnrecognizedResponseError` (the URL most likely is not the API: read as "no data", it made a dead
    entry). 401/403 (credentials, a firewall page), 408, 429 and 5xx keep their meaning whatever the body.
    """
    try:
        decoded: object = json.loads(text) if text and text.strip() else None
    except ValueError:
        decoded = text
    info = _extract(decoded) if decoded is not None else _ErrorInfo()
    code, description = info.code, info.description or ""
    cls = _classify(code, description, status)
    recognised = _known_shape(decoded) or (code is not None and cls is not None)
    if 400 <= status < 500 and status not in _STATUS_ALONE and not recognised:
        # A web server's page (or another API's JSON): neither "no data" nor a request Enedis refused.
        cls = UnrecognizedResponseError
        description = f"not an Enedis or gateway answer: {description or _text(text) or 'empty body'}"
    elif cls is None:
        cls = _by_status(status)
    if not description:
        description = f"unexpected HTTP {status} response" if text.strip() else f"empty HTTP {status} response"
    if cls is RateLimitError:
        retry_after, retry_at = _retry_hint(info, headers, now)
        return RateLimitError(description, retry_at=retry_at, code=code, status=status, retry_after=retry_after)
    if cls is ApiNotSubscribedError:
        return ApiNotSubscribedError(description, api=api, code=code, status=status)
    return cls(description, code=code, status=status)
