"""Mirror health: each site's mirrors with their last check and choice, and a short history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_mirrors",
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean()),
        sa.Column("latency_ms", sa.Float()),
        sa.Column("checked_at", UtcDateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("blocked", sa.Text()),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("site", "url", name="pk_site_mirrors"),
    )
    op.create_table(
        "mirror_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("checked_at", UtcDateTime(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Float()),
        sa.Column("status", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("blocked", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_mirror_checks"),
    )
    op.create_index(
        "ix_mirror_checks_site_url_checked_at", "mirror_checks", ["site", "url", "checked_at"]
    )


def downgrade() -> None:
    op.drop_table("mirror_checks")
    op.drop_table("site_mirrors")
