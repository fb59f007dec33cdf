"""Per-source state kept between runs: a JSON object per source.

The Bitmagnet bridge keeps its watermark (the newest torrent it has read) and the
cursor of an unfinished pass here, so a restart resumes instead of starting over;
the DHT crawler keeps its last figures, so `minato dht status` can show them when
no server runs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_state",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_source_state"),
    )


def downgrade() -> None:
    op.drop_table("source_state")
