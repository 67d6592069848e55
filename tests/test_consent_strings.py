"""What the user reads about a refused PRM exists in English and French, with the placeholders the code gives."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest

from custom_components.enedis.const import ACCESS_STATES

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "enedis"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load(language: str) -> dict[str, Any]:
    path = INTEGRATION / ("strings.json" if language == "source" else f"translations/{language}.json")
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def _leaves(obj: object, prefix: str = "") -> dict[str, str]:
    if isinstance(obj, str):
        return {prefix: obj}
    assert isinstance(obj, dict), prefix
    out: dict[str, str] = {}
    for key, value in obj.items():
        out |= _leaves(value, f"{prefix}.{key}" if prefix else key)
    return out


def test_french_uses_the_english_placeholders() -> None:
    """A placeholder missing in one language would show as ``{prm}`` instead of the PRM."""
    english, french = _leaves(_load("source")), _leaves(_load("fr"))
    for key, text in english.items():
        assert set(PLACEHOLDER.findall(french[key])) == set(PLACEHOLDER.findall(text)), key


@pytest.mark.parametrize("language", ["en", "fr"])
def test_consent_texts(language: str) -> None:
    strings = _load(language)
    english = _load("source")
    issue = strings["issues"]["access_refused_sandbox"]
    assert set(PLACEHOLDER.findall(issue["title"])) == {"prm"}
    assert set(PLACEHOLDER.findall(issue["description"])) == {"prm", "entry", "code"}
    for key in ("consent_missing", "prm_consent_missing"):
        assert set(PLACEHOLDER.findall(strings["config"]["error"][key])) == {"refused"}
    assert "{prms}" in strings["config"]["step"]["reauth_confirm"]["description"]
    access = strings["entity"]["sensor"]["access"]
    assert set(access["state"]) == set(ACCESS_STATES)
    assert set(access["state_attributes"]) == {"refused_since", "code"}
    if language == "fr":  # translated, not copied
        assert issue["description"] != english["issues"]["access_refused_sandbox"]["description"]
        assert access["state"]["consent_missing"] != english["entity"]["sensor"]["access"]["state"]["consent_missing"]
