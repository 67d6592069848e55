"""Tests of the client library (no Home Assistant)."""
