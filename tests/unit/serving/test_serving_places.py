"""Named places → a point to search around, from the real neighbourhood list."""

from serving import places
from infra.geo import haversine_m

MANGWON = (37.5555, 126.8999)
HOME = (37.556, 126.905)  # a child in 마포구


def test_a_dong_and_a_district_resolve_anywhere():
    spot = places.locate("망원동")
    assert spot.name == "서울 마포구 망원동" and haversine_m(*MANGWON, spot.lat, spot.lon) < 300
    assert spot.radius_m >= places.MIN_RADIUS_M
    district = places.locate("마포구")
    assert district.name == "서울 마포구" and district.radius_m > 3000


def test_a_shared_name_picks_the_one_near_the_child():
    gangnam_side = places.locate("신사동", near=(37.52, 127.02))
    assert gangnam_side.name == "서울 강남구 신사동"
    assert places.locate("신사동", near=(37.60, 126.91)).name == "서울 은평구 신사동"


def test_a_station_resolves_only_near_the_child():
    assert places.locate("망원역", near=HOME).name == "서울 마포구 망원동"
    assert places.locate("망원역") is None  # no child location: a derived guess is not trusted
    # "강남역" would derive 강남동, which the dataset has in 진주, far from a child in 서울
    assert places.locate("강남역", near=HOME) is None


def test_landmarks_and_nearby_do_not_resolve():
    assert places.locate("학교 앞", near=HOME) is None
    assert places.locate("nearby", near=HOME) is None
    assert places.locate(None) is None
