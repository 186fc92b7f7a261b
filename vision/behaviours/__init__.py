"""Behaviour detectors: falls, fights and wandering, each a small class with one verb.

`detector.update(scene) -> list[BehaviourEvent]`, with per-track state in a dict keyed by track id
that is dropped when the tracker ends a track. Detectors never draw and never do I/O.
"""
