"""Offline stand-ins for hassfest/HACS checks (hassfest is not installable here)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "enedis"


def _keys(obj: object, prefix: str = "") -> set[str]:
    if not isinstance(obj, dict):
        return {prefix}
    keys: set[str] = set()
    for key, value in obj.items():
        keys |= _keys(value, f"{prefix}.{key}" if prefix else key)
    return keys


def test_manifest_keys_in_hassfest_order() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "cloud_polling"
    assert manifest["integration_type"] == "hub"
    for required in ("codeowners", "documentation", "issue_tracker", "version", "dependencies"):
        assert required in manifest


def test_hacs_json() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= {"name", "country", "homeassistant", "render_readme", "hacs", "filename"}
    assert hacs["homeassistant"] == "2025.11.0"
    assert hacs["country"] == "FR"
    assert (ROOT / "LICENSE").is_file()


def test_translations_match_strings() -> None:
    strings = _keys(json.loads((INTEGRATION / "strings.json").read_text()))
    for language in ("en", "fr"):
        translated = _keys(json.loads((INTEGRATION / "translations" / f"{language}.json").read_text()))
        assert translated == strings, language


def test_api_package_imports_nothing_from_home_assistant() -> None:
    for path in (INTEGRATION / "api").rglob("*.py"):
        text = path.read_text()
        assert "homeassistant" not in text.replace("Home Assistant", ""), path
