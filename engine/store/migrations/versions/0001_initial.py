"""Initial schema: torrents, files, sightings, metainfo, keys, crawler/feed state, outbox, counts.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "torrents",
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger()),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16)),
        sa.Column("category", sa.Integer()),
        sa.Column("classified_by", sa.Text()),
        sa.Column("year", sa.Integer()),
        sa.Column("season", sa.Integer()),
        sa.Column("episode", sa.Integer()),
        sa.Column("resolution", sa.String(16)),
        sa.Column("video_codec", sa.String(32)),
        sa.Column("audio", sa.String(64)),
        sa.Column("media_source", sa.String(32)),
        sa.Column("release_group", sa.String(128)),
        sa.Column("languages", sa.String(128)),
        sa.Column("imdb_id", sa.String(16)),
        sa.Column("tmdb_id", sa.Integer()),
        sa.Column("tvdb_id", sa.Integer()),
        sa.Column("published_at", UtcDateTime()),
        sa.Column("first_seen", UtcDateTime(), nullable=False),
        sa.Column("last_seen", UtcDateTime(), nullable=False),
        sa.Column("seeders", sa.Integer()),
        sa.Column("leechers", sa.Integer()),
        sa.Column("trackers", sa.Text()),
        sa.Column("description", sa.Text()),
        sa.PrimaryKeyConstraint("info_hash", name="pk_torrents"),
    )
    op.create_index("ix_torrents_last_seen", "torrents", ["last_seen"])
    op.create_index("ix_torrents_imdb_id", "torrents", ["imdb_id"])
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["info_hash"],
            ["torrents.info_hash"],
            name="fk_files_info_hash_torrents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
    )
    op.create_index("ix_files_info_hash", "files", ["info_hash"])
    op.create_table(
        "sightings",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("source_url", sa.Text()),
        sa.Column("seeders", sa.Integer()),
        sa.Column("leechers", sa.Integer()),
        sa.Column("first_seen", UtcDateTime(), nullable=False),
        sa.Column("seen_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["info_hash"],
            ["torrents.info_hash"],
            name="fk_sightings_info_hash_torrents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "info_hash", name="pk_sightings"),
    )
    op.create_index("ix_sightings_info_hash", "sightings", ["info_hash"])
    op.create_table(
        "metainfo",
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["info_hash"],
            ["torrents.info_hash"],
            name="fk_metainfo_info_hash_torrents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("info_hash", name="pk_metainfo"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_used_at", UtcDateTime()),
        sa.Column("revoked_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "crawler_status",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_heartbeat", UtcDateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("items_new", sa.BigInteger(), nullable=False),
        sa.Column("items_total", sa.BigInteger(), nullable=False),
        sa.Column("next_run_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("source", name="pk_crawler_status"),
    )
    op.create_table(
        "feed_state",
        sa.Column("feed", sa.String(128), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("last_seen_guid", sa.Text()),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("last_polled_at", UtcDateTime()),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("feed", name="pk_feed_state"),
    )
    op.create_table(
        "index_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("queued_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_index_outbox"),
    )
    op.create_table(
        "ingest_counts",
        sa.Column("minute", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "source", name="pk_ingest_counts"),
    )


def downgrade() -> None:
    for table in (
        "ingest_counts",
        "index_outbox",
        "feed_state",
        "crawler_status",
        "api_keys",
        "metainfo",
        "sightings",
        "files",
        "torrents",
    ):
        op.drop_table(table)
