"""Fixtures shared by unit and end-to-end tests: a real PostgreSQL server for the shared store.

The server is Debian's PostgreSQL, started once per test session in a temporary folder as the
`postgres` user (PostgreSQL refuses to run as root) on a free loopback port, and stopped at
the end. Without it the PostgreSQL cases skip, except in CI (CI=true), where they fail."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from tests.ci import in_ci
from tests.ports import free_port


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"PostgreSQL is needed in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        _unavailable("Debian's postgresql package is not installed (scripts/bootstrap installs it)")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        _unavailable("starting PostgreSQL as the postgres user needs root")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed")
    bindir = os.path.dirname(binaries[-1])
    base = tempfile.mkdtemp(prefix="routing-pg-")
    os.chmod(base, 0o755)
    data = os.path.join(base, "data")
    os.mkdir(data)
    shutil.chown(data, "postgres", "postgres")
    port = free_port()

    def as_postgres(*argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, timeout=120)

    try:
        as_postgres(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        as_postgres(
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-w",
            "-l",
            os.path.join(data, "server.log"),
            "-o",
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        as_postgres(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "routing")
    except subprocess.CalledProcessError as exc:
        _unavailable(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')[-300:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/routing"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            as_postgres(f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """A store URL of each kind, empty for each test: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{os.fspath(tmp_path).lstrip('/')}/routing.db"
    return new_database(request.getfixturevalue("postgresql_url"))


@pytest.fixture
def postgresql_store(postgresql_url: str) -> str:
    """The URL of a new, empty PostgreSQL database for one test (two instances share it, #17)."""
    return new_database(postgresql_url)


def new_database(server: str) -> str:
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name
