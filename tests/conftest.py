"""Fixtures: a real database per test session (SQLite, or PostgreSQL when YQ_TEST_BACKEND=postgresql),
migrated with Alembic, with processes/ deployed; each test runs in a savepoint that is rolled back.

`committed_app` gives a fresh database without the savepoint, for tests that need real commits
from several threads (concurrency).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextvars import Token
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, text

from app import clock, create_app
from app.extensions import db as _db
from app.operations import catalog, deploy, profiles, users

ROOT = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("YQ_TEST_BACKEND", "sqlite")
PASSWORD = "correct horse battery staple"
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@dataclass
class FakeClock:
    """The controlled clock of the tests: stands still until advanced."""

    current: datetime = START

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.current += delta if delta is not None else timedelta(**kwargs)
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value


def _database_url(tmp: Path) -> tuple[str, object]:
    """A fresh database: a SQLite file, or a new schema in TEST_DATABASE_URL. Returns (url, drop)."""
    if BACKEND == "sqlite":
        path = tmp / f"test-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.exit("YQ_TEST_BACKEND=postgresql needs TEST_DATABASE_URL", returncode=2)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url, drop


def build_app(tmp: Path, **overrides: object) -> tuple[Flask, object]:
    """A migrated app on a fresh database, with roles, units and processes/ deployed."""
    catalog.forget_all()  # versions cached from another database of this process may have the same ids
    url, drop = _database_url(tmp)
    config = {
        "YQ_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp),
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "CONTROLLED_CLOCK": False,
        **overrides,
    }
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        users.ensure_roles_and_units()
        profiles.ensure_profiles()
        deploy.deploy_processes(*deploy.read_directory(ROOT / "processes", ROOT / "forms"), note="tests")
    return app, drop


# The longest tests (a whole incident walked page by page takes one to three minutes) are shared out
# first. `make test` runs pytest-xdist with --dist worksteal: each worker is first sent an equal run of
# the collection, and an idle worker steals the last half of the longest queue. So each worker's run
# starts with its share of the long tests and the short ones, at the end, are what gets stolen: the
# workers end together instead of one walking an incident alone at the end.
LONGEST = ("tests/e2e/test_county.py", "tests/e2e/test_incidents.py", "tests/e2e/", "tests/web/test_hostile_input.py",
           "tests/browser/test_night_shift.py", "tests/browser/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST) if item.nodeid.startswith(prefix)), len(LONGEST))

    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    ordered = sorted(items, key=rank)  # stable: within a rank, the collection's order
    long_ones = [item for item in ordered if rank(item) < len(LONGEST)]
    short_ones = [item for item in ordered if rank(item) == len(LONGEST)]
    runs: list[list[pytest.Item]] = []
    left = len(items)
    for worker in range(workers):  # the sizes worksteal sends: what is left, shared by the workers left
        size = left // (workers - worker)
        run = long_ones[worker::workers]
        runs.append(run + short_ones[:max(0, size - len(run))])
        short_ones = short_ones[max(0, size - len(run)):]
        left -= size
    runs[-1].extend(short_ones)
    items[:] = [item for run in runs for item in run]


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """argon2 at production cost takes ~100 ms per user; tests create hundreds of users."""
    original = users._HASHER
    users._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users._HASHER = original


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    """Every test runs on a pinned clock (09:00 Shanghai, 25 Nov 2026) that only moves when told."""
    fake = FakeClock()
    clock.set_source(fake)
    yield fake
    clock.set_source(None)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The session's app and database."""
    application, drop = build_app(tmp_path_factory.mktemp("db"))
    yield application
    with application.app_context():
        _db.engine.dispose()
    drop()


class BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session ignores `bind`; tests bind it to one connection in a transaction."""

    def get_bind(self, mapper: object = None, clause: object = None, bind: object = None, **kwargs: object) -> object:
        return bind or self.bind or super().get_bind(mapper, clause, bind, **kwargs)


@pytest.fixture
def db(app: Flask, fake_clock: FakeClock) -> Iterator[object]:
    """An app context whose session runs inside a transaction rolled back after the test."""
    catalog.forget_all()  # ids of versions deployed by an earlier, rolled-back test may come again
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        session = _db._make_scoped_session({"bind": connection, "join_transaction_mode": "create_savepoint",
                                            "class_": BoundSession})
        original = _db.session
        _db.session = session
        try:
            yield _db
        finally:
            session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """Runs each request in an app context of its own, as in production.

    The test keeps its own app context open (to query the database); without this, every request
    would share the test's `g` and Flask-Login would keep the first request's user. After each
    request the test's session is expired so it sees what the request committed.
    """

    def open(self, *args: object, **kwargs: object) -> object:
        # Hide the test's app context without popping it (popping would run its teardown and
        # close the test's session); the request then pushes an app context of its own.
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            if token.old_value is not Token.MISSING and token.old_value is not None:
                _db.session.expire_all()


@pytest.fixture
def client(app: Flask, db: object) -> object:
    """A test client sharing the rolled-back database."""
    return app.test_client()


@pytest.fixture
def committed_app(tmp_path: Path) -> Iterator[Flask]:
    """A fresh, really committed database for concurrency tests (dropped afterwards)."""
    application, drop = build_app(tmp_path)
    clock.set_source(FakeClock())
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    clock.set_source(None)
    drop()


_counter = iter(range(1, 10**9))


def make_user(roles: list[str], username: str | None = None, display_name: str | None = None,
              unit: str | None = None) -> object:
    """Create a user with roles (committed to the current test's savepoint)."""
    name = username or f"u{next(_counter)}_{'_'.join(roles)[:20]}"
    name = re.sub(r"[^a-z0-9_]", "_", name.lower())[:60]
    return users.create_user(name, display_name or f"测试用户 {name}", PASSWORD, roles, unit_code=unit,
                             must_change_password=False, check_strength=False)


@pytest.fixture
def user_factory(db: object) -> object:
    """make_user bound to the test's database."""
    return make_user


def login(client: object, user: object) -> object:
    """Log a user in through the real login form."""
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
