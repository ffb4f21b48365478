"""Search documents and payloads built from ``shops`` / ``menus`` rows.

A row is a plain mapping with the spec's column names (§4). Each shop yields one text, what it says
of itself (``shops.description_embedding``; the shop point joins it to the mean of the shop's menu
vectors, ``index.shop_point_vector``); each menu yields one text (``menus.description_embedding`` and
the menu point). Payloads carry what searches filter on: flags are stored as integers or
keywords, never booleans (a boolean payload matched with ``MatchValue(True)`` finds nothing in Qdrant
Edge 0.9).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.retrieval.meaning import meaning_words, menu_meaning
from models.retrieval.text import canonical_json, sha256_hex

# embedding_cache.content_type values (a CHECK constraint in the schema)
SHOP_CONTENT = "shop_description"
MENU_CONTENT = "menu_description"
QUERY_CONTENT = "query"

DIETARY_KO = {
    "spicy": "매운맛",
    "mild": "순한맛",
    "vegetarian": "채식",
    "vegan": "비건",
    "halal": "할랄",
    "low-sodium": "저염",
    "low_sodium": "저염",
    "pork": "돼지고기",
    "contains_pork": "돼지고기",
    "beef": "소고기",
    "contains_beef": "소고기",
    "seafood": "해산물",
    "contains_seafood": "해산물",
    "nuts": "견과류",
    "contains_nuts": "견과류",
    "dairy": "유제품",
    "contains_dairy": "유제품",
    "sweet": "달콤한",
    "healthy": "건강식",
    "high-protein": "고단백",
    "kids": "어린이",
}

# the 13 shop categories with the everyday words for them (중식 → 중국집), used in documents
CATEGORY_WORDS = {
    "한식": "한식 밥집", "분식": "분식", "중식": "중식 중국집", "일식": "일식 일본 음식", "양식": "양식 레스토랑",
    "치킨": "치킨집", "피자": "피자집", "패스트푸드": "패스트푸드", "카페·디저트": "카페 디저트",
    "베이커리": "베이커리 빵집", "아시안": "아시안 동남아 음식", "도시락·죽": "도시락 죽", "고기·구이": "고기 구이 고깃집",
}


def category_words(category: str) -> str:
    return CATEGORY_WORDS.get(category, category)


# words that advertise heat; a menu whose name or description has one is tagged "spicy" even when
# the warehouse has not computed dietary_tags yet (so the no_spicy filter works on raw data)
SPICY_WORDS = ("매콤", "매운", "얼큰", "칼칼", "화끈", "불닭", "마라", "땡초", "청양")

_AREA_PART = re.compile(r"^[가-힣]+(구|군|동|읍|면|가|로|길)$")


def address_area(address: str | None) -> str:
    """The district/neighbourhood words of an address: '서울특별시 강남구 역삼동 123-4' → '강남구 역삼동'."""
    if not address:
        return ""
    parts = [p for p in str(address).split() if _AREA_PART.match(p)]
    return " ".join(parts[:3])


def price_band(price: int | None) -> str:
    if price is None:
        return ""
    if price <= 3000:
        return "3천원 이하"
    if price <= 5000:
        return "5천원 이하"
    if price <= 8000:
        return "8천원 이하"
    if price <= 10000:
        return "만원 이하"
    if price <= 15000:
        return "만오천원 이하"
    return "만오천원 넘음"


def hhmm_to_minutes(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    m = re.match(r"^(\d{1,2}):(\d{2})", text)
    if not m:
        return None
    hours, minutes = int(m.group(1)), int(m.group(2))
    if hours > 24 or minutes > 59:
        return None
    return (hours * 60 + minutes) % 1440 if hours < 24 else 1440


def dietary_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            value = [v.strip() for v in value.split(",")]
    if isinstance(value, Mapping):
        value = [k for k, v in value.items() if v]
    return sorted({str(v).strip().lower() for v in value if str(v).strip()})


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _join(parts: Iterable[str]) -> str:
    return ". ".join(p.rstrip(". ") for p in parts if p and p.rstrip(". "))


def _flag_yn(value: Any) -> str:
    text = _text(value).upper()
    return text if text in {"Y", "N", "P", "U"} else "U"


def _bool_int(value: Any) -> int:
    if isinstance(value, str):
        return int(value.strip().lower() in {"1", "y", "yes", "true", "t"})
    return int(bool(value))


def _shop_common_payload(shop: Mapping[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "shop_id": int(shop["id"]),
        "shop_name": _text(shop.get("shop_name")),
        "category": _text(shop.get("category")),
        "is_food_card_shop": _flag_yn(shop.get("is_food_card_shop")),
        "current_status": _text(shop.get("current_status")) or "UNKNOWN",
        "good_influence": _bool_int(shop.get("is_good_influence_shop")),
    }
    lat, lon = shop.get("latitude"), shop.get("longitude")
    if lat is not None and lon is not None:
        payload["location"] = {"lat": float(lat), "lon": float(lon)}
    open_min, close_min = hhmm_to_minutes(shop.get("open_hour")), hhmm_to_minutes(shop.get("close_hour"))
    if open_min is not None and close_min is not None:
        payload["hours_known"] = 1
        payload["open_min"] = open_min
        payload["close_min"] = close_min
        payload["overnight"] = int(close_min <= open_min)  # also 24-hour shops (close == open)
        bs, be = hhmm_to_minutes(shop.get("break_start_hour")), hhmm_to_minutes(shop.get("break_end_hour"))
        if bs is not None and be is not None and be > bs:
            payload["break_start_min"] = bs
            payload["break_end_min"] = be
    else:
        payload["hours_known"] = 0
    return payload


@dataclass
class Doc:
    """One point of a collection: its text, payload and the hashes that detect changes."""

    kind: str  # "shop" or "menu"
    id: int
    text: str  # dense document (embedded with the passage prefix)
    lexical_text: str  # sparse document
    payload: dict[str, Any]
    content_type: str
    extra_texts: dict[str, str] = field(default_factory=dict)  # e.g. the shop's menu summary
    #: the sparse text as independent parts (joined by spaces they are ``lexical_text``), analysed
    #: part by part: a part shared by many documents is read once (``sparse.terms_of_parts``)
    lexical_parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.lexical_parts:
            self.lexical_parts = (self.lexical_text,)
        elif " ".join(self.lexical_parts) != self.lexical_text:
            raise ValueError("lexical_parts must join to lexical_text")

    @property
    def doc_id(self) -> str:
        return f"{self.kind}_{self.id}"

    @property
    def payload_hash(self) -> str:
        return sha256_hex(canonical_json(self.payload), self.lexical_text)[:16]


def content_hash(model_name: str, content_type: str, text: str) -> str:
    """``embedding_cache.content_hash``: the model and the side (passage/query) are part of the key."""
    side = "query" if content_type == QUERY_CONTENT else "passage"
    return sha256_hex(model_name, side, text)


def build_shop_doc(shop: Mapping[str, Any], menus: Sequence[Mapping[str, Any]], max_menus: int = 12) -> Doc:
    """A shop's dense text is what the shop says of itself: its name, its kind and its owner's
    message (``shops.description_embedding``, the spec's 가게 설명). What it sells is not repeated
    there: the whole menu is in the sparse text, and the shop point's vector joins the description to
    the mean of the shop's menu vectors (``index.shop_point_vector``). Its district and its card and
    착한가게 flags are payload filters. Four signature dishes, the district and the flags made a
    shop text 70 tokens; shop texts were two thirds of what a first build embedded."""
    menus_sorted = sorted(menus, key=lambda m: (_text(m.get("category")) != "메인메뉴", int(m.get("id") or 0)))
    names = []
    for m in menus_sorted:
        name = _text(m.get("menu_name"))
        if name and name not in names:
            names.append(name)
    prices = [int(m["price"]) for m in menus if m.get("price") is not None]
    category = _text(shop.get("category"))
    menu_summary = f"{category} 메뉴: " + ", ".join(names[:max_menus]) if names else ""
    text = _join([
        _text(shop.get("shop_name")),
        category_words(category) if category else "",
        _text(shop.get("owner_message")),
    ])
    lexical = " ".join([_text(shop.get("shop_name"))] * 2 + [
        category_words(category), address_area(shop.get("address_name")), " ".join(names[:30]),
        _text(shop.get("owner_message"))])
    payload = _shop_common_payload(shop)
    payload["menu_count"] = len(menus)
    if prices:
        payload["min_price"] = min(prices)
        payload["max_price"] = max(prices)
    return Doc("shop", int(shop["id"]), text, lexical, payload, SHOP_CONTENT, {"menu_summary": menu_summary})


def build_menu_doc(menu: Mapping[str, Any], shop: Mapping[str, Any]) -> Doc:
    price = int(menu["price"]) if menu.get("price") is not None else None
    tags = dietary_list(menu.get("dietary_tags"))
    name_desc = f"{menu.get('menu_name') or ''} {menu.get('description') or ''}"
    if "spicy" not in tags and any(w in name_desc for w in SPICY_WORDS):
        tags = sorted([*tags, "spicy"])
    tags_ko = " ".join(DIETARY_KO.get(t, t) for t in tags)
    category = _text(shop.get("category"))
    name = _text(menu.get("menu_name"))
    description = _text(menu.get("description"))
    # The dense text describes the dish only (no shop name, no exact price): identical dishes share
    # one embedding through embedding_cache, so a build embeds distinct dishes, not every menu row.
    # The shop name goes into the sparse text; exact prices are payload filters.
    text = _join([
        name,
        description,
        f"{category_words(category)} {_text(menu.get('category'))}".strip(),
        price_band(price),
        tags_ko,
    ])
    # the sparse text also gets the plain words for what the dish is like (국물, 시원한, 튀김, 돼지고기...)
    role = _text(menu.get("category"))
    meaning_tags = menu_meaning(name, description, role)
    meaning = meaning_words(meaning_tags, role)
    # two parts: the dish's words are the same for a dish in every shop, the shop name for every dish
    parts = (" ".join([name, name, description, category_words(category), tags_ko, meaning]),
             _text(shop.get("shop_name")))
    lexical = " ".join(parts)
    payload = _shop_common_payload(shop)
    payload.update({
        "menu_id": int(menu["id"]),
        "menu_name": name,
        "menu_category": _text(menu.get("category")),
        "meal_kind": _text(menu.get("meal_kind")) or "unknown",  # dbt: marts/core/menus.sql, written back
        "dietary_tags": tags,
        # what the dish is like, for reranking by what a request asks (``needs``, ``results``)
        "meaning": sorted({*meaning_tags, *(["spicy"] if "spicy" in tags else [])}),
    })
    if price is not None:
        payload["price"] = price
    return Doc("menu", int(menu["id"]), text, lexical, payload, MENU_CONTENT, lexical_parts=parts)


def build_documents(
    shops: Sequence[Mapping[str, Any]], menus: Sequence[Mapping[str, Any]]
) -> tuple[list[Doc], list[Doc]]:
    """(shop docs, menu docs); menus of unknown shops are skipped."""
    by_shop: dict[int, list[Mapping[str, Any]]] = {}
    for m in menus:
        by_shop.setdefault(int(m["shop_id"]), []).append(m)
    shop_by_id = {int(s["id"]): s for s in shops}
    shop_docs = [build_shop_doc(s, by_shop.get(int(s["id"]), [])) for s in shops]
    menu_docs = [build_menu_doc(m, shop_by_id[int(m["shop_id"])]) for m in menus
                 if int(m["shop_id"]) in shop_by_id]
    mark_dishes(menu_docs)
    return shop_docs, menu_docs


def dish_of(menu_name: str) -> str:
    """A menu's dish: its name without spaces and bracketed sizes ("삼겹살 (1인분)" → 삼겹살). Shops
    word descriptions and prices differently, so the dense text would split one dish many ways."""
    return re.sub(r"\(.*?\)|\s", "", menu_name or "") or (menu_name or "")


def mark_dishes(menu_docs: Sequence[Doc]) -> None:
    """Give each menu its dish (``dish_of`` its name) and mark one menu per dish (the lowest id) as
    its representative (``dish_rep``): searching representatives ranks distinct dishes, not copies
    of one dish."""
    first: dict[str, int] = {}
    for d in menu_docs:
        dish = dish_of(d.payload.get("menu_name", ""))
        d.payload["dish"] = dish
        first[dish] = min(first.get(dish, d.id), d.id)
    for d in menu_docs:
        d.payload["dish_rep"] = int(first[d.payload["dish"]] == d.id)
