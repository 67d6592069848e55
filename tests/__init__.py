"""Tests of the Enedis Linky integration."""
