"""menus.meal_kind: meal / snack / side / drink, derived by dbt (marts/core/menus.sql) and written
back like the other derived menu fields; the chat service offers a hungry child meals first.

NULL until the first write-back (the service then treats the menu by its role alone).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: frozen copy (a migration must not change when application code does)
MEAL_KINDS = ("meal", "snack", "side", "drink")


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in MEAL_KINDS)
    op.execute(f"ALTER TABLE menus ADD COLUMN IF NOT EXISTS meal_kind varchar(10) "
               f"CHECK (meal_kind IS NULL OR meal_kind IN ({kinds}))")


def downgrade() -> None:
    op.execute("ALTER TABLE menus DROP COLUMN IF EXISTS meal_kind")
