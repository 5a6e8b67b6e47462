"""Ärztlicher Bereitschaftsdienst: pure domain core (no Django). Issue 5, in progress."""
