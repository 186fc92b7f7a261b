"""Versioned per-camera threshold and zone profiles (filled in by the profiles work)."""
