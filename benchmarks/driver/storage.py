"""Optuna storages: a journal file on one machine, or a database URL shared by workers.

Opened here, so that a wrong path or URL fails in one line before any work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from benchmarks.messages import first_line, masked_url

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError

Storage = optuna.storages.BaseStorage | str
"""An Optuna storage object, or a database URL Optuna opens itself."""


def make_storage(spec: str) -> Storage:
    """An Optuna storage from a URL (``sqlite:///``, ``postgresql://``, ...) or a journal path.

    A path ending in ``.journal`` is an append-only journal file: safe for several processes
    on one machine, and much faster than SQLite for the many small writes of pruning. A URL
    is opened (and its schema created) here, so a wrong one fails before any work.

    Raises:
        ValueError: one line, for a missing driver, an unreachable server, a bad URL, or a
            spec that is neither a journal path nor a URL (a folder, say).
    """
    if spec.endswith(".journal"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        try:
            return JournalStorage(JournalFileBackend(spec))
        except OSError as exc:
            raise ValueError(f"storage '{spec}': its folder must exist and be writable, but "
                             f"{exc.strerror or exc}. Create the folder or pick another "
                             "path.") from None
        except Exception as exc:  # noqa: BLE001  (replaying a corrupt log raises many types)
            raise ValueError(f"storage '{spec}': it must be an Optuna journal, but replaying it "
                             f"failed ({type(exc).__name__}: {exc}). Move the file away to start "
                             "the studies afresh, or pass --storage another path.") from None
    if "://" not in spec:
        raise ValueError(_neither(spec))
    shown = masked_url(spec)
    try:
        return _open_rdb(_with_driver(spec))
    except ImportError:
        raise ValueError(f"storage '{shown}': the database driver for it must be installed, "
                         "but it is not. pip install -e '.[postgres]' (PostgreSQL) or PyMySQL "
                         "(MySQL).") from None
    except Exception as exc:  # noqa: BLE001  (SQLAlchemy raises many types for bad URLs)
        raise ValueError(f"storage '{shown}': it must be reachable, but opening it failed "
                         f"({first_line(exc)}). Check the URL, the server and the credentials, "
                         "or use a .journal file on one machine.") from None


def _neither(spec: str) -> str:
    """The one line for a storage that is neither a journal path nor a URL."""
    if Path(spec).is_dir():
        got, fix = "a folder", f"Pass a journal file in it, e.g. {Path(spec) / 'optuna.journal'}"
    else:
        got, fix = "a path without that ending", "End the path in .journal"
    return (f"storage '{spec}': it must be a journal file path (ending in .journal) or a "
            f"database URL (sqlite:///optuna.db, postgresql://user@host/db), but got {got}. "
            f"{fix}, or pass a database URL (sqlite:///PATH for a database file).")


SCHEMA_ATTEMPTS = 5
"""Tries at opening a database storage whose schema other workers create at the same time."""

SCHEMA_LOCK_KEY = 0x6674_6265_6E63_68
"""The PostgreSQL advisory lock that workers take, one at a time, to open (and create) the
Optuna schema of a database: any bigint that no other program on that database locks."""


def _open_rdb(url: str) -> optuna.storages.RDBStorage:
    """``RDBStorage(url)``, its schema created by one worker at a time.

    Workers started together on a new database race to create its tables, types and
    ``alembic_version``: neither Optuna nor PostgreSQL's ``CREATE ... IF NOT EXISTS`` makes
    that atomic, and the loser fails although the schema then exists. On PostgreSQL an
    advisory lock puts the workers in line; elsewhere (MySQL) a lost race is tried again.
    """
    with _schema_lock(url):
        return _open_tried_again(url)


@contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """On PostgreSQL, hold the session advisory lock :data:`SCHEMA_LOCK_KEY` meanwhile."""
    if not url.startswith("postgresql"):
        yield
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            lock = {"key": SCHEMA_LOCK_KEY}
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), lock)
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), lock)
    finally:
        engine.dispose()


def _open_tried_again(url: str) -> optuna.storages.RDBStorage:
    """``RDBStorage(url)``, tried again after a lost race to create its schema."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except DBAPIError as exc:
            if attempt == SCHEMA_ATTEMPTS or not _lost_schema_race(exc):
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def _lost_schema_race(exc: DBAPIError) -> bool:
    """Whether ``exc`` says another process created a table, type or row first: a unique
    violation (PostgreSQL's ``pg_type_typname_nsp_index``, the version row), or "already
    exists" (PostgreSQL's DuplicateTable and DuplicateObject, MySQL's error 1050)."""
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError) or "already exists" in str(exc.orig)


def _with_driver(url: str) -> str:
    """``url`` naming the installed PostgreSQL driver when it names none.

    SQLAlchemy's default driver for ``postgresql://`` is psycopg2 before 2.1 and psycopg (3)
    since; either works, so the one installed is named.
    """
    import importlib.util

    if not url.startswith("postgresql://"):
        return url
    for module, driver in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
        if importlib.util.find_spec(module) is not None:
            return url.replace("postgresql://", f"postgresql+{driver}://", 1)
    return url
