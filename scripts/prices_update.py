"""Convert the researched French price reference into the integration's package data.

    bash scripts/run python scripts/prices_update.py [REFERENCE_DIR]

REFERENCE_DIR (default ``../shared/reference/fr-tariffs`` beside the repository) holds the researched CSV files,
each with its ``.provenance.txt`` (see its README). The output goes to ``custom_components/enedis/prices/``; its
format is documented in ``custom_components/enedis/prices/README.md`` and read by
``custom_components/enedis/tariff_data.py``. Commit the output. Coverage horizons (how far each table is known
to hold) are in ``COVERAGE`` below: update them with the data, never beyond what a source says.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
import itertools
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "custom_components" / "enedis" / "prices"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "fr-tariffs"

GRID_FILES = ("trv_grids_edf_2024-02_2026-08.csv", "edf_market_offers_2024-03_2026-08.csv")
TEMPO_FILE = "tempo_days_2014-09-01_2026-08-31.csv"
EJP_FILE = "ejp_days_2020-11_2026-03.csv"
SOBRIETE_FILE = "zenflex_sobriete_days_2023-11_2026-03.csv"
TAX_FILE = "taxes_fr_electricity_households.csv"
CRE_FILE = "cre_trve_sample_rows.csv"

COVERAGE: tuple[tuple[str, str, str, str], ...] = (
    (
        "tarif_bleu",
        "2024-02-01",
        "2026-12-01",
        "grids from 2024-02-01; the reference found no change after 2026-08-01 up to its research date 2026-12-01",
    ),
    (
        "market_offers",
        "2024-03-19",
        "2026-08-16",
        "EDF Zen grids as read on each valid_from; the newest (2026-08-01) was read on 2026-08-16 (JC144 PR #165)",
    ),
    ("tempo", "2014-09-01", "2026-08-31", "12 complete Tempo seasons; season 2026-2027 is not in the reference"),
    (
        "ejp",
        "2020-11-01",
        "2026-10-31",
        "EJP seasons 2020-21 to 2025-26 (22 days each); EJP days fall only from 1 Nov to 31 Mar (arrete 2014)",
    ),
    ("zen_flex_sobriete", "2023-11-01", "2026-03-26", "Zen Flex launch to the last day read (2026: 14 days so far)"),
)

COLOUR_LETTERS = {"BLUE": "B", "WHITE": "W", "RED": "R"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if any(value for value in row.values())]


def _write_csv(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (OUT / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _grids(reference: Path) -> None:
    rows: list[list[str]] = []
    sources: dict[tuple[str, str], str] = {}
    for name in GRID_FILES:
        for row in _rows(reference / name):
            offer = row.get("option") or row["offer"]
            rows.append([row["valid_from"], offer, row["kva"], row["component"], row["value"]])
            key = (row["valid_from"], offer)
            source = row["source"] + (
                f" ({row['note']})" if row.get("note") and "lastUpdate" not in row["note"] else ""
            )
            previous = sources.get(key)
            if previous is None or (source != previous and source not in previous.split(" | ")):
                sources[key] = source if previous is None else f"{previous} | {source}"
    _write_csv("grids.csv", ["valid_from", "offer", "kva", "component", "eur_ttc"], rows)
    _write_csv(
        "grid_sources.csv",
        ["valid_from", "offer", "source"],
        [[valid_from, offer, source] for (valid_from, offer), source in sorted(sources.items())],
    )


def _tempo(reference: Path) -> None:
    seasons: dict[str, list[tuple[date, str]]] = {}
    for row in _rows(reference / TEMPO_FILE):
        seasons.setdefault(row["season"], []).append((date.fromisoformat(row["date"]), row["color"]))
    lines = ["# Tempo colour of each day: B blue, W white, R red; one line per season from its first day, no gap."]
    for season, days in sorted(seasons.items()):
        days.sort()
        for before, after in itertools.pairwise(days):
            if after[0] - before[0] != timedelta(days=1):
                msg = f"gap in Tempo season {season} after {before[0]}"
                raise SystemExit(msg)
        letters = "".join(COLOUR_LETTERS[colour] for _, colour in days)
        lines.append(f"{season} {days[0][0].isoformat()} {letters}")
    (OUT / "tempo.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _days(reference: Path, name: str, column: str, expected: str, *, out: str, what: str) -> None:
    days = []
    for row in _rows(reference / name):
        if row[column] != expected:
            msg = f"{name}: unexpected {column} {row[column]!r}"
            raise SystemExit(msg)
        days.append(date.fromisoformat(row["date"]))
    lines = [f"# {what}, one date a line (source: {name} of the reference)."]
    lines += [day.isoformat() for day in sorted(days)]
    (OUT / out).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _copy_columns(reference: Path, name: str, out: str, columns: list[str]) -> None:
    _write_csv(out, columns, [[row[column] for column in columns] for row in _rows(reference / name)])


def _iso(text: str) -> str:
    """A CRE date (``DD/MM/YYYY``, or ISO as the reference's data.gouv rows give it) as ISO."""
    if "/" in text:
        day, month, year = text.split("/")
        return f"{year}-{month}-{day}"
    return date.fromisoformat(text).isoformat()


README_CRE_SOURCE = (
    "reference README section 1.3 table: CRE Option_Base.csv via martinhsn/IA-verte@4c1a4ad4:Option_Base.csv"
)


def _readme_cre_rows(reference: Path) -> list[list[str]]:
    """The CRE Option_Base rows the reference gives only in its README (section 1.3), one per power.

    Lines like ``| 01/02/2024 | 3 / 6 / 9 | 95.88 / 123.72 / 154.08 | 116.04 / ... | 0.1887 | 0.2516 | ... |``.
    """
    rows: list[list[str]] = []
    for line in (reference / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 7 or "/" not in cells[1] or not cells[0][:2].isdigit() or cells[0].count("/") != 2:
            continue
        kvas, fixed_ht, fixed_ttc = (cell.split(" / ") for cell in cells[1:4])
        if not len(kvas) == len(fixed_ht) == len(fixed_ttc):
            msg = f"README CRE row with uneven columns: {line}"
            raise SystemExit(msg)
        rows += [
            ["BASE", _iso(cells[0]), kva, ht, ttc, cells[4], cells[5], README_CRE_SOURCE]
            for kva, ht, ttc in zip(kvas, fixed_ht, fixed_ttc, strict=True)
        ]
    if not rows:
        msg = "no CRE table found in the reference README"
        raise SystemExit(msg)
    return rows


def _cre(reference: Path) -> None:
    columns = ["PART_FIXE_HT", "PART_FIXE_TTC", "PART_VARIABLE_HT", "PART_VARIABLE_TTC"]
    rows: list[list[str]] = []
    for row in _rows(reference / CRE_FILE):
        source = rows[-1][-1] if row["source"] == "same" else row["source"]  # "same" = the row above's source
        rows.append([row["option"], _iso(row["DATE_DEBUT"]), row["P_SOUSCRITE"], *(row[c] for c in columns), source])
    rows += _readme_cre_rows(reference)
    header = ["component", "valid_from", "kva", "fixed_ht_year", "fixed_ttc_year", "energy_ht", "energy_ttc", "source"]
    _write_csv("cre_rows.csv", header, rows)


def main(argv: list[str]) -> int:
    """Write the package data from the reference directory ``argv[1]`` (or the default)."""
    reference = Path(argv[1]) if len(argv) > 1 else DEFAULT_REFERENCE
    if not (reference / TEMPO_FILE).is_file():
        print(f"no reference at {reference}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    _grids(reference)
    _tempo(reference)
    _days(reference, EJP_FILE, "ejp_status", "EJP", out="ejp_days.txt", what="EJP days (pointe mobile 07:00 -> 01:00)")
    _days(
        reference,
        SOBRIETE_FILE,
        "day_type",
        "SOBRIETE",
        out="zen_flex_sobriete_days.txt",
        what="Zen Flex sobriete days",
    )
    _copy_columns(
        reference, TAX_FILE, "taxes.csv", ["tax", "valid_from", "valid_to", "value", "unit", "confidence", "source"]
    )
    _cre(reference)
    _write_csv("coverage.csv", ["dataset", "first_day", "last_day", "why"], [list(row) for row in COVERAGE])
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
