"""Export Linky data from the command line (no Home Assistant): any source, CSV or JSON.

Run from the integration's folder, so that only the library (and aiohttp) is imported::

    cd custom_components/enedis
    ENEDIS_TOKEN=... python -m api.export --source conso_api --start 2026-10-01 --end 2026-11-01 --output oct.csv

(or ``python -m custom_components.enedis.api.export`` where Home Assistant is installed). Secrets are read from
``ENEDIS_TOKEN`` / ``ENEDIS_CLIENT_SECRET`` when not given as options (keep them out of the shell's history).

Measures: ``hourly`` (Wh per hour, from the load curve), ``daily`` (Wh per local day), ``max_power`` (VA, with the
moment of the peak). Times are local French time with a fixed offset (``+01:00`` / ``+02:00``), hours and days
as ``[start, end)``. Days without data are absent (never 0). The requests follow the source's windows and quotas:
when a quota would make the next request wait longer than ``--max-wait`` seconds, the export stops, writes what it
fetched and says from which day to resume and when (exit status 3).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import csv
from datetime import date, datetime, timedelta
import io
import json
import os
import sys
from typing import Any, TextIO

import aiohttp

from .client import local
from .consoapi import CONSO_API_URL, ConsoApi
from .dataconnect import DataConnect
from .errors import EnedisError, NoDataError, RateLimitError
from .limiter import LimiterRegistry
from .med import MedApi, MyElectricalData
from .models import UNITS, Direction, Measure, Reading, Series

SOURCES = ("conso_api", "data_connect", "myelectricaldata")
MEASURES = {"hourly": Measure.LOAD_CURVE, "daily": Measure.DAILY_ENERGY, "max_power": Measure.MAX_POWER}
COLUMNS = {
    Measure.LOAD_CURVE: ("start", "end", "energy_wh"),
    Measure.DAILY_ENERGY: ("day", "energy_wh"),
    Measure.MAX_POWER: ("day", "max_power_va", "at"),
}
"""The CSV columns of each measure (`rows`), written also when no row came (a period without data, a quota stop)."""
EXIT_QUOTA = 3
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The command's options."""
    parser = argparse.ArgumentParser(
        prog="python -m api.export", description="Export Linky data (Enedis) to CSV or JSON, without Home Assistant."
    )
    parser.add_argument("--source", choices=SOURCES, required=True)
    parser.add_argument("--token", help="Conso API token, or MyElectricalData legacy token (or ENEDIS_TOKEN)")
    parser.add_argument("--client-id", help="DataHub application or MyElectricalData client id")
    parser.add_argument("--client-secret", help="its secret (or ENEDIS_CLIENT_SECRET)")
    parser.add_argument("--med-api", choices=[a.value for a in MedApi], default=MedApi.CURRENT.value)
    parser.add_argument("--environment", choices=("production", "sandbox"), default="production")
    parser.add_argument("--base-url", help="another instance's or gateway's address")
    parser.add_argument("--prm", help="the 14-digit PRM (Conso API: the token's first by default)")
    parser.add_argument("--direction", choices=[d.value for d in Direction], default=Direction.CONSUMPTION.value)
    parser.add_argument("--measure", choices=tuple(MEASURES), default="hourly")
    parser.add_argument("--start", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", type=date.fromisoformat, help="day after the last one (default: today)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--output", help="file to write (default: standard output)")
    parser.add_argument("--max-wait", type=float, default=60.0, help="seconds to wait for a quota at most")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def make_source(args: argparse.Namespace, session: aiohttp.ClientSession, registry: LimiterRegistry) -> Any:
    """The library source the options describe (raises `SystemExit` with a message when something is missing)."""
    token = args.token or os.environ.get("ENEDIS_TOKEN")
    secret = args.client_secret or os.environ.get("ENEDIS_CLIENT_SECRET")
    if args.source == "conso_api":
        if not token:
            raise SystemExit("Conso API needs --token (or ENEDIS_TOKEN)")
        return ConsoApi(session, token, base_url=args.base_url or CONSO_API_URL, registry=registry)
    if not args.prm:
        raise SystemExit(f"{args.source} needs --prm")
    if args.source == "data_connect":
        if not (args.client_id and secret):
            raise SystemExit("Data Connect needs --client-id and --client-secret (or ENEDIS_CLIENT_SECRET)")
        return DataConnect(
            session,
            args.client_id,
            secret,
            environment=args.environment,
            base_url=args.base_url,
            prms=(args.prm,),
            registry=registry,
        )
    api = MedApi(args.med_api)
    if api is MedApi.CURRENT and not (args.client_id and secret):
        raise SystemExit("MyElectricalData's current API needs --client-id and --client-secret")
    if api is MedApi.LEGACY and not token:
        raise SystemExit("MyElectricalData's legacy API needs --token (or ENEDIS_TOKEN)")
    return MyElectricalData(
        session,
        [args.prm],
        api=api,
        client_id=args.client_id,
        client_secret=secret,
        token=token,
        base_url=args.base_url,
        registry=registry,
    )


class Progress:
    """A text progress bar on standard error."""

    def __init__(self, total: int, *, quiet: bool, stream: TextIO) -> None:
        """``total`` requests to send."""
        self.total, self.quiet, self.stream, self.done = total, quiet, stream, 0

    def step(self, note: str = "") -> None:
        """One more request answered."""
        self.done += 1
        self.show(note)

    def show(self, note: str = "") -> None:
        """Draw the bar."""
        if self.quiet:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} requests {note}".rstrip() + " ")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


async def fetch(  # noqa: PLR0917 - what one export asks for
    source: Any,
    prm: str,
    direction: Direction,
    measure: Measure,
    start: date,
    end: date,
    *,
    max_wait: float,
    progress_stream: TextIO,
    quiet: bool,
) -> tuple[Series, date | None, datetime | None]:
    """The series over ``[start, end)`` window by window: (series, day to resume from, when) — None when complete."""
    windows = source.windows(measure, start, end)
    progress = Progress(len(windows), quiet=quiet, stream=progress_stream)
    progress.show()
    series = Series(prm=prm, direction=direction, measure=measure, unit=UNITS[measure])
    for window_start, window_end in windows:
        waits = 0
        while True:
            try:
                part = await source.async_fetch_window(prm, direction, measure, window_start, window_end)
            except NoDataError:
                break
            except RateLimitError as err:
                wait = err.retry_after
                if wait is None or wait > max_wait or waits >= 2:
                    if not quiet:
                        progress_stream.write("\n")
                    return series, window_start, err.retry_at
                progress.show(f"(quota: waiting {wait:.0f} s)")
                waits += 1
                await asyncio.sleep(wait)
                continue
            series = series.merged(part)
            break
        progress.step()
    return series, None, None


def rows(series: Series, measure: Measure) -> list[dict[str, Any]]:
    """The output rows of a series."""
    if measure is Measure.LOAD_CURVE:
        hours: dict[datetime, float] = {}
        for reading in series.readings:
            hour = reading.start.replace(minute=0, second=0, microsecond=0)
            hours[hour] = hours.get(hour, 0.0) + reading.energy_wh
        return [
            {"start": local(h).isoformat(), "end": local(h + timedelta(hours=1)).isoformat(), "energy_wh": round(wh, 1)}
            for h, wh in sorted(hours.items())
        ]
    if measure is Measure.DAILY_ENERGY:
        return [{"day": _day(r), "energy_wh": round(r.value)} for r in series.readings]
    return [
        {"day": _day(r), "max_power_va": round(r.value), "at": local(r.at).isoformat() if r.at else None}
        for r in series.readings
    ]


def _day(reading: Reading) -> str:
    return local(reading.start).date().isoformat()


def render(table: list[dict[str, Any]], fmt: str, meta: dict[str, Any], columns: Sequence[str]) -> str:
    """CSV (a header line of ``columns``, one line per row) or JSON (``{"meta": …, "data": [...]}``)."""
    if fmt == "json":
        return json.dumps({"meta": meta, "data": table}, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


async def run(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    registry: LimiterRegistry | None = None,
) -> int:
    """The command: 0 when complete, 3 when a quota stopped it (what was fetched is written), 2 on an error.

    ``registry``: the rate limiters (and their clock) to use; a new one on the real clock by default.
    """
    args = build_parser().parse_args(argv)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    registry = registry or LimiterRegistry()
    direction, measure = Direction(args.direction), MEASURES[args.measure]
    async with aiohttp.ClientSession() as session:
        source = make_source(args, session, registry)
        end = args.end or source.today()
        if args.start > end:
            raise SystemExit("--start is after --end")
        try:
            await source.async_open()
            prm = args.prm or (await source.async_get_prms())[0]
            if not source.contract.serves(direction, measure):
                raise SystemExit(f"{args.source} does not serve {direction} {args.measure}")
            series, resume, resume_at = await fetch(
                source,
                prm,
                direction,
                measure,
                args.start,
                end,
                max_wait=args.max_wait,
                progress_stream=err,
                quiet=args.quiet,
            )
        except EnedisError as error:
            err.write(f"error: {error}\n")
            return EXIT_ERROR
        finally:
            await source.async_close()
    table = rows(series, measure)
    meta = {
        "source": source.location,
        "prm": prm,
        "direction": str(direction),
        "measure": args.measure,
        "start": args.start.isoformat(),
        "end": (resume or end).isoformat(),
        "complete": resume is None,
    }
    text = render(table, args.format, meta, COLUMNS[measure])
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as file:  # noqa: ASYNC230, PTH123 - one small write at the end
            file.write(text)
    else:
        out.write(text)
    if resume is not None:
        when = f" after {resume_at.isoformat()}" if resume_at else " later"
        err.write(
            f"quota reached: data written up to {resume.isoformat()} (excluded); resume with --start "
            f"{resume.isoformat()}{when}\n"
        )
        return EXIT_QUOTA
    return 0


def main() -> None:
    """Entry point of ``python -m api.export``."""
    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
