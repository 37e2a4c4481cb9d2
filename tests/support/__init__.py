"""Helpers shared by the tests (never fixtures: those are in conftest.py files)."""
