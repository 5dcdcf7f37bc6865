"""The configs calls were planned under (#16): each version's text by its hash, so that
`routing explain --call` makes a call's plan again under the very config it had, and `routing
whatif` compares a new config with it. Written at each load of a config not seen before; a
config holds no secrets (they are in the environment or files) and no caller's number.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE IF NOT EXISTS config_versions (
            hash TEXT PRIMARY KEY,      -- routing.config.load.config_hash of the text
            loaded_at TEXT NOT NULL,    -- ISO-8601 UTC: when a service first loaded it
            text TEXT NOT NULL
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS config_versions")
