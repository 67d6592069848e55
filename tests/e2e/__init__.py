"""End-to-end tests: a real ``hass`` process against the fake gateway (run with ``tests/e2e/run``)."""
