"""Tariff statistics: HP/HC and Tempo splits, costs and compensation, computed from the ledger's hours.

Pure functions (no I/O): the coordinator runs them in the executor with the cache's day inputs, the options'
prices and the Tempo colours read from the recorder.

- **HP/HC** (``consumption_offpeak`` / ``consumption_peak``): each hour of a day with a complete load curve is
  split by the off-peak windows (the contract's, or the options' override), proportionally when a window
  boundary falls inside a reading, and rounded so that off-peak + peak equals the consumption row exactly. A
  day imported from its daily total only (no usable curve) cannot be split: it is reported, and no split row is
  written for it.
- **Tempo** (``consumption_{blue,white,red}_{offpeak,peak}``): Tempo days run 06:00 to 06:00, off-peak is
  22:00-06:00; a day whose colour is unknown is reported, not guessed.
- **Costs** (``consumption_cost``, or ``bill`` for the regulated grids: `TariffConfig.cost_key`; EUR): Wh x the
  price of the class in force at each hour (price periods from the options, from a price entity's history or
  from the shipped grids), plus the subscription in force spread over the month's hours; each day's `DayBill`
  comes with it. An hour whose price or Tempo colour is unknown has no cost row (never a 0 EUR one): it is
  counted in ``unpriced_hours`` for the diagnostics.
  **Compensation** (``production_compensation``, EUR): production x the feed-in price.
Values are returned per UTC hour; energy in Wh, money in thousandths of a euro, so that the ledger's
``build_rows`` (which divides by 1000) gives kWh and EUR.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Protocol

from .api.calendar import day_bounds, local_day
from .bill import DayBill, day_bill
from .const import TARIFF_BASE, TARIFF_HPHC, TARIFF_TEMPO
from .ledger import CurveState, DayInput
from .tariff_data import PriceData
from .tariffs import (
    BASE,
    FEED_IN,
    HPHC_REGISTER_CLASSES,
    OFFPEAK,
    PEAK,
    TEMPO_CLASSES,
    TEMPO_OFFPEAK,
    OffpeakWindow,
    PricePeriod,
    hour_costs,
    hourly_compensation,
    price_each_hour,
    reconcile_split,
    round_split,
    split_offpeak,
    split_tempo,
)


@dataclass(frozen=True, slots=True)
class TariffConfig:
    """What the options and the contract say about the tariff."""

    option: str = TARIFF_BASE
    windows: tuple[OffpeakWindow, ...] = ()
    periods: tuple[PricePeriod, ...] = ()
    monthly_fee: float = 0.0
    cost_key: str = "consumption_cost"
    """The key of the cost series: ``consumption_cost`` for the user's prices, ``bill`` for the regulated grids."""
    price_data: PriceData | None = field(default=None, compare=False, repr=False)
    """The shipped price data, for the bill's tax split (loaded once; not part of the configuration's identity)."""

    @property
    def splits(self) -> bool:
        """Whether consumption is split in classes (HP/HC or Tempo)."""
        return self.option == TARIFF_TEMPO or (self.option == TARIFF_HPHC and bool(self.windows))


@dataclass(frozen=True, slots=True)
class TariffResult:
    """The extra series (key -> UTC hour -> Wh or milli-EUR) and what could not be computed."""

    series: dict[str, dict[datetime, float]]
    unsplit_days: tuple[date, ...] = ()
    """Days without a usable load curve: consumption known, no HP/HC split."""
    unknown_colour_days: tuple[date, ...] = ()
    """Tempo days whose colour is unknown."""
    unpriced_hours: int = 0
    """Consumption hours from the first price period on that have no cost row: a class without a price in the
    period in force, a Tempo day of unknown colour, a day known only by its total that could not be split."""
    unpriced: str | None = None
    """Why (the first class found without a price, or the other causes above), if some hours are unpriced."""


def _register_targets(
    register_days: Mapping[date, Mapping[str, float]], hours: Mapping[datetime, float]
) -> dict[date, dict[str, float]]:
    """Per day, the registers' HP/HC split scaled to the day's consumption (the curve's total).

    The meter's registers give the billed split between classes; scaling it to the curve's day total keeps
    off-peak + peak = consumption for every hour (the consumption statistic comes from the curve and is never
    rewritten when registers arrive). The two totals differ by a few Wh at most.
    """
    day_totals: dict[date, float] = {}
    for hour, wh in hours.items():
        day = local_day(hour)
        day_totals[day] = day_totals.get(day, 0.0) + wh
    targets: dict[date, dict[str, float]] = {}
    for day, raw in register_days.items():
        classes: dict[str, float] = {}
        for register_class, wh in raw.items():
            target = HPHC_REGISTER_CLASSES.get(register_class)
            if target is not None:
                classes[target] = classes.get(target, 0.0) + wh
        total = sum(classes.values())
        if total > 0 and day in day_totals:
            factor = day_totals[day] / total
            targets[day] = {name: wh * factor for name, wh in classes.items()}
    return targets


REGISTER_TOLERANCE = 0.05
"""Registers correct the curve's HP/HC split when they agree within 5 % of the day's energy; a larger gap
means the off-peak windows do not match the meter's relay (a wrong override, a changed contract): the curve's
split then stands for that day rather than pushing off-peak energy into peak hours."""


def _agreeing(targets: dict[date, dict[str, float]], raw_off: Mapping[datetime, float]) -> dict[date, dict[str, float]]:
    curve_off: dict[date, float] = {}
    for hour, wh in raw_off.items():
        day = local_day(hour)
        curve_off[day] = curve_off.get(day, 0.0) + wh
    agreeing: dict[date, dict[str, float]] = {}
    for day, classes in targets.items():
        total = sum(classes.values())
        if day in curve_off and abs(classes.get(OFFPEAK, 0.0) - curve_off[day]) <= REGISTER_TOLERANCE * total:
            agreeing[day] = classes
    return agreeing


@dataclass(frozen=True, slots=True)
class DayTariffs:
    """The tariff series' hours of one local day, and what could not be split or priced in it.

    Every step of the tariff series works inside one local day (the split, its rounding, the registers, the
    prices of each hour), so a series is the union of its days (`assemble`) and a day whose inputs did not change
    can keep its result (the importer's incremental compute). A day depends on its `DayInput`, its registers,
    the Tempo colours of the day and of the day before (the night before 06:00 is the previous Tempo day) and the
    price periods in force during the day.
    """

    day: date
    series: Mapping[str, Mapping[datetime, float]]
    """Per series key (see `consumption_keys`), the day's UTC hours."""
    unsplit: bool = False
    unknown_colour_days: frozenset[date] = frozenset()
    unpriced_hours: int = 0
    unpriced: str | None = None
    """Why the day's first unpriced hour has no price (a class without a price in the period in force)."""
    bill: DayBill | None = None
    """The day's bill (`bill.day_bill` of the classes priced), whenever there are price periods: its ``total``
    is the sum of the day's cost hours; its ``unpriced_hours`` is the day's count above."""


def consumption_keys(config: TariffConfig) -> tuple[str, ...]:
    """The keys of the consumption's tariff series, in their order, for ``config``."""
    keys: list[str] = []
    if config.splits:
        names = TEMPO_CLASSES if config.option == TARIFF_TEMPO else (OFFPEAK, PEAK)
        keys.extend(f"consumption_{name}" for name in names)
    if config.periods:
        keys.append(config.cost_key)
    return tuple(keys)


def production_keys(config: TariffConfig) -> tuple[str, ...]:
    """The keys of the production's tariff series: the compensation, when a period has a feed-in price."""
    return ("production_compensation",) if _feed_in_periods(config) else ()


def uses_registers(entry: DayInput | None, config: TariffConfig) -> bool:
    """Whether a day's index registers can change its tariff series (`consumption_day`): only an HP/HC split of a
    complete curve takes them; any other day has no split of its hours for them to correct (the importer then does
    not compute the day again when its registers arrive)."""  # noqa: D205, D209
    return config.option == TARIFF_HPHC and entry is not None and entry.curve_state is CurveState.COMPLETE


def consumption_day(
    day: date,
    entry: DayInput | None,
    hours: Mapping[datetime, float],
    config: TariffConfig,
    *,
    colours: Mapping[date, str],
    registers: Mapping[str, float] | None = None,
) -> DayTariffs:
    """Split and price the consumption of local ``day`` (``hours``: its ledger rows, Wh; ``entry``: its input).

    With HP/HC, a day whose index ``registers`` are known takes the meter's own split (`_register_targets`), the
    curve keeping the shape of the hours; other days keep the curve's split. Tempo keeps the curve's split.
    Off-peak + peak = consumption holds for every hour; registers that disagree with the curve's split by more
    than `REGISTER_TOLERANCE` are not used. Only the curve's hours inside the day count (a reading straddling
    midnight belongs to both days, each keeps its own hours).
    """
    series: dict[str, dict[datetime, float]] = {}
    classes: dict[str, dict[datetime, float]] = {BASE: dict(hours)}
    unsplit = False
    unknown: frozenset[date] = frozenset()
    if config.splits:
        windows = TEMPO_OFFPEAK if config.option == TARIFF_TEMPO else config.windows
        raw_off: dict[datetime, float] = {}
        raw_peak: dict[datetime, float] = {}
        if entry is not None:
            if entry.curve_state is not CurveState.COMPLETE:
                unsplit = entry.daily_wh is not None or bool(entry.curve)
            else:
                lower, upper = day_bounds(day)
                day_off, day_peak = split_offpeak(entry.curve, windows)
                raw_off = {hour: wh for hour, wh in day_off.items() if lower <= hour < upper}
                raw_peak = {hour: wh for hour, wh in day_peak.items() if lower <= hour < upper}
        if registers and uses_registers(entry, config):
            targets = _agreeing(_register_targets({day: registers}, hours), raw_off)
            reconciled = reconcile_split({OFFPEAK: raw_off, PEAK: raw_peak}, targets)
            raw_off, raw_peak = reconciled[OFFPEAK], reconciled[PEAK]
        offpeak, peak = round_split(raw_off, raw_peak, {h: hours[h] for h in raw_off if h in hours})
        if config.option == TARIFF_TEMPO:
            tempo, unknown_days = split_tempo(offpeak, peak, colours)
            classes = tempo
            unknown = frozenset(unknown_days)
        else:
            classes = {OFFPEAK: offpeak, PEAK: peak}
        for name, values in classes.items():
            series[f"consumption_{name}"] = values
    unpriced: str | None = None
    unpriced_hours = 0
    bill: DayBill | None = None
    if config.periods:
        # An hour whose price or Tempo colour is unknown gets no cost row at all (a 0 EUR row would read as
        # "free" on the Energy dashboard): it is counted and reported instead.
        each = price_each_hour(classes, config.periods, config.monthly_fee)  # once, for the cost and the bill
        left_out = each[1]
        cost = hour_costs(each[0])  # `priced_hours`, from the pricing the bill also takes
        series[config.cost_key] = {hour: euros * 1000 for hour, euros in cost.items()}
        first = min(period.start for period in config.periods)
        unpriced_hours = sum(1 for hour in hours if hour >= first and hour not in cost)
        unpriced = next(iter(left_out.values()), None)
        priced = day_bill(day, classes, config.periods, config.price_data, config.monthly_fee, priced_as=each)
        bill = replace(priced, unpriced_hours=unpriced_hours, unpriced=unpriced)
    return DayTariffs(day, series, unsplit, unknown, unpriced_hours, unpriced, bill)


class DayReport(Protocol):
    """What `assemble` reads of a day: `DayTariffs`, or the importer's memo of it (`importer.DayResult`)."""

    @property
    def day(self) -> date:
        """The local day."""

    @property
    def series(self) -> Mapping[str, Mapping[datetime, float]]:
        """Per series key, the day's UTC hours."""

    @property
    def unsplit(self) -> bool:
        """The day could not be split."""

    @property
    def unknown_colour_days(self) -> Collection[date]:
        """Tempo days of the day's hours whose colour is unknown."""

    @property
    def unpriced_hours(self) -> int:
        """Hours with energy and no price."""

    @property
    def unpriced(self) -> str | None:
        """Why the first unpriced hour has no price."""


def assemble(keys: Sequence[str], days: Iterable[DayReport], *, with_series: bool = True) -> TariffResult:
    """The tariff series of a whole series from its days (sorted, each day once); ``keys``: `consumption_keys`.

    Without ``with_series`` only the report is assembled (the importer publishes the days' hours itself).
    """
    series: dict[str, dict[datetime, float]] = {key: {} for key in keys}
    unsplit: list[date] = []
    unknown: set[date] = set()
    unpriced_hours = 0
    unpriced: str | None = None
    for result in days:
        if with_series:
            for key, values in result.series.items():
                series[key].update(values.items())
        if result.unsplit:
            unsplit.append(result.day)
        unknown.update(result.unknown_colour_days)
        unpriced_hours += result.unpriced_hours
        if unpriced is None:
            unpriced = result.unpriced
    if unpriced_hours and unpriced is None:
        unpriced = "Tempo colour unknown" if unknown else "day known only by its total, not split"
    elif not unpriced_hours:
        unpriced = None
    return TariffResult(series if with_series else {}, tuple(unsplit), tuple(sorted(unknown)), unpriced_hours, unpriced)


def _by_day(hours: Mapping[datetime, float]) -> dict[date, dict[datetime, float]]:
    days: dict[date, dict[datetime, float]] = {}
    for hour, wh in hours.items():
        days.setdefault(local_day(hour), {})[hour] = wh
    return days


def build_consumption_tariffs(
    days: Sequence[DayInput],
    hours: Mapping[datetime, float],
    config: TariffConfig,
    colours: Mapping[date, str],
    register_days: Mapping[date, Mapping[str, float]] | None = None,
) -> TariffResult:
    """Split and price the consumption of one PRM (``hours``: the ledger's consumption rows, Wh), day by day.

    Each local day is `consumption_day` (its input, its hours, its registers); the result is their union.
    """
    entries = {entry.day: entry for entry in days}
    hours_by_day = _by_day(hours)
    registers = register_days or {}
    results = [
        consumption_day(
            day, entries.get(day), hours_by_day.get(day, {}), config, colours=colours, registers=registers.get(day)
        )
        for day in sorted(entries.keys() | hours_by_day.keys())
    ]
    return assemble(consumption_keys(config), results)


def _feed_in_periods(config: TariffConfig) -> tuple[PricePeriod, ...]:
    return tuple(p for p in config.periods if FEED_IN in p.prices)


def production_day(day: date, hours: Mapping[datetime, float], config: TariffConfig) -> DayTariffs:
    """The feed-in compensation of local ``day``'s production (milli-EUR per hour), when a feed-in price is set."""
    periods = _feed_in_periods(config)
    if not periods:
        return DayTariffs(day, {})
    compensation = hourly_compensation(hours, periods)
    return DayTariffs(day, {"production_compensation": {hour: euros * 1000 for hour, euros in compensation.items()}})


def build_production_compensation(hours: Mapping[datetime, float], config: TariffConfig) -> TariffResult:
    """The feed-in compensation of one PRM's production (milli-EUR per hour), when a feed-in price is set."""
    by_day = _by_day(hours)
    return assemble(production_keys(config), [production_day(day, by_day[day], config) for day in sorted(by_day)])
