"""Workers that start together on a new PostgreSQL database all open it: its Optuna schema is
created by one of them at a time, in line behind an advisory lock.

Without the lock, a worker that lost the race to create a table, a type or
``alembic_version`` exited 2 ("relation \"alembic_version\" already exists"); CI saw it once
in the three-worker test of ``test_concurrency.py``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from benchmarks.driver.storage import SCHEMA_LOCK_KEY, make_storage

pytestmark = pytest.mark.slow

OPEN_AT = """\
import sys, time
from benchmarks.driver.storage import make_storage
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
try:
    make_storage(sys.argv[1])
except ValueError as error:
    print(error)
    sys.exit(2)
"""
"""A worker's first step: open the storage at an agreed instant, so that all race."""


def _tables(url: str) -> set[str]:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in cursor.fetchall()}


def test_a_worker_waits_in_line_while_another_creates_the_schema(postgres_database):
    import psycopg2

    url = postgres_database()
    holder = psycopg2.connect(url)
    holder.autocommit = True
    holder.cursor().execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
    opened = []
    worker = threading.Thread(target=lambda: opened.append(make_storage(url)), daemon=True)
    worker.start()
    worker.join(timeout=3)
    assert worker.is_alive() and not opened
    assert _tables(url) == set()  # it created nothing while it waited
    holder.close()  # the lock goes with the session
    worker.join(timeout=60)
    assert not worker.is_alive() and len(opened) == 1
    assert {"studies", "trials", "alembic_version", "version_info"} <= _tables(url)


@pytest.mark.parametrize("round_", range(2))
def test_eight_workers_opening_a_new_database_at_once_all_open_it(postgres_database, round_):
    url = postgres_database()
    start = time.time() + 15  # after every process has imported Optuna, on two cores
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT, url, str(start)],
                              stdout=subprocess.PIPE, text=True) for _ in range(8)]
    said = [(proc.wait(timeout=120), proc.stdout.read()) for proc in procs]
    assert [code for code, _ in said] == [0] * 8, [text for code, text in said if code]
