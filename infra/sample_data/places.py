"""Real neighbourhoods (법정동) from the ``dongnae_kr`` package, and points and addresses in them.

Shops and users are clustered in a handful of real districts so that every user has shops
within walking distance, as in the real service (which launched district by district). The
package ships one CSV of 21,701 neighbourhoods with a centre and a radius in km; we read it
directly rather than through its search engine, which we do not need.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

# Districts in the order they are switched on as the scale grows (see ``districts_for_scale``).
# Each entry: full province name as in the dataset, district (시군구, may contain a space).
DISTRICTS: tuple[tuple[str, str], ...] = (
    ("서울특별시", "마포구"),
    ("서울특별시", "노원구"),
    ("부산광역시", "부산진구"),
    ("서울특별시", "송파구"),
    ("서울특별시", "은평구"),
    ("대구광역시", "수성구"),
    ("경기도", "수원시 영통구"),
    ("서울특별시", "강서구"),
    ("인천광역시", "부평구"),
    ("부산광역시", "해운대구"),
    ("경기도", "성남시 분당구"),
    ("서울특별시", "관악구"),
)

# Short province names as Koreans write them in addresses ('서울 마포구 망원동 123-4').
PROVINCE_SHORT: dict[str, str] = {
    "서울특별시": "서울", "부산광역시": "부산", "대구광역시": "대구", "인천광역시": "인천",
    "광주광역시": "광주", "대전광역시": "대전", "울산광역시": "울산", "세종특별자치시": "세종",
    "경기도": "경기", "강원특별자치도": "강원", "충청북도": "충북", "충청남도": "충남",
    "전북특별자치도": "전북", "전라남도": "전남", "경상북도": "경북", "경상남도": "경남",
    "제주특별자치도": "제주",
}
AREA_CODES: dict[str, str] = {
    "서울": "02", "부산": "051", "대구": "053", "인천": "032", "광주": "062", "대전": "042",
    "울산": "052", "세종": "044", "경기": "031", "강원": "033", "충북": "043", "충남": "041",
    "전북": "063", "전남": "061", "경북": "054", "경남": "055", "제주": "064",
}

# Shops sit within this distance of a neighbourhood centre: big 법정동 (상계동 has a 3.4 km
# radius) would otherwise scatter shops into parks and mountains.
MAX_SPREAD_KM = 1.3
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    code: str
    province: str  # short form, e.g. '서울'
    district: str  # e.g. '마포구' or '수원시 영통구'
    dong: str  # e.g. '망원동'
    lat: float
    lon: float
    radius_km: float

    @property
    def district_label(self) -> str:
        return f"{self.province} {self.district}"

    @property
    def label(self) -> str:
        return f"{self.province} {self.district} {self.dong}"


def dataset_path() -> Path:
    """The CSV shipped by ``dongnae_kr`` (the file name carries its release date)."""
    folder = resources.files("dongnae_kr") / "data"
    found = sorted((p for p in folder.iterdir() if p.name.endswith(".csv")), key=lambda p: p.name)
    if not found:
        raise FileNotFoundError("dongnae_kr ships no CSV; is the package installed?")
    return Path(str(found[-1]))


@lru_cache(maxsize=1)
def all_neighbourhoods() -> tuple[Neighbourhood, ...]:
    """Every urban neighbourhood (동/가) of the dataset; rural 읍/면/리 rows are left out."""
    out: list[Neighbourhood] = []
    with dataset_path().open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            parts = row["dnname"].split()
            if len(parts) < 3 or parts[0] not in PROVINCE_SHORT:
                continue
            dong = parts[-1]
            if not dong.endswith(("동", "가")) or any(p.endswith(("읍", "면")) for p in parts[1:-1]):
                continue
            out.append(Neighbourhood(
                code=row["dnid"], province=PROVINCE_SHORT[parts[0]], district=" ".join(parts[1:-1]),
                dong=dong, lat=float(row["dnlatitude"]), lon=float(row["dnlongitude"]),
                radius_km=float(row["dnradius"]),
            ))
    return tuple(out)


def districts_for_scale(scale: float) -> tuple[tuple[str, str], ...]:
    """How many districts to populate: about 300 shops per district at any scale ≥ 1/8."""
    count = int(np.clip(round(8 * scale), 1, len(DISTRICTS)))
    return DISTRICTS[:count]


def neighbourhoods_in(districts: tuple[tuple[str, str], ...]) -> list[Neighbourhood]:
    wanted = {(PROVINCE_SHORT[p], d) for p, d in districts}
    found = [n for n in all_neighbourhoods() if (n.province, n.district) in wanted]
    missing = wanted - {(n.province, n.district) for n in found}
    if missing:
        raise ValueError(f"districts not in the dongnae_kr dataset: {sorted(missing)}")
    return sorted(found, key=lambda n: n.code)


def random_points(rng: np.random.Generator, hood: Neighbourhood, n: int,
                  max_spread_km: float = MAX_SPREAD_KM) -> np.ndarray:
    """``n`` (lat, lon) points spread uniformly over a disc around the neighbourhood centre."""
    spread = min(hood.radius_km * 0.8, max_spread_km)
    r = spread * np.sqrt(rng.random(n)) * 0.9 + rng.random(n) * 0.05
    theta = rng.random(n) * 2 * math.pi
    dlat = (r * np.cos(theta)) / 111.0
    dlon = (r * np.sin(theta)) / (111.0 * math.cos(math.radians(hood.lat)))
    return np.column_stack([np.round(hood.lat + dlat, 6), np.round(hood.lon + dlon, 6)])


def lot_number(rng: np.random.Generator) -> str:
    """A 지번 like '123-4' or '87'."""
    main = int(rng.integers(1, 700))
    return f"{main}-{int(rng.integers(1, 40))}" if rng.random() < 0.7 else str(main)


def street_address(rng: np.random.Generator, hood: Neighbourhood) -> str:
    return f"{hood.label} {lot_number(rng)}"


def phone_number(rng: np.random.Generator, hood: Neighbourhood) -> str:
    """A landline in the neighbourhood's area code, or now and then a mobile number."""
    if rng.random() < 0.12:
        return f"010-{int(rng.integers(2000, 10000))}-{int(rng.integers(0, 10000)):04d}"
    code = AREA_CODES[hood.province]
    middle = int(rng.integers(200, 1000)) if code == "02" and rng.random() < 0.3 else int(rng.integers(2000, 10000))
    return f"{code}-{middle}-{int(rng.integers(0, 10000)):04d}"


def haversine_km(lat1: np.ndarray | float, lon1: np.ndarray | float,
                 lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in km; broadcasts like numpy."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def geocode_address(address: str) -> tuple[float, float] | None:
    """Centre of the neighbourhood an address names ('서울 마포구 망원동 12-3'), or None.

    Users carry only a text address in the workbook; this is how downstream code (and the
    generator, for user homes) turns it into coordinates at neighbourhood precision.
    """
    index = _address_index()
    words = address.split()
    for cut in range(len(words), 2, -1):
        hit = index.get(" ".join(words[:cut]))
        if hit is not None:
            return hit
    return None


@lru_cache(maxsize=1)
def _address_index() -> dict[str, tuple[float, float]]:
    return {n.label: (n.lat, n.lon) for n in all_neighbourhoods()}
