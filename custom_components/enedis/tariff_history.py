"""Tempo colours and prices read from the recorder's history of the entities the user chose."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
import logging

from homeassistant.components.recorder import history
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance

from .api.calendar import local_midnight_utc, paris_datetime
from .tariffs import TEMPO_CLASSES, PricePeriod, convert_price, tempo_colour

_LOGGER = logging.getLogger(__name__)
PRICE_CLASSES = ("base", "offpeak", "peak", *TEMPO_CLASSES)


async def _async_states(hass: HomeAssistant, entity_id: str, start: datetime, end: datetime) -> list[State]:
    result = await get_instance(hass).async_add_executor_job(
        partial(
            history.get_significant_states,
            hass,
            start,
            end,
            [entity_id],
            include_start_time_state=True,
            significant_changes_only=False,
        )
    )
    states = [s for s in result.get(entity_id, []) if isinstance(s, State)]
    return sorted(states, key=lambda s: s.last_changed)


async def async_tempo_colours(hass: HomeAssistant, entity_id: str, first: date, last: date) -> dict[date, str]:
    """The colour of each Tempo day in ``[first, last]``: the entity's state at noon (Paris) of that day.

    A "current colour" entity (such as the RTE Tempo integration's) changes at 06:00, so noon reads the day's
    colour; days before the entity's history, or whose state is not a colour, are absent (reported, not
    guessed).
    """
    start = local_midnight_utc(first)
    end = paris_datetime(last + timedelta(days=1), 12)
    states = await _async_states(hass, entity_id, start, end)
    colours: dict[date, str] = {}
    index = 0
    current: State | None = None
    day = first
    while day <= last:
        noon = paris_datetime(day, 12)
        while index < len(states) and states[index].last_changed <= noon:
            current = states[index]
            index += 1
        colour = tempo_colour(current.state) if current is not None else None
        if colour is not None:
            colours[day] = colour
        day += timedelta(days=1)
    return colours


async def async_price_periods(hass: HomeAssistant, entity_id: str, first: date, last: date) -> list[PricePeriod]:
    """Price periods from a price entity's history (its unit: €/kWh, c€/kWh, ct/kWh or €/MWh).

    Each valid state starts a period applying that price to every consumption class; invalid states
    (unknown, unavailable, an unknown unit) are skipped, so the previous price stays in force.
    """
    start = local_midnight_utc(first)
    end = local_midnight_utc(last + timedelta(days=1))
    periods: list[PricePeriod] = []
    for state in await _async_states(hass, entity_id, start, end):
        try:
            price = convert_price(float(state.state), str(state.attributes.get("unit_of_measurement", "€/kWh")))
        except ValueError:
            continue
        periods.append(PricePeriod(start=state.last_changed, prices=dict.fromkeys(PRICE_CLASSES, price)))
    if periods:
        # The state in force at the start of the range covers the hours before its own last change.
        periods[0] = PricePeriod(start=min(periods[0].start, start), prices=periods[0].prices)
    return periods
