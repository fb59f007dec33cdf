"""Keep each source's own category on its sighting, so torrents can be re-classified later.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("category", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.drop_column("category")
