"""The shipped price data is read once per Home Assistant run (`helpers.async_price_data`), also when it is broken.

A broken install (a damaged CSV file) must not be cached: every caller waiting for the read gets the error, and the
next caller reads the files again (a repaired install works without restarting Home Assistant).
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
import shutil
import threading

from homeassistant.core import HomeAssistant
import pytest

from custom_components.enedis import helpers
from custom_components.enedis.tariff_data import DATA_DIR, load_price_data


async def test_a_broken_install_is_raised_to_every_waiting_caller_and_read_again(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "prices"
    shutil.copytree(DATA_DIR, shipped)
    coverage = shipped / "coverage.csv"
    good = coverage.read_text(encoding="utf-8")
    coverage.write_text(good.replace("tempo,", "tempo,not-a-date-", 1), encoding="utf-8")
    reads: list[Path] = []
    release = threading.Event()

    def load(directory: Path) -> object:
        reads.append(directory)
        release.wait(5)  # the read lasts until both callers wait for it
        return load_price_data(directory)

    monkeypatch.setattr(helpers, "load_price_data", partial(load, shipped))

    callers = [hass.async_create_task(helpers.async_price_data(hass)) for _ in range(2)]
    await asyncio.sleep(0)
    release.set()
    first, second = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(first, ValueError)
    assert "not-a-date-2014-09-01" in str(first)
    assert type(second) is type(first)
    assert str(second) == str(first)
    assert len(reads) == 1  # one read for both callers

    coverage.write_text(good, encoding="utf-8")  # the install repaired: read again, then kept
    data = await helpers.async_price_data(hass)
    assert data == load_price_data()
    assert await helpers.async_price_data(hass) is data
    assert len(reads) == 2
