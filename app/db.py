"""The unit of work: `transaction()` is the outermost transaction of a use case and the only commit.

SQLite runs in WAL mode and every write transaction starts with BEGIN IMMEDIATE, so two writers
serialise instead of deadlocking on a lock upgrade (docs/security.md §7).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.extensions import db

_ACTIVE = "yq_transaction_active"


class NestedTransactionError(RuntimeError):
    """transaction() was entered while another one is open: a use case called another use case."""


class UncommittedChangesError(RuntimeError):
    """The session holds changes made outside transaction(); they would be lost or half-written."""


@contextmanager
def transaction() -> Iterator[Session]:
    """Open the use case's transaction (BEGIN IMMEDIATE on SQLite), commit on success, else roll back."""
    session = db.session()
    if session.info.get(_ACTIVE):
        raise NestedTransactionError("transaction() cannot be nested")
    if session.new or session.dirty or session.deleted:
        raise UncommittedChangesError("changes were made outside transaction()")
    if session.in_transaction():
        # End the implicit read transaction (e.g. loading the current user) before writing; it
        # holds no changes (checked above), so committing it is the same as rolling it back. What it
        # read stays loaded (the user, read a moment ago): reloading it cost two statements per write,
        # and the rows a write must see fresh are locked and re-read with populate_existing.
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    session.info[_ACTIVE] = True
    try:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_ACTIVE, None)


def in_transaction() -> bool:
    """True inside transaction(); operations assert it."""
    return bool(db.session().info.get(_ACTIVE))


def is_sqlite(engine: Engine | None = None) -> bool:
    """True when the bound database is SQLite."""
    return (engine or db.engine).dialect.name == "sqlite"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's begin hook below issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def install_sqlite_hooks(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys and explicit BEGIN for a SQLite engine (idempotent)."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _sqlite_begin):
        return
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)


def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")
        cursor.execute("SET statement_timeout = '60s'")
    dbapi_connection.commit()


def init_app(app: Flask) -> None:
    """Bind the database and install the dialect hooks."""
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            install_sqlite_hooks(engine)
        elif engine.dialect.name == "postgresql" and not event.contains(engine, "connect", _postgres_connect):
            event.listen(engine, "connect", _postgres_connect)
