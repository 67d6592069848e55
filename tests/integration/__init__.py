"""Tests that run the integration inside a real Home Assistant."""
