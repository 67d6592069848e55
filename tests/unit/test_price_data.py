"""The shipped price data (custom_components/enedis/prices) against the researched reference, and its lookups."""

from __future__ import annotations

from collections import Counter
import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from custom_components.enedis.tariff_data import (
    DATA_DIR,
    MARKET_OFFERS,
    TARIF_BLEU_OPTIONS,
    PriceData,
    load_price_data,
)
from custom_components.enedis.tariffs import OffpeakWindow, parse_offpeak

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "fr-tariffs"
needs_reference = pytest.mark.skipif(
    not (REFERENCE / "README.md").is_file(), reason=f"the researched reference is not at {REFERENCE}"
)

COMPONENTS = {
    "base": "base",
    "hc": "offpeak",
    "hp": "peak",
    "normal": "ejp_normal",
    "pointe_mobile": "ejp_peak",
    "weekday_price": "weekday",
    "weekend_price": "weekend",
}


def _class(component: str) -> str:
    if component in COMPONENTS:
        return COMPONENTS[component]
    return component.removesuffix("_hc").removesuffix("_hp") + ("_offpeak" if component.endswith("_hc") else "_peak")


def _reference(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if any(row.values())]


@pytest.fixture(scope="module")
def data() -> PriceData:
    return load_price_data()


def paris(day: str, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a Paris wall-clock time (not on a DST gap or repeat)."""
    from custom_components.enedis.api.calendar import paris_datetime

    return paris_datetime(date.fromisoformat(day), hour, minute).astimezone(UTC)


# ------------------------------------------------------------------------------------ shipped = reference


@needs_reference
def test_every_grid_row_of_the_reference_is_shipped(data: PriceData) -> None:
    count = 0
    for name in ("trv_grids_edf_2024-02_2026-08.csv", "edf_market_offers_2024-03_2026-08.csv"):
        for row in _reference(name):
            offer = row.get("option") or row["offer"]
            valid_from = date.fromisoformat(row["valid_from"])
            grid = data.grid(offer, int(row["kva"]), valid_from)
            assert grid is not None, row
            assert grid.valid_from == valid_from
            value = grid.subscription if row["component"] == "subscription" else grid.prices[_class(row["component"])]
            assert value == float(row["value"]), row
            count += 1
    shipped = sum(1 + len(grid.prices) for grids in data.grids.values() for grid in grids)
    assert shipped == count == 636 + 856


@needs_reference
def test_every_tempo_day_of_the_reference_is_shipped(data: PriceData) -> None:
    rows = _reference("tempo_days_2014-09-01_2026-08-31.csv")
    assert len(rows) == len(data.tempo) == 4383
    for row in rows:
        assert data.tempo_colour(date.fromisoformat(row["date"])) == row["color"].lower(), row


@needs_reference
def test_every_ejp_and_sobriete_day_of_the_reference_is_shipped(data: PriceData) -> None:
    ejp = {date.fromisoformat(row["date"]) for row in _reference("ejp_days_2020-11_2026-03.csv")}
    sobriete = {date.fromisoformat(row["date"]) for row in _reference("zenflex_sobriete_days_2023-11_2026-03.csv")}
    assert data.ejp.days == ejp
    assert len(ejp) == 132
    assert data.sobriete.days == sobriete
    assert len(sobriete) == 61
    assert all(data.is_ejp_day(day) for day in ejp)
    assert all(data.is_sobriete_day(day) for day in sobriete)


@needs_reference
def test_every_tax_and_cre_row_of_the_reference_is_shipped(data: PriceData) -> None:
    taxes = _reference("taxes_fr_electricity_households.csv")
    assert len(data.taxes) == len(taxes)
    for period, row in zip(data.taxes, taxes, strict=True):
        assert period.tax == row["tax"]
        assert (period.first.isoformat() if period.first else "") == row["valid_from"]
        assert (period.last.isoformat() if period.last else "") == row["valid_to"]
        assert period.value == (float(row["value"]) if row["value"] else None)
    cre = _reference("cre_trve_sample_rows.csv")
    # then the CRE Option_Base rows the reference gives only in its README (section 1.3): 3 dates x 5 powers
    assert len(data.cre) == len(cre) + 15
    readme = (REFERENCE / "README.md").read_text(encoding="utf-8")
    for row in data.cre[len(cre) :]:
        day = row.valid_from.strftime("%d/%m/%Y")
        line = next(line for line in readme.splitlines() if line.startswith(f"| {day} | 3 / 6 / 9 / 12 / 15 |"))
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        position = cells[1].split(" / ").index(str(row.kva))
        assert float(cells[2].split(" / ")[position]) == row.fixed_ht_year
        assert float(cells[3].split(" / ")[position]) == row.fixed_ttc_year
        assert (float(cells[4]), float(cells[5])) == (row.energy_ht, row.energy_ttc)
    for shipped, row in zip(data.cre, cre, strict=False):
        assert shipped.component == row["option"]
        assert (shipped.kva, shipped.fixed_ht_year, shipped.fixed_ttc_year) == (
            int(row["P_SOUSCRITE"]),
            float(row["PART_FIXE_HT"]),
            float(row["PART_FIXE_TTC"]),
        )
        assert (shipped.energy_ht, shipped.energy_ttc) == (
            float(row["PART_VARIABLE_HT"]),
            float(row["PART_VARIABLE_TTC"]),
        )


# ------------------------------------------------------------------------------------ the rules


def test_energy_ttc_is_ht_plus_accise_times_1_2_where_cre_gives_ht(data: PriceData) -> None:
    assert data.cre
    for row in data.cre:
        taxes = data.taxes_on(row.valid_from)
        assert taxes is not None
        assert taxes.accise is not None
        # HT and TTC are rounded to 4 decimals (CRE prints 0.1952 for 2025-08: (0.1327 + 0.02998) x 1.2 = 0.195276)
        assert (row.energy_ht + taxes.accise) * 1.2 == pytest.approx(row.energy_ttc, abs=0.00011)
        split = data.energy_split(row.energy_ttc, row.valid_from)
        assert split is not None
        assert split.ht == pytest.approx(row.energy_ht, abs=0.0001)
        assert split.ht + split.accise + split.tva == pytest.approx(row.energy_ttc)


def test_shipped_kwh_prices_match_cre_ttc(data: PriceData) -> None:
    # the EDF grid (4 decimals) and CRE's TTC for the same option, power and date
    grid = data.grid("BASE", 6, date(2026, 2, 1))
    assert grid is not None
    assert grid.prices["base"] == round(0.19398, 4)
    tempo = data.grid("TEMPO", 6, date(2025, 8, 1))
    assert tempo is not None
    for row in data.cre:
        if row.component.startswith("TEMPO_"):
            assert tempo.prices[_class(row.component.removeprefix("TEMPO_"))] == row.energy_ttc


def test_subscription_rule_gives_the_reference_cta(data: PriceData) -> None:
    # subscription TTC = (HT + CTA) x (1 + TVA): CTA for 6 kVA Base as derived in the reference (README section 2)
    implied = {  # kVA, date: CTA in EUR per year as the reference derives it
        (6, date(2024, 2, 1)): 20.22,
        (6, date(2025, 2, 1)): 22.40,
        (6, date(2025, 8, 1)): 22.11,
        (15, date(2024, 2, 1)): 39.95,
        (15, date(2025, 2, 1)): 44.19,
        (15, date(2025, 8, 1)): 43.16,
    }
    for (kva, day), cta in implied.items():
        found = data.subscription_split("BASE", kva, day)
        assert found is not None
        assert found.per == "year"
        assert found.cta == pytest.approx(cta, abs=0.01), (kva, day)
    split = data.subscription_split("BASE", 6, date(2026, 2, 1))
    assert split is not None
    assert split.per == "year"
    assert split.cta == pytest.approx(15.23, abs=0.01)
    assert split.ht is not None
    assert (split.ht + split.cta) * 1.2 == pytest.approx(188.2)
    tempo = data.subscription_split("TEMPO", 6, date(2025, 8, 1))
    assert tempo is not None
    assert tempo.ht == 133.2
    assert tempo.cta == pytest.approx(186.46 / 1.2 - 133.2)
    # EDF's monthly subscription is a little below CRE's yearly TTC / 12 (reference section 1.3)
    grid = data.grid("BASE", 6, date(2026, 2, 1))
    assert grid is not None
    assert 0 <= 188.2 / 12 - grid.subscription < 0.25


def test_subscription_tva_changes_on_2025_08_01(data: PriceData) -> None:
    before = data.subscription_split("HPHC", 6, date(2025, 7, 31))
    after = data.subscription_split("HPHC", 6, date(2025, 8, 1))
    assert before is not None
    assert after is not None
    assert before.per == after.per == "month"
    assert before.ht is None
    assert before.cta is None
    assert before.tva == pytest.approx(14.04 - 14.04 / 1.055)
    assert after.tva == pytest.approx(15.74 - 15.74 / 1.2)


def test_hphc_subscription_equals_base_from_2026(data: PriceData) -> None:
    for day in (date(2026, 2, 1), date(2026, 8, 1)):
        for kva in data.kvas("HPHC"):
            hphc = data.grid("HPHC", kva, day)
            base = data.grid("BASE", kva, day)
            assert hphc is not None
            assert base is not None
            assert hphc.subscription == base.subscription


def test_tempo_seasons_have_22_red_and_43_white_days(data: PriceData) -> None:
    seasons: dict[int, Counter[str]] = {}
    for day, colour in data.tempo.items():
        seasons.setdefault(day.year if day.month >= 9 else day.year - 1, Counter())[colour] += 1
    assert sorted(seasons) == list(range(2014, 2026))
    for start, counts in seasons.items():
        length = (date(start + 1, 9, 1) - date(start, 9, 1)).days
        assert sum(counts.values()) == length, start  # complete season
        if start == 2019:  # as published by RTE: 4 unused red days of spring 2020 counted white
            assert (counts["red"], counts["white"]) == (18, 47)
        else:
            assert (counts["red"], counts["white"]) == (22, 43), start
    for day, colour in data.tempo.items():
        if colour == "red":
            assert day.weekday() < 5
            assert day.month in {11, 12, 1, 2, 3}
        if colour == "white":
            assert day.weekday() != 6


def test_ejp_seasons_have_22_days(data: PriceData) -> None:
    seasons = Counter(day.year if day.month >= 11 else day.year - 1 for day in data.ejp.days)
    assert seasons == dict.fromkeys(range(2020, 2026), 22)


# ------------------------------------------------------------------------------------ lookups at the edges


def test_grid_changes_on_its_first_day(data: PriceData) -> None:
    before = data.grid("BASE", 6, date(2025, 1, 31))
    after = data.grid("BASE", 6, date(2025, 2, 1))
    assert before is not None
    assert after is not None
    assert (before.prices["base"], before.subscription) == (0.2516, 12.68)
    assert (after.prices["base"], after.subscription) == (0.2016, 13.72)
    # an hour-level lookup takes the grid of the local day: 23:59 local on the last day, then 00:00 local
    assert data.price_at("BASE", 6, paris("2025-01-31", 23, 59)) == ("base", 0.2516)
    assert data.price_at("BASE", 6, paris("2025-02-01", 0)) == ("base", 0.2016)
    # Base depends on power from 2026-02
    base_9 = data.grid("BASE", 9, date(2026, 2, 1))
    assert base_9 is not None
    assert base_9.prices["base"] == 0.1927


def test_unknown_before_and_after_the_data(data: PriceData) -> None:
    assert data.grid("BASE", 6, date(2024, 1, 31)) is None
    assert data.grid("BASE", 6, date(2026, 12, 1)) is not None
    assert data.grid("BASE", 6, date(2026, 12, 2)) is None
    assert data.grid("ZEN_FLEX", 6, date(2024, 3, 18)) is None
    assert data.grid("ZEN_FLEX", 6, date(2026, 8, 17)) is None
    assert data.grid("TEMPO", 3, date(2025, 1, 1)) is None  # Tempo starts at 6 kVA
    assert data.grid("EJP", 6, date(2025, 1, 1)) is None
    assert data.tempo_colour(date(2026, 8, 31)) == "blue"
    assert data.tempo_colour(date(2026, 9, 1)) is None
    assert data.tempo_colour(date(2014, 8, 31)) is None
    assert data.is_ejp_day(date(2026, 10, 31)) is False
    assert data.is_ejp_day(date(2026, 11, 2)) is None
    assert data.is_ejp_day(date(2020, 10, 31)) is None
    assert data.is_sobriete_day(date(2026, 3, 26)) is True  # the last day read
    assert data.is_sobriete_day(date(2026, 3, 20)) is False
    assert data.is_sobriete_day(date(2026, 3, 27)) is None
    assert data.price_at("TEMPO", 6, paris("2026-09-01", 12)) is None
    # 06:00 on 2026-09-01 starts the first Tempo day without a colour; the night before is still 2026-08-31's
    assert data.price_at("TEMPO", 6, paris("2026-09-01", 5)) == ("blue_offpeak", 0.1356)
    taxes = data.taxes_on(date(2026, 8, 1))
    assert taxes is not None
    assert taxes.accise is None  # the accise from 2026-08-01 is not known
    assert data.energy_split(0.2001, date(2026, 8, 1)) is None
    assert data.taxes_on(date(2022, 1, 31)) is None


def test_tempo_hours_follow_the_tempo_day_on_dst_days(data: PriceData) -> None:
    # 2024-03-29 (Friday) was red, 2024-03-30 / 31 blue; spring DST on 2024-03-31 (02:00 -> 03:00)
    assert data.tempo_colour(date(2024, 3, 29)) == "red"
    assert data.tempo_colour(date(2024, 3, 30)) == "blue"
    assert data.class_at("TEMPO", paris("2024-03-29", 21)) == "red_peak"
    assert data.class_at("TEMPO", paris("2024-03-29", 22)) == "red_offpeak"
    assert data.class_at("TEMPO", paris("2024-03-30", 5)) == "red_offpeak"  # night after a red day
    assert data.class_at("TEMPO", paris("2024-03-30", 6)) == "blue_peak"
    # on the DST day: 00:00 UTC is 01:00 local (night of the 30th), 01:00 UTC is 03:00 local, 04:00 UTC is 06:00
    assert data.class_at("TEMPO", datetime(2024, 3, 31, 0, tzinfo=UTC)) == "blue_offpeak"
    assert data.class_at("TEMPO", datetime(2024, 3, 31, 3, tzinfo=UTC)) == "blue_offpeak"  # 05:00 local
    assert data.class_at("TEMPO", datetime(2024, 3, 31, 4, tzinfo=UTC)) == "blue_peak"  # 06:00 local
    # autumn: 2024-10-27, 02:00 local twice (00:00 and 01:00 UTC), both off-peak; 06:00 local is 05:00 UTC
    assert data.class_at("TEMPO", datetime(2024, 10, 27, 0, tzinfo=UTC)) == "blue_offpeak"
    assert data.class_at("TEMPO", datetime(2024, 10, 27, 1, tzinfo=UTC)) == "blue_offpeak"
    assert data.class_at("TEMPO", datetime(2024, 10, 27, 4, tzinfo=UTC)) == "blue_offpeak"
    assert data.class_at("TEMPO", datetime(2024, 10, 27, 5, tzinfo=UTC)) == "blue_peak"
    assert data.price_at("TEMPO", 6, paris("2024-03-29", 12)) == ("red_peak", 0.7562)
    assert data.price_at("TEMPO", 6, paris("2024-03-30", 5)) == ("red_offpeak", 0.1568)


def test_ejp_peak_runs_from_7_to_1_next_day(data: PriceData) -> None:
    assert data.is_ejp_day(date(2026, 3, 16)) is True
    assert data.is_ejp_day(date(2026, 3, 17)) is False
    assert data.class_at("EJP", paris("2026-03-16", 6, 59)) == "ejp_normal"
    assert data.class_at("EJP", paris("2026-03-16", 7)) == "ejp_peak"
    assert data.class_at("EJP", paris("2026-03-16", 23, 30)) == "ejp_peak"
    assert data.class_at("EJP", paris("2026-03-17", 0, 30)) == "ejp_peak"
    assert data.class_at("EJP", paris("2026-03-17", 1)) == "ejp_normal"
    assert data.class_at("EJP", paris("2026-03-17", 7)) == "ejp_normal"
    assert data.price_at("EJP", 9, paris("2026-03-16", 12)) == ("ejp_peak", 0.344)
    assert data.class_at("EJP", paris("2026-11-02", 12)) is None


def test_zen_flex_windows_and_sobriete_days(data: PriceData) -> None:
    day = "2025-01-10"  # a sobriété day
    assert data.is_sobriete_day(date.fromisoformat(day)) is True
    assert data.class_at("ZEN_FLEX", paris(day, 7, 59)) == "sobriete_offpeak"
    assert data.class_at("ZEN_FLEX", paris(day, 8)) == "sobriete_peak"
    assert data.class_at("ZEN_FLEX", paris(day, 13)) == "sobriete_offpeak"
    assert data.class_at("ZEN_FLEX", paris(day, 18)) == "sobriete_peak"
    assert data.class_at("ZEN_FLEX", paris(day, 20)) == "sobriete_offpeak"
    assert data.class_at("ZEN_FLEX", paris("2025-01-09", 9)) == "eco_peak"
    # spring DST day 2025-03-30: 06:00 UTC is 08:00 local, peak
    assert data.class_at("ZEN_FLEX", datetime(2025, 3, 30, 5, tzinfo=UTC)) == "eco_offpeak"
    assert data.class_at("ZEN_FLEX", datetime(2025, 3, 30, 6, tzinfo=UTC)) == "eco_peak"
    assert data.price_at("ZEN_FLEX", 6, paris(day, 9)) == ("sobriete_peak", 0.7562)


def test_offpeak_windows_options(data: PriceData) -> None:
    windows: tuple[OffpeakWindow, ...] = parse_offpeak("HC (22H00-6H00)")
    assert data.class_at("HPHC", paris("2025-06-02", 23)) is None  # no windows given: not guessed
    assert data.class_at("HPHC", paris("2025-06-02", 23), windows) == "offpeak"
    assert data.class_at("HPHC", paris("2025-06-02", 12), windows) == "peak"
    assert data.class_at("ZEN_WEEKEND_HC", paris("2025-06-07", 12), windows) == "weekend_offpeak"  # Saturday
    assert data.class_at("ZEN_WEEKEND_HC", paris("2025-06-06", 12), windows) == "weekday_peak"
    assert data.class_at("ZEN_WEEKEND", paris("2025-06-08", 12)) == "weekend"
    assert data.class_at("ZEN_WEEKEND", paris("2025-06-09", 0)) == "weekday"


def test_every_offer_has_a_grid_at_its_powers(data: PriceData) -> None:
    assert data.kvas("BASE") == (3, 6, 9, 12, 15, 18, 24, 30, 36)
    assert data.kvas("TEMPO") == (6, 9, 12, 15, 18, 30, 36)
    assert data.kvas("EJP") == (9, 12, 15, 18, 36)
    for offer in TARIF_BLEU_OPTIONS + MARKET_OFFERS:
        for kva in data.kvas(offer):
            assert data.grid(offer, kva, date(2026, 8, 1)) is not None, (offer, kva)


def test_package_data_is_inside_the_integration() -> None:
    integration = Path(__file__).resolve().parents[2] / "custom_components" / "enedis"
    assert DATA_DIR.parent == integration
    assert DATA_DIR.is_dir()
    assert (DATA_DIR / "README.md").is_file()
