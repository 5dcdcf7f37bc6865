"""#12 item 7: the store's schema changes are Alembic migrations, applied in place when a store
is opened; a store written by release 0.1.0 (the last before migrations) is upgraded with
nothing lost, on SQLite and on PostgreSQL.

The fixtures were written by release 0.1.0's own code (commit a98e968) through its Store API:
`store-0.1.0.db` is its SQLite file, `store-0.1.0.postgresql.sql` the pg_dump of its
PostgreSQL database (see tests/fixtures/README.md)."""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from structlog.testing import capture_logs

from routing.policy.referral import Reason, Referral
from routing.store import Store, StoreError, open_store, schema
from tests.ci import in_ci

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
RELEASE_KEYS = {
    "sqlite": ("70fb32af", "b0378bc2"),  # installation key, AGI token: made by the release, kept
    "postgresql": ("df0d01b4", "d174fbae"),
}


def test_the_revision_list_is_alembics_chain() -> None:
    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    chain = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]
    assert tuple(reversed(chain)) == schema.REVISIONS
    assert chain[0] == schema.HEAD


def _release_sqlite(tmp_path: Path) -> str:
    shutil.copy(FIXTURES / "store-0.1.0.db", tmp_path / "routing.db")
    return f"sqlite:///{tmp_path}/routing.db"


def _release_postgresql(server: str) -> str:
    name = "rel_" + uuid.uuid4().hex[:12]
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + "/" + name
    psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    if not psql:
        if in_ci():
            pytest.fail("psql is needed in CI", pytrace=False)
        pytest.skip("psql is not installed")
    subprocess.run(
        [psql[-1], "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(FIXTURES / "store-0.1.0.postgresql.sql")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def release_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", _release_sqlite(tmp_path)
    return "postgresql", _release_postgresql(request.getfixturevalue("postgresql_url"))


def _revision(store: Store) -> str:
    return str(store._read("SELECT version_num FROM alembic_version")[0][0])


def test_a_store_written_by_release_0_1_0_is_upgraded_with_nothing_lost(release_store: tuple[str, str]) -> None:
    kind, url = release_store
    with capture_logs() as logs:
        store = open_store(url)
    assert [(e["event"], e["from_revision"], e["to_revision"]) for e in logs if e["event"] == "store.upgraded"] == [
        ("store.upgraded", "release 0.1.0", schema.HEAD)
    ]
    assert _revision(store) == schema.HEAD
    assert store.referrals() == [
        Referral("kc1", Reason.VACATION, date(2026, 12, 24)),
        Referral("soc1", Reason.MEETING, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
    ]
    done, late = store.callbacks()
    assert (done.status, done.attempts, done.done_by, done.caller) == ("done", 1, "5001", "0701234567")
    assert late.status == "open" and late.overdue_at is not None
    calls = store.calls_between(T0, datetime(2026, 12, 1, tzinfo=UTC))
    assert sorted((c.call_id, c.target, c.outcome and c.outcome.value, c.wait_s) for c in calls) == [
        ("c0", "soc1", "answered", 12.0),
        ("c1", "soc1", "cover", 31.5),
        ("c2", "soc", "voicemail", 33.0),
        ("c3", "kc1", "referral", 0.4),
        ("c9", "soc2", None, None),  # its call.end never came: still open
    ]
    assert len(store.events_between(T0, datetime(2026, 12, 1, tzinfo=UTC))) == 12
    assert [i.id for i in store.instances()] == ["i1"] and store.open_call_owners() == {"i1"}
    key, token = RELEASE_KEYS[kind]
    assert store.installation_key().hex().startswith(key) and store.agi_token().startswith(token)
    # The upgraded store takes new writes, the new table among them.
    new_id = store.add_callback(call_id="c20", caller="0701111111", target="kc1", at=T0)
    assert new_id > late.id
    assert store._read("SELECT COUNT(*) FROM daily_totals")[0][0] == 0
    assert not store._read("SELECT value FROM meta WHERE key = 'schema_version'")
    store.close()


def test_a_store_at_head_is_opened_without_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/routing.db"
    open_store(url).close()

    def no_upgrade(*args: object, **kwargs: object) -> None:
        raise AssertionError("a store at head was upgraded again")

    monkeypatch.setattr(schema, "upgrade", no_upgrade)
    open_store(url).close()


def test_a_store_from_a_newer_release_is_refused_with_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/routing.db"
    open_store(url).close()
    with sqlite3.connect(tmp_path / "routing.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(StoreError, match=r"revision 0099, which this release of routing does not know.*newest is"):
        open_store(url)


def test_a_store_from_before_overdue_existed_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE callbacks (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, caller TEXT NOT NULL,"
            " target TEXT NOT NULL, requested_at TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL"
            " DEFAULT 0, last_attempt_at TEXT, last_outcome TEXT, done_at TEXT, done_by TEXT);"
            "INSERT INTO callbacks (call_id, caller, target, requested_at, status)"
            f" VALUES ('1', '07', 'x', '{T0.isoformat()}', 'open');"
        )
    store = open_store(f"sqlite:///{path}")
    (old,) = store.callbacks()
    assert old.overdue_at is None and store.mark_overdue(old.id, at=T0)


def test_stores_opened_at_once_upgrade_once(store_url: str) -> None:
    """Two instances, or the service and CLI commands, starting together on an empty store:
    four processes open it at once; each gets a usable store, upgraded once."""
    script = "import sys; from routing.store import open_store; open_store(sys.argv[1]).close()"
    opening = [
        subprocess.Popen([sys.executable, "-c", script, store_url], stderr=subprocess.PIPE, text=True) for _ in range(4)
    ]
    failures = [p.stderr.read() if p.stderr else "" for p in opening if p.wait(timeout=60) != 0]
    assert failures == []
    store = open_store(store_url)
    assert _revision(store) == schema.HEAD
    assert store._read("SELECT COUNT(*) FROM alembic_version")[0][0] == 1
