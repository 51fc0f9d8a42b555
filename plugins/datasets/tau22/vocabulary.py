"""The TAU Urban Acoustic Scenes 2022 Mobile vocabularies (docs/dcase.md §1), one source for the dataset plugin,
the synthetic generator and the DCASE export: scene classes in the challenge's column order, the development
set's cities and its devices (real a-c, simulated s1-s6; s4-s6 are unseen in training)."""

from __future__ import annotations

SCENES: tuple[str, ...] = (
    "airport",
    "bus",
    "metro",
    "metro_station",
    "park",
    "public_square",
    "shopping_mall",
    "street_pedestrian",
    "street_traffic",
    "tram",
)
CITIES: tuple[str, ...] = (
    "barcelona",
    "helsinki",
    "lisbon",
    "london",
    "lyon",
    "milan",
    "paris",
    "prague",
    "stockholm",
    "vienna",
)
DEVICES: tuple[str, ...] = ("a", "b", "c", "s1", "s2", "s3", "s4", "s5", "s6")
TRAIN_DEVICES: frozenset[str] = frozenset({"a", "b", "c", "s1", "s2", "s3"})
