"""The importer: the cache's readings to long-term statistics (ledger, tariff series, recorder reconciliation).

The coordinator owns one `Importer` and calls it after each refresh that touched a series (`async_import`) and
when the recorder must be checked against the cache (`async_reconcile`). What the importer needs from planning
(whether a series' history is complete, whether its load curve is wanted) is passed in by the coordinator: the
importer never plans. The CPU work of one series (hours, tariff series, origin, rows to write) is
`compute_import`, a module-level function run in the executor on a snapshot (`ImportJob`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .api import Direction, Measure
from .const import DOMAIN, TARIFF_TEMPO
from .ledger import CurveState, DayInput, Publication, build_hours, choose_origin, publish, repair_rows
from .options import EntryOptions
from .statistics import async_clear, async_recorded_rows, async_write, energy_metadata, series_metadata
from .store import EnedisStore, SeriesCache
from .tariff_history import async_price_periods, async_tempo_colours
from .tariff_series import TariffConfig, TariffResult, build_consumption_tariffs, build_production_compensation
from .tariffs import OffpeakFormatError, OffpeakWindow, parse_offpeak

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportJob:
    """What the executor needs to compute the statistics of one series (a snapshot: the loop may move on)."""

    inputs: list[DayInput]
    direction: Direction
    previous: dict[str, dict[datetime, float]]
    """Per statistic (``""`` the energy series, else the tariff series' key): the hours last written."""
    origin: datetime | None
    complete: bool
    """No backfill job left for the series: no older hour will come (see `choose_origin`)."""
    config: TariffConfig
    colours: dict[date, str]
    registers: dict[date, dict[str, float]]


@dataclass(frozen=True, slots=True)
class ComputedImport:
    """The rows to write per statistic, the series' new origin, and the tariff report."""

    origin: datetime | None
    publications: dict[str, Publication]
    tariffs: TariffResult


def compute_import(job: ImportJob) -> ComputedImport:
    """Hours, tariff series and the rows to write for one series (pure CPU work, run in the executor)."""
    hours = build_hours(job.inputs)
    if job.direction is Direction.CONSUMPTION:
        tariffs = build_consumption_tariffs(job.inputs, hours, job.config, job.colours, job.registers)
    else:
        tariffs = build_production_compensation(hours, job.config)
    written = [hour for hours_written in job.previous.values() for hour in hours_written]
    origin = choose_origin(hours, job.origin, oldest_written=min(written, default=None), complete=job.complete)
    if origin is None:
        return ComputedImport(origin=None, publications={}, tariffs=tariffs)
    current = {"": hours, **tariffs.series}
    publications = {
        key: publish(job.previous.get(key, {}), values, origin, job.origin) for key, values in current.items()
    }
    return ComputedImport(origin=origin, publications=publications, tariffs=tariffs)


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
        contract_offpeak: Callable[[str], str | None],
        create_issue: IssueCreator,
    ) -> None:
        """``options`` and ``contract_offpeak`` (a PRM's off-peak hours from its contract) are read at each use."""
        self.hass = hass
        self._store = store
        self._options = options
        self._contract_offpeak = contract_offpeak
        self._create_issue = create_issue
        self.rows_written = 0
        self.tariff_reports: dict[str, dict[str, Any]] = {}
        """Per PRM: days that could not be split or priced (diagnostics)."""

    def _series(self, prm: str, direction: Direction) -> SeriesCache:
        return self._store.cache.prm(prm).series.setdefault(direction, SeriesCache())

    def tariff_config(self, prm: str) -> TariffConfig:
        """The tariff of a PRM: option, off-peak windows (options' override, else the contract's), prices."""
        options = self._options()
        text = options.offpeak_override or self._contract_offpeak(prm)
        windows: tuple[OffpeakWindow, ...] = ()
        if text:
            try:
                windows = parse_offpeak(str(text))
            except OffpeakFormatError:
                self._create_issue(f"offpeak_unknown_{prm}", "offpeak_unknown", {"offpeak": str(text)})
            else:
                ir.async_delete_issue(self.hass, DOMAIN, f"offpeak_unknown_{prm}")
        return TariffConfig(
            option=options.tariff,
            windows=windows,
            periods=options.price_periods,
            monthly_fee=options.monthly_fee,
        )

    async def _async_tariff_inputs(self, prm: str, inputs: list[DayInput]) -> tuple[TariffConfig, dict[date, str]]:
        """The tariff config, with prices and Tempo colours read from the recorder's history when configured."""
        config = self.tariff_config(prm)
        options = self._options()
        colours: dict[date, str] = {}
        days = sorted(d.day for d in inputs)
        if not days:
            return config, colours
        if config.option == TARIFF_TEMPO and options.tempo_entity:
            # The first local day's night (00:00-06:00) belongs to the previous Tempo day.
            colours = await async_tempo_colours(self.hass, options.tempo_entity, days[0] - timedelta(days=1), days[-1])
        if options.price_entity:
            from_entity = await async_price_periods(self.hass, options.price_entity, days[0], days[-1])
            feed_in = [p for p in config.periods if "feed_in" in p.prices]
            config = TariffConfig(
                config.option, config.windows, tuple(from_entity) + tuple(feed_in), config.monthly_fee
            )
        return config, colours

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
            job = ImportJob(
                inputs=inputs,
                direction=direction,
                previous={"": dict(series.written), **{k: dict(v) for k, v in series.extra_written.items()}},
                origin=series.anchor,
                complete=done,
                config=config,
                colours=colours,
                registers=dict(series.registers),
            )
            computed = await self.hass.async_add_executor_job(compute_import, job)
            if computed.origin is None:
                continue
            for key, publication in computed.publications.items():
                metadata = series_metadata(self.hass, prm, key) if key else energy_metadata(self.hass, prm, direction)
                self.rows_written += await async_write(
                    self.hass, metadata, publication.rows, newest_first=publication.newest_first
                )
                if key:
                    series.extra_written[key] = publication.written
                else:
                    series.written = publication.written
            series.anchor = computed.origin
            result = computed.tariffs
            report = self.tariff_reports.setdefault(prm, {})
            if direction is Direction.CONSUMPTION:
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
                    # ~26,000 rows a series: built and compared in the executor, not in the event loop.
                    rows, foreign = await self.hass.async_add_executor_job(
                        repair_rows, dict(hours), series.anchor, recorded
                    )
                    if foreign:
                        _LOGGER.info(
                            "Statistic %s holds rows this entry never wrote: rewritten", metadata["statistic_id"]
                        )
                        await async_clear(self.hass, metadata["statistic_id"])
                    rewritten += await async_write(self.hass, metadata, rows)
        self.rows_written += rewritten
        return rewritten
