"""Per-entry persistence (an HA `Store`) of what was fetched and what was written to the statistics.

A restart never refetches what is known, and the statistics can be rebuilt from it. Readings are kept per PRM,
direction and local day; timestamps are stored as UTC epoch seconds.

Format (version 2): Home Assistant writes `.storage` files indented, one JSON number per line, which made two
years of one PRM ~10 MB in version 1. A day's load curve is now ``[first start, step, "W,W,..."]`` when its
readings follow each other with one step (nearly every day), else ``["start,end,W;..."]``; the hours written to
the statistics are runs of consecutive hours, ``[[first hour, "Wh,Wh,..."], ...]``. Version 1 files are read as
they are (`SeriesCache.from_json` accepts both encodings) and rewritten in the new one at the next save. A major
version, not a minor one: version 1 code cannot read version 2, and Home Assistant refuses to load a newer major
version (UnsupportedStorageVersionError) instead of handing it to code that would misread it.

The cache also records which source filled it (`source_key`: Conso API URL or Data Connect environment); a setup
with another source restarts the history import (`EnedisStore.async_load`). An optional key of the same version:
older files without it simply adopt the entry's source.

Fields added since are optional and change no version: a file written before a field existed loads with its
default (every reader uses ``raw.get(key, default)``), and older code ignores a key it does not know. ``source``
(above) and ``refused`` (a measure the PRM refuses, see `MeasureRefusal`) are such fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
import logging
import time
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import Contract, Direction, Reading
from .api.calendar import local_day, paris_instant
from .const import (
    CONF_BASE_URL,
    CONF_ENVIRONMENT,
    CONF_SOURCE,
    DEFAULT_CONSO_API_URL,
    ENV_PRODUCTION,
    SOURCE_CONSO_API,
    SOURCE_DATA_CONNECT,
)
from .ledger import CurveState, DayCurve

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 2
SAVE_DELAY = 10.0


def _reading_to_json(reading: Reading) -> list[float]:
    row = [reading.start.timestamp(), reading.end.timestamp(), reading.value]
    if reading.at is not None:
        row.append(reading.at.timestamp())
    return row


def _reading_from_json(row: list[float]) -> Reading:
    at = paris_instant(row[3]) if len(row) > 3 else None
    return Reading(start=paris_instant(row[0]), end=paris_instant(row[1]), value=row[2], at=at)


def _number(value: float) -> str:
    """The shortest text that reads back as ``value`` (no ``.0`` for whole numbers)."""
    return str(int(value)) if value.is_integer() else repr(value)


def _whole(value: float) -> float | int:
    """An int when ``value`` is whole (JSON without ``.0``)."""
    return int(value) if value.is_integer() else value


def _numbers(text: str) -> list[float]:
    return [float(token) for token in text.split(",")] if text else []


def _curve_to_json(curve: DayCurve) -> list[Any]:
    """``[start, step, "W,W,..."]`` for readings that follow each other with one step, else ``["start,end,W;..."]``."""
    spans = list(curve.spans())
    if spans:
        first, step = spans[0][0], spans[0][1] - spans[0][0]
        if step > 0 and all(
            start == first + i * step and end == start + step for i, (start, end, _) in enumerate(spans)
        ):
            return [_whole(first), _whole(step), ",".join(_number(v) for *_, v in spans)]
    return [";".join(",".join(map(_number, span)) for span in spans)]


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


def _hours_to_json(hours: dict[datetime, float]) -> list[list[Any]]:
    """``[[first hour, "Wh,Wh,..."], ...]``: one entry per run of consecutive UTC hours (epoch seconds)."""
    runs: list[tuple[int, list[str]]] = []
    previous: int | None = None
    for hour in sorted(hours):
        stamp = int(hour.timestamp())
        if previous is None or stamp != previous + 3600:
            runs.append((stamp, []))
        runs[-1][1].append(_number(hours[hour]))
        previous = stamp
    return [[stamp, ",".join(values)] for stamp, values in runs]


def _hours_from_json(raw: list[list[Any]] | dict[str, float]) -> dict[datetime, float]:
    """Read `_hours_to_json`, or version 1's ``{"epoch": Wh}``."""
    if isinstance(raw, dict):
        return {datetime.fromtimestamp(int(k), UTC): float(v) for k, v in raw.items()}
    return {
        datetime.fromtimestamp(int(stamp) + 3600 * i, UTC): value
        for stamp, text in raw
        for i, value in enumerate(_numbers(text))
    }


@dataclass
class DayAttempts:
    """Retry bookkeeping of an incomplete day."""

    count: int = 0
    next_retry: date | None = None


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


@dataclass
class SeriesCache:
    """Everything known for one PRM and direction."""

    curve: dict[date, DayCurve] = field(default_factory=dict)
    curve_state: dict[date, CurveState] = field(default_factory=dict)
    """COMPLETE / PARTIAL / MISSING once the day's curve was fetched; absent = not fetched yet."""
    daily: dict[date, float] = field(default_factory=dict)
    daily_fetched: set[date] = field(default_factory=set)
    """Days whose daily energy was asked (with or without an answer)."""
    max_power: dict[date, Reading] = field(default_factory=dict)
    max_power_fetched: set[date] = field(default_factory=set)
    registers: dict[date, dict[str, float]] = field(default_factory=dict)
    """Per local day: the energy of each supplier register class (``HC``, ``HP``, ``BUHC``...) from the index."""
    index_fetched: set[date] = field(default_factory=set)
    index_history_done: bool = False
    floors: dict[str, date] = field(default_factory=dict)
    """Per measure: the oldest day Enedis serves, learnt from ADAM-ERR0123 / history-limit answers."""
    probes: dict[str, tuple[date, date]] = field(default_factory=dict)
    """Per measure: a bisection in progress ``(failing start, working start)`` to find that oldest day."""
    refused: dict[str, MeasureRefusal] = field(default_factory=dict)
    """Per measure: refused by the PRM (absent from files written before this field: none refused)."""
    last_poll_day: date | None = None
    """The day of the last first daily poll (the late-correction refetch happens once a day)."""
    curve_frontier: date | None = None
    """Oldest day reached by the newest-first curve backfill (None: not started)."""
    curve_done: bool = False
    daily_history_done: bool = False
    max_power_history_done: bool = False
    attempts: dict[date, DayAttempts] = field(default_factory=dict)
    given_up: set[date] = field(default_factory=set)
    anchor: datetime | None = None
    """The series' origin: its oldest hour in the recorder, where every statistic of the series counts its sums from
    (`ledger.choose_origin`). Files written by earlier versions hold an anchor 15 days after their first import,
    with written hours before it (negative sums): the first import after the upgrade moves it to the oldest written
    hour and rewrites those rows (no format change: the data tells)."""
    written: dict[datetime, float] = field(default_factory=dict)
    """UTC hour -> Wh last written to the statistics (what the recorder holds)."""
    extra_written: dict[str, dict[datetime, float]] = field(default_factory=dict)
    """Same, for the tariff series (``consumption_offpeak``, ``consumption_cost``...; money in milli-EUR)."""

    def restart_history(self, today: date) -> None:
        """Forget what the history import learnt from the previous source; keep the data it fetched.

        Days asked without an answer, "history done" flags, the curve backfill's frontier, back-off and given-up
        days, activation floors, probes and refused measures: all were answers of a source that is no longer the
        entry's (maybe a wrong URL whose every answer was "nothing"), so the backfill asks again for every day
        without data. The readings themselves (curve, daily energy, maximum power, registers) and what was written
        to the statistics stay: they are the meter's, whichever source served them. The curve backfill resumes
        below the run of complete days that reaches the day before yesterday (none: from today, as a new entry), so
        a working source replaced by another working one is not asked two years of curve again.
        """
        self.daily_fetched = set(self.daily)
        self.max_power_fetched = set(self.max_power)
        self.index_fetched = set(self.registers)
        self.daily_history_done = self.max_power_history_done = self.index_history_done = False
        self.curve_done = False
        complete = {day for day, state in self.curve_state.items() if state is CurveState.COMPLETE}
        frontier: date | None = None
        day = max(complete, default=None)
        if day is not None and day >= today - timedelta(days=2):
            while day in complete:
                frontier = day
                day -= timedelta(days=1)
        self.curve_frontier = frontier
        self.floors.clear()
        self.probes.clear()
        self.attempts.clear()
        self.given_up.clear()
        self.refused.clear()

    def copy(self) -> SeriesCache:
        """A copy whose containers the event loop will not mutate (serialised in a thread).

        Every container is copied, nested ones too (a day's registers, the tariff series' hours, the attempts):
        nothing reachable from the copy can change while it is serialised. Only immutable values are shared
        (`DayCurve`, `Reading`, dates, tuples), which keeps the copy cheap.
        """
        return SeriesCache(
            curve=dict(self.curve),
            curve_state=dict(self.curve_state),
            daily=dict(self.daily),
            daily_fetched=set(self.daily_fetched),
            max_power=dict(self.max_power),
            max_power_fetched=set(self.max_power_fetched),
            registers={d: dict(classes) for d, classes in self.registers.items()},
            index_fetched=set(self.index_fetched),
            index_history_done=self.index_history_done,
            floors=dict(self.floors),
            probes=dict(self.probes),
            refused={k: MeasureRefusal(r.since, r.next_try, r.lifted) for k, r in self.refused.items()},
            last_poll_day=self.last_poll_day,
            curve_frontier=self.curve_frontier,
            curve_done=self.curve_done,
            daily_history_done=self.daily_history_done,
            max_power_history_done=self.max_power_history_done,
            attempts={d: DayAttempts(a.count, a.next_retry) for d, a in self.attempts.items()},
            given_up=set(self.given_up),
            anchor=self.anchor,
            written=dict(self.written),
            extra_written={k: dict(v) for k, v in self.extra_written.items()},
        )

    def to_json(self) -> dict[str, Any]:
        """Serialise."""
        return {
            "curve": {d.isoformat(): _curve_to_json(curve) for d, curve in self.curve.items()},
            "curve_state": {d.isoformat(): s.value for d, s in self.curve_state.items()},
            "daily": {d.isoformat(): v for d, v in self.daily.items()},
            "daily_fetched": sorted(d.isoformat() for d in self.daily_fetched),
            "max_power": {d.isoformat(): _reading_to_json(r) for d, r in self.max_power.items()},
            "max_power_fetched": sorted(d.isoformat() for d in self.max_power_fetched),
            "registers": {d.isoformat(): v for d, v in self.registers.items()},
            "index_fetched": sorted(d.isoformat() for d in self.index_fetched),
            "index_history_done": self.index_history_done,
            "floors": {k: v.isoformat() for k, v in self.floors.items()},
            "probes": {k: [a.isoformat(), b.isoformat()] for k, (a, b) in self.probes.items()},
            "refused": {k: r.to_json() for k, r in self.refused.items()},
            "last_poll_day": self.last_poll_day.isoformat() if self.last_poll_day else None,
            "curve_frontier": self.curve_frontier.isoformat() if self.curve_frontier else None,
            "curve_done": self.curve_done,
            "daily_history_done": self.daily_history_done,
            "max_power_history_done": self.max_power_history_done,
            "attempts": {
                d.isoformat(): [a.count, a.next_retry.isoformat() if a.next_retry else None]
                for d, a in self.attempts.items()
            },
            "given_up": sorted(d.isoformat() for d in self.given_up),
            "anchor": self.anchor.timestamp() if self.anchor else None,
            "written": _hours_to_json(self.written),
            "extra_written": {key: _hours_to_json(hours) for key, hours in self.extra_written.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SeriesCache:
        """Deserialise (tolerant of missing keys)."""
        d = date.fromisoformat
        return cls(
            curve={d(k): _curve_from_json(v) for k, v in raw.get("curve", {}).items()},
            curve_state={d(k): CurveState(v) for k, v in raw.get("curve_state", {}).items()},
            daily={d(k): float(v) for k, v in raw.get("daily", {}).items()},
            daily_fetched={d(k) for k in raw.get("daily_fetched", [])},
            max_power={d(k): _reading_from_json(v) for k, v in raw.get("max_power", {}).items()},
            max_power_fetched={d(k) for k in raw.get("max_power_fetched", [])},
            registers={d(k): {c: float(w) for c, w in v.items()} for k, v in raw.get("registers", {}).items()},
            index_fetched={d(k) for k in raw.get("index_fetched", [])},
            index_history_done=bool(raw.get("index_history_done", False)),
            floors={k: d(v) for k, v in raw.get("floors", {}).items()},
            probes={k: (d(v[0]), d(v[1])) for k, v in raw.get("probes", {}).items()},
            refused={k: MeasureRefusal.from_json(v) for k, v in raw.get("refused", {}).items()},
            last_poll_day=d(raw["last_poll_day"]) if raw.get("last_poll_day") else None,
            curve_frontier=d(raw["curve_frontier"]) if raw.get("curve_frontier") else None,
            curve_done=bool(raw.get("curve_done", False)),
            daily_history_done=bool(raw.get("daily_history_done", False)),
            max_power_history_done=bool(raw.get("max_power_history_done", False)),
            attempts={
                d(k): DayAttempts(int(v[0]), d(v[1]) if v[1] else None) for k, v in raw.get("attempts", {}).items()
            },
            given_up={d(k) for k in raw.get("given_up", [])},
            anchor=datetime.fromtimestamp(raw["anchor"], UTC) if raw.get("anchor") is not None else None,
            written=_hours_from_json(raw.get("written", [])),
            extra_written={key: _hours_from_json(hours) for key, hours in raw.get("extra_written", {}).items()},
        )


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
        return PrmCache(
            series={k: v.copy() for k, v in self.series.items()},
            absent=set(self.absent),
            history_start=self.history_start,
            contract=self.contract,
            contract_day=self.contract_day,
            refusal=self.refusal,
        )

    def to_json(self) -> dict[str, Any]:
        """Serialise."""
        return {
            "series": {k.value: v.to_json() for k, v in self.series.items()},
            "absent": sorted(a.value for a in self.absent),
            "history_start": self.history_start.isoformat() if self.history_start else None,
            "contract": contract_to_json(self.contract) if self.contract else None,
            "contract_day": self.contract_day.isoformat() if self.contract_day else None,
            "refusal": self.refusal.to_json() if self.refusal else None,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PrmCache:
        """Deserialise."""
        return cls(
            series={Direction(k): SeriesCache.from_json(v) for k, v in raw.get("series", {}).items()},
            absent={Direction(a) for a in raw.get("absent", [])},
            history_start=date.fromisoformat(raw["history_start"]) if raw.get("history_start") else None,
            contract=contract_from_json(raw["contract"]) if raw.get("contract") else None,
            contract_day=date.fromisoformat(raw["contract_day"]) if raw.get("contract_day") else None,
            refusal=AccessRefusal.from_json(raw["refusal"]) if raw.get("refusal") else None,
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
    """Where the cache was filled from (`source_key`); None in caches written before it was recorded."""

    def copy(self) -> EntryCache:
        """A copy safe to serialise in a thread (the containers are copied, the readings are immutable)."""
        return EntryCache(
            prms={k: v.copy() for k, v in self.prms.items()},
            requests_day=self.requests_day,
            requests_today=self.requests_today,
            last_backfill_request=self.last_backfill_request,
            backfill_requests=self.backfill_requests,
            source=self.source,
        )

    def restart_history(self, today: date) -> None:
        """The history import starts again as for a new entry (see `SeriesCache.restart_history`), first burst too."""
        for prm in self.prms.values():
            prm.restart_history(today)
        self.backfill_requests = 0
        self.last_backfill_request = None

    def prm(self, prm: str) -> PrmCache:
        """The cache of a PRM (created on first use)."""
        return self.prms.setdefault(prm, PrmCache())

    def to_json(self) -> dict[str, Any]:
        """Serialise."""
        return {
            "prms": {k: v.to_json() for k, v in self.prms.items()},
            "requests_day": self.requests_day.isoformat() if self.requests_day else None,
            "requests_today": self.requests_today,
            "last_backfill_request": self.last_backfill_request,
            "backfill_requests": self.backfill_requests,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EntryCache:
        """Deserialise."""
        return cls(
            prms={k: PrmCache.from_json(v) for k, v in raw.get("prms", {}).items()},
            requests_day=date.fromisoformat(raw["requests_day"]) if raw.get("requests_day") else None,
            requests_today=int(raw.get("requests_today", 0)),
            last_backfill_request=raw.get("last_backfill_request"),
            backfill_requests=int(raw.get("backfill_requests", 0)),
            source=raw.get("source"),
        )


def source_key(data: Mapping[str, Any]) -> str:
    """Where an entry's data comes from, without any secret: the source and its URL or Enedis environment.

    The cache records it; when the entry's key differs at the next setup (a reconfigure to another URL or
    environment), `EnedisStore.async_load` restarts the history import. The token and the DataHub credentials are
    not part of it: a new token (reauthentication, every 3 years) reads the same meters from the same place, and
    must not cost hours of import again.
    """
    if data.get(CONF_SOURCE) == SOURCE_DATA_CONNECT:
        key = f"{SOURCE_DATA_CONNECT} {data.get(CONF_ENVIRONMENT, ENV_PRODUCTION)}"
        return f"{key} {data[CONF_BASE_URL]}" if data.get(CONF_BASE_URL) else key
    return f"{SOURCE_CONSO_API} {str(data.get(CONF_BASE_URL) or DEFAULT_CONSO_API_URL).strip().rstrip('/')}"


class _Store(Store[dict[str, Any]]):
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Version 1 -> 2: nothing to convert here, `SeriesCache.from_json` reads the version 1 encodings."""
        return old_data


class EnedisStore:
    """The entry's `Store` (``.storage/enedis.<entry_id>``).

    Two years of readings are a few MB of JSON: converting them takes tens of milliseconds, so both directions
    run in the executor (the event loop only copies the containers), and saves are coalesced.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store; nothing is read yet."""
        self._hass = hass
        # serialize_in_event_loop=False: the JSON of two years of readings is encoded in the executor.
        self._store: Store[dict[str, Any]] = _Store(
            hass,
            STORAGE_VERSION,
            f"enedis.{entry_id}",
            serialize_in_event_loop=False,
        )
        self._unsub_save: CALLBACK_TYPE | None = None
        self._unsub_final: CALLBACK_TYPE | None = None
        self._last_save = 0.0
        self.cache = EntryCache()

    async def async_load(self, source: str | None = None, today: date | None = None) -> EntryCache:
        """Load the cache (an empty one on first run).

        ``source`` (`source_key` of the entry) different from the one the cache was filled from restarts the
        history import (`EntryCache.restart_history`, ``today`` in Paris). Why here and not in the reconfigure
        step: the running coordinator saves its cache when the reconfigure reloads the entry, which would write the
        old flags back; at load time the cache itself says which source filled it, whatever changed the entry (a
        reconfigure, an entry edited by hand) and whether the entry was loaded then. A cache without a recorded
        source (written before it was) adopts the entry's: its first start after the upgrade records it.
        """
        raw = await self._store.async_load()
        self.cache = await self._hass.async_add_executor_job(EntryCache.from_json, raw) if raw else EntryCache()
        if source is not None:
            if self.cache.source is not None and self.cache.source != source:
                _LOGGER.info("The source of this entry changed (%s): the history import starts again", source)
                self.cache.restart_history(today or local_day(dt_util.utcnow()))
            self.cache.source = source
        if self._unsub_final is None:
            # Home Assistant does not unload entries when it stops: flush what is pending at its final write.
            self._unsub_final = self._hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
            )
        return self.cache

    async def _async_final_write(self, _event: Event) -> None:
        self._unsub_final = None
        if self._unsub_save is not None:
            await self.async_save()

    @callback
    def async_schedule_save(self) -> None:
        """Save soon: at once when the last save is older than `SAVE_DELAY`, else coalesced after it."""
        if self._unsub_save is not None:
            return
        delay = max(0.0, self._last_save + SAVE_DELAY - time.monotonic())
        self._unsub_save = async_call_later(self._hass, delay, self._async_delayed_save)

    async def _async_delayed_save(self, _now: datetime) -> None:
        self._unsub_save = None
        await self.async_save()

    async def async_save(self) -> None:
        """Save now (the coordinator's shutdown, tests)."""
        if self._unsub_save is not None:
            self._unsub_save()
            self._unsub_save = None
        self._last_save = time.monotonic()
        data = await self._hass.async_add_executor_job(self.cache.copy().to_json)
        await self._store.async_save(data)

    @callback
    def async_unload(self) -> None:
        """Stop listening (the coordinator saves before)."""
        if self._unsub_final is not None:
            self._unsub_final()
            self._unsub_final = None

    async def async_remove(self) -> None:
        """Delete the file (entry removed)."""
        if self._unsub_save is not None:
            self._unsub_save()
            self._unsub_save = None
        await self._store.async_remove()
