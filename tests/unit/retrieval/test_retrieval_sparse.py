from __future__ import annotations

import pytest

from models.retrieval import sparse


@pytest.mark.parametrize("a,b", [
    ("떡볶이", "떡뽁이"), ("돈까스", "돈가스"), ("짜장면", "자장면"), ("김치찌개", "김치찌게"), ("쭈꾸미", "주꾸미"),
])
def test_loose_key_merges_common_misspellings(a, b):
    assert sparse.loose_key(a) == sparse.loose_key(b)


def test_loose_key_keeps_different_dishes_apart():
    assert sparse.loose_key("김밥") != sparse.loose_key("국밥")
    assert sparse.loose_key("라면") != sparse.loose_key("냉면")


def test_particles_and_endings_are_dropped():
    assert sparse.terms("떡볶이를 먹고 싶어요") == sparse.terms("떡볶이")


def test_numbers_and_money_words_are_dropped():
    terms = sparse.terms("5천원이하 김밥")
    assert terms == ["N:김밥", "P:" + sparse.loose_key("김밥")]


def test_typo_query_shares_a_term_with_the_dish():
    q = set(sparse.encode_query("떡뽁이").indices)
    d = set(sparse.encode_document("떡볶이 쫄깃한 밀떡", avgdl=5).indices)
    assert q & d


def test_spacing_error_still_matches():
    # "김밥집어디" (no spaces) → 김밥 is still found by the morpheme analyser
    assert "N:김밥" in sparse.terms("김밥집어디있어")


def test_query_of_only_function_words_is_empty():
    assert sparse.encode_query("뭐 먹고 싶어").is_empty()


def test_document_weights_are_bm25_saturated():
    one = sparse.encode_document("김밥", avgdl=1)
    three = sparse.encode_document("김밥 김밥 김밥", avgdl=3)
    assert max(three.values) > max(one.values)
    assert max(three.values) < sparse.K1 + 1  # saturates
    assert all(0 <= i < 2**32 for i in three.indices)


def test_aspirated_consonants_fold_too():
    assert sparse.loose_key("리조또") == sparse.loose_key("리조토")


def test_conversational_words_are_not_searched():
    assert sparse.query_terms("점심으로 와플") == ["N:와플", "P:" + sparse.loose_key("와플")]
    assert sparse.query_terms("친구랑 같이 파는 곳 알려줘") == []


def test_synonyms_expand_the_query():
    terms = sparse.query_terms("오뎅 먹고 싶다")
    assert "N:오뎅" in terms and "N:어묵" in terms
    assert "N:중식" in sparse.query_terms("중국집 가자")


@pytest.mark.parametrize("text", ["안 매운 라면", "안매운 라면", "맵지 않은 라면", "매운 거 빼고 라면", "매운 거 못 먹는데 라면"])
def test_negated_heat_is_not_searched(text):
    assert not any(t.startswith("V:맵") for t in sparse.query_terms(text))
    assert "N:라면" in sparse.query_terms(text)


def test_heat_is_searched_when_wanted():
    assert "V:맵" in sparse.query_terms("매운 라면")


@pytest.mark.parametrize("text, dense", [
    ("떡볶이 먹고 싶은데 5천원밖에 없어", "떡볶이"),
    ("친구랑 치킨 먹을 건데 만원 있어", "치킨"),
    ("안 매운 국밥 있어?", "국밥"),
    ("매운 떡볶이 먹고 싶어", "맵다 떡볶이"),
    ("치즈 돈까스 치즈 돈까스", "치즈 돈까스"),
])
def test_dense_query_keeps_what_to_eat_and_drops_the_chat(text, dense):
    assert sparse.dense_query(text) == dense


def test_dense_query_falls_back_to_the_text_when_no_content_word_is_left():
    assert sparse.dense_query("뭐 먹지") == "뭐 먹지"


def test_phrasings_of_one_request_share_one_embedding_and_result_key(retriever):
    a = retriever.search("떡볶이 먹고 싶어", limit=5)
    first = retriever.last_trace
    b = retriever.search("떡볶이 먹을래", limit=5)
    assert first.dense_text == retriever.last_trace.dense_text == "떡볶이"
    assert retriever.last_trace.result_cache == "l1" and [h.id for h in a] == [h.id for h in b]


def test_terms_many_is_terms_of_each_text_analysed_once():
    from models.retrieval import sparse

    texts = ["매운 거 빼고 라면", "떡볶이 김밥 세트", "", "매운 거 빼고 라면", "치즈돈까스 정식", "  "]
    assert sparse.terms_many(texts) == [sparse.terms(t) for t in texts]


def test_documents_in_parts_get_each_parts_terms_in_order():
    """A menu's sparse text is its dish words and its shop's name: read part by part (each distinct
    part once), the terms are those of each part, in order."""
    docs = [("떡볶이 떡볶이 매콤달콤한 고추장 소스 분식", "엄마손 분식"), ("김밥 김밥 바삭한 튀김", "엄마손 분식"),
            ("매운 거 빼고 라면",)]
    got = sparse.terms_of_parts(docs)
    assert got == [[t for part in doc for t in sparse.terms(part)] for doc in docs]
    assert got[0] and got[1][-len(sparse.terms("엄마손 분식")):] == sparse.terms("엄마손 분식")
    assert sparse.terms_many(["바삭한 김밥", "바삭한 돈까스"]) == [sparse.terms("바삭한 김밥"), sparse.terms("바삭한 돈까스")]


def test_lexical_parts_must_join_to_the_lexical_text():
    from models.retrieval.documents import MENU_CONTENT, Doc

    assert Doc("menu", 1, "김밥", "김밥", {}, MENU_CONTENT).lexical_parts == ("김밥",)
    with pytest.raises(ValueError):
        Doc("menu", 1, "김밥", "김밥 엄마손", {}, MENU_CONTENT, lexical_parts=("김밥", "분식"))
