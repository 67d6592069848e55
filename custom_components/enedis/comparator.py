"""The tariff comparator: what a PRM's own consumption would have cost under each option it could choose.

Pure (nothing from Home Assistant, no I/O): `compare` prices the consumption of a period under every option of
the shipped price data (`tariff_data.PriceData`) at the PRM's subscribed power, month by month:

- ``base`` (Tarif Bleu Base), ``hphc`` (HP/HC with the PRM's own off-peak windows, when known), ``hphc_standard``
  (HP/HC with 22:00-06:00, for comparison), ``tempo`` (the real colour of each Tempo day), ``ejp`` (only at a kVA
  that has an EJP grid), ``zen_weekend``, ``zen_weekend_hc`` (own windows) and ``zen_flex`` (its sobriété days).
- A day is **priced** under an option when every one of its hours has a known class and price (its grid at the
  PRM's kVA on that day, its Tempo colour, EJP or sobriété day...). It then costs its energy x the prices plus the
  subscription of its grid prorated by its hours (``monthly TTC x hours of the day / hours of the month``: a month
  priced whole carries exactly one month's subscription, and the grid in force each day is the one charged).
- A day known **only by its daily total** (no complete load curve) is priced only where the option gives all of
  its hours the same price (Base; Zen Week-End; a Zen Week-End HC weekend; an EJP day without peak hours...): the
  total is then exact. Anywhere else its energy cannot be split between classes: the day is counted as not priced
  (``daily_only``), never filled with a guess.
- A day not priced for another reason is counted too: ``unknown_calendar`` (Tempo colour, EJP or sobriété day not
  known) or ``no_price`` (no grid on that day at that kVA: before the data starts, past its horizon).

An option's totals are over the days IT priced. As coverage differs (the Zen grids and the Tempo calendar stop at
different dates), the comparison also gives the **common basis**: the days priced by every available option, and
each option's total on it (an option that priced no day at all is left out of it, not comparable). The cheapest
option is chosen on that basis, and every option's difference to the current one is computed on it too.

Time: each hour's class is found once per day and option: a year of 8 options takes about 0.3 s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .api.calendar import day_bounds, local_day, to_paris
from .tariff_data import PriceData
from .tariffs import HOUR, OFFPEAK, PEAK, OffpeakWindow, month_hours, tempo_colour, tempo_day

STANDARD_OFFPEAK: tuple[OffpeakWindow, ...] = (OffpeakWindow(22 * 60, 6 * 60),)
"""The off-peak hours HP/HC is also compared with: 22:00-06:00 local."""

DAILY_ONLY = "daily_only"
"""Not priced: known only by its daily total, and the option's price varies within the day."""
UNKNOWN_CALENDAR = "unknown_calendar"
"""Not priced: its Tempo colour, EJP day or sobriété day is not known."""
NO_PRICE = "no_price"
"""Not priced: no grid of the option at that kVA on that day (before the data, past its horizon)."""
REASONS: tuple[str, ...] = (DAILY_ONLY, UNKNOWN_CALENDAR, NO_PRICE)

NO_OFFPEAK_WINDOWS = "no_offpeak_windows"
"""Option not compared: it needs the PRM's off-peak windows, which are not known."""
NO_GRID_AT_KVA = "no_grid_at_kva"
"""Option not compared: the shipped data has no grid of it at the PRM's subscribed power."""

OWN = "own"
STANDARD = "standard"


@dataclass(frozen=True, slots=True)
class Option:
    """One option compared: its id (a translation key), the offer of the price data and which windows it uses."""

    key: str
    offer: str
    windows: str | None = None
    """None (the offer needs none), `OWN` (the PRM's off-peak windows) or `STANDARD` (`STANDARD_OFFPEAK`)."""


OPTIONS: tuple[Option, ...] = (
    Option("base", "BASE"),
    Option("hphc", "HPHC", OWN),
    Option("hphc_standard", "HPHC", STANDARD),
    Option("tempo", "TEMPO"),
    Option("ejp", "EJP"),
    Option("zen_weekend", "ZEN_WEEKEND"),
    Option("zen_weekend_hc", "ZEN_WEEKEND_HC", OWN),
    Option("zen_flex", "ZEN_FLEX"),
)
OPTION_KEYS: tuple[str, ...] = tuple(option.key for option in OPTIONS)


@dataclass(slots=True)
class MonthCost:
    """One local month of one option (EUR TTC, kWh): what it priced and what it could not."""

    month: date
    """The first day of the month."""
    energy_eur: float = 0.0
    subscription_eur: float = 0.0
    kwh: float = 0.0
    days_priced: int = 0
    days_not_priced: dict[str, int] = field(default_factory=dict)
    common_eur: float = 0.0
    """Energy and subscription of the days of the common basis in this month."""

    @property
    def total_eur(self) -> float:
        """Energy and subscription of the days priced."""
        return self.energy_eur + self.subscription_eur


@dataclass(slots=True)
class OptionCost:
    """One option over the period; ``unavailable`` says why it was not compared at all (then it has no months)."""

    key: str
    offer: str
    unavailable: str | None = None
    months: list[MonthCost] = field(default_factory=list)
    common_eur: float | None = None
    """Total on the common basis (None when the option is unavailable)."""
    common_kwh: float | None = None
    difference_eur: float | None = None
    """``common_eur`` minus the current option's (positive: dearer than the current option)."""
    last_priced: date | None = None

    @property
    def available(self) -> bool:
        """Whether the option was compared."""
        return self.unavailable is None

    @property
    def energy_eur(self) -> float:
        """Energy of the days priced."""
        return sum(month.energy_eur for month in self.months)

    @property
    def subscription_eur(self) -> float:
        """Subscription of the days priced."""
        return sum(month.subscription_eur for month in self.months)

    @property
    def total_eur(self) -> float:
        """Energy and subscription of the days priced (not comparable between options: see ``common_eur``)."""
        return self.energy_eur + self.subscription_eur

    @property
    def kwh(self) -> float:
        """Energy of the days priced."""
        return sum(month.kwh for month in self.months)

    @property
    def days_priced(self) -> int:
        """Days priced exactly."""
        return sum(month.days_priced for month in self.months)

    @property
    def days_not_priced(self) -> dict[str, int]:
        """Days with data that could not be priced, per reason (`REASONS`)."""
        counts = dict.fromkeys(REASONS, 0)
        for month in self.months:
            for reason, count in month.days_not_priced.items():
                counts[reason] += count
        return counts


@dataclass(frozen=True, slots=True)
class Comparison:
    """The costs of every option over ``first``..``last`` (local days, inclusive) at ``kva``."""

    first: date
    last: date
    kva: int
    options: tuple[OptionCost, ...]
    current: str | None
    cheapest: str | None
    """The cheapest option on the common basis (None without a common day)."""
    common_days: int
    days_with_data: int
    days_without_data: int
    """Days of the period with neither a complete load curve nor a daily total."""
    data_first: date | None
    data_last: date | None
    horizon: Mapping[str, date]
    """The last day each table of the price data covers (``tarif_bleu``, ``market_offers``, ``tempo``...)."""

    def option(self, key: str) -> OptionCost | None:
        """The costs of option ``key``, if compared (or listed as unavailable)."""
        return next((option for option in self.options if option.key == key), None)

    @property
    def saving_eur(self) -> float | None:
        """What the cheapest option saves over the current one on the common basis (None if either is unknown)."""
        current = self.option(self.current) if self.current else None
        cheapest = self.option(self.cheapest) if self.cheapest else None
        if current is None or cheapest is None or current.common_eur is None or cheapest.common_eur is None:
            return None
        return current.common_eur - cheapest.common_eur


@dataclass(frozen=True, slots=True)
class Period:
    """A period to compare: local days ``first``..``last`` inclusive; ``partial`` when shorter than asked for."""

    first: date
    last: date
    partial: bool


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def default_period(today: date, days_with_data: Iterable[date]) -> Period:
    """The last 12 complete local months before ``today``'s month, clipped to the days with data.

    ``partial`` is True when the data does not cover the 12 months (it starts later, ends earlier, or there is
    none: then the 12 months are returned as they are).
    """
    first = _add_months(_month_start(today), -12)
    last = _month_start(today) - timedelta(days=1)
    inside = [day for day in days_with_data if first <= day <= last]
    if not inside:
        return Period(first, last, partial=True)
    data_first, data_last = min(inside), max(inside)
    return Period(max(first, data_first), min(last, data_last), partial=data_first > first or data_last < last)


@dataclass(frozen=True, slots=True)
class _DayPrices:
    """An option's prices on one day: per UTC hour of the day (EUR per kWh), or why it has none."""

    prices: tuple[float, ...] | None
    reason: str | None
    subscription: float


class _Pricer:
    """Prices of one option, day by day (the hour classes of a day are looked up once)."""

    def __init__(
        self,
        data: PriceData,
        option: Option,
        kva: int,
        windows: Sequence[OffpeakWindow] | None,
        colours: Mapping[date, str],
    ) -> None:
        self._data = data
        self._offer = option.offer
        self._kva = kva
        self._windows = windows
        self._colours = colours

    def _tempo_class(self, hour: datetime) -> str | None:
        """The Tempo class from a colour given beyond the shipped calendar (shipped colours are `class_at`'s)."""
        colour = tempo_colour(self._colours.get(tempo_day(hour)))
        if colour is None:
            return None
        night = any(window.contains(_local_minute(hour)) for window in STANDARD_OFFPEAK)
        return f"{colour}_{OFFPEAK if night else PEAK}"

    def day(self, day: date, hours: Sequence[datetime]) -> _DayPrices:
        grid = self._data.grid(self._offer, self._kva, day)
        if grid is None:
            return _DayPrices(None, NO_PRICE, 0.0)
        prices: list[float] = []
        for hour in hours:
            klass = self._data.class_at(self._offer, hour, self._windows)
            if klass is None and self._offer == "TEMPO":
                klass = self._tempo_class(hour)
            if klass is None:
                return _DayPrices(None, UNKNOWN_CALENDAR, 0.0)
            price = grid.prices.get(klass)
            if price is None:
                return _DayPrices(None, NO_PRICE, 0.0)
            prices.append(price)
        return _DayPrices(tuple(prices), None, grid.subscription)


def _local_minute(hour: datetime) -> int:
    local = to_paris(hour)
    return local.hour * 60 + local.minute


def _day_hours(day: date) -> tuple[datetime, ...]:
    lower, upper = day_bounds(day)
    count = round((upper - lower) / HOUR)
    return tuple(lower + index * HOUR for index in range(count))


def _unavailable(data: PriceData, option: Option, kva: int, own: Sequence[OffpeakWindow]) -> str | None:
    if kva not in data.kvas(option.offer):
        return NO_GRID_AT_KVA
    if option.windows == OWN and not own:
        return NO_OFFPEAK_WINDOWS
    return None


type _Priced = dict[date, tuple[float, float, float]]
"""Per priced day: (energy EUR, subscription EUR, kWh)."""


@dataclass(frozen=True, slots=True)
class _Consumption:
    """The period's data by local day: the hours of complete days, the totals of the others, each day's hours."""

    curves: dict[date, dict[datetime, float]]
    daily: dict[date, float]
    days: list[date]
    hours: dict[date, tuple[datetime, ...]]
    month_lengths: dict[date, int] = field(default_factory=dict)

    def month_length(self, day: date) -> int:
        """Hours of the local month of ``day`` (one of the days)."""
        month = _month_start(day)
        length = self.month_lengths.get(month)
        if length is None:
            length = self.month_lengths[month] = month_hours(self.hours[day][0])
        return length


def _consumption(
    hours: Mapping[datetime, float], daily_only: Mapping[date, float], first: date, last: date
) -> _Consumption:
    curves: dict[date, dict[datetime, float]] = {}
    for hour, wh in hours.items():
        day = local_day(hour)
        if first <= day <= last:
            curves.setdefault(day, {})[hour] = wh
    daily = {day: wh for day, wh in daily_only.items() if first <= day <= last and day not in curves}
    days = sorted(set(curves) | set(daily))
    return _Consumption(curves, daily, days, {day: _day_hours(day) for day in days})


def _day_energy(consumption: _Consumption, day: date, prices: _DayPrices) -> tuple[float, float] | str:
    """(EUR, kWh) of the energy of ``day`` at ``prices``, or why it cannot be priced."""
    if prices.prices is None:
        return prices.reason or NO_PRICE
    curve = consumption.curves.get(day)
    if curve is not None:
        energy = kwh = 0.0
        for hour, price in zip(consumption.hours[day], prices.prices, strict=True):
            wh = curve.get(hour, 0.0)
            kwh += wh / 1000
            energy += wh / 1000 * price
        return energy, kwh
    if len(set(prices.prices)) == 1:  # one price all day: the daily total is priced exactly
        kwh = consumption.daily[day] / 1000
        return kwh * prices.prices[0], kwh
    return DAILY_ONLY


def _price_option(pricer: _Pricer, consumption: _Consumption) -> tuple[list[MonthCost], _Priced]:
    months: dict[date, MonthCost] = {}
    priced: _Priced = {}
    for day in consumption.days:
        month = _month_start(day)
        row = months.get(month)
        if row is None:
            row = months[month] = MonthCost(month)
        local_hours = consumption.hours[day]
        prices = pricer.day(day, local_hours)
        outcome = _day_energy(consumption, day, prices)
        if isinstance(outcome, str):
            row.days_not_priced[outcome] = row.days_not_priced.get(outcome, 0) + 1
            continue
        energy, kwh = outcome
        subscription = prices.subscription * len(local_hours) / consumption.month_length(day)
        row.energy_eur += energy
        row.subscription_eur += subscription
        row.kwh += kwh
        row.days_priced += 1
        priced[day] = (energy, subscription, kwh)
    return sorted(months.values(), key=lambda m: m.month), priced


def _common_basis(results: Sequence[OptionCost], priced_days: Mapping[str, _Priced], days: Iterable[date]) -> set[date]:
    """The days every option that priced any day priced; sets those options' totals on them.

    An option that priced no day at all (its prices or calendar do not reach the period) is left out of the basis
    rather than emptying it: its ``common_eur`` stays None (not comparable), and its days say why.
    """
    pricing = [set(priced) for priced in priced_days.values() if priced]
    common = set(days).intersection(*pricing) if pricing else set()
    for result in results:
        option_days = priced_days.get(result.key)
        if not option_days:
            result.last_priced = None
            continue
        common_eur = common_kwh = 0.0
        by_month = {month.month: month for month in result.months}
        for day in common:
            energy, subscription, kwh = option_days[day]
            common_eur += energy + subscription
            common_kwh += kwh
            by_month[_month_start(day)].common_eur += energy + subscription
        result.common_eur, result.common_kwh = common_eur, common_kwh
        result.last_priced = max(option_days, default=None)
    return common


def compare(
    data: PriceData,
    *,
    kva: int,
    hours: Mapping[datetime, float],
    daily_only: Mapping[date, float],
    first: date,
    last: date,
    offpeak: Sequence[OffpeakWindow],
    colours: Mapping[date, str],
    current: str | None,
) -> Comparison:
    """Price the consumption of ``first``..``last`` (local days, inclusive) under every option at ``kva``.

    ``hours`` is the consumption in Wh per UTC hour of the days whose load curve is complete; ``daily_only`` the
    Wh of the days known only by their total (a day in both counts by its hours). ``offpeak`` is the PRM's own
    off-peak windows (empty when unknown: the options that need them are then not compared). ``colours`` gives
    Tempo colours beyond the shipped calendar (the shipped colour wins where both exist). ``current`` is the
    option the PRM is on (an `OPTION_KEYS` key, any case), or None. See the module's docstring for the rules.
    """
    if last < first:
        msg = f"period {first.isoformat()}..{last.isoformat()} ends before it starts"
        raise ValueError(msg)
    consumption = _consumption(hours, daily_only, first, last)
    own = tuple(offpeak)
    results: list[OptionCost] = []
    priced_days: dict[str, _Priced] = {}
    for option in OPTIONS:
        reason = _unavailable(data, option, kva, own)
        if reason is not None:
            results.append(OptionCost(option.key, option.offer, unavailable=reason))
            continue
        windows = {OWN: own, STANDARD: STANDARD_OFFPEAK}.get(option.windows or "")
        months, priced_days[option.key] = _price_option(_Pricer(data, option, kva, windows, colours), consumption)
        results.append(OptionCost(option.key, option.offer, months=months))
    common = _common_basis(results, priced_days, consumption.days)
    comparable = [result for result in results if result.common_eur is not None]
    cheapest = min(comparable, key=lambda result: result.common_eur or 0.0).key if common and comparable else None
    current_key = current.casefold() if current else None
    reference = next((result for result in results if result.key == current_key), None)
    if reference is not None and reference.common_eur is not None and common:
        for result in comparable:
            result.difference_eur = (result.common_eur or 0.0) - reference.common_eur
    days = consumption.days
    return Comparison(
        first=first,
        last=last,
        kva=kva,
        options=tuple(results),
        current=current_key if current_key in OPTION_KEYS else None,
        cheapest=cheapest,
        common_days=len(common),
        days_with_data=len(days),
        days_without_data=(last - first).days + 1 - len(days),
        data_first=days[0] if days else None,
        data_last=days[-1] if days else None,
        horizon={name: bounds[1] for name, bounds in sorted(data.coverage.items())},
    )


# ------------------------------------------------------------------------------------------- the response


def _eur(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _kwh(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _month_dict(month: MonthCost) -> dict[str, Any]:
    return {
        "month": month.month.strftime("%Y-%m"),
        "total_eur": _eur(month.total_eur),
        "energy_eur": _eur(month.energy_eur),
        "subscription_eur": _eur(month.subscription_eur),
        "kwh": _kwh(month.kwh),
        "days_priced": month.days_priced,
        "days_not_priced": {reason: month.days_not_priced.get(reason, 0) for reason in REASONS},
        "common_basis_eur": _eur(month.common_eur),
    }


def option_dict(option: OptionCost) -> dict[str, Any]:
    """One option as plain JSON values (EUR rounded to the cent, kWh to the Wh)."""
    if not option.available:
        return {"available": False, "reason": option.unavailable}
    return {
        "available": True,
        "total_eur": _eur(option.total_eur),
        "energy_eur": _eur(option.energy_eur),
        "subscription_eur": _eur(option.subscription_eur),
        "kwh": _kwh(option.kwh),
        "days_priced": option.days_priced,
        "days_not_priced": option.days_not_priced,
        "last_day_priced": option.last_priced.isoformat() if option.last_priced else None,
        "common_basis_eur": _eur(option.common_eur),
        "difference_to_current_eur": _eur(option.difference_eur),
        "months": [_month_dict(month) for month in option.months],
    }


def as_dict(comparison: Comparison) -> dict[str, Any]:
    """The comparison as plain JSON values (a service response)."""
    current = comparison.option(comparison.current) if comparison.current else None
    return {
        "first": comparison.first.isoformat(),
        "last": comparison.last.isoformat(),
        "kva": comparison.kva,
        "current": comparison.current,
        "current_available": current is not None and current.available,
        "cheapest": comparison.cheapest,
        "saving_eur": _eur(comparison.saving_eur),
        "days": {
            "in_period": comparison.days_with_data + comparison.days_without_data,
            "with_data": comparison.days_with_data,
            "without_data": comparison.days_without_data,
            "common_basis": comparison.common_days,
        },
        "data_first_day": comparison.data_first.isoformat() if comparison.data_first else None,
        "data_last_day": comparison.data_last.isoformat() if comparison.data_last else None,
        "price_data_until": {name: day.isoformat() for name, day in comparison.horizon.items()},
        "options": {option.key: option_dict(option) for option in comparison.options},
    }
