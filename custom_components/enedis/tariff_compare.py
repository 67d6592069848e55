"""The tariff comparator in Home Assistant: its inputs gathered from an entry, run in the executor, once a day.

`comparator.compare` is pure; this module gathers what it needs for one PRM: the shipped price data (loaded once per
Home Assistant, in the executor), the consumption (the importer's last computation, else the cache), the subscribed
power of the contract, the off-peak windows (`Importer.tariff_config`), the Tempo colours known beyond the shipped
calendar (`Importer.async_tempo_colours`, the one place where they are gathered) and the current option. The
``enedis.compare_tariffs`` service calls `TariffComparisons.async_compare`; the sensors read
`TariffComparisons.results`, computed at most once a day (and once more when the history import ends) in a
background task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from . import helpers
from .api import Contract, Direction
from .api.calendar import local_day
from .comparator import Comparison, Period, compare, default_period
from .const import DOMAIN
from .importer import DayResult, Importer, day_inputs
from .ledger import CurveState, DayInput, day_hours
from .options import EntryOptions
from .state import SeriesCache
from .store import EnedisStore
from .tariff_data import PriceData
from .tariffs import OffpeakWindow

_LOGGER = logging.getLogger(__name__)


async def async_price_data(hass: HomeAssistant) -> PriceData:
    """The shipped price data (`helpers.async_price_data`: read once per Home Assistant, in the executor).

    Raises a translated HomeAssistantError when the installed data is broken.
    """
    try:
        return await helpers.async_price_data(hass)
    except helpers.PRICE_DATA_ERRORS as err:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="price_data_invalid") from err


def consumption_of(
    days: Mapping[date, DayResult] | None, inputs: Sequence[DayInput]
) -> tuple[dict[datetime, float], dict[date, float]]:
    """(Wh per UTC hour of the days with a complete load curve, Wh of the days known only by their total).

    From the importer's last computation (``days``), else from the cache's day inputs (``inputs``: the hours are
    computed here, CPU work for the executor). A day with neither (a partial curve and no total) is left out.
    """
    hours: dict[datetime, float] = {}
    daily: dict[date, float] = {}
    if days is not None:
        for day, result in days.items():
            if result.curve_state is CurveState.COMPLETE:
                hours.update(result.hours.items())
            elif result.daily_wh is not None:
                daily[day] = result.daily_wh
        return hours, daily
    for entry in inputs:
        if entry.curve_state is CurveState.COMPLETE:
            hours.update(day_hours(entry))
        elif entry.daily_wh is not None:
            daily[entry.day] = entry.daily_wh
    return hours, daily


def days_with_data(series: SeriesCache | None) -> set[date]:
    """The days a series knows completely: a complete load curve or a daily total."""
    if series is None:
        return set()
    return set(series.daily) | {day for day, state in series.curve_state.items() if state is CurveState.COMPLETE}


@dataclass(frozen=True, slots=True)
class _Job:
    data: PriceData
    days: Mapping[date, DayResult] | None
    inputs: Sequence[DayInput]
    kva: int
    period: Period
    offpeak: tuple[OffpeakWindow, ...]
    colours: dict[date, str]
    current: str


def _run(job: _Job) -> Comparison:
    hours, daily = consumption_of(job.days, job.inputs)
    return compare(
        job.data,
        kva=job.kva,
        hours=hours,
        daily_only=daily,
        first=job.period.first,
        last=job.period.last,
        offpeak=job.offpeak,
        colours=job.colours,
        current=job.current,
    )


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """A PRM's comparison, the period it covers and when it was computed."""

    comparison: Comparison
    period: Period
    computed_at: datetime
    history_complete: bool

    @property
    def partial(self) -> bool:
        """Less than the period asked for: the data starts later or ends earlier, or some days have none."""
        return self.period.partial or self.comparison.days_without_data > 0


class TariffComparisons:
    """The comparisons of one entry's PRMs: on demand (the service) and once a day for the sensors."""

    def __init__(
        self,
        hass: HomeAssistant,
        store: EnedisStore,
        importer: Importer,
        *,
        contracts: Mapping[str, Contract],
        options: Callable[[], EntryOptions],
        now: Callable[[], datetime],
        wants_curve: Callable[[], bool],
    ) -> None:
        """``contracts`` is the coordinator's (read at each use); ``wants_curve``: the consumption curve is imported."""
        self.hass = hass
        self._store = store
        self._importer = importer
        self._contracts = contracts
        self._options = options
        self._now = now
        self._wants_curve = wants_curve
        self.results: dict[str, ComparisonResult] = {}
        """Per PRM, the latest daily comparison (the last 12 complete months), for the sensors."""
        self._running = False

    def _today(self) -> date:
        return local_day(self._now())

    def _power(self, prm: str) -> float | None:
        """The options' *Subscribed power* when set, else the contract's (as the bill's Tarif Bleu)."""
        typed = self._options().subscribed_kva
        if typed is not None:
            return typed
        contract = self._contracts.get(prm)
        return contract.subscribed_power_kva if contract is not None else None

    def kva(self, prm: str) -> int:
        """The PRM's subscribed power (kVA), see `_power`; a translated error when it is not known."""
        power = self._power(prm)
        if power is None or power <= 0:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="subscribed_power_unknown",
                translation_placeholders={"prm": prm},
            )
        return round(power)

    def _knows_power(self, prm: str) -> bool:
        return bool(self._power(prm))

    async def async_compare(
        self, prm: str, first: date | None = None, last: date | None = None
    ) -> tuple[Comparison, Period]:
        """Compare the options for ``prm`` over ``first``..``last`` (default: the last 12 complete months)."""
        kva = self.kva(prm)
        data = await async_price_data(self.hass)
        series = self._store.cache.prm(prm).series.get(Direction.CONSUMPTION)
        default = default_period(self._today(), days_with_data(series))
        period = Period(first or default.first, last or default.last, partial=default.partial)
        if period.last < period.first:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="invalid_dates")
        if first is not None or last is not None:
            known = days_with_data(series)
            inside = [day for day in known if period.first <= day <= period.last]
            period = Period(period.first, period.last, partial=len(inside) < (period.last - period.first).days + 1)
        days = self._importer.consumption_days(prm)
        inputs: list[DayInput] = []
        if days is None and series is not None:
            inputs = day_inputs(series, wants_curve=self._wants_curve())
        # The first local day's night (00:00-06:00) belongs to the previous Tempo day.
        colours = await self._importer.async_tempo_colours(period.first - timedelta(days=1), period.last)
        job = _Job(
            data=data,
            days=days,
            inputs=inputs,
            kva=kva,
            period=period,
            offpeak=self._importer.tariff_config(prm).windows,
            colours=colours,
            current=self._options().tariff,
        )
        comparison = await self.hass.async_add_executor_job(_run, job)
        return comparison, period

    def due(self, prm: str, history_complete: bool) -> bool:
        """Whether the PRM's daily comparison should be computed: its history is imported, and it is a new day.

        Not during the history import: a comparison of part of the history would be replaced within minutes, and its
        computation (about 0.3 s in the executor) would compete with the import's for the interpreter lock (measured:
        one of the event loop's stalls over 50 ms in `benchmarks/statistics_import.py`). The action compares at once.
        """
        if not history_complete:
            return False
        result = self.results.get(prm)
        if result is None:
            return True
        if local_day(result.computed_at) != self._today():
            return True
        return history_complete and not result.history_complete

    def async_schedule(self, entry: ConfigEntry, complete: Mapping[str, bool], on_done: Callable[[], None]) -> None:
        """Compute the comparisons that are due (`due`) in a background task; ``on_done`` once they are stored.

        ``complete``: per PRM to compare (those with consumption, not refused), whether its history import ended.
        A PRM whose subscribed power is not known (no contract yet, or none: Conso API) is not compared.
        """
        if self._running:
            return
        prms = [prm for prm, done in complete.items() if self._knows_power(prm) and self.due(prm, done)]
        if not prms:
            return
        self._running = True
        entry.async_create_background_task(
            self.hass, self._async_compute(prms, complete, on_done), f"{DOMAIN} tariff comparison"
        )

    async def _async_compute(
        self, prms: Iterable[str], complete: Mapping[str, bool], on_done: Callable[[], None]
    ) -> None:
        try:
            for prm in prms:
                computed_at = self._now()
                try:
                    comparison, period = await self.async_compare(prm)
                except HomeAssistantError as err:
                    # Not known yet (the contract's power arrives with the first refresh) or broken data: the
                    # sensors stay unknown, and the next refresh tries again.
                    _LOGGER.debug("Tariff comparison of %s not computed: %s", prm, err)
                    self.results.pop(prm, None)
                    continue
                self.results[prm] = ComparisonResult(comparison, period, computed_at, complete.get(prm, False))
        finally:
            self._running = False
        on_done()
