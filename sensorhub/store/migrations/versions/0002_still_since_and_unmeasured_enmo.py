"""live state keeps when the device last stopped moving; epochs may lack ENMO

``live_state.still_since_at``: start of the device's current motionless run (None while it
moves), so the dashboard can say a band may have been taken off. ``epoch.enmo_mg`` becomes
nullable: a step-only device's epochs have no acceleration, which was stored as 0.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("live_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("still_since_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("epoch", schema=None) as batch_op:
        batch_op.alter_column("enmo_mg", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("epoch", schema=None) as batch_op:
        batch_op.execute("UPDATE epoch SET enmo_mg = 0 WHERE enmo_mg IS NULL")
        batch_op.alter_column("enmo_mg", existing_type=sa.Float(), nullable=False)
    with op.batch_alter_table("live_state", schema=None) as batch_op:
        batch_op.drop_column("still_since_at")
