"""People's calendars (#15): the last good sync of each person's calendar, so every instance
and command (`routing referral list`, `routing phones`, `routing explain`) sees what the
service read, and a restarted service keeps it while a feed cannot be read.

Only what the events mean is kept (start, end, reason, private): never a subject (R12).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE IF NOT EXISTS calendar_sync (
            person TEXT PRIMARY KEY,
            entries TEXT NOT NULL,      -- JSON: [{start, end, reason, private, all_day}]
            synced_at TEXT NOT NULL     -- ISO-8601 UTC: the last good read of the feed
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS calendar_sync")
