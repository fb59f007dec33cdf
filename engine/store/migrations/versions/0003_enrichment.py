"""Metadata enrichment: external ids on torrents, a lookup queue and a lookup cache.

The queue starts with every stored torrent of a kind that can be looked up, so a
database from before enrichment gets enriched too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LOOKED_UP_KINDS = ("movie", "tv", "anime", "music")


def upgrade() -> None:
    with op.batch_alter_table("torrents") as batch:
        batch.add_column(sa.Column("anilist_id", sa.Integer()))
        batch.add_column(sa.Column("mal_id", sa.Integer()))
        batch.add_column(sa.Column("musicbrainz_id", sa.String(36)))
        batch.add_column(sa.Column("enriched_by", sa.Text()))
    op.create_table(
        "enrich_queue",
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("queued_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["info_hash"],
            ["torrents.info_hash"],
            name="fk_enrich_queue_info_hash_torrents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("info_hash", name="pk_enrich_queue"),
    )
    op.create_index("ix_enrich_queue_queued_at", "enrich_queue", ["queued_at"])
    op.create_table(
        "enrich_cache",
        sa.Column("service", sa.String(16), nullable=False),
        sa.Column("lookup_key", sa.String(512), nullable=False),
        sa.Column("match", sa.Text()),
        sa.Column("fetched_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("service", "lookup_key", name="pk_enrich_cache"),
    )
    torrents = sa.table(
        "torrents", sa.column("info_hash"), sa.column("last_seen"), sa.column("kind")
    )
    queue = sa.table("enrich_queue", sa.column("info_hash"), sa.column("queued_at"))
    op.execute(
        queue.insert().from_select(
            ["info_hash", "queued_at"],
            sa.select(torrents.c.info_hash, torrents.c.last_seen).where(
                torrents.c.kind.in_(_LOOKED_UP_KINDS)
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("enrich_cache")
    op.drop_table("enrich_queue")
    with op.batch_alter_table("torrents") as batch:
        for column in ("enriched_by", "musicbrainz_id", "mal_id", "anilist_id"):
            batch.drop_column(column)
