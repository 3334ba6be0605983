"""Browser tests: the app served on a real port (werkzeug, threaded) over a committed database, driven
by Playwright in Debian's Chromium (headless). `playwright install` cannot download browsers here:
`make test` installs the `chromium` package when it is missing (scripts/ensure_chromium.sh).

Set YQ_SKIP_BROWSER_TESTS=1 to leave these tests out on a machine without Chromium; they are never
skipped silently.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import clock
from app.extensions import db as _db
from app.operations import catalog
from tests.conftest import PASSWORD, ROOT, FakeClock, build_app

ARTIFACTS = Path(os.environ.get("YQ_ARTIFACTS", ROOT / "build" / "artifacts"))
# Milliseconds Playwright waits for a page, an element or a URL: a bound on a hang on a busy machine,
# not a latency requirement (each wait returns as soon as its condition holds).
PATIENCE_MS = 60_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("YQ_SKIP_BROWSER_TESTS") == "1":
        skip = pytest.mark.skip(reason="YQ_SKIP_BROWSER_TESTS=1")
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: run `make test` (it installs Debian's chromium) or "
                    "`apt-get install -y chromium`; set YQ_SKIP_BROWSER_TESTS=1 to leave browser tests out")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only browser tests need it

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, timeout=PATIENCE_MS,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield instance
        instance.close()


class LiveServer:
    """The app on 127.0.0.1:<port> in a thread; the test uses `app` (an app context) to set data up."""

    def __init__(self, app: Flask):
        self.app = app
        # Bound and listening when make_server returns: a request sent before the thread runs waits
        # in the socket's backlog instead of being refused, so there is no start-up to poll for.
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=PATIENCE_MS / 1000)
        self.server.server_close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh committed database with processes/ deployed, served for the browser; CSRF on."""
    app, drop = build_app(tmp_path, WTF_CSRF_ENABLED=True)
    clock.set_source(FakeClock())
    catalog.forget_all()
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        clock.set_source(None)
        catalog.forget_all()
        drop()


@pytest.fixture
def page(browser: object, live: LiveServer) -> Iterator[object]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(PATIENCE_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield tab
    context.close()
    assert errors == [], f"browser errors: {errors}"


def log_in(page: object, live: LiveServer, username: str) -> None:
    """Log in through the login form."""
    page.goto(f"{live.url}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('main form[action="/login"] button[type="submit"]')  # not the header's language button
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: object, name: str) -> None:
    """Keep a screenshot as a test artefact (build/artifacts, or YQ_ARTIFACTS)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
