"""Rooms, beds, residents and camera records (filled in by the records work)."""
