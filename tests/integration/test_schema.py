"""The schema against the real PostgreSQL: all spec tables, constraints, partitions, migrations."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from infra.partitions import drop_partitions_before, ensure_partitions, existing_partitions
from infra.schema import SPEC_TABLES, alembic_config, table_names

pytestmark = pytest.mark.integration

SEOUL = ZoneInfo("Asia/Seoul")


def test_every_spec_table_exists(migrated_engine):
    assert SPEC_TABLES <= table_names(migrated_engine)


def test_korean_text_round_trips_as_utf8(migrated_engine):
    with migrated_engine.begin() as conn:
        assert conn.execute(text("SHOW server_encoding")).scalar() == "UTF8"
        conn.execute(text("INSERT INTO shops (id, shop_name, category) VALUES (9001, '엄마손 김밥·떡볶이 🍙', '분식')"))
        assert conn.execute(text("SELECT shop_name FROM shops WHERE id = 9001")).scalar() == "엄마손 김밥·떡볶이 🍙"
        conn.execute(text("DELETE FROM shops WHERE id = 9001"))


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO shops (shop_name, category) VALUES ('x', '없는카테고리')",
        "INSERT INTO shops (shop_name, category, is_food_card_shop) VALUES ('x', '한식', 'Q')",
        "INSERT INTO shops (shop_name, category, open_hour) VALUES ('x', '한식', '25:99')",
        "INSERT INTO shops (shop_name, category, latitude, longitude) VALUES ('x', '한식', 51.5, -0.1)",
        "INSERT INTO shops (shop_name, category, break_start_hour) VALUES ('x', '한식', '15:00')",
        "INSERT INTO shops (shop_name, category, click_through_rate) VALUES ('x', '한식', 1.5)",
        "INSERT INTO coupons (id, coupon_name, usage_type, discount_amount, discount_rate) VALUES ('c', 'c', 'ALL', 1000, 0.1)",
        "INSERT INTO coupons (id, coupon_name, usage_type, discount_amount) VALUES ('c', 'c', 'EVERYONE', 1000)",
        "INSERT INTO conversations (user_id, session_id, input_text, response_text, extracted_intent) VALUES ('1', 's', 'a', 'b', 'order_pizza')",
        "INSERT INTO user_interactions (user_id, interaction_type, satisfaction_score) VALUES ('1', 'feedback', 6)",
    ],
)
def test_check_constraints_refuse_bad_values(migrated_engine, statement):
    with pytest.raises(IntegrityError):
        with migrated_engine.begin() as conn:
            conn.execute(text(statement))


def test_menu_needs_an_existing_shop(migrated_engine):
    with pytest.raises(IntegrityError):
        with migrated_engine.begin() as conn:
            conn.execute(text("INSERT INTO menus (shop_id, menu_name, price) VALUES (424242, '김밥', 3000)"))


def test_one_live_copy_of_a_coupon_per_user(migrated_engine):
    with migrated_engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id) VALUES (7001)"))
        conn.execute(text("INSERT INTO coupons (id, coupon_name, usage_type, discount_amount) VALUES ('T1', 't', 'ALL', 500)"))
        conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id, status, usage_date) VALUES (7001, 'T1', 'USED', now())"))
        conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id, status, usage_date) VALUES (7001, 'T1', 'USED', now())"))
        conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id) VALUES (7001, 'T1')"))
    with pytest.raises(IntegrityError):
        with migrated_engine.begin() as conn:
            conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id) VALUES (7001, 'T1')"))


def test_spec_indexes_exist(migrated_engine):
    with migrated_engine.connect() as conn:
        names = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).scalars())
    assert {"idx_shop_status_category", "idx_user_time_intent", "idx_rec_user_score", "idx_active_coupons", "idx_recent_logs"} <= names
    with migrated_engine.connect() as conn:
        predicate = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_active_coupons'")).scalar()
    assert "WHERE" in predicate and "ACTIVE" in predicate


def _insert_conversation(conn, when: datetime) -> None:
    conn.execute(
        text("INSERT INTO conversations (user_id, session_id, input_text, response_text, \"timestamp\") VALUES ('1', 's', '배고파', '응', :t)"),
        {"t": when},
    )


def _where(conn, when: datetime) -> str:
    return conn.execute(
        text("SELECT tableoid::regclass::text FROM conversations WHERE \"timestamp\" = :t"), {"t": when}
    ).scalar()


def test_rows_land_in_their_month_and_partitions_move_out_of_default(fresh_engine):
    today = datetime.now(SEOUL).date()
    recent = datetime.combine(today.replace(day=1), datetime.min.time(), SEOUL).replace(hour=0, minute=30)
    ancient = datetime(2019, 5, 17, 12, 0, tzinfo=SEOUL)
    with fresh_engine.begin() as conn:
        _insert_conversation(conn, recent)
        _insert_conversation(conn, ancient)
        assert _where(conn, recent) == f"conversations_p{today:%Y%m}"
        assert _where(conn, ancient) == "conversations_default"

    created = ensure_partitions(fresh_engine, date(2019, 6, 1), months_back=1, months_ahead=0)
    assert "conversations_p201905" in created
    with fresh_engine.begin() as conn:
        assert _where(conn, ancient) == "conversations_p201905"  # moved out of the default partition
        assert conn.execute(text("SELECT count(*) FROM conversations")).scalar() == 2


def test_retention_drops_whole_old_months_only(fresh_engine):
    today = datetime.now(SEOUL).date()
    with fresh_engine.begin() as conn:
        months = [p.month for p in existing_partitions(conn, "performance_logs")]
    cutoff = months[3]
    dropped = drop_partitions_before(fresh_engine, "performance_logs", cutoff)
    assert dropped == [f"performance_logs_p{m:%Y%m}" for m in months[:3]]
    with fresh_engine.begin() as conn:
        left = [p.month for p in existing_partitions(conn, "performance_logs")]
    assert left == months[3:] and left[-1] > today


def test_migrations_downgrade_and_upgrade_again(fresh_engine):
    from alembic import command

    config = alembic_config(fresh_engine.url.render_as_string(hide_password=False))
    command.downgrade(config, "base")
    assert not (SPEC_TABLES & table_names(fresh_engine))
    command.upgrade(config, "head")
    assert SPEC_TABLES <= table_names(fresh_engine)
