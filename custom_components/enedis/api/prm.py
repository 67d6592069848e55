r"""The PRM (point de référence mesure, Enedis' delivery point number): one definition for the whole project.

A PRM is exactly 14 ASCII digits. Every check (the sources before a request, the Conso API token's ``sub``, the
config flow's consent answer, the services' schema) and the diagnostics' masking are built from `PRM_DIGITS`, so
they cannot disagree. ASCII ``[0-9]`` rather than ``\d`` (which also matches other scripts' digits, that Enedis
never sends), and ``\Z`` rather than ``$`` (which accepts a trailing newline).
"""

from __future__ import annotations

import re
from typing import Final

PRM_DIGITS: Final = "[0-9]{14}"
"""The 14 digits of a PRM, unanchored: to build patterns that find PRMs inside a text (diagnostics)."""
PRM_PATTERN: Final = rf"^{PRM_DIGITS}\Z"
"""The whole text is a PRM, for `re.match` users such as voluptuous' ``vol.Match`` (services)."""

_PRM_RE: Final = re.compile(PRM_PATTERN)


def is_prm(text: object) -> bool:
    """Whether ``text`` is a PRM: a string of exactly 14 ASCII digits (no space, no sign, no newline)."""
    return isinstance(text, str) and _PRM_RE.match(text) is not None
