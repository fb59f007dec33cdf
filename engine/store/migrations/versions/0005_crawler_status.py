"""Crawler status: the figures the scheduler keeps per source, beside the ones 0001 created.

Rows written before this revision get `enabled` true and zero counters. The
server defaults exist only while the columns are added (an existing row needs a
value); they are dropped again, because the writer always sets every column and
`schema.py` declares none.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from engine.store.schema import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COUNTERS = {
    "items_seen": sa.BigInteger(),
    "runs": sa.BigInteger(),
    "consecutive_failures": sa.Integer(),
}
_ADDED = ("enabled", "message", "started_at", "finished_at", "last_duration_s", *_COUNTERS)


def upgrade() -> None:
    with op.batch_alter_table("crawler_status") as batch:
        batch.add_column(
            sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("message", sa.Text()))
        batch.add_column(sa.Column("started_at", UtcDateTime()))
        batch.add_column(sa.Column("finished_at", UtcDateTime()))
        batch.add_column(sa.Column("last_duration_s", sa.Float()))
        for name, kind in _COUNTERS.items():
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=sa.text("0")))
    with op.batch_alter_table("crawler_status") as batch:
        batch.alter_column("enabled", server_default=None, existing_type=sa.Boolean())
        for name, kind in _COUNTERS.items():
            batch.alter_column(name, server_default=None, existing_type=kind)


def downgrade() -> None:
    with op.batch_alter_table("crawler_status") as batch:
        for name in reversed(_ADDED):
            batch.drop_column(name)
