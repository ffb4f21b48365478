"""Where to search, once per turn (serving/README.md, "Where").

In order, the first that is known:

1. ``request``: the location the app sent with the message;
2. ``place``: a place the child names ("범어동 근처", "마포구"; serving/places.py), held for the
   session until the child names another;
3. ``home``: the child's home, ``users.current_address`` geocoded to its neighbourhood centre
   (once per address per process), else ``orders``: the centre of the shops of the latest orders;
4. ``region``: nothing is known; the search is not limited by distance and no distance is said.

Around 1 and 3 the radius is the walk of the child's age group (settings ``walk_radius_*_m``:
2 km for a child, 3 km for a teen); around a named place it is the place's own size plus a walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from infra.geo import haversine_m
from serving import places

#: "a bit farther" when nothing fits within the walk: this many walking radii
A_BIT_FARTHER = 2.5
#: "더 가까운 데": the radius shrinks to this share
CLOSER_SHARE = 0.6


@dataclass(frozen=True)
class SearchArea:
    source: str  # request | place | home | orders | region
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    label: str = ""

    @property
    def known(self) -> bool:
        return self.lat is not None and self.lon is not None

    def near(self, scale: float = 1.0) -> tuple[float, float, float] | None:
        if not self.known or self.radius_m is None:
            return None
        return (self.lat, self.lon, self.radius_m * scale)

    def distance_m(self, lat: float | None, lon: float | None) -> float | None:
        if not self.known or lat is None or lon is None:
            return None
        return haversine_m(self.lat, self.lon, float(lat), float(lon))

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "lat": self.lat, "lon": self.lon,
                "radius_m": round(self.radius_m, 1) if self.radius_m is not None else None, "label": self.label}


REGION = SearchArea("region")


def age_group(age: int | None) -> str:
    """child (12 or younger, and unknown: the service's users are children first), teen, adult."""
    if age is None or age <= 12:
        return "child"
    return "teen" if age <= 18 else "adult"


def walk_radius_m(age: int | None, settings=None) -> float:
    if settings is None:
        from infra.settings import get_settings

        settings = get_settings()
    group = age_group(age)
    return float({"child": settings.walk_radius_child_m, "teen": settings.walk_radius_teen_m,
                  "adult": settings.walk_radius_adult_m}[group])


@lru_cache(maxsize=65_536)
def _geocode(address: str) -> tuple[float, float] | None:
    return places.geocode_address(address)


def home_of(account) -> tuple[str, tuple[float, float]] | None:
    """("home" | "orders", point) for the child's account, or None."""
    if account is None:
        return None
    if account.home_address:
        point = _geocode(account.home_address.strip())
        if point is not None:
            return "home", point
    if account.orders_centroid is not None:
        return "orders", account.orders_centroid
    return None


def resolve(*, location, place: str | None, account, walk_m: float, closer: bool = False) -> SearchArea:
    """The search area of a turn (the order above). ``location`` has .lat/.lon or is None."""
    home = home_of(account)
    anchor = (location.lat, location.lon) if location is not None else (home[1] if home else None)
    scale = CLOSER_SHARE if closer else 1.0
    spot = places.locate(place, near=anchor)
    if spot is not None:
        return SearchArea("place", spot.lat, spot.lon, spot.radius_m * scale, spot.name)
    if location is not None:
        return SearchArea("request", location.lat, location.lon, walk_m * scale, "현재 위치")
    if home is not None:
        source, (lat, lon) = home
        return SearchArea(source, lat, lon, walk_m * scale, "집 근처")
    return REGION
