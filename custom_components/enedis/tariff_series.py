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
- **Costs** (``consumption_cost``, EUR): Wh x the price of the class in force at each hour (price periods from
  the options, or from a price entity's history), plus the monthly subscription spread over the month's hours.
  An hour whose price or Tempo colour is unknown has no cost row (never a 0 EUR one): it is counted in
  ``unpriced_hours`` for the diagnostics.
  **Compensation** (``production_compensation``, EUR): production x the feed-in price.
Values are returned per UTC hour; energy in Wh, money in thousandths of a euro, so that the ledger's
``build_rows`` (which divides by 1000) gives kWh and EUR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from .api.calendar import local_day
from .const import TARIFF_BASE, TARIFF_HPHC, TARIFF_TEMPO
from .ledger import CurveState, DayInput
from .tariffs import (
    BASE,
    FEED_IN,
    HPHC_REGISTER_CLASSES,
    OFFPEAK,
    PEAK,
    TEMPO_OFFPEAK,
    OffpeakWindow,
    PricePeriod,
    hourly_compensation,
    priced_hours,
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


def build_consumption_tariffs(
    days: Sequence[DayInput],
    hours: Mapping[datetime, float],
    config: TariffConfig,
    colours: Mapping[date, str],
    register_days: Mapping[date, Mapping[str, float]] | None = None,
) -> TariffResult:
    """Split and price the consumption of one PRM (``hours``: the ledger's consumption rows, Wh).

    With HP/HC, days whose index registers are known take the meter's own split (`_register_targets`), the
    curve keeping the shape of the hours; other days keep the curve's split. Tempo keeps the curve's split.
    Off-peak + peak = consumption holds for every hour; registers that disagree with the curve's split by more
    than `REGISTER_TOLERANCE` are not used for that day.
    """
    series: dict[str, dict[datetime, float]] = {}
    classes: dict[str, dict[datetime, float]] = {BASE: dict(hours)}
    unsplit: list[date] = []
    unknown: tuple[date, ...] = ()
    if config.splits:
        windows = TEMPO_OFFPEAK if config.option == TARIFF_TEMPO else config.windows
        raw_off: dict[datetime, float] = {}
        raw_peak: dict[datetime, float] = {}
        for day in days:
            if day.curve_state is not CurveState.COMPLETE:
                if day.daily_wh is not None or day.curve:
                    unsplit.append(day.day)
                continue
            day_off, day_peak = split_offpeak(day.curve, windows)
            raw_off.update(day_off)
            raw_peak.update(day_peak)
        if register_days and config.option == TARIFF_HPHC:
            targets = _agreeing(_register_targets(register_days, hours), raw_off)
            reconciled = reconcile_split({OFFPEAK: raw_off, PEAK: raw_peak}, targets)
            raw_off, raw_peak = reconciled[OFFPEAK], reconciled[PEAK]
        offpeak, peak = round_split(raw_off, raw_peak, {h: hours[h] for h in raw_off if h in hours})
        if config.option == TARIFF_TEMPO:
            tempo, unknown_days = split_tempo(offpeak, peak, colours)
            classes = tempo
            unknown = tuple(sorted(unknown_days))
        else:
            classes = {OFFPEAK: offpeak, PEAK: peak}
        for name, values in classes.items():
            series[f"consumption_{name}"] = values
    unpriced: str | None = None
    unpriced_hours = 0
    if config.periods:
        # An hour whose price or Tempo colour is unknown gets no cost row at all (a 0 EUR row would read as
        # "free" on the Energy dashboard): it is counted and reported instead.
        cost, left_out = priced_hours(classes, config.periods, config.monthly_fee)
        series["consumption_cost"] = {hour: euros * 1000 for hour, euros in cost.items()}
        first = min(period.start for period in config.periods)
        unpriced_hours = sum(1 for hour in hours if hour >= first and hour not in cost)
        if unpriced_hours:
            unpriced = next(iter(left_out.values()), None) or (
                "Tempo colour unknown" if unknown else "day known only by its total, not split"
            )
    return TariffResult(series, tuple(sorted(unsplit)), unknown, unpriced_hours, unpriced)


def build_production_compensation(hours: Mapping[datetime, float], config: TariffConfig) -> TariffResult:
    """The feed-in compensation of one PRM's production (milli-EUR per hour), when a feed-in price is set."""
    periods = tuple(p for p in config.periods if FEED_IN in p.prices)
    if not periods:
        return TariffResult({})
    compensation = hourly_compensation(hours, periods)
    return TariffResult({"production_compensation": {hour: euros * 1000 for hour, euros in compensation.items()}})
