"""Reports over years of calls (#12): an index for counting a kind of event over a period, one
that lets SQLite aggregate the calls in one ordered pass, and the daily totals that keep a
report's figures after the raw calls are pruned (retention, R12).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS call_events_kind_at ON call_events (event, at)")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite sorts to GROUP BY unless an index gives the groups' order (9.7 s against 1.6 s
        # over 5 million calls); covering, so the pass never visits the table. Its columns and
        # its expression are the report's GROUP BY exactly (Store.tally_between).
        # PostgreSQL hash-aggregates and needs no such index.
        # The seconds: base.SECONDS_COUNTED, rounded as SqliteStore._whole_seconds does (written out
        # here, as a migration must not change when the code does).
        counted = "CASE WHEN outcome IS NULL OR outcome = 'abandoned' THEN duration_s ELSE wait_s END"
        seconds = f"CAST(({counted}) + 0.5 AS INTEGER)"
        op.execute(
            "CREATE INDEX IF NOT EXISTS calls_report ON calls"
            f" (unit, target_kind, target, outcome, answered_step, {seconds}, wait_s, duration_s, started_at)"
        )
    # One row per local day and counted thing; see routing/store/tally.py for what the columns hold.
    op.execute(
        """CREATE TABLE IF NOT EXISTS daily_totals (
            day TEXT NOT NULL,
            unit TEXT NOT NULL,
            target_kind TEXT NOT NULL,
            target TEXT NOT NULL,
            measure TEXT NOT NULL,
            key TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (day, unit, target_kind, target, measure, key)
        )"""
    )
    # The schema's version is Alembic's now (table alembic_version).
    op.execute("DELETE FROM meta WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS daily_totals")
    op.execute("DROP INDEX IF EXISTS calls_report")
    op.execute("DROP INDEX IF EXISTS call_events_kind_at")
    op.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1') ON CONFLICT (key) DO NOTHING")
