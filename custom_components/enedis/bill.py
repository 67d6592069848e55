"""The bill: what the household pays, per day and per month, at the regulated grids or the user's prices.

Pure computation (no I/O, nothing from Home Assistant), on `tariffs`' conventions: class series are
``{class key: {UTC hour: Wh}}``, days and months are Europe/Paris local ones, money is EUR TTC.

- **Prices** (`regulated_periods`): the shipped EDF Tarif Bleu grids of the PRM's option and kVA as
  `PricePeriod` s (each grid from Paris midnight of its date, its monthly subscription with it), closed by a period
  of unknown prices after the shipped data ends, merged with the user's dated periods (a newer grid entered by
  hand wins from its date).
- **A day** (`day_bill`): every hour priced as `tariffs.priced_hours` prices it (the same hours, the same EUR):
  Wh of each class x its TTC price in force at the hour, plus the subscription in force spread evenly over the
  hours of the local month (``fee / month_hours``), so a month priced in full carries exactly one subscription
  (a price change mid-month: each fee for its share of the hours). An hour whose price is unknown is left out
  (never priced at 0) and counted. The tax split (`PriceData.energy_split`, `PriceData.taxes_on`): energy TTC =
  (HT + accise) x (1 + TVA), subscription TTC = (HT + CTA) x (1 + TVA); where a tax is unknown its fields are None.
- **A month** (`month_bill`): the sum of its days; ``complete`` when every hour of the month is priced.
- **A forecast** (`forecast_month`): the month's priced days as they are, later days estimated from the same
  weekdays of the previous weeks, and the subscription of every hour of the month (see there).

The invoice rounds each line to the cent; these sums are not rounded.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import math

from .api.calendar import day_bounds, local_day, local_midnight_utc, to_utc, utc_hour
from .const import TARIFF_BASE, TARIFF_HPHC, TARIFF_TEMPO
from .tariff_data import Grid, PriceData
from .tariffs import FEED_IN, HOUR, PricedHour, PricePeriod, month_hours, price_each_hour

TARIF_BLEU_OFFERS: Mapping[str, str] = {TARIFF_BASE: "BASE", TARIFF_HPHC: "HPHC", TARIFF_TEMPO: "TEMPO"}
"""The integration's tariff options (``const.TARIFF_*``) to the shipped Tarif Bleu offers (`tariff_data`)."""

TARIF_BLEU = "tarif_bleu"
"""The coverage entry of the Tarif Bleu grids in the shipped data."""


# ------------------------------------------------------------------------------------------------ prices


def _is_consumption(period: PricePeriod) -> bool:
    """Whether ``period`` sets consumption prices (not only a feed-in price)."""
    return any(name != FEED_IN for name in period.prices)


def _latest(periods: Sequence[PricePeriod], starts: Sequence[datetime], at: datetime) -> PricePeriod | None:
    position = bisect_right(starts, at) - 1
    return periods[position] if position >= 0 else None


def _with_fee(period: PricePeriod, grids: Sequence[Grid]) -> PricePeriod:
    """``period`` with the subscription of the latest shipped grid on or before its day when it has none."""
    if period.monthly_fee is not None:
        return period
    position = bisect_right([grid.valid_from for grid in grids], local_day(period.start)) - 1
    fee = grids[position].subscription if position >= 0 else None
    return PricePeriod(period.start, period.prices, monthly_fee=fee, known=period.known)


def _own_wins(own: PricePeriod | None, grid: PricePeriod | None, newest_grid: datetime | None) -> bool:
    """Whether the user's period ``own`` prices an instant where the shipped ``grid`` is in force."""
    if own is None:
        return False
    if grid is None or to_utc(own.start) >= to_utc(grid.start):
        return True
    # The end of the shipped data is not a new grid: prices entered after the newest shipped grid go on.
    return not grid.known and newest_grid is not None and to_utc(own.start) > newest_grid


def regulated_periods(
    data: PriceData, option: str, kva: int, user_periods: Sequence[PricePeriod] = ()
) -> tuple[PricePeriod, ...]:
    """The price periods of the Tarif Bleu ``option`` (`TARIF_BLEU_OFFERS`) at ``kva``, merged with the user's.

    Each shipped grid is a period from Paris midnight of its ``valid_from``, with its prices (class keys) and its
    subscription as ``monthly_fee``; a last period with ``known=False`` starts the day after the data's coverage
    ends (its hours are never priced, see `tariffs.priced_hours`). The user's periods are merged in: at each
    instant the period with the latest start wins, the user's at an equal start, so a grid entered by hand wins
    from its date until a newer shipped grid starts. The end of the shipped data is not a newer grid: a user
    period dated after the newest shipped grid goes on past it (prices entered for a grid the data does not have
    yet), and one dated after the shipped data prices the hours from its date. A user period without
    ``monthly_fee`` takes the subscription of the latest shipped grid starting on or before its day (the
    subscription is taken as unchanged). Feed-in prices belong to the user's periods only: the feed-in price of
    the user period in force is kept in every period (shipped grids included), and a user period with a feed-in
    price only changes the feed-in price, not the grid.

    Raises ValueError for an option without a Tarif Bleu grid or a kVA the option has no grid for.
    """
    offer = TARIF_BLEU_OFFERS.get(option)
    if offer is None:
        msg = f"tariff option {option!r} is not a Tarif Bleu option (one of {', '.join(TARIF_BLEU_OFFERS)})"
        raise ValueError(msg)
    grids = data.grids.get((offer, kva))
    if not grids:
        shipped_kvas = ", ".join(str(value) for value in data.kvas(offer))
        msg = f"the Tarif Bleu {offer} grids have no {kva} kVA subscription (shipped: {shipped_kvas} kVA)"
        raise ValueError(msg)
    first, last = data.coverage[TARIF_BLEU]
    shipped = [
        PricePeriod(local_midnight_utc(max(grid.valid_from, first)), dict(grid.prices), monthly_fee=grid.subscription)
        for grid in grids
        if grid.valid_from <= last
    ]
    shipped.append(PricePeriod(local_midnight_utc(last + timedelta(days=1)), {}, known=False))
    shipped_starts = [to_utc(period.start) for period in shipped]

    users = sorted(user_periods, key=lambda period: to_utc(period.start))
    user_starts = [to_utc(period.start) for period in users]
    consumption = [period for period in users if _is_consumption(period)]
    consumption_starts = [to_utc(period.start) for period in consumption]

    newest_grid = max(
        (start for period, start in zip(shipped, shipped_starts, strict=True) if period.known), default=None
    )

    def own_wins(own: PricePeriod | None, grid: PricePeriod | None) -> bool:
        if own is None:
            return False
        if grid is None or to_utc(own.start) >= to_utc(grid.start):
            return True
        # The end of the shipped data is not a new grid: prices entered after the newest shipped grid go on.
        return not grid.known and newest_grid is not None and to_utc(own.start) > newest_grid

    merged: list[PricePeriod] = []
    for at in sorted({*shipped_starts, *user_starts}):
        grid = _latest(shipped, shipped_starts, at)
        own = _latest(consumption, consumption_starts, at)
        source = own if _own_wins(own, grid, newest_grid) else grid
        prices = {name: price for name, price in (source.prices if source else {}).items() if name != FEED_IN}
        feed = _latest(users, user_starts, at)
        if feed is not None and FEED_IN in feed.prices:
            prices[FEED_IN] = feed.prices[FEED_IN]
        fee = None if source is None else (_with_fee(source, grids) if source is own else source).monthly_fee
        known = source is None or source.known
        if merged and (merged[-1].prices, merged[-1].monthly_fee, merged[-1].known) == (prices, fee, known):
            continue  # nothing changes at this instant
        merged.append(PricePeriod(at, prices, monthly_fee=fee, known=known))
    return tuple(merged)


# --------------------------------------------------------------------------------------------------- days


@dataclass(frozen=True, slots=True)
class DayBill:
    """The bill of one local day (EUR TTC unless said): what its priced hours cost.

    ``energy_ht + accise + energy_tva == energy`` and ``subscription_before_tva + subscription_tva ==
    subscription`` (up to float rounding) where the taxes are known; None where they are not (no price data,
    the accise after its data ends). ``subscription_before_tva`` is HT + CTA: the reference cannot separate them
    for most grids (`PriceData.subscription_split`).
    """

    day: date
    kwh: float
    """Energy of the priced hours, kWh."""
    energy: float
    subscription: float
    """The subscription's share of the priced hours (``fee / month_hours`` each)."""
    energy_ht: float | None
    accise: float | None
    energy_tva: float | None
    subscription_tva: float | None
    subscription_before_tva: float | None
    priced_hours: int
    unpriced_hours: int
    """Hours with energy data and no price (from the first price period on)."""
    unpriced: str | None = None
    """Why the first unpriced hour has no price."""

    @property
    def total(self) -> float:
        """Energy and subscription, EUR TTC."""
        return self.energy + self.subscription


def hours_in_day(day: date) -> int:
    """23, 24 or 25: the hours of local ``day``."""
    lower, upper = day_bounds(day)
    return round((upper - lower) / HOUR)


def day_bill(
    day: date,
    classes: Mapping[str, Mapping[datetime, float]],
    periods: Sequence[PricePeriod],
    data: PriceData | None,
    monthly_fee: float = 0.0,
    *,
    priced_as: tuple[Mapping[datetime, PricedHour], Mapping[datetime, str]] | None = None,
) -> DayBill:
    """The bill of local ``day`` for ``classes`` ({class key: {UTC hour: Wh}}; hours outside the day are ignored).

    The hours are priced by `tariffs.price_each_hour`, the computation behind `tariffs.priced_hours`, so
    ``day_bill(...).total`` is the sum of ``priced_hours(classes, periods, monthly_fee)`` over the day's hours,
    hour for hour. ``data`` gives the tax split (None: no split, its fields are None). ``priced_as`` is
    ``price_each_hour(classes, periods, monthly_fee)`` when the caller has it already (the importer prices each day's
    cost with it): used as is when every hour of ``classes`` is inside the day, the same result without pricing
    each hour twice.
    """
    lower, upper = day_bounds(day)
    inside: dict[str, dict[datetime, float]] = {}
    for name, hours in classes.items():
        inside[name] = {}
        for hour, wh in hours.items():
            utc = utc_hour(hour)
            if lower <= utc < upper:
                inside[name][utc] = wh
    if priced_as is not None and all(len(inside[name]) == len(hours) for name, hours in classes.items()):
        priced, unpriced = priced_as
    else:
        priced, unpriced = price_each_hour(inside, periods, monthly_fee)
    kwh_at_price: dict[float, float] = {}
    kwh: list[float] = []
    for hour, part in priced.items():
        for name, hours in inside.items():
            wh = hours.get(hour, 0.0)
            if not wh:
                continue
            kwh.append(wh / 1000)
            price = part.period.prices[name]  # a priced hour has a price for every class with energy
            kwh_at_price[price] = kwh_at_price.get(price, 0.0) + wh / 1000
    energy = math.fsum(part.energy for part in priced.values())
    subscription = math.fsum(part.subscription for part in priced.values())

    energy_ht: float | None = None
    accise: float | None = None
    energy_tva: float | None = None
    subscription_tva: float | None = None
    before_tva: float | None = None
    taxes = data.taxes_on(day) if data is not None else None
    if data is not None and taxes is not None:
        splits = [(kwh_amount, data.energy_split(price, day)) for price, kwh_amount in kwh_at_price.items()]
        if all(split is not None for _, split in splits):
            energy_ht = math.fsum(amount * split.ht for amount, split in splits if split is not None)
            accise = math.fsum(amount * split.accise for amount, split in splits if split is not None)
            energy_tva = math.fsum(amount * split.tva for amount, split in splits if split is not None)
        before_tva = subscription / (1 + taxes.tva_subscription)
        subscription_tva = subscription - before_tva
    return DayBill(
        day=day,
        kwh=math.fsum(kwh),
        energy=energy,
        subscription=subscription,
        energy_ht=energy_ht,
        accise=accise,
        energy_tva=energy_tva,
        subscription_tva=subscription_tva,
        subscription_before_tva=before_tva,
        priced_hours=len(priced),
        unpriced_hours=len(unpriced),
        unpriced=next(iter(unpriced.values()), None),
    )


# ------------------------------------------------------------------------------------------------- months


@dataclass(frozen=True, slots=True)
class MonthBill:
    """The bill of one local month: the sums of its `DayBill` s (a split field is None if one day's is)."""

    month: date
    """The month's first day."""
    kwh: float
    energy: float
    subscription: float
    energy_ht: float | None
    accise: float | None
    energy_tva: float | None
    subscription_tva: float | None
    subscription_before_tva: float | None
    priced_hours: int
    unpriced_hours: int
    days: int
    """How many days of the month have a `DayBill`."""
    complete: bool
    """Every hour of the month is priced: the month's bill, not part of it."""

    @property
    def total(self) -> float:
        """Energy and subscription, EUR TTC."""
        return self.energy + self.subscription


def month_bounds(month: date) -> tuple[date, date]:
    """The first day of ``month``'s month and of the next one."""
    first = month.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def _optional_sum(values: Iterable[float | None]) -> float | None:
    given = list(values)
    if any(value is None for value in given):
        return None
    return math.fsum(value for value in given if value is not None)


def month_bill(month: date, days: Iterable[DayBill]) -> MonthBill:
    """The bill of ``month`` (any day of it) from its days' bills; days of other months are ignored.

    Raises ValueError when a day is given twice.
    """
    first, following = month_bounds(month)
    inside: dict[date, DayBill] = {}
    for bill in days:
        if first <= bill.day < following:
            if bill.day in inside:
                msg = f"day {bill.day.isoformat()} billed twice"
                raise ValueError(msg)
            inside[bill.day] = bill
    bills = [inside[day] for day in sorted(inside)]
    priced = sum(bill.priced_hours for bill in bills)
    return MonthBill(
        month=first,
        kwh=math.fsum(bill.kwh for bill in bills),
        energy=math.fsum(bill.energy for bill in bills),
        subscription=math.fsum(bill.subscription for bill in bills),
        energy_ht=_optional_sum(bill.energy_ht for bill in bills),
        accise=_optional_sum(bill.accise for bill in bills),
        energy_tva=_optional_sum(bill.energy_tva for bill in bills),
        subscription_tva=_optional_sum(bill.subscription_tva for bill in bills),
        subscription_before_tva=_optional_sum(bill.subscription_before_tva for bill in bills),
        priced_hours=priced,
        unpriced_hours=sum(bill.unpriced_hours for bill in bills),
        days=len(bills),
        complete=priced == month_hours(local_midnight_utc(first)),
    )


# ----------------------------------------------------------------------------------------------- forecast


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast bill of a month (EUR TTC) and how it was made."""

    month: date
    total: float
    """The month's energy so far, the later days' estimate and the whole month's subscription."""
    so_far: float
    """The bill of the month's days known so far (energy and subscription of their priced hours)."""
    estimated: float
    """The estimated energy cost of the later days."""
    subscription: float
    """The subscription of every hour of the month."""
    estimated_days: int
    basis_days: int
    """The fully priced days the estimate is based on."""
    method: str


def month_subscription(month: date, periods: Sequence[PricePeriod], monthly_fee: float = 0.0) -> float | None:
    """The subscription of every hour of ``month``: the fee in force at each hour / the month's hours.

    Hours before the first period carry nothing (as in `tariffs.priced_hours`); None when an hour is in a period
    whose prices are unknown.
    """
    first, following = month_bounds(month)
    ordered = sorted(periods, key=lambda period: to_utc(period.start))
    starts = [to_utc(period.start) for period in ordered]
    hour, end = local_midnight_utc(first), local_midnight_utc(following)
    count = month_hours(hour)
    shares: list[float] = []
    while hour < end:
        period = _latest(ordered, starts, hour)
        if period is not None:
            if not period.known:
                return None
            fee = monthly_fee if period.monthly_fee is None else period.monthly_fee
            shares.append(fee / count)
        hour += HOUR
    return math.fsum(shares)


def forecast_month(
    days: Mapping[date, DayBill],
    month: date,
    periods: Sequence[PricePeriod],
    monthly_fee: float = 0.0,
    weeks: int = 4,
) -> Forecast | None:
    """The forecast bill of ``month`` (any day of it) from the days' bills ``days`` and the price ``periods``.

    Method: the month's days known so far (up to the last day of the month with a priced hour) count as they are
    billed (their unpriced hours are not estimated). Each later day of the month is estimated by the MEAN energy
    cost (EUR TTC) of the same weekday over the fully priced days (every hour priced) of the ``weeks`` weeks
    before it, counted back from the last known day (or from the month's start when no day is known yet); a
    weekday without such a day takes the mean of all of them. The subscription is exact: the fee in force at every
    hour of the month (`month_subscription`), not only at the known hours. The estimate is in EUR, at the prices
    of those past weeks: a price change in the month moves the known days' bill but not the estimate. None when
    days are left to estimate and the past weeks have no fully priced day, or when prices are unknown for part
    of the month (a period with ``known=False``).
    """
    first, following = month_bounds(month)
    in_month = {day: bill for day, bill in days.items() if first <= day < following}
    known = [day for day, bill in in_month.items() if bill.priced_hours]
    last_known = max(known, default=first - timedelta(days=1))
    subscription = month_subscription(first, periods, monthly_fee)
    if subscription is None:
        return None
    later = [last_known + timedelta(days=offset) for offset in range(1, (following - last_known).days)]
    basis_first = last_known - timedelta(days=7 * weeks - 1)
    basis = {
        day: bill
        for day, bill in days.items()
        if basis_first <= day <= last_known and bill.priced_hours == hours_in_day(day)
    }
    if later and not basis:
        return None
    overall = math.fsum(bill.energy for bill in basis.values()) / len(basis) if basis else 0.0
    by_weekday: dict[int, list[float]] = {}
    for day, bill in basis.items():
        by_weekday.setdefault(day.weekday(), []).append(bill.energy)
    estimates: list[float] = []
    fallback = 0
    for day in later:
        same = by_weekday.get(day.weekday())
        if same:
            estimates.append(math.fsum(same) / len(same))
        else:
            estimates.append(overall)
            fallback += 1
    counted = [bill for day, bill in in_month.items() if day <= last_known]
    estimated = math.fsum(estimates)
    total = math.fsum(bill.energy for bill in counted) + estimated + subscription
    method = f"{len(counted)} days billed as known"
    if later:
        method += (
            f", {len(later)} later days estimated from the mean energy cost of the same weekday over the {len(basis)}"
            f" fully priced days of the {weeks} weeks to {last_known.isoformat()}"
        )
        if fallback:
            method += f" ({fallback} from the mean of all of them: no such weekday)"
    method += f"; subscription of all {month_hours(local_midnight_utc(first))} hours of the month"
    return Forecast(
        month=first,
        total=total,
        so_far=math.fsum(bill.total for bill in in_month.values()),
        estimated=estimated,
        subscription=subscription,
        estimated_days=len(later),
        basis_days=len(basis),
        method=method,
    )
