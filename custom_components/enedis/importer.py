"""The importer: the cache's readings to long-term statistics (ledger, tariff series, recorder reconciliation).

The coordinator owns one `Importer` and calls it after each refresh that touched a series (`async_import`) and
when the recorder must be checked against the cache (`async_reconcile`). What the importer needs from planning
(whether a series' history is complete, whether its load curve is wanted) is passed in by the coordinator: the
importer never plans. The CPU work of one series (hours, tariff series, origin, rows to write) is
`compute_import`, a module-level function run in the executor on a snapshot (`ImportJob`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import chain
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .api import Contract, Direction, Measure, Reading
from .api.calendar import local_day, to_utc, utc_hour
from .bill import DayBill, regulated_periods
from .const import DOMAIN, PRICE_SOURCE_TARIF_BLEU, TARIFF_TEMPO
from .helpers import PRICE_DATA_ERRORS, async_price_data
from .ledger import (
    CurveState,
    DayInput,
    HourValues,
    Publication,
    Published,
    choose_origin,
    day_hours,
    oldest_hour,
    publish,
    publish_update,
    published,
    repair_rows,
)
from .options import EntryOptions
from .snapshot import BillBook
from .state import SeriesCache
from .statistics import (
    async_clear,
    async_recorded_rows,
    async_recorder_caught_up,
    async_shift_sums,
    async_write,
    energy_metadata,
    series_metadata,
)
from .store import EnedisStore
from .tariff_data import PriceData
from .tariff_history import async_price_periods
from .tariff_series import (
    DayTariffs,
    TariffConfig,
    TariffResult,
    assemble,
    consumption_day,
    consumption_keys,
    production_day,
    production_keys,
    uses_registers,
)
from .tariffs import FEED_IN, OffpeakFormatError, OffpeakWindow, PricePeriod, parse_offpeak
from .tempo_colours import async_colours

_LOGGER = logging.getLogger(__name__)
ONE_DAY = timedelta(days=1)
PRICE_DATA_ISSUE = "price_data_invalid"
"""The repair issue of a broken install's price data (one for the installation, whichever entry reads it)."""


@dataclass(frozen=True, slots=True)
class DayResult:
    """One day's share of a series as the memo keeps it between imports: what it was computed from, its hours, its
    tariff hours, its report and its bill.

    The memo keeps ~1,100 days per series, for as long as Home Assistant runs, and every full pass of Python's cycle
    collector walks each object it tracks (each pass holds the interpreter lock, stalling the event loop). So a day
    is one tracked object: its fields are numbers, strings, dates and tuples of them (the collector stops tracking a
    tuple of untracked values when it first sees it, one level of tuples per pass), or objects kept elsewhere
    anyway (the cache's curve, the shared `CurveState` members, the day's bill that the bill sensors keep). Kept as
    `DayInput`, `DayTariffs`, dicts and `HourValues`, a day was ~10 tracked objects: ~22,000 for a self-consumption
    PRM with prices, ~40 % of a full pass in the benchmark.
    """  # noqa: D205

    day: date
    curve_state: CurveState
    daily_wh: float | None
    curve: Sequence[Reading]
    """The input's load curve (the cache's own `DayCurve`)."""
    context: tuple[object, ...]
    """The rest of what the day depends on, as untracked values (`_day_context`)."""
    hour_keys: tuple[datetime, ...]
    hour_values: tuple[float, ...]
    tariff_keys: tuple[str, ...]
    """The day's tariff series; for each, its hours and their values in the two fields below."""
    tariff_hours: tuple[tuple[datetime, ...], ...]
    tariff_values: tuple[tuple[float, ...], ...]
    unsplit: bool
    unknown_colour_days: tuple[date, ...]
    unpriced_hours: int
    unpriced: str | None
    bill: DayBill | None

    def computed_from(self, entry: DayInput, context: tuple[object, ...]) -> bool:
        """The day was computed from these inputs (nothing to recompute)."""
        return (
            self.day == entry.day
            and self.curve_state is entry.curve_state
            and self.daily_wh == entry.daily_wh
            and self.context == context
            and (self.curve is entry.curve or self.curve == entry.curve)
        )

    @property
    def hours(self) -> HourValues:
        """The day's energy per UTC hour (Wh)."""
        return HourValues.of(self.hour_keys, self.hour_values)

    @property
    def series(self) -> dict[str, HourValues]:
        """Per tariff series key, the day's hours (`tariff_series.DayReport`)."""
        return {
            key: HourValues.of(hours, values)
            for key, hours, values in zip(self.tariff_keys, self.tariff_hours, self.tariff_values, strict=True)
        }

    def values(self, statistic: str) -> HourValues:
        """The day's hours of one statistic (``""`` the energy, else a tariff series' key)."""
        if not statistic:
            return self.hours
        if statistic not in self.tariff_keys:
            return _NO_HOURS
        index = self.tariff_keys.index(statistic)
        return HourValues.of(self.tariff_hours[index], self.tariff_values[index])


_NO_HOURS = HourValues({})


def _day_context(
    registers: Mapping[str, float] | None, colours: tuple[str | None, str | None], periods: str
) -> tuple[object, ...]:
    """What a day depends on beyond its `DayInput`: the Tempo colours of the day before and of the day, its price
    periods (`_PeriodKeys`) and its registers (whether known, then each class and its energy), one flat tuple of
    strings and numbers: a nested tuple is untracked by the cycle collector one level per full pass."""  # noqa: D205, D209
    flat = () if registers is None else tuple(chain.from_iterable(sorted(registers.items())))
    return (*colours, periods, registers is None, *flat)


def _kept(
    entry: DayInput, context: tuple[object, ...], hours: Mapping[datetime, float], tariffs: DayTariffs
) -> DayResult:
    """A day's result as the memo keeps it (see `DayResult`)."""
    return DayResult(
        day=entry.day,
        curve_state=entry.curve_state,
        daily_wh=entry.daily_wh,
        curve=entry.curve,
        context=context,
        hour_keys=tuple(hours),
        hour_values=tuple(hours.values()),
        tariff_keys=tuple(tariffs.series),
        tariff_hours=tuple(tuple(values) for values in tariffs.series.values()),
        tariff_values=tuple(tuple(values.values()) for values in tariffs.series.values()),
        unsplit=tariffs.unsplit,
        unknown_colour_days=tuple(sorted(tariffs.unknown_colour_days)),
        unpriced_hours=tariffs.unpriced_hours,
        unpriced=tariffs.unpriced,
        bill=tariffs.bill,
    )


@dataclass(frozen=True, slots=True)
class ImportMemo:
    """What the last import of a series computed, kept in memory only (a restart computes everything once).

    Lets the next import recompute only the days whose inputs changed and publish only the hours that move
    (`ledger.publish_update`); anything it cannot vouch for (the tariff configuration changed, the origin moved,
    the written hours are not those it produced) falls back to the full computation, with identical results.
    """

    key: tuple[object, ...]
    """The series-wide inputs (direction, tariff option, windows, fee, series keys, first price period)."""
    days: dict[date, DayResult]
    """Per day, sorted."""
    origin: datetime | None
    published: dict[str, Published]
    """Per statistic, what the recorder holds (as produced by that import)."""


@dataclass(frozen=True, slots=True)
class ImportJob:
    """What the executor needs to compute the statistics of one series (a snapshot: the loop may move on)."""

    inputs: list[DayInput]
    direction: Direction
    previous: dict[str, Mapping[datetime, float]]
    """Per statistic (``""`` the energy series, else the tariff series' key): the hours last written (the cache's
    own mappings: they are replaced, never changed in place)."""
    origin: datetime | None
    complete: bool
    """No backfill job left for the series: no older hour will come (see `choose_origin`)."""
    config: TariffConfig
    colours: dict[date, str]
    registers: dict[date, dict[str, float]]
    memo: ImportMemo | None = None
    """The previous import's memo of this series (None: compute every day)."""


@dataclass(frozen=True, slots=True)
class ComputedImport:
    """The rows to write per statistic, the series' new origin, the tariff report and the next memo."""

    origin: datetime | None
    publications: dict[str, Publication]
    tariffs: TariffResult
    """The report (unsplit days, unknown colours, unpriced hours); its ``series`` is empty after an incremental
    compute (the rows are in ``publications``)."""
    memo: ImportMemo


class _PeriodKeys:
    """Per day, the price periods its hours can fall in: the one in force at its start and those starting in it.

    As one string of their values (start, sorted prices, fee, known), the same object for every day under the same
    periods: equal for equal periods, and not tracked by the cycle collector (`DayResult`).
    """

    def __init__(self, periods: Iterable[PricePeriod]) -> None:
        ordered = sorted(periods, key=lambda period: to_utc(period.start))
        self._keys = [
            repr((period.start, sorted(period.prices.items()), period.monthly_fee, period.known)) for period in ordered
        ]
        self._days = [local_day(period.start) for period in ordered]
        self._made: dict[tuple[int, int], str] = {}

    def __call__(self, day: date) -> str:
        first = bisect_left(self._days, day)
        last = bisect_right(self._days, day)
        if (made := self._made.get((first, last))) is None:
            made = self._made[first, last] = repr((self._keys[first - 1] if first else None, self._keys[first:last]))
        return made


def _written_matches(published: Published | None, previous: Mapping[datetime, float]) -> bool:
    return published is not None and (previous is published.written or previous == published.written)


def _day_results(
    job: ImportJob, old_days: Mapping[date, DayResult], period_key: _PeriodKeys
) -> tuple[dict[date, DayResult], list[date]]:
    """Each day's hours and tariff parts, and the days that changed (recomputed, or gone).

    A day is taken from the memo when none of its inputs changed.
    """
    config = job.config
    days: dict[date, DayResult] = {}
    changed: list[date] = []
    for entry in sorted(job.inputs, key=lambda entry: entry.day):
        day = entry.day
        if day in days:
            msg = f"day {day.isoformat()} given twice"
            raise ValueError(msg)
        # Registers that cannot change the day (`uses_registers`) are left out of what it depends on: when the
        # meter's index arrives for every day at the start of a backfill, only days with a complete curve are computed.
        registers = job.registers.get(day) if uses_registers(entry, config) else None
        context = _day_context(registers, (job.colours.get(day - ONE_DAY), job.colours.get(day)), period_key(day))
        old = old_days.get(day)
        if old is not None and old.computed_from(entry, context):
            days[day] = old
            continue
        hours = day_hours(entry)
        if job.direction is Direction.CONSUMPTION:
            tariffs = consumption_day(day, entry, hours, config, colours=job.colours, registers=registers)
        else:
            tariffs = production_day(day, hours, config)
        days[day] = _kept(entry, context, hours, tariffs)
        changed.append(day)
    changed.extend(day for day in old_days if day not in days)
    return days, changed


def _oldest_written(job: ImportJob, memo: ImportMemo | None, valid: Mapping[str, bool]) -> datetime | None:
    """The oldest hour any statistic of the series holds (a memo's hours are a `HourRun`: no scan of ~26,000 hours)."""
    oldest_written: datetime | None = None
    for key, hours_written in job.previous.items():
        known = memo.published.get(key) if memo is not None and valid.get(key) else None
        oldest = oldest_hour(hours_written if known is None else known.written)
        if oldest is not None and (oldest_written is None or oldest < oldest_written):
            oldest_written = oldest
    return oldest_written


def _updates(
    key: str,
    days: Mapping[date, DayResult],
    *,
    old_days: Mapping[date, DayResult],
    changed: list[date],
    origin: datetime,
    former: datetime,
) -> tuple[dict[datetime, float], list[HourValues]]:
    """The hours of statistic ``key`` to publish again, and the held days' hours (`publish_update`'s ``held``).

    The held days when the origin moved back (``origin`` before ``former``: their hours, a day at a time), the hours
    of the days that changed, 0 for the hours a day no longer has.
    """
    held = (
        [result.values(key) for result in days.values() if result.hour_keys and result.hour_keys[0] < former]
        if origin != former
        else []
    )
    updates: dict[datetime, float] = {}
    for day in changed:
        if (old := old_days.get(day)) is not None:
            updates.update(dict.fromkeys(old.values(key), 0.0))
        if (new := days.get(day)) is not None:
            updates.update(new.values(key).items())
    return updates, held


def compute_import(job: ImportJob) -> ComputedImport:
    """Hours, tariff series and the rows to write for one series (pure CPU work, run in the executor).

    The same result as computing every day (`ledger.build_hours`, `tariff_series.build_consumption_tariffs` or
    `build_production_compensation`, `ledger.choose_origin`, `ledger.publish`), with the work of the days and hours
    that did not change since ``job.memo`` taken from it.
    """
    config = job.config
    consumption = job.direction is Direction.CONSUMPTION
    keys = consumption_keys(config) if consumption else production_keys(config)
    priced = config.periods if consumption else tuple(p for p in config.periods if FEED_IN in p.prices)
    first_price = min((to_utc(period.start) for period in config.periods), default=None)
    series_key = (job.direction, config.option, config.windows, config.monthly_fee, keys, first_price)
    memo = job.memo if job.memo is not None and job.memo.key == series_key else None
    old_days = memo.days if memo is not None else {}
    days, changed = _day_results(job, old_days, _PeriodKeys(priced))
    statistics = ("", *keys)
    valid = {
        key: _written_matches(memo.published.get(key) if memo is not None else None, job.previous.get(key, {}))
        for key in statistics
    }
    oldest_written = _oldest_written(job, memo, valid)
    filled = [result.hour_keys for result in days.values() if result.hour_keys]
    known_hours = [filled[0][0], filled[-1][-1]] if filled else []
    origin = choose_origin(known_hours, job.origin, oldest_written=oldest_written, complete=job.complete)
    # Incremental when the memo's written hours are the cache's and its origin the series' (the origin may have
    # moved back since: the held hours are then published too, and every sum moves with them).
    incremental = (
        memo is not None
        and origin is not None
        and memo.origin is not None
        and job.origin is not None
        and utc_hour(job.origin) == memo.origin
        and origin <= memo.origin
        and all(valid.values())
    )
    report = assemble(keys, days.values(), with_series=not incremental)
    if origin is None:
        return ComputedImport(None, {}, report, ImportMemo(series_key, days, None, {}))
    publications: dict[str, Publication] = {}
    after: dict[str, Published] = {}
    if incremental and memo is not None and memo.origin is not None:
        for key in statistics:
            updates, held = _updates(key, days, old_days=old_days, changed=changed, origin=origin, former=memo.origin)
            newest = next((max(hours) for result in reversed(days.values()) if (hours := result.values(key))), None)
            publications[key], after[key] = publish_update(memo.published[key], updates, newest, origin, held)
        return ComputedImport(origin, publications, report, ImportMemo(series_key, days, origin, after))
    energy: dict[datetime, float] = {}
    for result in days.values():
        energy.update(zip(result.hour_keys, result.hour_values, strict=True))
    current = {"": energy, **report.series}
    for key, values in current.items():
        publication = publish(job.previous.get(key, {}), values, origin, job.origin)
        publications[key] = publication
        if (state := published(publication.written, origin)) is not None:
            after[key] = state
    return ComputedImport(origin, publications, report, ImportMemo(series_key, days, origin, after))


def day_inputs(series: SeriesCache, *, wants_curve: bool) -> list[DayInput]:
    """The ledger's input for every day the series knows (curve, its state, daily energy)."""
    days = set(series.curve_state) | set(series.daily)
    inputs: list[DayInput] = []
    for day in days:
        state = series.curve_state.get(day)
        if not wants_curve:
            state = CurveState.NOT_WANTED
        elif state is None:
            # PENDING holds a day for the curve the backfill will bring; a refused curve brings nothing (and
            # after a lifted refusal the days already show their daily energy: they keep it meanwhile).
            held = not series.curve_done and Measure.LOAD_CURVE.value not in series.refused
            state = CurveState.PENDING if held else CurveState.NOT_WANTED
        inputs.append(
            DayInput(
                day=day,
                curve=series.curve.get(day, ()),
                curve_state=state,
                daily_wh=series.daily.get(day),
            )
        )
    return inputs


type IssueCreator = Callable[[str, str, dict[str, str]], None]


class Importer:
    """Writes the statistics of one config entry from its cache (see the module's docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        store: EnedisStore,
        options: Callable[[], EntryOptions],
        contract: Callable[[str], Contract | None],
        create_issue: IssueCreator,
    ) -> None:
        """``options`` and ``contract`` (a PRM's contract, when known) are read at each use."""
        self.hass = hass
        self._store = store
        self._options = options
        self._contract = contract
        self._price_data: PriceData | None = None
        """The shipped price data, read (in the executor) before the first import that needs it."""
        self.price_data_missing = False
        """The last import could not read the shipped price data (a broken install): it is read again next time."""
        self.bills: dict[str, BillBook] = {}
        """Per PRM, the priced days of its consumption (the bill sensors), from the last import."""
        self._create_issue = create_issue
        self.rows_written = 0
        self.tariff_reports: dict[str, dict[str, Any]] = {}
        """Per PRM: days that could not be split or priced (diagnostics)."""
        self._memos: dict[tuple[str, Direction], ImportMemo] = {}
        """Per series, the last import's memo (`ImportMemo`): in memory only."""

    def _series(self, prm: str, direction: Direction) -> SeriesCache:
        return self._store.cache.prm(prm).series.setdefault(direction, SeriesCache())

    def tariff_config(self, prm: str) -> TariffConfig:
        """The tariff of a PRM: option, off-peak windows (options' override, else the contract's), prices."""
        options = self._options()
        contract = self._contract(prm)
        text = options.offpeak_override or (contract.offpeak_hours if contract is not None else None)
        windows: tuple[OffpeakWindow, ...] = ()
        if text:
            try:
                windows = parse_offpeak(str(text))
            except OffpeakFormatError:
                self._create_issue(f"offpeak_unknown_{prm}", "offpeak_unknown", {"offpeak": str(text)})
            else:
                ir.async_delete_issue(self.hass, DOMAIN, f"offpeak_unknown_{prm}")
        if options.price_source == PRICE_SOURCE_TARIF_BLEU:
            return TariffConfig(
                option=options.tariff,
                windows=windows,
                periods=self._regulated_periods(prm, options, contract),
                cost_key="bill",
                price_data=self._price_data,
            )
        return TariffConfig(
            option=options.tariff,
            windows=windows,
            periods=options.price_periods,
            monthly_fee=options.monthly_fee,
            price_data=self._price_data,
        )

    def _regulated_periods(self, prm: str, options: EntryOptions, contract: Contract | None) -> tuple[PricePeriod, ...]:
        """The Tarif Bleu prices of the PRM's option and power, the prices typed in the options winning from their
        date (`bill.regulated_periods`); none (no bill) while the power is unknown or has no grid: a repair issue
        says so."""  # noqa: D205, D209
        issue_id = f"tarif_bleu_{prm}"
        kva = options.subscribed_kva
        if kva is None and contract is not None and contract.subscribed_power_kva:
            kva = round(contract.subscribed_power_kva)
        if self._price_data is None:
            return ()
        if kva is None:
            self._create_issue(issue_id, "tarif_bleu_power_unknown", {"prm": prm})
            return ()
        user = tuple(
            PricePeriod(period.start, period.prices, monthly_fee=options.monthly_fee or None)
            for period in options.price_periods
        )
        try:
            periods = regulated_periods(self._price_data, options.tariff, kva, user)
        except ValueError:
            self._create_issue(
                issue_id, "tarif_bleu_no_grid", {"prm": prm, "kva": str(kva), "option": options.tariff.upper()}
            )
            return ()
        ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self._sync_prices_ended_issue(prm, periods)
        return periods

    def _sync_prices_ended_issue(self, prm: str, periods: tuple[PricePeriod, ...]) -> None:
        """A repair issue while today is past the shipped Tarif Bleu prices (no typed prices going on): the bill
        stops there, never priced by a guess, until the integration is updated or the prices are typed."""  # noqa: D205, D209
        issue_id = f"tarif_bleu_ended_{prm}"
        last = periods[-1] if periods else None
        if last is not None and not last.known and last.start <= dt_util.utcnow():
            end = local_day(last.start) - ONE_DAY
            self._create_issue(issue_id, "tarif_bleu_prices_ended", {"prm": prm, "end": end.isoformat()})
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    async def _async_tariff_inputs(self, prm: str, inputs: list[DayInput]) -> tuple[TariffConfig, dict[date, str]]:
        """The tariff config with prices (read from the recorder's history when configured) and Tempo colours.

        Colours come from `tempo_colours`: the colour entity's history, else the shipped calendar, else RTE's.
        """
        if self._price_data is None:
            await self._async_read_price_data()
        config = self.tariff_config(prm)
        options = self._options()
        colours: dict[date, str] = {}
        days = sorted(d.day for d in inputs)
        if not days:
            return config, colours
        if config.option == TARIFF_TEMPO:
            # The first local day's night (00:00-06:00) belongs to the previous Tempo day.
            colours = await self.async_tempo_colours(days[0] - timedelta(days=1), days[-1])
        if options.price_entity and options.price_source != PRICE_SOURCE_TARIF_BLEU:
            from_entity = await async_price_periods(self.hass, options.price_entity, days[0], days[-1])
            feed_in = [p for p in config.periods if "feed_in" in p.prices]
            config = replace(config, periods=tuple(from_entity) + tuple(feed_in))
        return config, colours

    async def _async_read_price_data(self) -> None:
        """Read the shipped price data. A broken install stops only what needs it (the Tarif Bleu prices and bill, the
        bill's tax split; the shipped Tempo colours, `tempo_colours`): the energy and what the options price go on,
        a repair issue says to reinstall, and the data is read again at the next import (the issue then goes)."""  # noqa: D205, D209
        try:
            data = await async_price_data(self.hass)
        except PRICE_DATA_ERRORS as err:
            if not self.price_data_missing:
                _LOGGER.warning("The shipped price data cannot be read (%s): reinstall the integration", err)
            self.price_data_missing = True
            self._create_issue(PRICE_DATA_ISSUE, "price_data_invalid", {})
            return
        self._price_data = data
        if self.price_data_missing:
            self._memos.clear()  # their days' bills were computed without it (no tax split): computed again
            self.price_data_missing = False
        ir.async_delete_issue(self.hass, DOMAIN, PRICE_DATA_ISSUE)

    async def async_tempo_colours(self, first: date, last: date) -> dict[date, str]:
        """The Tempo colours known for the Tempo days ``first``..``last``.

        The one place where they are gathered, for the Tempo statistics and the tariff comparator: the colour
        entity's history (option) when configured, else the shipped calendar, else RTE's (`tempo_colours`). Days
        not known are absent (never guessed).
        """
        return await async_colours(self.hass, first, last, entity_id=self._options().tempo_entity)

    def consumption_days(self, prm: str) -> Mapping[date, DayResult] | None:
        """The last import's days of ``prm``'s consumption (per day: its inputs and hours), or None.

        None before the first import since the start, or while an import of the series runs (its memo is then
        out): the caller computes from the cache instead (`day_inputs`). The mapping is never changed in place.
        """
        memo = self._memos.get((prm, Direction.CONSUMPTION))
        return memo.days if memo is not None else None

    async def async_import(
        self,
        touched: set[tuple[str, Direction]],
        *,
        complete: Callable[[str, Direction], bool],
        wants_curve: Callable[[Direction], bool],
    ) -> None:
        """Recompute the hourly rows of the touched series (and their tariff series) and write what changed.

        ``complete(prm, direction)``: no backfill job is left for the series (planning's answer; asked first, as
        planning marks the curve done once its frontier reached the start, and days beyond it then count).
        ``wants_curve(direction)``: the load curve is imported for that direction.
        """
        for prm, direction in sorted(touched):
            series = self._series(prm, direction)
            done = complete(prm, direction)
            inputs = day_inputs(series, wants_curve=wants_curve(direction))
            config, colours = await self._async_tariff_inputs(prm, inputs)
            # The memo goes with the job and comes back only once its rows are written: an import that fails half-way
            # leaves none, and the next one computes every day.
            memo = self._memos.pop((prm, direction), None)
            job = ImportJob(
                inputs=inputs,
                direction=direction,
                # The cache's mappings themselves (no copy of ~26,000 hours each): they are replaced, never changed.
                previous={"": series.written, **series.extra_written},
                origin=series.anchor,
                complete=done,
                config=config,
                colours=colours,
                registers=dict(series.registers),
                memo=memo,
            )
            # Computed once the recorder has committed what was queued before (the previous series' rows, the last
            # refresh's): computing while it commits, both threads and the event loop compete for the interpreter
            # lock, and the loop waits longer (benchmarks/statistics_import.py; test_source_contract.py). Only what
            # is still in its queue is waited for: `Recorder.async_block_till_done` returns at once when the queue
            # is empty, also while the recorder runs the task it took last (HA has no public wait for that one).
            await async_recorder_caught_up(self.hass)
            computed = await self.hass.async_add_executor_job(compute_import, job)
            if computed.origin is None:
                self._memos[(prm, direction)] = computed.memo
                continue
            for key, publication in computed.publications.items():
                metadata = series_metadata(self.hass, prm, key) if key else energy_metadata(self.hass, prm, direction)
                if publication.shift is not None:
                    async_shift_sums(self.hass, metadata, publication.shift)
                self.rows_written += await async_write(
                    self.hass, metadata, publication.rows, newest_first=publication.newest_first
                )
                if key:
                    series.extra_written[key] = publication.written
                else:
                    series.written = publication.written
            series.anchor = computed.origin
            self._memos[(prm, direction)] = computed.memo
            result = computed.tariffs
            report = self.tariff_reports.setdefault(prm, {})
            if direction is Direction.CONSUMPTION:
                self._keep_bills(prm, config, computed.memo)
                report.update(
                    tariff=config.option,
                    offpeak_windows=[str(w) for w in config.windows],
                    unsplit_days=[d.isoformat() for d in result.unsplit_days[-30:]],
                    unsplit_days_count=len(result.unsplit_days),
                    unknown_colour_days=[d.isoformat() for d in result.unknown_colour_days[-30:]],
                    unpriced=result.unpriced,
                    unpriced_hours=result.unpriced_hours,
                )
        touched.clear()

    def _keep_bills(self, prm: str, config: TariffConfig, memo: ImportMemo) -> None:
        """Keep the PRM's priced days for the bill sensors (none without prices)."""
        days = {day: result.bill for day, result in memo.days.items() if result.bill is not None}
        if not config.periods or not days:
            self.bills.pop(prm, None)
            return
        self.bills[prm] = BillBook(days, config.periods, config.monthly_fee)

    async def async_reconcile(self, prms: Iterable[str]) -> int:
        """Make the recorder hold what the cache says was written; returns the rows rewritten.

        The cache's record of the written hours is checked against the recorder's rows, every statistic of the
        ``prms``: a statistic cleared in Developer tools, a database restored from an older backup or any row
        that differs is written again from the cache, without a request. Rows the recorder holds that the cache
        never wrote cannot be deleted one by one: the statistic is cleared and written whole.
        """
        rewritten = 0
        for prm in prms:
            for direction, series in self._store.cache.prm(prm).series.items():
                if series.anchor is None:
                    continue
                statistics = {"": (energy_metadata(self.hass, prm, direction), series.written)}
                for key, hours in series.extra_written.items():
                    statistics[key] = (series_metadata(self.hass, prm, key), hours)
                for metadata, hours in statistics.values():
                    recorded = await async_recorded_rows(self.hass, metadata["statistic_id"])
                    # ~26,000 rows a series: built and compared in the executor, not in the event loop (the cache's
                    # written hours are replaced, never changed in place: no copy).
                    rows, foreign = await self.hass.async_add_executor_job(repair_rows, hours, series.anchor, recorded)
                    if foreign:
                        _LOGGER.info(
                            "Statistic %s holds rows this entry never wrote: rewritten", metadata["statistic_id"]
                        )
                        await async_clear(self.hass, metadata["statistic_id"])
                    rewritten += await async_write(self.hass, metadata, rows)
        self.rows_written += rewritten
        return rewritten
