"""The end-to-end walk: the app as `make run` serves it (CSRF on, the demo accounts), driven page by page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app.extensions import db as _db
from app.operations import users
from tests.conftest import build_app
from tests.e2e.browser import Browser
from tests.e2e.walk import Walk


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Overrides the suite's app: forms must carry the CSRF token the page rendered, as in production."""
    application, drop = build_app(tmp_path_factory.mktemp("e2e"), WTF_CSRF_ENABLED=True, YQ_ENV="development",
                                  PROPAGATE_EXCEPTIONS=False)
    yield application
    with application.app_context():
        _db.engine.dispose()
    drop()


@pytest.fixture
def people(app: Flask, db: object) -> dict[str, Browser]:
    """A logged-in browser for each demo account (the accounts `make run` creates)."""
    accounts = users.seed_demo_users(must_change_password=False)
    browsers = {}
    for account in accounts:
        browser = Browser(app.test_client(), account.username, account.display_name)
        browser.login(account.username, account.password)
        browsers[account.username] = browser
    return browsers


@pytest.fixture(scope="session")
def stable_pages() -> dict[str, set[str]]:
    """Pages that do not change with an incident (the studio, the admin's settings) are read once per
    person in the whole session, not once per walk."""
    return {}


@pytest.fixture
def walk_factory(people: dict[str, Browser], fake_clock: object, stable_pages: dict[str, set[str]]):
    """A walk over the demo accounts with the given answers; its typed data is known to the checks."""

    def make(answers: dict, **options: object) -> Walk:
        walk = Walk(people, {spec: list(rounds) for spec, rounds in answers.items()}, fake_clock,
                    seen_stable=stable_pages, **options)
        walk.data.add(b.username for b in people.values())
        walk.data.add(["tests"])  # the note the suite's deploy was made with
        return walk

    return make
