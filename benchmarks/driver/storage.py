"""Optuna storages: a journal file on one machine, or a database URL shared by workers.

Opened here, so that a wrong path or URL fails in one line before any work.
"""

from __future__ import annotations

import time
from pathlib import Path

import optuna

from benchmarks.messages import first_line, masked_url

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


def _open_rdb(url: str) -> optuna.storages.RDBStorage:
    """``RDBStorage(url)``, tried again when workers starting together race to create its
    tables: PostgreSQL's ``CREATE TABLE IF NOT EXISTS`` is not atomic, and the loser gets a
    unique violation (on ``pg_type_typname_nsp_index``) although the tables then exist."""
    from sqlalchemy.exc import IntegrityError

    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except IntegrityError:
            if attempt == SCHEMA_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


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
