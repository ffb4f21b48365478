"""Named places a child mentions ("망원동 근처", "망원역", "마포구") → a point and a radius to search
around, from the real neighbourhoods (법정동) that ``dongnae_kr`` ships.

Only names the dataset knows resolve: a 동 by its name, a district (구) by the centre of its 동,
and near the child, a station by the 동 it is usually named after ("망원역" → 망원동). Landmarks
("학교 앞") do not resolve and the search falls back to the request's own location, or to text
matching alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from infra.geo import haversine_m as _distance_m

#: searched around a resolved place: its own radius plus a walk beyond its edge
WALK_BEYOND_M = 700.0
MIN_RADIUS_M = 1500.0
#: a place found only by a derived name must be this close to the child to be believed
DERIVED_MAX_M = 15_000.0


@dataclass(frozen=True)
class Spot:
    name: str
    lat: float
    lon: float
    radius_m: float

    def as_near(self) -> tuple[float, float, float]:
        return (self.lat, self.lon, self.radius_m)


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[Spot, ...]]:
    from infra.sample_data.places import all_neighbourhoods

    by_name: dict[str, list[Spot]] = {}
    districts: dict[tuple[str, str], list] = {}
    for h in all_neighbourhoods():
        radius = max(MIN_RADIUS_M, h.radius_km * 1000 + WALK_BEYOND_M)
        by_name.setdefault(h.dong, []).append(Spot(h.label, h.lat, h.lon, radius))
        districts.setdefault((h.province, h.district), []).append(h)
    for (province, district), hoods in districts.items():
        lat = sum(h.lat for h in hoods) / len(hoods)
        lon = sum(h.lon for h in hoods) / len(hoods)
        reach = max(_distance_m(lat, lon, h.lat, h.lon) + h.radius_km * 1000 for h in hoods)
        name = district.split()[-1]  # "수원시 영통구" is asked for as "영통구"
        by_name.setdefault(name, []).append(Spot(f"{province} {district}", lat, lon, reach))
    return {k: tuple(v) for k, v in by_name.items()}


def _names(place: str) -> list[tuple[str, bool]]:
    """Names to look up, each with whether it is the child's own word (exact) or derived from it."""
    name = "".join(place.split())
    out = [(name, True), (name + "동", False)]
    if name.endswith("역") and len(name) > 2:
        out += [(name[:-1] + "동", False), (name[:-1], False)]
    return out


def locate(place: str | None, near: tuple[float, float] | None = None) -> Spot | None:
    """The place ``place`` names, or None.

    Several places share a name (two 신사동): the one nearest to ``near`` (the child's location)
    when given, else the first in the dataset. A derived name ("강남역" → 강남동) is a guess that
    is often wrong (the 강남동 in the dataset is in 진주, 강남역 in 서울 역삼동), so it counts only
    when it lies within ``DERIVED_MAX_M`` of the child."""
    if not place or place == "nearby":
        return None
    index = _index()
    for name, exact in _names(place):
        spots = index.get(name)
        if not spots:
            continue
        if near is None:
            if exact:
                return spots[0]
            continue
        best = min(spots, key=lambda s: _distance_m(near[0], near[1], s.lat, s.lon))
        if exact or _distance_m(near[0], near[1], best.lat, best.lon) <= DERIVED_MAX_M:
            return best
    return None


def geocode_address(address: str | None) -> tuple[float, float] | None:
    """The centre of the neighbourhood (동) an address names, or None.

    Addresses come written both ways ("서울특별시 마포구 망원동", "서울 마포구 망원동 12-3"): the
    province is shortened to the form the neighbourhood list uses, then the longest prefix that
    names a neighbourhood wins. Neighbourhood precision (a few hundred metres) is what a walking
    radius of 2–3 km needs."""
    if not address or not address.strip():
        return None
    from infra.sample_data.places import PROVINCE_SHORT
    from infra.sample_data.places import geocode_address as by_label

    words = address.split()
    words[0] = PROVINCE_SHORT.get(words[0], words[0])
    return by_label(" ".join(words))
