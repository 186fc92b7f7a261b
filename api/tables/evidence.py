"""Holds on alert evidence against retention (filled in by the retention work)."""
