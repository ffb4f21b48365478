"""The NLU blind split: never trained on, deduplicated, and the robustness suite's shape."""

from collections import Counter

from models.nlu import blind
from models.nlu.labels import INTENT_VALUES
from models.nlu.training_data import generate


def test_skeleton_masks_fillers_so_near_duplicates_share_a_side():
    assert blind.skeleton("치킨 먹고 싶어") == blind.skeleton("피자먹고싶어!")
    assert blind.skeleton("5천원으로 뭐 먹지") == blind.skeleton("3천원으로 뭐먹지")
    assert blind.in_blind_partition("치킨 먹고 싶어") == blind.in_blind_partition("떡볶이 먹고 싶어")


def test_training_rows_never_contain_a_blind_line_or_skeleton():
    frozen = blind.read_rows(blind.BLIND_GRAMMAR_FILE)
    assert len(frozen) >= 300 and {r["intent"] for r in frozen} == set(INTENT_VALUES)
    keys = {blind.sentence_key(r["text"]) for r in frozen}
    assert len(keys) == len(frozen)  # deduplicated by normalized form
    rows = generate(3000, 20261125)
    kept = blind.training_rows(rows)
    assert 0 < len(kept) < len(rows)
    assert not any(blind.in_blind_partition(r["text"]) for r in kept)
    assert not keys & {blind.sentence_key(r["text"]) for r in kept}
    assert all(blind.in_blind_partition(r["text"]) for r in frozen)


def test_collected_corrections_split_deterministically_and_join_the_gate_set():
    rows = [{"text": f"우리 반 {i}명 같이 먹을 데", "intent": "group_dining", "entities": {}} for i in range(60)]
    train, held = blind.split_collected(rows)
    assert train and held and len(train) + len(held) == 60
    assert blind.split_collected(rows) == (train, held)
    again = blind.split_collected([dict(r, text=r["text"] + "  ") for r in rows])[1]
    assert [r["text"].strip() for r in again] == [r["text"] for r in held]  # same normalized form, same side
    gate_set = blind.blind_rows(rows + rows)
    assert len(gate_set) == len(blind.read_rows(blind.BLIND_GRAMMAR_FILE)) + len(held)


def test_robustness_suite_covers_every_category():
    rows = blind.robustness_rows()
    counts = Counter(r["category"] for r in rows)
    assert set(counts) == {"typo", "spacing", "chosung", "mixed", "emoji", "rambling", "out_of_domain"}
    assert all(n >= 10 for n in counts.values())
    assert all(r["intent"] in INTENT_VALUES for r in rows)
