"""The entry's options as one frozen model: `EntryOptions`, the only reader and writer of ``entry.options``.

Pure (no I/O, nothing from Home Assistant). The coordinator reads the model, never ``entry.options``; the options
flow takes its suggested values from it and saves what it returns (`EntryOptions.to_options`).

- **Defaults in one place**: the field defaults below (and the form's limits, `CURVE_MONTHS_MAX`,
  `DAILY_MONTHS_MAX`, `POLL_HOURS`).
- **Tolerant reading** (`EntryOptions.from_entry`): an entry from any earlier version works. A missing key, or one
  stored as ``None``, gives the default (entries created before the tariff page have no tariff keys); a value that
  cannot be read (a number field that is not a number, an unknown tariff option or measure) gives the default too,
  so the entry still sets up and the options form still opens to correct it (before this model such a number
  failed the setup). Numbers are not clamped to the form's limits: the engine bounds the history by what Enedis
  keeps (`api.windows.history_start`), as it always did.
- **Price periods have one owner**: the stored shape ``[{"start": ISO datetime, "prices": {class: EUR/kWh}}]``
  is read by `parse_price_periods` into `tariffs.PricePeriod` (sorted by start) and written by
  `price_periods_to_options` (start in UTC, ``+00:00``); the options form's "apply from" rule is
  `with_prices_from`. A period whose start cannot be read, or is naive (no offset, hence no instant), is left out;
  a price that is not a finite number is left out of its period (its class is unpriced in that period: reported,
  never priced by a guess), as an unreadable period was before this model (a non-numeric price then failed every
  import).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
import math
from typing import Any, Final

from .api.calendar import local_day, local_midnight_utc
from .const import (
    ALL_MEASURES,
    CONF_CURVE_MONTHS,
    CONF_DAILY_MONTHS,
    CONF_MEASURES,
    CONF_MONTHLY_FEE,
    CONF_OFFPEAK_OVERRIDE,
    CONF_POLL_END,
    CONF_POLL_START,
    CONF_PRICE_ENTITY,
    CONF_PRICE_PERIODS,
    CONF_PRICE_SOURCE,
    CONF_SUBSCRIBED_KVA,
    CONF_TARIFF,
    CONF_TEMPO_ENTITY,
    PRICE_SOURCE_MANUAL,
    PRICE_SOURCES,
    TARIFF_BASE,
    TARIFFS,
)
from .tariffs import PricePeriod

CURVE_MONTHS_MAX: Final = 24
"""The options form's limit for the load curve history (Enedis keeps 24 months)."""
DAILY_MONTHS_MAX: Final = 36
"""The options form's limit for the daily history (Enedis keeps 36 months)."""
POLL_HOURS: Final = (6, 22)
"""The options form's limits for the poll window's hours (Paris time)."""

HISTORY_KEYS: Final = (CONF_CURVE_MONTHS, CONF_DAILY_MONTHS, CONF_POLL_START, CONF_POLL_END, CONF_MEASURES)
"""The stored keys the options' *History* page saves."""
TARIFF_KEYS: Final = (
    CONF_TARIFF,
    CONF_OFFPEAK_OVERRIDE,
    CONF_TEMPO_ENTITY,
    CONF_PRICE_ENTITY,
    CONF_MONTHLY_FEE,
    CONF_PRICE_SOURCE,
    CONF_SUBSCRIBED_KVA,
)
"""The stored keys the *Tariff and prices* page always saves; it saves `CONF_PRICE_PERIODS` only when the prices
or their date changed (editing another option never rewrites, nor moves, the price history)."""


@dataclass(frozen=True, slots=True)
class EntryOptions:
    """What the user chose in the entry's options; every default is here.

    Build it with `from_entry`, store it with `to_options`. ``price_periods`` are sorted by start; a period's
    ``prices`` is a dict (so the model compares by value but cannot be hashed: nothing needs to).
    """

    curve_months: int = 24
    """Load curve history to import, in months."""
    daily_months: int = 36
    """Daily energy and maximum power history to import, in months."""
    poll_start: int = 8
    """Hour (Paris) of the earliest daily poll."""
    poll_end: int = 11
    """Hour (Paris) of the latest first daily poll."""
    measures: tuple[str, ...] = ALL_MEASURES
    """The measures to import, in `const.ALL_MEASURES` order."""
    tariff: str = TARIFF_BASE
    """One of `const.TARIFFS`."""
    offpeak_override: str | None = None
    """Off-peak windows typed by the user (e.g. ``HC (22H00-6H00)``), used instead of the contract's."""
    tempo_entity: str | None = None
    """An entity whose state is the day's Tempo colour."""
    price_entity: str | None = None
    """An entity whose state is the price (its history prices each hour)."""
    monthly_fee: float = 0.0
    """Subscription, EUR per month (manual prices). With the Tarif Bleu, the subscription of the prices the user
    typed (a newer grid than the shipped ones); 0 keeps the shipped grid's subscription."""
    price_source: str = PRICE_SOURCE_MANUAL
    """One of `const.PRICE_SOURCES`: the prices typed here (or the price entity), or the shipped Tarif Bleu grids
    (`bill.regulated_periods`), the typed prices then winning from their date."""
    subscribed_kva: int | None = None
    """The subscribed power for the Tarif Bleu grid, when set; else the contract's (Data Connect, SGE)."""
    price_periods: tuple[PricePeriod, ...] = ()
    """Dated prices, sorted by start (see `parse_price_periods`)."""

    @classmethod
    def from_entry(cls, options: Mapping[str, Any]) -> EntryOptions:
        """The model of a stored ``entry.options`` (any earlier version: see the module's docstring)."""
        default = cls()
        measures = options.get(CONF_MEASURES)
        tariff = options.get(CONF_TARIFF)
        source = options.get(CONF_PRICE_SOURCE)
        return cls(
            curve_months=_int(options.get(CONF_CURVE_MONTHS), default.curve_months),
            daily_months=_int(options.get(CONF_DAILY_MONTHS), default.daily_months),
            poll_start=_int(options.get(CONF_POLL_START), default.poll_start),
            poll_end=_int(options.get(CONF_POLL_END), default.poll_end),
            measures=(
                default.measures
                if not isinstance(measures, list | tuple | set | frozenset)
                else tuple(measure for measure in ALL_MEASURES if measure in measures)
            ),
            tariff=tariff if isinstance(tariff, str) and tariff in TARIFFS else default.tariff,
            offpeak_override=_text(options.get(CONF_OFFPEAK_OVERRIDE)),
            tempo_entity=_text(options.get(CONF_TEMPO_ENTITY)),
            price_entity=_text(options.get(CONF_PRICE_ENTITY)),
            monthly_fee=_float(options.get(CONF_MONTHLY_FEE), default.monthly_fee),
            price_periods=parse_price_periods(options.get(CONF_PRICE_PERIODS)),
            price_source=source if isinstance(source, str) and source in PRICE_SOURCES else default.price_source,
            subscribed_kva=_kva(options.get(CONF_SUBSCRIBED_KVA)),
        )

    def to_options(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The stored form of the options (JSON-ready), all keys or only ``keys``.

        The options flow saves a page as ``{**entry.options, **model.to_options(PAGE_KEYS)}``: the keys of other
        pages stay as they were stored.
        """
        stored: dict[str, Any] = {
            CONF_CURVE_MONTHS: self.curve_months,
            CONF_DAILY_MONTHS: self.daily_months,
            CONF_POLL_START: self.poll_start,
            CONF_POLL_END: self.poll_end,
            CONF_MEASURES: list(self.measures),
            CONF_TARIFF: self.tariff,
            CONF_OFFPEAK_OVERRIDE: self.offpeak_override,
            CONF_TEMPO_ENTITY: self.tempo_entity,
            CONF_PRICE_ENTITY: self.price_entity,
            CONF_MONTHLY_FEE: self.monthly_fee,
            CONF_PRICE_PERIODS: price_periods_to_options(self.price_periods),
            CONF_PRICE_SOURCE: self.price_source,
            CONF_SUBSCRIBED_KVA: self.subscribed_kva,
        }
        if keys is None:
            return stored
        return {key: stored[key] for key in keys}

    @property
    def poll_window_valid(self) -> bool:
        """The poll window starts before it ends (the options form refuses it otherwise)."""
        return self.poll_start < self.poll_end

    @property
    def current_prices(self) -> dict[str, float]:
        """The newest period's prices (the options form shows them), empty without a period."""
        return dict(self.price_periods[-1].prices) if self.price_periods else {}

    @property
    def current_prices_from(self) -> date | None:
        """The Paris day the newest period starts on: the form's "apply from" for the prices it shows."""
        return local_day(self.price_periods[-1].start) if self.price_periods else None

    def edited_price_periods(
        self, prices: Mapping[str, float], apply_from: date | None, today: date
    ) -> tuple[PricePeriod, ...]:
        """The price periods after the options form was saved with ``prices`` and ``apply_from``.

        Only a change of the prices or of their date touches the periods: saving the form as shown (or with the
        date cleared) returns them unchanged, so editing another option never moves a scheduled price change nor
        reprices history. New prices without a date apply from ``today`` (`with_prices_from`).
        """
        if dict(prices) == self.current_prices and apply_from in {None, self.current_prices_from}:
            return self.price_periods
        return with_prices_from(self.price_periods, apply_from or today, prices)


def parse_price_periods(raw: object) -> tuple[PricePeriod, ...]:
    """The stored price periods as `PricePeriod`, sorted by start; what cannot be read is left out.

    Unreadable: an entry that is not a mapping, a start that is not an ISO datetime with an offset, ``prices``
    that is not a mapping; a price that is not a finite number leaves only that class out.
    """
    if not isinstance(raw, list | tuple):
        return ()
    periods: list[PricePeriod] = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("prices"), Mapping):
            continue
        start = _aware_datetime(item.get("start"))
        if start is None:
            continue
        prices: dict[str, float] = {}
        for key, value in item["prices"].items():
            price = _float(value, math.nan)
            if math.isfinite(price):
                prices[str(key)] = price
        periods.append(PricePeriod(start=start, prices=prices))
    return tuple(sorted(periods, key=lambda period: period.start))


def price_periods_to_options(periods: Iterable[PricePeriod]) -> list[dict[str, Any]]:
    """The stored shape of price periods: ``{"start": UTC ISO datetime, "prices": {class: EUR/kWh}}`` each."""
    return [
        {"start": period.start.astimezone(UTC).isoformat(), "prices": dict(period.prices)}
        for period in sorted(periods, key=lambda period: period.start)
    ]


def with_prices_from(
    periods: Sequence[PricePeriod], apply_from: date, prices: Mapping[str, float]
) -> tuple[PricePeriod, ...]:
    """The periods after setting ``prices`` from ``apply_from`` (Paris midnight) on.

    Earlier periods keep pricing the history before it; periods starting on or after it are replaced, so a date in
    the past reprices the history from that day (the cost statistics are rewritten without a spike). No prices:
    the periods from that day are removed. Prices equal to the previous period's: no new period (it goes on).
    """
    start = local_midnight_utc(apply_from)
    kept = tuple(period for period in sorted(periods, key=lambda period: period.start) if period.start < start)
    if not prices or (kept and dict(kept[-1].prices) == dict(prices)):
        return kept
    return (*kept, PricePeriod(start=start, prices=dict(prices)))


def _int(value: object, default: int) -> int:
    """``value`` as an int (the form's number selectors may give ``6.0``), else ``default``."""
    return int(_float(value, default))


def _float(value: object, default: float) -> float:
    """``value`` as a finite float, else ``default``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _kva(value: object) -> int | None:
    """A subscribed power (kVA, a positive whole number) or None (not set, or not readable)."""
    number = _float(value, math.nan)
    if not math.isfinite(number) or number <= 0 or number != int(number):
        return None
    return int(number)


def _text(value: object) -> str | None:
    """A non-empty string, else ``None`` (the form stores ``None`` for a field left empty)."""
    return value if isinstance(value, str) and value.strip() else None


def _aware_datetime(value: object) -> datetime | None:
    """An ISO 8601 datetime with an offset, else ``None``."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
