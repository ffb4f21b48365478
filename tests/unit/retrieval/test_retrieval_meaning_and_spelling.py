"""Typo tolerance by rule, menu meaning words, result-list arrangement and the blind query set."""

from collections import Counter
from types import SimpleNamespace

from models.retrieval import results
from models.retrieval.blindset import build_blind_queries
from models.retrieval.graded import need_grade as blind_grade
from models.retrieval.meaning import meaning_words, menu_meaning
from models.retrieval.sparse import SYNONYMS, query_terms
from models.retrieval.spelling import Speller, edit_distance, jamo, vocabulary_of

VOCAB = vocabulary_of(["짜장면", "짬뽕", "탕수육 (소)", "삼겹살 (1인분)", "김밥", "참치김밥", "국밥", "순대국밥",
                       "우동", "튀김우동", "치즈돈까스", "크림 파스타", "떡볶이", "치즈떡볶이"])


def test_jamo_distance_counts_letters_not_syllables():
    assert jamo("각") == "\u1100\u1161\u11a8"
    assert edit_distance(jamo("삼결살"), jamo("삼겹살"), 2) == 1  # one final consonant
    assert edit_distance(jamo("짜장멘"), jamo("짜장면"), 2) == 1  # ㅔ for ㅓ
    assert edit_distance(jamo("치킨"), jamo("떡볶이"), 2) == 3  # bounded: stops early


def test_unseen_misspellings_find_their_dish_without_any_list():
    speller = Speller(VOCAB)
    for typo, word in [("짜장멘", "짜장면"), ("삼결살", "삼겹살"), ("탕수유", "탕수육"), ("굮밥", "국밥"),
                       ("떡뽀끼", "떡볶이"), ("우똥", "우동")]:
        assert typo not in SYNONYMS
        assert speller.correct(typo) == word, typo
    text, fixes = speller.rewrite("짜장멘을 먹고 싶어")
    assert text.startswith("짜장면을") and fixes == {"짜장멘을": "짜장면을"}


def test_known_and_far_words_are_left_alone():
    speller = Speller(VOCAB)
    assert speller.correct("김밥") is None  # known
    assert speller.correct("학교") is None  # nothing close
    assert speller.rewrite("친구랑 먹을 거")[1] == {}


def test_the_deletion_index_finds_what_a_scan_of_the_whole_vocabulary_finds():
    import random

    from models.retrieval.spelling import max_edits, sound

    names = [f"{a}{b}" for a in ("치즈", "김치", "불고기", "매운", "순살", "왕", "옛날") for b in
             ("떡볶이", "김밥", "돈까스", "우동", "볶음밥", "비빔밥", "라면", "짜장면", "국밥", "파스타")]
    speller = Speller(vocabulary_of(names + list(VOCAB)))

    def scan(word: str) -> str | None:  # the speller's rule, over every word: the reference
        j = sound(word)
        bound = max_edits(len(j))
        dist = {w: edit_distance(j, sound(w), bound) for w in speller.counts}
        best = min(dist.values())
        found = sorted((w for w, d in dist.items() if d == best), key=lambda w: (-speller.counts[w], w))
        if best > bound or (len(found) > 1 and speller.counts[found[0]] == speller.counts[found[1]]):
            return None
        return found[0]

    rng = random.Random(3)
    typos = set()
    for w in sorted(speller.counts):
        for _ in range(3):
            letters = list(w)
            i = rng.randrange(len(letters))
            edit = rng.choice(("swap", "drop", "add"))
            if edit == "swap":
                letters[i] = chr(rng.randrange(0xAC00, 0xD7A4))
            elif edit == "drop" and len(letters) > 2:
                del letters[i]
            else:
                letters.insert(i, chr(rng.randrange(0xAC00, 0xD7A4)))
            typos.add("".join(letters))
    typos -= set(speller.counts)
    corrected = {t: speller.correct(t) for t in sorted(typos)}
    assert corrected == {t: scan(t) for t in sorted(typos)}
    assert sum(v is not None for v in corrected.values()) > 20  # the comparison covers real corrections


def test_eval_derived_misspellings_are_gone_from_the_synonyms():
    for typo in ("라믄", "짬봉", "탕슉", "케잌", "케익", "감튀", "삼겹"):
        assert typo not in SYNONYMS


def test_menu_meaning_reads_the_menu_text():
    tags = menu_meaning("김치찌개", "푹 익은 묵은지와 돼지고기를 넣고 얼큰하게 끓인 찌개", "메인메뉴")
    assert {"soup", "warm", "pork"} <= set(tags) and "vegetarian" not in tags
    assert "국물" in meaning_words(tags, "메인메뉴")
    assert "cold" in menu_meaning("물냉면", "살얼음 동동 띄운 시원한 물냉면", "메인메뉴")
    assert "vegetarian" in menu_meaning("된장찌개", "구수한 집된장에 두부와 애호박을 듬뿍 넣은 찌개", "메인메뉴")


def test_excluded_nouns_are_not_searched():
    terms = query_terms("면 말고 밥")
    assert "N:밥" in terms and "N:면" not in terms


def _hit(i, name, role, shop, score):
    return SimpleNamespace(id=i, score=score, payload={"menu_name": name, "menu_category": role, "shop_id": shop})


def test_drinks_answer_only_when_asked_and_dishes_diversify_before_shops():
    hits = [_hit(1, "사이다", "음료", 1, 0.040), _hit(2, "계란국", "사이드메뉴", 2, 0.034),
            _hit(3, "계란국", "사이드메뉴", 3, 0.033), _hit(4, "김밥", "메인메뉴", 4, 0.030),
            _hit(5, "계란국", "사이드메뉴", 5, 0.032), _hit(6, "토스트", "메인메뉴", 6, 0.029)]
    top = results.arrange(hits, "아침에 가볍게 먹을 거", 3)
    assert [h.payload["menu_name"] for h in top] == ["김밥", "토스트", "계란국"]
    drinks = results.arrange(hits, "시원한 음료 마시고 싶어", 1)
    assert drinks[0].payload["menu_name"] == "사이다"
    # a dish the child names is what they asked for: it comes from several shops, not diversified away
    named = results.arrange(hits, "계란국 주세요", 3)
    assert [h.payload["menu_name"] for h in named] == ["계란국", "계란국", "계란국"]
    assert len({h.payload["shop_id"] for h in named}) == 3


def test_blind_set_is_large_graded_by_attributes_and_free_of_lexicon_spellings():
    queries = build_blind_queries()
    assert len(queries) >= 200 and len({q.text for q in queries}) == len(queries)
    kinds = Counter(q.kind for q in queries)
    assert kinds["meaning"] + kinds["situation"] >= 150 and kinds["typo"] >= 40
    soup = next(q for q in queries if q.text == "국물 있는 따뜻한 거")
    assert blind_grade(soup, {"dish_type": "찌개", "attributes": ["soup", "warm", "pork"], "price": 8000},
                       "메인메뉴") == 2
    assert blind_grade(soup, {"dish_type": "국", "attributes": ["soup", "warm", "egg"], "price": 1000},
                       "사이드메뉴") == 1  # a side answers a meal need only partly
    assert blind_grade(soup, {"dish_type": "탄산음료", "attributes": ["cold", "sweet"], "price": 1500}, "음료") == 0
    rice = next(q for q in queries if q.text == "면 말고 밥")
    assert blind_grade(rice, {"dish_type": "짬뽕", "attributes": ["noodle", "rice", "soup"], "price": 8000},
                       "메인메뉴") == 0  # avoided
    for q in queries:
        if q.kind == "typo":
            assert q.text.split()[0] not in SYNONYMS


def test_compounds_of_a_head_word_come_from_dish_words_only():
    speller = Speller(VOCAB + Counter({"국물": 1}), dish_words=VOCAB)
    assert set(speller.compounds("김밥")) == {"참치김밥"}
    assert set(speller.compounds("우동")) == {"튀김우동"}
    assert speller.compounds("국물") == [] and speller.compounds("밥") == []  # one syllable: too short


def test_ordinary_korean_is_not_corrected_towards_a_menu():
    from models.retrieval.sparse import reads_as_korean

    for word in ("운동", "몸살", "닭으로", "튀긴", "바삭하게", "땡겨"):
        assert reads_as_korean(word), word
    for word in ("짜장멘", "삼결살", "된장찌게", "떡뽀끼를", "우똥"):
        assert not reads_as_korean(word), word
    speller = Speller(vocabulary_of(["우동", "목살"]), is_word=reads_as_korean)
    assert speller.rewrite("운동 끝나고 고기")[0] == "운동 끝나고 고기"
    assert speller.rewrite("우똥 먹을래")[0] == "우동 먹을래"


def test_a_set_means_its_main_dish_and_soup_comes_warm():
    tags = menu_meaning("치즈떡볶이 세트", "매콤한 치즈떡볶이에 순대와 쿨피스를 더한 실속 세트", "세트메뉴")
    assert "hearty" in tags and not {"cold", "sweet", "pork"} & set(tags)
    assert "warm" in menu_meaning("된장찌개", "구수한 집된장 찌개", "메인메뉴")
    cold = menu_meaning("물냉면", "살얼음 동동 띄운 시원한 물냉면", "메인메뉴")
    assert "cold" in cold and "warm" not in cold and "rice" not in cold  # 동동 is not a 덮밥 (규동)


def test_one_representative_per_dish():
    from models.retrieval.documents import build_documents, dish_of

    assert dish_of("삼겹살 (1인분)") == "삼겹살" and dish_of("크림 파스타") == "크림파스타"
    shops = [{"id": 1, "shop_name": "가"}, {"id": 2, "shop_name": "나"}]
    menus = [{"id": 7, "shop_id": 2, "menu_name": "김밥", "price": 3000, "category": "메인메뉴"},
             {"id": 5, "shop_id": 1, "menu_name": "김밥", "price": 3500, "description": "참기름 듬뿍",
              "category": "메인메뉴"},
             {"id": 6, "shop_id": 1, "menu_name": "라면", "price": 4000, "category": "메인메뉴"}]
    _, docs = build_documents(shops, menus)
    by_id = {d.id: d.payload for d in docs}
    assert by_id[5]["dish"] == by_id[7]["dish"] == "김밥"
    assert (by_id[5]["dish_rep"], by_id[7]["dish_rep"], by_id[6]["dish_rep"]) == (1, 0, 1)
    assert "meaning" in by_id[6] and "soup" in by_id[6]["meaning"]


def test_meaning_dev_set_is_separate_from_the_blind_set_and_graded_alike():
    from models.retrieval.meaningset import build_meaning_queries

    dev = build_meaning_queries()
    blind = {q.text for q in build_blind_queries()}
    assert len(dev) >= 100 and not {q.text for q in dev} & blind
    assert Counter(q.kind for q in dev)["situation"] >= 30
    rain = next(q for q in dev if q.text == "비 오는 날 먹을 음식 추천")
    assert blind_grade(rain, {"dish_type": "찌개", "attributes": ["soup", "warm"], "price": 8000}, "메인메뉴") == 2
    assert blind_grade(rain, {"dish_type": "냉면", "attributes": ["cold", "noodle"], "price": 8000}, "메인메뉴") == 0
