"""Benchmark (#12 items 5 and 10): `routing report` over a year of stored calls.

    .venv/bin/python bench/reports.py [--calls 1000000 5000000] [--people 1010]
        [--postgresql postgresql://user@host/db] [--folder DIR] [--runs 2]

For each size, fills a store with that many calls spread over the year 2025-12-01 – 2026-12-01
(people and units as `bench/scale.py` generates them; outcomes, waits and the events the report
counts in plausible shares: 3 % of calls with a policy violation, 0.5 % a message not played,
2 % a mobile forward, 1 % a private call, 0.2 % a blocked premium-rate number, 0.5 % a callback),
then times `routing report --format json` over the whole year in its own process: wall seconds
and peak RSS (ru_maxrss of the child). SQLite always; PostgreSQL too when a server's URL is
given (each size in a database of its own, created and dropped here).

The store is made by the product (`open_store`: its migrations, its indexes); the rows are
written with the driver's bulk insert, which is what makes 5 million calls take a minute and not
an hour. The store's `call_events` holds only the counted kinds: the report reads events
through the (event, at) index, so the others would cost disk, not report time.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale import UNIT_SIZE, config_text, measured
from routing.store import open_store

YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)
YEAR_S = 365 * 86400
OUTCOMES = ["answered"] * 60 + ["cover"] * 10 + ["voicemail"] * 15 + ["referral"] * 5 + ["callback"] * 3
OUTCOMES += ["abandoned"] * 7


def _calls(n: int, people: int, seed: int) -> Iterator[tuple[object, ...]]:
    rnd = random.Random(seed)
    for i in range(n):
        at = (YEAR_START + timedelta(seconds=YEAR_S * i / n)).isoformat()
        person = rnd.randrange(people)
        unit = f"u{person // UNIT_SIZE}"
        kind = "person" if rnd.random() < 0.8 else "unit"
        target = f"p{person}" if kind == "person" else unit
        outcome = rnd.choice(OUTCOMES)
        wait = None if outcome == "abandoned" else round(rnd.uniform(0, 35), 3)
        step = {"answered": kind, "cover": "cover"}.get(outcome)
        yield (f"c{i}", at, "x", kind, target, unit, None, 0, "open", target if step else None, step,
               2 if step else None, outcome, wait, round(rnd.uniform(5, 300), 3), at, 0)  # fmt: skip


def _events(n: int, people: int, seed: int) -> Iterator[tuple[object, ...]]:
    rnd = random.Random(seed + 1)
    kinds = [
        (0.03, "policy.violation", lambda p: '{"rule": "R1", "detail": "rang past the limit"}'),
        (0.005, "prompt.not_played", lambda p: '{"step": "referral", "status": "FAILED"}'),
        (0.02, "mobile.forward", lambda p: f'{{"person": "p{p}", "rules": ["R14"]}}'),
        (0.01, "call.private", lambda p: f'{{"extension": "{200000 + p}", "dialled": "h"}}'),
        (0.002, "outbound.blocked", lambda p: f'{{"extension": "{200000 + p}", "rule": "R18", "premium_rate": true}}'),
    ]
    for i in range(n):
        at = (YEAR_START + timedelta(seconds=YEAR_S * i / n)).isoformat()
        for share, name, fields in kinds:
            if rnd.random() < share:
                yield (at, f"c{i}" if name in ("policy.violation", "prompt.not_played") else None, name,
                       fields(rnd.randrange(people)))  # fmt: skip


def _callbacks(n: int, people: int, seed: int) -> Iterator[tuple[object, ...]]:
    rnd = random.Random(seed + 2)
    for i in range(int(n * 0.005)):
        at = YEAR_START + timedelta(seconds=rnd.uniform(0, YEAR_S))
        done = rnd.random() < 0.95
        yield (f"c{i}", "0701234567", f"p{rnd.randrange(people)}", at.isoformat(), "done" if done else "open",
               (at + timedelta(hours=rnd.uniform(0.1, 8))).isoformat() if done else None)  # fmt: skip


CALLS_SQL = "INSERT INTO calls VALUES (" + ", ".join(["?"] * 17) + ")"
EVENTS_SQL = "INSERT INTO call_events (at, call_id, event, fields) VALUES (?, ?, ?, ?)"
CALLBACKS_SQL = (
    "INSERT INTO callbacks (call_id, caller, target, requested_at, status, done_at) VALUES (?, ?, ?, ?, ?, ?)"
)


def fill_sqlite(path: Path, calls: int, people: int) -> None:
    import sqlite3

    open_store(f"sqlite:///{path}").close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    index = db.execute("SELECT sql FROM sqlite_master WHERE name = 'calls_report'").fetchone()[0]
    db.execute("DROP INDEX calls_report")  # made again after the rows: the same index, quicker
    db.executemany(CALLS_SQL, _calls(calls, people, 1))
    db.executemany(EVENTS_SQL, _events(calls, people, 1))
    db.executemany(CALLBACKS_SQL, _callbacks(calls, people, 1))
    db.execute(index)
    db.commit()
    db.execute("ANALYZE")
    db.close()


def fill_postgresql(url: str, calls: int, people: int) -> None:
    import psycopg

    open_store(url).close()
    with psycopg.connect(url) as db:
        with db.cursor() as cursor:
            for table, columns, rows in (
                ("calls", None, _calls(calls, people, 1)),
                ("call_events", "(at, call_id, event, fields)", _events(calls, people, 1)),
                ("callbacks", "(call_id, caller, target, requested_at, status, done_at)", _callbacks(calls, people, 1)),
            ):
                with cursor.copy(f"COPY {table} {columns or ''} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        db.execute("ANALYZE")


def report_once(config: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `routing report` over the year, as JSON."""
    argv = ["report", "--config", str(config), "--from", "2025-12-01", "--to", "2026-12-01", "--format", "json"]
    return measured(argv, "report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--people", type=int, default=1010)
    parser.add_argument("--postgresql", metavar="URL", help="a server to make the PostgreSQL stores on")
    parser.add_argument("--folder", help="where the SQLite stores go (default: a temporary folder)")
    parser.add_argument("--runs", type=int, default=2, help="reports per store; the best is printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="routing-reports-", dir=args.folder) as folder:
        print(f"{'store':>10} {'calls':>9} {'people':>7} {'fill s':>7} {'report s':>9} {'peak RSS MB':>12}", flush=True)
        for calls in args.calls:
            stores: list[tuple[str, str, object]] = [("sqlite", f"sqlite:///{folder}/calls-{calls}.db", None)]
            if args.postgresql:
                name = f"bench_{calls}"
                stores.append(("postgresql", args.postgresql.rsplit("/", 1)[0] + "/" + name, name))
            for kind, url, database in stores:
                if database is not None:
                    import psycopg

                    with psycopg.connect(args.postgresql, autocommit=True) as admin:
                        admin.execute(f"DROP DATABASE IF EXISTS {database}")
                        admin.execute(f"CREATE DATABASE {database}")
                began = time.perf_counter()
                if kind == "sqlite":
                    fill_sqlite(Path(url[len("sqlite://") :]), calls, args.people)
                else:
                    fill_postgresql(url, calls, args.people)
                filled = time.perf_counter() - began
                config = Path(folder) / f"{kind}-{calls}.yaml"
                config.write_text(config_text(args.people) + f"store:\n  url: {url}\n", encoding="utf-8")
                best = min((report_once(config) for _ in range(args.runs)), key=lambda result: result[0])
                print(
                    f"{kind:>10} {calls:>9} {args.people:>7} {filled:>7.0f} {best[0]:>9.2f} {best[1]:>12.0f}",
                    flush=True,
                )
                if kind == "sqlite":
                    Path(url[len("sqlite://") :]).unlink()
                elif database is not None:
                    with psycopg.connect(args.postgresql, autocommit=True) as admin:
                        admin.execute(f"DROP DATABASE IF EXISTS {database}")


if __name__ == "__main__":
    main()
