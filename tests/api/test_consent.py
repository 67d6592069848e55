"""Consent URLs and the offline reading of Conso API tokens."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from custom_components.enedis.api.consent import build_authorize_url, make_state, validate_duration
from custom_components.enedis.api.consoapi import decode_conso_token
from custom_components.enedis.api.errors import MalformedTokenError, TokenExpiredError

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def make_jwt(payload: object) -> str:
    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(payload)}.c2lnbmF0dXJl"


@pytest.mark.parametrize("version", [1, 2])
def test_authorize_url(version: int) -> None:
    state = make_state()
    url = build_authorize_url("my-client", state, duration="P1Y", version=version)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://mon-compte-particulier.enedis.fr"
    assert parts.path == f"/dataconnect/v{version}/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "client_id": ["my-client"],
        "response_type": ["code"],
        "state": [state],
        "duration": ["P1Y"],
    }
    assert len(state) <= 100


@pytest.mark.parametrize("duration", ["P3Y", "P36M", "P1095D", "P1Y6M", "P1D"])
def test_valid_durations(duration: str) -> None:
    assert validate_duration(duration) == duration


@pytest.mark.parametrize("duration", ["P4Y", "P37M", "P2000D", "3Y", "P", "P0D", "PT1H", ""])
def test_invalid_durations(duration: str) -> None:
    with pytest.raises(ValueError):
        validate_duration(duration)


def test_authorize_url_rejects_long_state_and_bad_version() -> None:
    with pytest.raises(ValueError):
        build_authorize_url("c", "x" * 101)
    with pytest.raises(ValueError):
        build_authorize_url("c", "")
    with pytest.raises(ValueError):
        build_authorize_url("c", "s", version=3)


def test_decode_conso_token() -> None:
    exp = int(datetime(2029, 1, 1, tzinfo=UTC).timestamp())
    token = make_jwt({"sub": ["22516914714270", "12345678901234"], "exp": exp, "iat": 1700000000})
    info = decode_conso_token(token, now=NOW)
    assert info.prms == ("22516914714270", "12345678901234")
    assert info.expires_at == datetime(2029, 1, 1, tzinfo=UTC)
    assert info.issued_at is not None
    assert token not in repr(info)
    # A single PRM as a string is accepted; no exp means no expiry known.
    assert decode_conso_token(make_jwt({"sub": "22516914714270"}), now=NOW).expires_at is None


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b",
        "a..c",
        "a.!!!.c",
        make_jwt(["not", "an", "object"]),
        make_jwt({"sub": []}),
        make_jwt({"sub": ["123"]}),
        make_jwt({"sub": [22516914714270]}),
        make_jwt({"exp": 9999999999}),
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(MalformedTokenError) as info:
        decode_conso_token(token, now=NOW)
    assert token not in str(info.value)


def test_expired_token() -> None:
    token = make_jwt({"sub": ["22516914714270"], "exp": int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())})
    with pytest.raises(TokenExpiredError) as info:
        decode_conso_token(token, now=NOW)
    assert "2026-01-01" in str(info.value)
    assert token not in str(info.value)
