"""Feeds to poll: the ones from the settings and the ones added through the API, with their state.

`last_seen_guid` is where the next poll stops (an item is never ingested twice),
`etag` and `last_modified` make the next request conditional (a 304 costs no
parsing). A feed from the settings is written at start; one added through the API
lives only here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("name", sa.String(48), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("every_s", sa.Float(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_guid", sa.Text()),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("last_polled_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("name", name="pk_feeds"),
    )


def downgrade() -> None:
    op.drop_table("feeds")
