"""Indexes on the TMDb and TVDB ids of torrents: id searches and id-to-name lookups use them.

Sonarr searches by TVDB id and Radarr by TMDb id; live search turns such ids into a
show's or movie's name from the torrents that carry them. Without these indexes
(the IMDb id had one from the start) each such search read the whole table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_torrents_tmdb_id", "torrents", ["tmdb_id"])
    op.create_index("ix_torrents_tvdb_id", "torrents", ["tvdb_id"])


def downgrade() -> None:
    op.drop_index("ix_torrents_tvdb_id", table_name="torrents")
    op.drop_index("ix_torrents_tmdb_id", table_name="torrents")
