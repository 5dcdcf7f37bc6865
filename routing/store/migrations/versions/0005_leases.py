"""Leases between the instances sharing a store (#17): the `active` lease names the one
instance that writes Asterisk's AstDB fail-safe entries and runs the follow-up round (R4
overdue callbacks, retention) while the others stand by. A lease runs out unless its holder
renews it; another instance takes it then.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,   -- the instance id (instances.id)
            until TEXT NOT NULL     -- ISO-8601 UTC: free to take after this
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS leases")
