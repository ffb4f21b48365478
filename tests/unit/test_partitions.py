from datetime import date, datetime

from infra.partitions import MonthPartition, add_months, month_start


def test_month_arithmetic_crosses_years():
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 1, 1), -13) == date(2024, 12, 1)
    assert month_start(datetime(2026, 11, 25, 23, 59)) == date(2026, 11, 1)


def test_partition_names_and_bounds():
    part = MonthPartition("conversations", date(2026, 12, 1))
    assert part.name == "conversations_p202612"
    assert part.upper == date(2027, 1, 1)
