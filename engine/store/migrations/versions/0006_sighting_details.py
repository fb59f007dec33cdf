"""Remember when a site's detail page of a torrent was last read, and find sightings by URL.

`details_at` lets the HTML crawlers skip the detail pages they read recently (a
deep crawl of a busy site would otherwise fetch every detail page on every run);
the index on (source, source_url) finds the torrent behind a listing row that
shows only a link.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("details_at", UtcDateTime()))
    op.create_index("ix_sightings_source_source_url", "sightings", ["source", "source_url"])


def downgrade() -> None:
    op.drop_index("ix_sightings_source_source_url", table_name="sightings")
    with op.batch_alter_table("sightings") as batch:
        batch.drop_column("details_at")
