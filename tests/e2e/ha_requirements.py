"""Home Assistant's UI requirements for ``scripts/develop`` and the browser test.

The test venv (``requirements_test.txt``) holds Home Assistant's core only; a real ``hass`` with the UI needs the
frontend and the requirements of every integration ``default_config`` depends on. Home Assistant would pip-install
them at its first start; we install them once, with Home Assistant's own constraints, and start ``hass --skip-pip``.

    python tests/e2e/ha_requirements.py            print the requirements, one a line
    python tests/e2e/ha_requirements.py --install  install what is missing (a marker in the venv: once per set)

Packages that publish no wheel for this Python and need a compiler (the voice assistant's ``pymicro-vad`` and
``pyspeex-noise`` on 3.14) are skipped with a message: only the voice assistant integrations then fail to load.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import subprocess
import sys

import homeassistant.components
from homeassistant.const import __version__ as ha_version

COMPONENTS = Path(homeassistant.components.__path__[0])
CONSTRAINTS = COMPONENTS.parent / "package_constraints.txt"
ROOTS = (
    "default_config",
    "frontend",
    "recorder",
    "energy",
    "application_credentials",
    "diagnostics",
    "radio_frequency",
    "infrared",
)
MARKER = Path(sys.prefix) / ".enedis-ha-ui-requirements"


def requirements() -> list[str]:
    """The requirements of the dependency closure of ROOTS, sorted."""
    seen: set[str] = set()
    todo = list(ROOTS)
    found: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = COMPONENTS / domain / "manifest.json"
        if not manifest.exists():
            continue
        data = json.loads(manifest.read_text())
        found.update(data.get("requirements", []))
        todo.extend(data.get("dependencies", []))
    return sorted(found)


def _pip(*args: str) -> bool:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    return subprocess.run(command, check=False, capture_output=True).returncode == 0  # noqa: S603


def install() -> int:
    """Install the requirements unless the marker says this exact set is already there."""
    wanted = requirements()
    digest = hashlib.sha256("\n".join([ha_version, *wanted]).encode()).hexdigest()[:16]
    if MARKER.exists() and MARKER.read_text().split("\n", 1)[0] == digest:
        print(f"[develop] Home Assistant UI requirements up to date ({len(wanted)} packages)")
        return 0
    print(f"[develop] installing Home Assistant's UI requirements ({len(wanted)} packages, about a minute, once)")
    skipped: list[str] = []
    if not _pip("--prefer-binary", "-c", str(CONSTRAINTS), *wanted):
        # One by one: keep what installs.
        skipped = [r for r in wanted if not _pip("--prefer-binary", "-c", str(CONSTRAINTS), r)]
    for requirement in skipped:
        print(f"[develop]   skipped {requirement} (no wheel for Python {sys.version.split()[0]}, needs a compiler)")
    MARKER.write_text("\n".join([digest, *skipped]) + "\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--install"]:
        sys.exit(install())
    print("\n".join(requirements()))
