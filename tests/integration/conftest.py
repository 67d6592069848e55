"""Fixtures for tests that run inside Home Assistant."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: object, enable_custom_integrations: None) -> None:
    """Enable custom integrations in every Home Assistant test.

    The integration depends on the recorder, and phcc requires ``recorder_mock`` to be set up before ``hass``:
    requesting it first here orders them right for every test of this folder.
    """
