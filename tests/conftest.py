"""Shared fixtures.

``custom_components`` is imported first so that it resolves to this project's folder, not to the
``testing_config`` of pytest-homeassistant-custom-component (see ../shared/README.md).
"""

from __future__ import annotations

import logging

import pytest

import custom_components  # noqa: F401  (must be imported before HA puts its testing config on sys.path)
from custom_components.enedis.tempo_colours import DEMO_RTE_VARIABLE

# phcc sets sqlalchemy.engine to INFO: every SQL statement of the recorder would be logged and captured.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
# The fake gateway's access log is noise in test output (and breaks under the freezer).
logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

UNREACHABLE_RTE = "http://127.0.0.1:9/cms/open_data/v1/tempo"
"""RTE's Tempo endpoint for the tests that do not serve it: a closed local port (connection refused at once)."""


@pytest.fixture(autouse=True)
def _rte_never_on_the_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches RTE's real server: the Tempo colours (the Tempo series, the bill, the comparator's daily
    run) ask a closed local port, unless the test's gateway answers RTE at its real URL
    (`tests.integration.gateway.fake_gateway_at_real_urls` lifts this for its duration)."""
    monkeypatch.setenv(DEMO_RTE_VARIABLE, UNREACHABLE_RTE)
