"""One PRM validator (`api.prm`): the library, the services' schema and the diagnostics' masking agree."""

from __future__ import annotations

from datetime import UTC, datetime
import inspect

import pytest
import voluptuous as vol

from custom_components.enedis.api import (
    ConsoApi,
    MalformedTokenError,
    RequestError,
    check_prm,
    decode_conso_token,
    is_prm,
)
from custom_components.enedis.api.consoapi import CONSO_API_URL
from custom_components.enedis.const import DEFAULT_CONSO_API_URL
from custom_components.enedis.diagnostics import _Scrubber
from custom_components.enedis.services import PRM_SCHEMA
from tests.fake_enedis.state import DEMO_CONSO_EXP, FakeState

VALID = ["22516914714270", "00000000000000", "99999999999999"]
INVALID = [
    "",
    "2251691471427",  # 13 digits
    "225169147142700",  # 15 digits
    "22516914714270\n",  # `$` would accept the trailing newline
    " 22516914714270",
    "22516914714270 ",
    "2251691471427a",
    "+2251691471427",
    "٢٢٥١٦٩١٤٧١٤٢٧٠",  # 14 Arabic-Indic digits: `\d` would accept them
    "２２５１６９１４７１４２７０",  # noqa: RUF001 - 14 full-width digits
]


@pytest.mark.parametrize("text", VALID)
def test_a_prm_is_accepted_everywhere(text: str) -> None:
    assert is_prm(text)
    assert check_prm(text) == text
    assert PRM_SCHEMA(text) == text


@pytest.mark.parametrize("text", INVALID)
def test_anything_else_is_refused_everywhere(text: str) -> None:
    assert not is_prm(text)
    with pytest.raises(RequestError):
        check_prm(text)
    with pytest.raises(vol.Invalid):
        PRM_SCHEMA(text)


@pytest.mark.parametrize("value", [None, 22516914714270, b"22516914714270", ["22516914714270"]])
def test_only_text_is_a_prm(value: object) -> None:
    assert not is_prm(value)


@pytest.mark.parametrize("text", INVALID[1:])
def test_conso_api_token_listing_a_non_prm_is_malformed(text: str) -> None:
    state = FakeState()
    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert decode_conso_token(state.make_conso_token(["22516914714270"], DEMO_CONSO_EXP), now=now).prms == (
        "22516914714270",
    )
    with pytest.raises(MalformedTokenError):
        decode_conso_token(state.make_conso_token(["22516914714270", text], DEMO_CONSO_EXP), now=now)


def test_diagnostics_mask_every_prm_inside_a_text() -> None:
    scrub = _Scrubber(prms=set(), secrets=set())
    text = "PRM 22516914714270 refused; order 123456789012345 kept; id=12345678901234."
    assert scrub.text(text) == "PRM 22**********70 refused; order 123456789012345 kept; id=12**********34."


def test_one_conso_api_url() -> None:
    assert DEFAULT_CONSO_API_URL is CONSO_API_URL
    assert CONSO_API_URL == "https://conso.boris.sh/api"
    assert inspect.signature(ConsoApi).parameters["base_url"].default is CONSO_API_URL
