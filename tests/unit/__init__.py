"""Unit tests of pure modules (no Home Assistant fixtures)."""
