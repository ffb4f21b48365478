"""Distance on the Earth, once: the great-circle (haversine) distance with the mean Earth radius,
which is what Qdrant's geo filter and the warehouse's SQL use. Array versions for whole columns
live beside the code that vectorises them (``models.ranking.features``, ``infra.sample_data.places``)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6371008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, a))))
