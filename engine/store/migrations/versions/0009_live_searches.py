"""The query log of live searches: which source was asked what, when, and what it answered.

A live search fans a query out to the sites when the index is thin or stale; the
log tells the next search whether this query was asked recently (so it is not
asked again within the TTL) and shows, per source, results, speed and errors.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_searches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("searched_at", UtcDateTime(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_live_searches"),
    )
    op.create_index(
        "ix_live_searches_query_source_searched_at",
        "live_searches",
        ["query", "source", "searched_at"],
    )
    op.create_index("ix_live_searches_searched_at", "live_searches", ["searched_at"])


def downgrade() -> None:
    op.drop_table("live_searches")
