"""Shared fixtures.

``custom_components`` is imported first so that it resolves to this project's folder, not to the
``testing_config`` of pytest-homeassistant-custom-component (see ../shared/README.md).
"""

from __future__ import annotations

import logging

import custom_components  # noqa: F401  (must be imported before HA puts its testing config on sys.path)

# phcc sets sqlalchemy.engine to INFO: every SQL statement of the recorder would be logged and captured.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
# The fake gateway's access log is noise in test output (and breaks under the freezer).
logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
