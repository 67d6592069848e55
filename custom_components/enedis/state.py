"""The engine's state: what an entry knows of its meters, as plain data (no Home Assistant, no I/O).

Per PRM (`PrmCache`) and direction (`SeriesCache`):

- **readings**: the load curve per local day (`curve`, `curve_state`), daily energy, maximum power, the index
  registers' daily energy;
- **per-measure progress** (`MeasureProgress`, one per `Measure`): the days asked, whether the history import reached
  its start, the oldest day Enedis serves (``floor``) and a bisection looking for it (``probe``); the load curve's
  newest-first walk adds its ``curve_frontier``;
- **the daily poll's book-keeping**: the last poll day, back-off of incomplete recent days, days given up;
- **refused measures** and **what the ledger wrote** to the statistics (origin and hours per statistic).

Two operations own the per-day and progress fields, so that no caller forgets one of them:

- `SeriesCache.forget_days`: the days' answers are forgotten, so the backfill asks them again (`refetch`);
- `SeriesCache.restart_history`: the history import starts again, keeping the readings (a source change);
  `SeriesCache.reopen_history` is its first half (`import_history`: the import extends to an older start).

One codec table per class (`_Field`) drives `copy()` (what the executor serialises while the event loop goes on)
and the JSON of the Store (``store.py``): a field is declared once, with its encoding and its copy. Format version 3
(see ``store.py``): the per-measure progress is one ``progress`` object per series; `migrate_series` reads the keys
of versions 1 and 2 (``daily_fetched``, ``curve_done``, ``floors``…) into it.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from operator import sub
import threading
from typing import Any
from weakref import WeakKeyDictionary

from .api import Contract, Direction, Measure, Reading
from .api.calendar import paris_instant
from .ledger import HOUR, CurveState, DayCurve, HourRun, run_of

# --- encodings of the readings (compact: Home Assistant writes .storage files indented) ------------------------------


def _reading_to_json(reading: Reading) -> list[float]:
    row = [reading.start.timestamp(), reading.end.timestamp(), reading.value]
    if reading.at is not None:
        row.append(reading.at.timestamp())
    return row


def _reading_from_json(row: list[float]) -> Reading:
    at = paris_instant(row[3]) if len(row) > 3 else None
    return Reading(start=paris_instant(row[0]), end=paris_instant(row[1]), value=row[2], at=at)


def _whole(value: float) -> float | int:
    """An int when ``value`` is whole (JSON without ``.0``)."""
    return int(value) if value.is_integer() else value


def _numbers(text: str) -> list[float]:
    return [float(token) for token in text.split(",")] if text else []


_CURVE_JSON: WeakKeyDictionary[DayCurve, list[Any]] = WeakKeyDictionary()
"""Each day's curve as `_encode_curve` wrote it, kept while the curve lives (`DayCurve` is immutable)."""
_CURVE_JSON_LOCK = threading.Lock()


def _curve_to_json(curve: DayCurve) -> list[Any]:
    """`_encode_curve`, once per curve: a day's curve never changes once stored (a refetch stores a new one).

    The Store encodes the whole cache at each save (every 10 s at most, in the executor); during a backfill that
    was ~37 ms of interpreter time per save for 1,460 days of curve (two directions), competing with the event
    loop for its lock. Saves run in executor threads, possibly two entries at once: the memo is locked.
    """
    with _CURVE_JSON_LOCK:
        encoded = _CURVE_JSON.get(curve)
    if encoded is None:
        encoded = _encode_curve(curve)
        with _CURVE_JSON_LOCK:
            _CURVE_JSON[curve] = encoded
    return list(encoded)


def _encode_curve(curve: DayCurve) -> list[Any]:
    """``[start, step, "W,W,..."]`` for readings that follow each other with one step, else ``["start,end,W;..."]``."""
    spans = list(curve.spans())
    if spans:
        first, step = spans[0][0], spans[0][1] - spans[0][0]
        if step > 0 and all(
            start == first + i * step and end == start + step for i, (start, end, _) in enumerate(spans)
        ):
            return [_whole(first), _whole(step), _numbers_text(v for *_, v in spans)]
    return [";".join(map(_numbers_text, spans))]


def _curve_from_json(raw: list[Any]) -> DayCurve:
    """Read `_curve_to_json`, or version 1's ``[[start, end, W], ...]``."""
    if len(raw) == 3 and isinstance(raw[2], str):
        first, step = float(raw[0]), float(raw[1])
        values = _numbers(raw[2])
        return DayCurve((first + i * step, first + (i + 1) * step, v) for i, v in enumerate(values))
    if len(raw) == 1 and isinstance(raw[0], str):
        spans = [_numbers(span) for span in raw[0].split(";")] if raw[0] else []
        return DayCurve((start, end, value) for start, end, value in spans)
    return DayCurve((float(row[0]), float(row[1]), float(row[2])) for row in raw)


def _numbers_text(values: Iterable[float]) -> str:
    """The shortest text of each value (no ``.0`` for whole numbers), comma-separated: C-level ``repr`` and one pass
    dropping the ``.0`` of whole numbers (``repr`` writes ``.0,`` only there), a fraction of a per-value loop's cost.
    """  # noqa: D205
    return (",".join(map(repr, values)) + ",").replace(".0,", ",")[:-1]


_HOURS_JSON: dict[int, tuple[Mapping[datetime, float], list[list[Any]]]] = {}
"""Written hours encoded ahead (`encode_hours_ahead`), by identity (the mapping is kept: its id cannot be reused)."""
_HOURS_JSON_LOCK = threading.Lock()


def encode_hours_ahead(hours: Mapping[datetime, float]) -> None:
    """Encode one written-hours mapping of a cache copy, for its series' next `to_json` (run in the executor).

    The Store encodes a copy of the whole cache at each save (every 10 s at most during a backfill): ~50 ms of
    interpreter time in one executor job, during which the event loop, competing with the recorder's thread for the
    interpreter lock, could wait as long (`benchmarks/statistics_import.py`). Each statistic's hours in a job of its
    own (~5 ms each), then each series, let the loop run in between. `forget_hours_ahead` ends it.
    """
    encoded = _encode_hours(hours)
    with _HOURS_JSON_LOCK:
        _HOURS_JSON[id(hours)] = (hours, encoded)


def forget_hours_ahead(hours: Iterable[Mapping[datetime, float]]) -> None:
    """Drop what `encode_hours_ahead` kept for these mappings."""
    with _HOURS_JSON_LOCK:
        for mapping in hours:
            ahead = _HOURS_JSON.get(id(mapping))
            if ahead is not None and ahead[0] is mapping:
                del _HOURS_JSON[id(mapping)]


def _hours_to_json(hours: Mapping[datetime, float]) -> list[list[Any]]:
    """`_encode_hours`, or what `encode_hours_ahead` made of this very mapping."""
    with _HOURS_JSON_LOCK:
        ahead = _HOURS_JSON.get(id(hours))
    if ahead is not None and ahead[0] is hours:
        return ahead[1]
    return _encode_hours(hours)


def _copy_hours(hours: Mapping[datetime, float]) -> Mapping[datetime, float]:
    """A copy of written hours for the Store's save: a `HourRun` is immutable (itself), anything else a dict."""
    return hours if isinstance(hours, HourRun) else dict(hours)


def _epoch_key(item: tuple[str, float]) -> int:
    return int(item[0])


def _encode_hours(hours: Mapping[datetime, float]) -> list[list[Any]]:
    """``[[first hour, "Wh,Wh,..."], ...]``: one entry per run of consecutive UTC hours (epoch seconds).

    Run in the executor at each save for every written series (6 x 26,304 hours for a self-consumption PRM with
    HP/HC prices): the runs are found from the hours' differences (one `list.count` when they are all consecutive,
    as written hours are) and only each run's first hour is converted to a timestamp; ~6 ms a series where a
    per-hour loop took ~17 ms of the interpreter, competing with the event loop for its lock.
    """
    if isinstance(hours, HourRun):  # one run: no hour made
        return [[int(hours.epoch()), _numbers_text(hours.array)]] if hours else []
    keys = sorted(hours)
    if not keys:
        return []
    values = list(map(hours.__getitem__, keys))
    steps = list(map(sub, keys[1:], keys[:-1]))
    if steps.count(HOUR) == len(steps):
        breaks: list[int] = []
    else:
        breaks = [i + 1 for i, step in enumerate(steps) if step != HOUR]
    bounds = [0, *breaks, len(keys)]
    return [[int(keys[first].timestamp()), _numbers_text(values[first:last])] for first, last in pairwise(bounds)]


def _hours_from_json(raw: list[list[Any]] | dict[str, float]) -> Mapping[datetime, float]:
    """Read `_hours_to_json` (one run of hours, what is written since version 2, as a `HourRun`), or version 1's
    ``{"epoch": Wh}``."""  # noqa: D205, D209
    if isinstance(raw, dict):
        return run_of({datetime.fromtimestamp(int(k), UTC): float(v) for k, v in sorted(raw.items(), key=_epoch_key)})
    if len(raw) == 1 and int(raw[0][0]) % 3600 == 0:
        stamp, text = raw[0]
        return HourRun.of(float(int(stamp)), array("d", _numbers(text)))
    return {
        datetime.fromtimestamp(int(stamp) + 3600 * i, UTC): value
        for stamp, text in raw
        for i, value in enumerate(_numbers(text))
    }


_CONTRACT_DATES = (
    "last_activation_date",
    "production_activation_date",
    "last_tariff_change_date",
    "last_power_change_date",
)


def contract_to_json(contract: Contract) -> dict[str, Any]:
    """Serialise a contract (dates as ISO strings)."""
    raw = asdict(contract)
    for key in _CONTRACT_DATES:
        raw[key] = raw[key].isoformat() if raw[key] else None
    raw["unavailable_apis"] = list(contract.unavailable_apis)
    return raw


def contract_from_json(raw: dict[str, Any]) -> Contract:
    """Deserialise a contract, ignoring unknown keys (a newer version may have added some)."""
    known = {f.name for f in fields(Contract)}
    values = {k: v for k, v in raw.items() if k in known}
    for key in _CONTRACT_DATES:
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    values["unavailable_apis"] = tuple(values.get("unavailable_apis", ()))
    return Contract(**values)


# --- the codec table ---------------------------------------------------------------------------------------------


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class _Field:
    """One field of a state class: how it is written to JSON, read back, and copied.

    ``copy`` must return an object the original does not share anything mutable with (containers, mutable
    dataclasses); immutable values (dates, `DayCurve`, `Reading`, frozen dataclasses) are shared.
    """

    name: str
    encode: Callable[[Any], Any] = _same
    decode: Callable[[Any], Any] = _same
    copy: Callable[[Any], Any] = _same


def _iso(day: date) -> str:
    return day.isoformat()


def _day_set(name: str) -> _Field:
    return _Field(
        name,
        encode=lambda days: sorted(d.isoformat() for d in days),
        decode=lambda raw: {date.fromisoformat(d) for d in raw},
        copy=set,
    )


def _by_day(
    name: str,
    encode: Callable[[Any], Any] = _same,
    decode: Callable[[Any], Any] = _same,
    copy: Callable[[Any], Any] = _same,
) -> _Field:
    return _Field(
        name,
        encode=lambda days: {d.isoformat(): encode(v) for d, v in days.items()},
        decode=lambda raw: {date.fromisoformat(d): decode(v) for d, v in raw.items()},
        # A plain dict copy (in C) where the values are immutable: the save copies ~4,000 days per series.
        copy=dict if copy is _same else lambda days: {d: copy(v) for d, v in days.items()},
    )


def _optional_day(name: str) -> _Field:
    return _Field(name, encode=_iso, decode=date.fromisoformat)


def _flag(name: str) -> _Field:
    return _Field(name, decode=bool)


def _to_json(obj: Any, table: tuple[_Field, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in table:
        value = getattr(obj, f.name)
        out[f.name] = None if value is None else f.encode(value)
    return out


def _from_json[T](cls: Callable[..., T], table: tuple[_Field, ...], raw: dict[str, Any]) -> T:
    """Tolerant of missing keys: a field absent from an older file (or null) takes its default."""
    return cls(**{f.name: f.decode(raw[f.name]) for f in table if raw.get(f.name) is not None})


def _copy[T](obj: T, table: tuple[_Field, ...]) -> T:
    values = {}
    for f in table:
        value = getattr(obj, f.name)
        values[f.name] = None if value is None else f.copy(value)
    return type(obj)(**values)


# --- the model ---------------------------------------------------------------------------------------------------


@dataclass
class DayAttempts:
    """Retry bookkeeping of an incomplete day."""

    count: int = 0
    next_retry: date | None = None

    def to_json(self) -> list[Any]:
        """Serialise."""
        return [self.count, self.next_retry.isoformat() if self.next_retry else None]

    @classmethod
    def from_json(cls, raw: list[Any]) -> DayAttempts:
        """Deserialise."""
        return cls(int(raw[0]), date.fromisoformat(raw[1]) if raw[1] else None)

    def copy(self) -> DayAttempts:
        """A copy."""
        return DayAttempts(self.count, self.next_retry)


@dataclass
class MeasureRefusal:
    """A measure the PRM refuses: ADAM-ERR0075, or a load curve persistently empty while daily energy exists.

    It is not asked again before ``next_try`` (once a week). ``lifted``: the measure came back and the curve
    backfill is walking the older history again; the record goes when that walk ends.
    """

    since: date
    """The day the refusal was found."""
    next_try: date
    lifted: bool = False

    def to_json(self) -> dict[str, Any]:
        """Serialise."""
        return {"since": self.since.isoformat(), "next_try": self.next_try.isoformat(), "lifted": self.lifted}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> MeasureRefusal:
        """Deserialise."""
        return cls(
            since=date.fromisoformat(raw["since"]),
            next_try=date.fromisoformat(raw["next_try"]),
            lifted=bool(raw.get("lifted", False)),
        )

    def copy(self) -> MeasureRefusal:
        """A copy."""
        return MeasureRefusal(self.since, self.next_try, self.lifted)


@dataclass
class MeasureProgress:
    """How far the history import of one measure of a series got."""

    fetched: set[date] = field(default_factory=set)
    """Days asked, with or without an answer (daily energy, maximum power, index; the load curve's days are in
    `SeriesCache.curve_state`)."""
    history_done: bool = False
    """Every day from the measure's start was asked (the load curve: its newest-first walk reached the start)."""
    floor: date | None = None
    """The oldest day Enedis serves, learnt from ADAM-ERR0123 / history-limit answers (the load curve: or the day the
    recorded curve begins)."""
    probe: tuple[date, date] | None = None
    """A bisection in progress ``(failing start, working start)`` to find that oldest day."""

    def to_json(self) -> dict[str, Any]:
        """Serialise."""
        return _to_json(self, _PROGRESS)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> MeasureProgress:
        """Deserialise."""
        return _from_json(cls, _PROGRESS, raw)

    def copy(self) -> MeasureProgress:
        """A copy."""
        return _copy(self, _PROGRESS)


_PROGRESS = (
    _day_set("fetched"),
    _flag("history_done"),
    _optional_day("floor"),
    _Field(
        "probe",
        encode=lambda pair: [pair[0].isoformat(), pair[1].isoformat()],
        decode=lambda raw: (date.fromisoformat(raw[0]), date.fromisoformat(raw[1])),
    ),
)


def _all_progress() -> dict[Measure, MeasureProgress]:
    return {measure: MeasureProgress() for measure in Measure}


def _decode_progress(raw: dict[str, Any]) -> dict[Measure, MeasureProgress]:
    progress = _all_progress()
    progress.update({Measure(k): MeasureProgress.from_json(v) for k, v in raw.items()})
    return progress


@dataclass
class SeriesCache:
    """Everything known for one PRM and direction."""

    curve: dict[date, DayCurve] = field(default_factory=dict)
    curve_state: dict[date, CurveState] = field(default_factory=dict)
    """COMPLETE / PARTIAL / MISSING once the day's curve was fetched; absent = not fetched yet."""
    daily: dict[date, float] = field(default_factory=dict)
    max_power: dict[date, Reading] = field(default_factory=dict)
    registers: dict[date, dict[str, float]] = field(default_factory=dict)
    """Per local day: the energy of each supplier register class (``HC``, ``HP``, ``BUHC``...) from the index."""
    progress: dict[Measure, MeasureProgress] = field(default_factory=_all_progress)
    """Per measure (every `Measure` has one): days asked, history done, floor, probe."""
    curve_frontier: date | None = None
    """Oldest day reached by the newest-first curve backfill (None: not started)."""
    refused: dict[str, MeasureRefusal] = field(default_factory=dict)
    """Per measure: refused by the PRM (absent from files written before this field: none refused)."""
    last_poll_day: date | None = None
    """The day of the last first daily poll (the late-correction refetch happens once a day)."""
    attempts: dict[date, DayAttempts] = field(default_factory=dict)
    given_up: set[date] = field(default_factory=set)
    anchor: datetime | None = None
    """The series' origin: its oldest hour in the recorder, where every statistic of the series counts its sums from
    (`ledger.choose_origin`). Files written by earlier versions hold an anchor 15 days after their first import,
    with written hours before it (negative sums): the first import after the upgrade moves it to the oldest written
    hour and rewrites those rows (no format change: the data tells)."""
    written: Mapping[datetime, float] = field(default_factory=dict)
    """UTC hour -> Wh last written to the statistics (what the recorder holds): a `ledger.HourRun` once imported
    (every hour from the origin), replaced at each import, never changed in place."""
    extra_written: dict[str, Mapping[datetime, float]] = field(default_factory=dict)
    """Same, for the tariff series (``consumption_offpeak``, ``consumption_cost``...; money in milli-EUR)."""

    def __post_init__(self) -> None:
        """Every measure has its progress (a series built with some of them gets the others, empty)."""
        for measure in Measure:
            self.progress.setdefault(measure, MeasureProgress())

    @property
    def curve_done(self) -> bool:
        """The load curve's walk reached its start (its `MeasureProgress.history_done`)."""
        return self.progress[Measure.LOAD_CURVE].history_done

    def end_curve_walk(self) -> None:
        """The curve backfill is done; a lifted refusal, kept while the walk ran, is over."""
        self.progress[Measure.LOAD_CURVE].history_done = True
        refusal = self.refused.get(Measure.LOAD_CURVE.value)
        if refusal is not None and refusal.lifted:
            del self.refused[Measure.LOAD_CURVE.value]

    def settle(self, frontier: date | None, walk_ended: bool, history_done: Iterable[Measure]) -> None:
        """Apply what planning learnt without a request (`planner.Settled`).

        The walk passed known weeks, a walk reached its start, histories whose every day was asked.
        """
        if frontier is not None:
            self.curve_frontier = frontier
        if walk_ended:
            self.end_curve_walk()
        for measure in history_done:
            self.progress[measure].history_done = True

    def forget_days(self, days: Iterable[date]) -> None:
        """Forget the answers of ``days`` so that the backfill asks them again (the `refetch` service).

        Each measure's readings go with their "asked" mark: a day forgotten but still marked asked would never be
        asked again (beyond the daily poll's 14 days, lost for good). Daily energy is the exception: its value stays
        until the new answer replaces it, so that the statistics keep it meanwhile (the mark goes). The curve walk's
        frontier moves back above the days, and every measure's history is open again.
        """
        days = set(days)
        if not days:
            return
        for day in days:
            self.curve_state.pop(day, None)
            self.curve.pop(day, None)
            self.max_power.pop(day, None)
            self.registers.pop(day, None)
            self.given_up.discard(day)
            self.attempts.pop(day, None)
        for measure, progress in self.progress.items():
            progress.fetched -= days
            if measure is not Measure.LOAD_CURVE:
                progress.history_done = False
        last = max(days)
        if self.curve_frontier is not None and self.curve_frontier <= last:
            self.curve_frontier = max(self.curve_frontier, last + timedelta(days=1))
            self.progress[Measure.LOAD_CURVE].history_done = False

    def reopen_history(self) -> None:
        """The history import goes on towards an older start (`import_history`): no measure's history is done.

        The load curve's floor goes too when it was the day the recorded curve seemed to begin (inferred from empty
        answers): the user asks for older history, so the walk goes on through weeks without curve. Floors learnt
        from Enedis' range errors stay (Enedis serves nothing before them).
        """
        for progress in self.progress.values():
            progress.history_done = False
        self.progress[Measure.LOAD_CURVE].floor = None

    def restart_history(self, today: date) -> None:
        """Forget what the history import learnt from the previous source; keep the data it fetched.

        Days asked without an answer, "history done" flags, the curve backfill's frontier, back-off and given-up
        days, floors, probes and refused measures: all were answers of a source that is no longer the entry's (maybe
        a wrong URL whose every answer was "nothing"), so the backfill asks again for every day without data. The
        readings themselves (curve, daily energy, maximum power, registers) and what was written to the statistics
        stay: they are the meter's, whichever source served them. The curve backfill resumes below the run of
        complete days that reaches the day before yesterday (none: from today, as a new entry), so a working source
        replaced by another working one is not asked two years of curve again.
        """
        self.reopen_history()
        answered: dict[Measure, set[date]] = {
            Measure.DAILY_ENERGY: set(self.daily),
            Measure.MAX_POWER: set(self.max_power),
            Measure.INDEX: set(self.registers),
        }
        for measure, progress in self.progress.items():
            progress.fetched = answered.get(measure, set())
            progress.floor = progress.probe = None
        complete = {day for day, state in self.curve_state.items() if state is CurveState.COMPLETE}
        frontier: date | None = None
        day = max(complete, default=None)
        if day is not None and day >= today - timedelta(days=2):
            while day in complete:
                frontier = day
                day -= timedelta(days=1)
        self.curve_frontier = frontier
        self.attempts.clear()
        self.given_up.clear()
        self.refused.clear()

    def copy(self) -> SeriesCache:
        """A copy whose containers the event loop will not mutate (serialised in a thread).

        Every container is copied, nested ones too (a day's registers, the tariff series' hours, the attempts, the
        progress): nothing reachable from the copy can change while it is serialised. Only immutable values are
        shared (`DayCurve`, `Reading`, dates, tuples), which keeps the copy cheap.
        """
        return _copy(self, _SERIES)

    def to_json(self) -> dict[str, Any]:
        """Serialise (format version 3)."""
        return _to_json(self, _SERIES)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SeriesCache:
        """Deserialise (format version 3, or the keys of versions 1 and 2: see `migrate_series`)."""
        return _from_json(cls, _SERIES, migrate_series(raw))


_SERIES: tuple[_Field, ...] = (
    _by_day("curve", encode=_curve_to_json, decode=_curve_from_json),
    _by_day("curve_state", encode=lambda s: s.value, decode=CurveState),
    _by_day("daily", decode=float),
    _by_day("max_power", encode=_reading_to_json, decode=_reading_from_json),
    _by_day(
        "registers",
        decode=lambda classes: {c: float(w) for c, w in classes.items()},
        copy=dict,
    ),
    _Field(
        "progress",
        encode=lambda progress: {m.value: p.to_json() for m, p in progress.items()},
        decode=_decode_progress,
        copy=lambda progress: {m: p.copy() for m, p in progress.items()},
    ),
    _optional_day("curve_frontier"),
    _Field(
        "refused",
        encode=lambda refused: {k: r.to_json() for k, r in refused.items()},
        decode=lambda raw: {k: MeasureRefusal.from_json(v) for k, v in raw.items()},
        copy=lambda refused: {k: r.copy() for k, r in refused.items()},
    ),
    _optional_day("last_poll_day"),
    _by_day("attempts", encode=DayAttempts.to_json, decode=DayAttempts.from_json, copy=DayAttempts.copy),
    _day_set("given_up"),
    _Field("anchor", encode=lambda hour: hour.timestamp(), decode=lambda raw: datetime.fromtimestamp(raw, UTC)),
    _Field("written", encode=_hours_to_json, decode=_hours_from_json, copy=_copy_hours),
    _Field(
        "extra_written",
        encode=lambda series: {key: _hours_to_json(hours) for key, hours in series.items()},
        decode=lambda raw: {key: _hours_from_json(hours) for key, hours in raw.items()},
        copy=lambda series: {key: _copy_hours(hours) for key, hours in series.items()},
    ),
)


_LEGACY_FETCHED = {
    "daily_fetched": Measure.DAILY_ENERGY,
    "max_power_fetched": Measure.MAX_POWER,
    "index_fetched": Measure.INDEX,
}
_LEGACY_DONE = {
    "curve_done": Measure.LOAD_CURVE,
    "daily_history_done": Measure.DAILY_ENERGY,
    "max_power_history_done": Measure.MAX_POWER,
    "index_history_done": Measure.INDEX,
}


def migrate_series(raw: dict[str, Any]) -> dict[str, Any]:
    """A series as versions 1 and 2 wrote it, in version 3's shape (one ``progress`` object per measure).

    Versions 1 and 2 kept the progress in parallel keys (``daily_fetched``, ``max_power_history_done``,
    ``floors``/``probes`` by measure…); nothing is lost: every day asked, every flag, floor and probe moves to its
    measure. A version 3 series (it has ``progress``) is returned as it is.
    """
    if "progress" in raw:
        return raw
    progress: dict[str, dict[str, Any]] = {measure.value: {} for measure in Measure}
    for key, measure in _LEGACY_FETCHED.items():
        progress[measure.value]["fetched"] = raw.get(key, [])
    for key, measure in _LEGACY_DONE.items():
        progress[measure.value]["history_done"] = bool(raw.get(key, False))
    for key, floor in (raw.get("floors") or {}).items():
        progress.setdefault(key, {})["floor"] = floor
    for key, probe in (raw.get("probes") or {}).items():
        progress.setdefault(key, {})["probe"] = probe
    legacy = {*_LEGACY_FETCHED, *_LEGACY_DONE, "floors", "probes"}
    return {**{k: v for k, v in raw.items() if k not in legacy}, "progress": progress}


@dataclass(frozen=True, slots=True)
class AccessRefusal:
    """Enedis refused a PRM's data: no consent or a revoked one (ADAM-DC-0008), or not the holder's (ADAM-DC-0007).

    Kept so that a restart does not ask again: the PRM is not polled until a reauthentication or reconfiguration
    verifies it after ``since`` (see `EnedisCoordinator`).
    """

    reason: str
    """``consent_missing`` or ``not_holder`` (`const.ACCESS_STATES`)."""
    since: datetime
    code: str | None = None
    """The Enedis code of the refusal."""

    def to_json(self) -> dict[str, Any]:
        """Serialise."""
        return {"reason": self.reason, "since": self.since.isoformat(), "code": self.code}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AccessRefusal:
        """Deserialise."""
        return cls(reason=str(raw["reason"]), since=datetime.fromisoformat(raw["since"]), code=raw.get("code"))


@dataclass
class PrmCache:
    """One PRM: its series per direction and what we learnt about it."""

    series: dict[Direction, SeriesCache] = field(default_factory=dict)
    absent: set[Direction] = field(default_factory=set)
    """Directions the PRM does not measure (ADAM-ERR0069 / contract)."""
    history_start: date | None = None
    """Set by the import_history service: import back to this day (within Enedis' horizons)."""
    contract: Contract | None = None
    contract_day: date | None = None
    """When the contract was last fetched (once a day at most)."""
    refusal: AccessRefusal | None = None
    """Set while Enedis refuses this PRM's data (no consent): the PRM is not polled."""

    def restart_history(self, today: date) -> None:
        """See `SeriesCache.restart_history`; also forget the directions and contract learnt from the old source."""
        for series in self.series.values():
            series.restart_history(today)
        self.absent.clear()
        self.contract_day = None  # read again at the next refresh (Data Connect; gateways have none)

    def copy(self) -> PrmCache:
        """A copy safe to serialise in a thread."""
        return _copy(self, _PRM)

    def to_json(self) -> dict[str, Any]:
        """Serialise."""
        return _to_json(self, _PRM)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PrmCache:
        """Deserialise."""
        return _from_json(cls, _PRM, raw)


_PRM: tuple[_Field, ...] = (
    _Field(
        "series",
        encode=lambda series: {k.value: v.to_json() for k, v in series.items()},
        decode=lambda raw: {Direction(k): SeriesCache.from_json(v) for k, v in raw.items()},
        copy=lambda series: {k: v.copy() for k, v in series.items()},
    ),
    _Field(
        "absent",
        encode=lambda absent: sorted(a.value for a in absent),
        decode=lambda raw: {Direction(a) for a in raw},
        copy=set,
    ),
    _optional_day("history_start"),
    _Field("contract", encode=contract_to_json, decode=contract_from_json),
    _optional_day("contract_day"),
    _Field("refusal", encode=AccessRefusal.to_json, decode=AccessRefusal.from_json),
)


@dataclass
class EntryCache:
    """All PRMs of an entry, plus request accounting."""

    prms: dict[str, PrmCache] = field(default_factory=dict)
    requests_day: date | None = None
    requests_today: int = 0
    last_backfill_request: float | None = None
    """UTC epoch of the last backfill request (pacing through gateways)."""
    backfill_requests: int = 0
    source: str | None = None
    """Where the cache was filled from (`MeteringSource.location`); None in caches written before it was recorded."""

    def copy(self) -> EntryCache:
        """A copy safe to serialise in a thread (the containers are copied, the readings are immutable)."""
        return _copy(self, _ENTRY)

    def restart_history(self, today: date) -> None:
        """The history import starts again as for a new entry (see `SeriesCache.restart_history`), first burst too."""
        for prm in self.prms.values():
            prm.restart_history(today)
        self.backfill_requests = 0
        self.last_backfill_request = None

    def prm(self, prm: str) -> PrmCache:
        """The cache of a PRM (created on first use)."""
        return self.prms.setdefault(prm, PrmCache())

    def series_items(self) -> list[tuple[str, Direction, SeriesCache]]:
        """Every series, with its PRM and direction."""
        return [
            (prm, direction, series) for prm, cache in self.prms.items() for direction, series in cache.series.items()
        ]

    def written_hours(self) -> list[Mapping[datetime, float]]:
        """Every written-hours mapping of every series (the statistics' and their tariff series')."""
        return [
            hours for _, _, series in self.series_items() for hours in (series.written, *series.extra_written.values())
        ]

    def to_json(self, series: Mapping[tuple[str, Direction], dict[str, Any]] | None = None) -> dict[str, Any]:
        """Serialise; ``series``: each series' `SeriesCache.to_json`, already made (the Store makes them one executor
        job each), used as they are."""  # noqa: D205, D209
        if series is None:
            return _to_json(self, _ENTRY)
        shell = replace(self, prms={prm: replace(cache, series={}) for prm, cache in self.prms.items()})
        raw = _to_json(shell, _ENTRY)
        for (prm, direction), encoded in series.items():
            raw["prms"][prm]["series"][direction.value] = encoded
        return raw

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EntryCache:
        """Deserialise."""
        return _from_json(cls, _ENTRY, raw)


_ENTRY: tuple[_Field, ...] = (
    _Field(
        "prms",
        encode=lambda prms: {k: v.to_json() for k, v in prms.items()},
        decode=lambda raw: {k: PrmCache.from_json(v) for k, v in raw.items()},
        copy=lambda prms: {k: v.copy() for k, v in prms.items()},
    ),
    _optional_day("requests_day"),
    _Field("requests_today", decode=int),
    _Field("last_backfill_request", decode=float),
    _Field("backfill_requests", decode=int),
    _Field("source", decode=str),
)


def _check_tables() -> None:
    """Every field of every state class has its codec, and no codec names a field that does not exist."""
    for cls, table in (
        (MeasureProgress, _PROGRESS),
        (SeriesCache, _SERIES),
        (PrmCache, _PRM),
        (EntryCache, _ENTRY),
    ):
        declared, coded = [f.name for f in fields(cls)], [f.name for f in table]
        if declared != coded:  # pragma: no cover - a programming error, caught by importing the module
            msg = f"{cls.__name__}: codec table {coded} != fields {declared}"
            raise TypeError(msg)


_check_tables()
