"""French residential price data shipped with the integration: Tarif Bleu grids, EDF Zen offers, taxes, calendars.

Pure: nothing from Home Assistant and no I/O at import. `load_price_data` reads the package data in
``prices/`` (format and provenance in ``prices/README.md``; written by ``scripts/prices_update.py`` from the
researched reference); it blocks on the file system, so the integration calls it in the executor, once.

Every lookup answers None where the data does not reach (before its first date, after its ``coverage.csv``
horizon, a kVA an option does not offer): never a guess. Prices are EUR TTC as EDF bills them (energy per kWh,
subscription per month); `PriceData.energy_split` and `PriceData.subscription_split` give the tax split where the
reference allows it (``energy TTC = (HT + accise) x 1.2``; ``subscription TTC = (HT + CTA) x (1 + TVA)``).

Price classes use `tariffs`' keys: ``base``; ``offpeak`` / ``peak`` (HP/HC); the six Tempo classes
``<colour>_<offpeak|peak>``; ``ejp_normal`` / ``ejp_peak``; Zen Week-End ``weekday`` / ``weekend``; Zen Week-End
HC ``weekday_offpeak`` / ``weekday_peak`` / ``weekend_offpeak`` / ``weekend_peak``; Zen Flex ``eco_offpeak`` /
``eco_peak`` / ``sobriete_offpeak`` / ``sobriete_peak``. `class_at` names the class of an instant.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from .api.calendar import to_paris
from .tariffs import BASE, OFFPEAK, PEAK, OffpeakWindow, tempo_day

DATA_DIR = Path(__file__).parent / "prices"
"""Where the shipped price data lives (inside the integration, so HACS and zip installs carry it)."""

TARIF_BLEU_OPTIONS: tuple[str, ...] = ("BASE", "HPHC", "TEMPO", "EJP")
"""The regulated options (EDF Tarif Bleu)."""
MARKET_OFFERS: tuple[str, ...] = ("ZEN_WEEKEND", "ZEN_WEEKEND_HC", "ZEN_FLEX")
"""EDF market offers shipped (TTC only, as EDF publishes them)."""

SUBSCRIPTION = "subscription"
_COMPONENT_CLASSES: Mapping[str, str] = {
    "base": BASE,
    "hc": OFFPEAK,
    "hp": PEAK,
    "blue_hc": "blue_offpeak",
    "blue_hp": "blue_peak",
    "white_hc": "white_offpeak",
    "white_hp": "white_peak",
    "red_hc": "red_offpeak",
    "red_hp": "red_peak",
    "normal": "ejp_normal",
    "pointe_mobile": "ejp_peak",
    "weekday_price": "weekday",
    "weekend_price": "weekend",
    "weekday_hc": "weekday_offpeak",
    "weekday_hp": "weekday_peak",
    "weekend_hc": "weekend_offpeak",
    "weekend_hp": "weekend_peak",
    "eco_hc": "eco_offpeak",
    "eco_hp": "eco_peak",
    "sobriete_hc": "sobriete_offpeak",
    "sobriete_hp": "sobriete_peak",
}
"""Component names of the data files to price classes."""

_COLOURS: Mapping[str, str] = {"B": "blue", "W": "white", "R": "red"}
ZEN_FLEX_OFFPEAK: tuple[OffpeakWindow, ...] = (
    OffpeakWindow(0, 8 * 60),
    OffpeakWindow(13 * 60, 18 * 60),
    OffpeakWindow(20 * 60, 0),
)
"""Zen Flex off-peak hours, fixed by EDF every day (not the Enedis windows): 00-08, 13-18, 20-24 local."""
EJP_PEAK_START = 7
"""EJP peak ("pointe mobile") runs from 07:00 local on an EJP day to 01:00 local the next day."""
EJP_PEAK_END = 1


class PriceDataError(ValueError):
    """The shipped price data is malformed (a broken install or a bad update)."""


@dataclass(frozen=True, slots=True)
class Grid:
    """One offer's prices at one kVA, in force from ``valid_from`` until the next grid (or the data's end).

    ``subscription`` is EUR TTC per month as EDF bills it; ``prices`` maps price classes to EUR TTC per kWh.
    """

    offer: str
    kva: int
    valid_from: date
    subscription: float
    prices: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Taxes:
    """Taxes in force on a day. ``accise`` (EUR per kWh) and ``cta_rate`` (share of the TURPE fixed part) are
    None where the reference does not know them; the TVA rates are shares (0.2 is 20 %).
    """  # noqa: D205

    accise: float | None
    cta_rate: float | None
    tva_energy: float
    tva_subscription: float


@dataclass(frozen=True, slots=True)
class EnergySplit:
    """A kWh price split: ``ht + accise + tva == ttc`` (EUR per kWh)."""

    ttc: float
    ht: float
    accise: float
    tva: float


@dataclass(frozen=True, slots=True)
class SubscriptionSplit:
    """A subscription split, EUR per year on CRE's basis when ``ht`` / ``cta`` are known (a CRE row), else the
    EDF monthly TTC split into TVA and what it is levied on (``ht_and_cta``).
    """  # noqa: D205

    ttc: float
    ht_and_cta: float
    tva: float
    ht: float | None
    cta: float | None
    per: str


@dataclass(frozen=True, slots=True)
class CreRow:
    """One CRE barème row (HT and TTC): fixed part EUR per year, energy EUR per kWh."""

    component: str
    valid_from: date
    kva: int
    fixed_ht_year: float
    fixed_ttc_year: float
    energy_ht: float
    energy_ttc: float


@dataclass(frozen=True, slots=True)
class _DayCalendar:
    first: date
    last: date
    days: frozenset[date]

    def has(self, day: date) -> bool | None:
        if not self.first <= day <= self.last:
            return None
        return day in self.days


@dataclass(frozen=True, slots=True)
class _TaxPeriod:
    tax: str
    first: date | None
    last: date | None
    value: float | None

    def covers(self, day: date) -> bool:
        return (self.first is None or self.first <= day) and (self.last is None or day <= self.last)


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _required(text: str, where: str) -> date:
    value = _date(text)
    if value is None:
        msg = f"{where}: missing date"
        raise PriceDataError(msg)
    return value


@dataclass(frozen=True, slots=True)
class PriceData:
    """The shipped tables, indexed. Build it with `load_price_data`."""

    grids: Mapping[tuple[str, int], Sequence[Grid]]
    coverage: Mapping[str, tuple[date, date]]
    tempo: Mapping[date, str]
    ejp: _DayCalendar
    sobriete: _DayCalendar
    taxes: Sequence[_TaxPeriod]
    cre: Sequence[CreRow]

    # ---------------------------------------------------------------------------------------------- grids

    def grid(self, offer: str, kva: int, day: date) -> Grid | None:
        """The grid of ``offer`` (`TARIF_BLEU_OPTIONS`, `MARKET_OFFERS`) at ``kva`` in force on ``day``."""
        family = "tarif_bleu" if offer in TARIF_BLEU_OPTIONS else "market_offers"
        first, last = self.coverage[family]
        grids = self.grids.get((offer, kva))
        if not grids or not first <= day <= last:
            return None
        position = bisect_right([grid.valid_from for grid in grids], day) - 1
        return grids[position] if position >= 0 else None

    def kvas(self, offer: str) -> tuple[int, ...]:
        """The powers (kVA) ``offer`` has a grid for."""
        return tuple(sorted(kva for name, kva in self.grids if name == offer))

    # ---------------------------------------------------------------------------------------------- taxes

    def _tax(self, tax: str, day: date) -> tuple[bool, float | None]:
        for period in self.taxes:
            if period.tax == tax and period.covers(day):
                return True, period.value
        return False, None

    def taxes_on(self, day: date) -> Taxes | None:
        """The taxes in force on ``day``; None before the accise table starts."""
        found, accise = self._tax("accise_electricite", day)
        _, cta = self._tax("CTA_rate", day)
        _, tva_energy = self._tax("TVA_energy_and_accise", day)
        _, tva_subscription = self._tax("TVA_subscription_and_CTA", day)
        if not found or tva_energy is None or tva_subscription is None:
            return None
        return Taxes(
            accise=None if accise is None else accise / 1000,
            cta_rate=None if cta is None else cta / 100,
            tva_energy=tva_energy / 100,
            tva_subscription=tva_subscription / 100,
        )

    def energy_split(self, ttc: float, day: date) -> EnergySplit | None:
        """``ttc`` (EUR per kWh on ``day``) as HT + accise + TVA; None where the accise is unknown."""
        taxes = self.taxes_on(day)
        if taxes is None or taxes.accise is None:
            return None
        before_tva = ttc / (1 + taxes.tva_energy)
        return EnergySplit(ttc=ttc, ht=before_tva - taxes.accise, accise=taxes.accise, tva=ttc - before_tva)

    def cre_row(self, component: str, kva: int, day: date) -> CreRow | None:
        """The CRE row of ``component`` (``BASE``, ``TEMPO_red_hp``...) at ``kva`` in force on ``day``, if shipped.

        Only a few CRE rows are shipped (the reference found no complete CRE file): a row applies from its date
        to the next Tarif Bleu change (the next grid date), never further.
        """
        grid_dates = sorted({grid.valid_from for grids in self.grids.values() for grid in grids})
        for row in self.cre:
            if row.component != component or row.kva != kva or day < row.valid_from:
                continue
            following = [start for start in grid_dates if start > row.valid_from]
            if not following or day < following[0]:
                return row
        return None

    def subscription_split(self, offer: str, kva: int, day: date) -> SubscriptionSplit | None:
        """The subscription of ``offer`` at ``kva`` on ``day`` split into TVA and the rest.

        With a CRE row for that option, power and day (Base; Tempo at 6 kVA from 2025-08), the split is CRE's
        yearly one: HT (CRE), CTA = TTC / (1 + TVA) - HT, TVA (``per="year"``). Otherwise the EDF monthly TTC is
        split into TVA and ``ht_and_cta`` only (``per="month"``): the reference cannot separate HT from CTA.
        """
        taxes = self.taxes_on(day)
        grid = self.grid(offer, kva, day)
        if taxes is None or grid is None:
            return None
        rate = taxes.tva_subscription
        component = "BASE" if offer == "BASE" else f"{offer}_blue_hc"
        row = self.cre_row(component, kva, day)
        if row is not None:
            before_tva = row.fixed_ttc_year / (1 + rate)
            return SubscriptionSplit(
                ttc=row.fixed_ttc_year,
                ht_and_cta=before_tva,
                tva=row.fixed_ttc_year - before_tva,
                ht=row.fixed_ht_year,
                cta=before_tva - row.fixed_ht_year,
                per="year",
            )
        before_tva = grid.subscription / (1 + rate)
        return SubscriptionSplit(
            ttc=grid.subscription,
            ht_and_cta=before_tva,
            tva=grid.subscription - before_tva,
            ht=None,
            cta=None,
            per="month",
        )

    # ---------------------------------------------------------------------------------------------- calendars

    def tempo_colour(self, day: date) -> str | None:
        """``blue``, ``white`` or ``red``: the colour of the Tempo day ``day``; None outside the data."""
        return self.tempo.get(day)

    def is_ejp_day(self, day: date) -> bool | None:
        """Whether ``day`` is an EJP day; None outside the data."""
        return self.ejp.has(day)

    def is_sobriete_day(self, day: date) -> bool | None:
        """Whether ``day`` is a Zen Flex sobriété day; None outside the data."""
        return self.sobriete.has(day)

    # ---------------------------------------------------------------------------------------------- instants

    def class_at(self, offer: str, instant: datetime, offpeak: Sequence[OffpeakWindow] | None = None) -> str | None:
        """The price class of the aware ``instant`` under ``offer``; None when it depends on unknown data.

        ``offpeak`` is the PRM's off-peak windows (local), needed by ``HPHC`` and ``ZEN_WEEKEND_HC`` (None
        without them). Tempo hours take the colour of their Tempo day (06:00 to 06:00) and are off-peak 22-06;
        EJP peak runs 07:00 to 01:00 next day on EJP days; Zen Flex uses EDF's fixed windows and the sobriété
        days; weekends (Saturday, Sunday) are local days.
        """
        local = to_paris(instant)
        minute = local.hour * 60 + local.minute
        weekend = local.weekday() >= 5
        result: str | None = None
        if offer == "BASE":
            result = BASE
        elif offer == "TEMPO":
            colour = self.tempo_colour(tempo_day(instant))
            if colour is not None:
                night = local.hour >= 22 or local.hour < 6
                result = f"{colour}_{OFFPEAK if night else PEAK}"
        elif offer == "EJP":
            result = self._ejp_class(local)
        elif offer == "ZEN_WEEKEND":
            result = "weekend" if weekend else "weekday"
        elif offer == "ZEN_FLEX":
            sobriete = self.is_sobriete_day(local.date())
            if sobriete is not None:
                off = any(window.contains(minute) for window in ZEN_FLEX_OFFPEAK)
                result = f"{'sobriete' if sobriete else 'eco'}_{OFFPEAK if off else PEAK}"
        elif offpeak is not None and offer in {"HPHC", "ZEN_WEEKEND_HC"}:
            off = any(window.contains(minute) for window in offpeak)
            part = OFFPEAK if off else PEAK
            weekday_class = "weekend_offpeak" if weekend else f"weekday_{part}"
            result = part if offer == "HPHC" else weekday_class
        return result

    def _ejp_class(self, local: datetime) -> str | None:
        day = local.date()
        if local.hour < EJP_PEAK_END:
            day -= timedelta(days=1)
        elif local.hour < EJP_PEAK_START:
            known = self.is_ejp_day(day)
            return None if known is None else "ejp_normal"
        ejp = self.is_ejp_day(day)
        if ejp is None:
            return None
        return "ejp_peak" if ejp else "ejp_normal"

    def price_at(
        self, offer: str, kva: int, instant: datetime, offpeak: Sequence[OffpeakWindow] | None = None
    ) -> tuple[str, float] | None:
        """(class, EUR TTC per kWh) of ``offer`` at ``kva`` at the aware ``instant``; None when unknown.

        The grid is the one in force on the instant's local day (grids change at local midnight).
        """
        klass = self.class_at(offer, instant, offpeak)
        grid = self.grid(offer, kva, to_paris(instant).date())
        if klass is None or grid is None or klass not in grid.prices:
            return None
        return klass, grid.prices[klass]


# ------------------------------------------------------------------------------------------------- loading


def _csv(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _dates(directory: Path, name: str) -> frozenset[date]:
    lines = (directory / name).read_text(encoding="utf-8").splitlines()
    return frozenset(date.fromisoformat(line) for line in lines if line and not line.startswith("#"))


def _load_grids(directory: Path) -> dict[tuple[str, int], list[Grid]]:
    collected: dict[tuple[str, int, date], dict[str, float]] = {}
    for row in _csv(directory, "grids.csv"):
        key = (row["offer"], int(row["kva"]), _required(row["valid_from"], "grids.csv"))
        component = row["component"]
        name = SUBSCRIPTION if component == SUBSCRIPTION else _COMPONENT_CLASSES.get(component)
        if name is None:
            msg = f"grids.csv: unknown component {component!r}"
            raise PriceDataError(msg)
        values = collected.setdefault(key, {})
        if name in values:
            msg = f"grids.csv: {component} given twice for {key}"
            raise PriceDataError(msg)
        values[name] = float(row["eur_ttc"])
    grids: dict[tuple[str, int], list[Grid]] = {}
    for (offer, kva, valid_from), values in sorted(collected.items()):
        subscription = values.pop(SUBSCRIPTION, None)
        if subscription is None:
            msg = f"grids.csv: no subscription for {offer} {kva} kVA from {valid_from}"
            raise PriceDataError(msg)
        grids.setdefault((offer, kva), []).append(Grid(offer, kva, valid_from, subscription, values))
    return grids


def _load_tempo(directory: Path) -> dict[date, str]:
    colours: dict[date, str] = {}
    for line in (directory / "tempo.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        _season, first, letters = line.split()
        start = date.fromisoformat(first)
        for offset, letter in enumerate(letters):
            colours[start + timedelta(days=offset)] = _COLOURS[letter]
    return colours


def load_price_data(directory: Path = DATA_DIR) -> PriceData:
    """Read and index the price data in ``directory`` (blocking file I/O: call it in the executor).

    Raises `PriceDataError` (or ValueError / KeyError from a malformed file) when the data is broken.
    """
    coverage = {
        row["dataset"]: (_required(row["first_day"], "coverage.csv"), _required(row["last_day"], "coverage.csv"))
        for row in _csv(directory, "coverage.csv")
    }
    tempo = _load_tempo(directory)
    first, last = coverage["tempo"]
    tempo = {day: colour for day, colour in tempo.items() if first <= day <= last}
    taxes = [
        _TaxPeriod(
            row["tax"], _date(row["valid_from"]), _date(row["valid_to"]), float(row["value"]) if row["value"] else None
        )
        for row in _csv(directory, "taxes.csv")
    ]
    cre = [
        CreRow(
            component=row["component"],
            valid_from=_required(row["valid_from"], "cre_rows.csv"),
            kva=int(row["kva"]),
            fixed_ht_year=float(row["fixed_ht_year"]),
            fixed_ttc_year=float(row["fixed_ttc_year"]),
            energy_ht=float(row["energy_ht"]),
            energy_ttc=float(row["energy_ttc"]),
        )
        for row in _csv(directory, "cre_rows.csv")
    ]
    return PriceData(
        grids={key: tuple(value) for key, value in _load_grids(directory).items()},
        coverage=coverage,
        tempo=tempo,
        ejp=_DayCalendar(*coverage["ejp"], _dates(directory, "ejp_days.txt")),
        sobriete=_DayCalendar(*coverage["zen_flex_sobriete"], _dates(directory, "zen_flex_sobriete_days.txt")),
        taxes=taxes,
        cre=cre,
    )
