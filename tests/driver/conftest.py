"""Fixtures of the driver's tests: a real PostgreSQL server on loopback.

``$FTBENCH_TEST_POSTGRES_URL`` (a server URL; each test creates its own database there), or
else a throwaway cluster started once per test session with ``initdb``/``pg_ctl`` (Debian's
``postgresql`` package, which ``.ci/run`` installs).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, or in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    debian = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return debian[-1] if debian else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run as the ``postgres`` user there."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        runuser = None
    if runuser is None:
        pytest.skip("running as root without a 'postgres' user and runuser to start "
                    "PostgreSQL as; set FTBENCH_TEST_POSTGRES_URL or apt-get install postgresql")
    return [runuser, "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server on loopback, without a database name."""
    pytest.importorskip("psycopg2", reason="no PostgreSQL driver: pip install -e '.[postgres]'")
    given = os.environ.get("FTBENCH_TEST_POSTGRES_URL")
    if given:
        yield given.rstrip("/")
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl): apt-get install "
                    "postgresql, or set FTBENCH_TEST_POSTGRES_URL")
    folder = Path(tempfile.mkdtemp(prefix="ftbench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run(_as_server_user([initdb, "-D", str(data), "-A", "trust", "-U", "ftbench"]),
                   check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=100"
    subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l",
                                    str(folder / "log"), "-w", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql://ftbench@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server):
    """A function that creates a new, empty database on the server and returns its URL."""

    def new() -> str:
        import psycopg2

        name = f"ftbench_{uuid.uuid4().hex[:8]}"
        conn = psycopg2.connect(f"{postgres_server}/postgres")
        conn.autocommit = True
        conn.cursor().execute(f"CREATE DATABASE {name}")
        conn.close()
        return f"{postgres_server}/{name}"

    return new
