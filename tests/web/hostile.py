"""Hostile input for the pages: values no page may fail on (a fixed corpus and Hypothesis strategies),
the controls of rendered forms as a browser would post them, and a rollback around each example so a
refused request can be checked for leaving no trace."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db

# Bounded and reproducible: the same examples on every run (YQ_HOSTILE_EXAMPLES raises the count).
EXAMPLES = int(os.environ.get("YQ_HOSTILE_EXAMPLES", "8"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))

DEEP = 10_000
CORPUS = (
    "\x00", "a\x00b", "\ud800", "x\udfffy", "9" * 25, "-" + "9" * 25, "99999999999999999999", "-1", "0", "1e309",
    "NaN", "Infinity", "0001-01-01", "0001-01-01T00:00", "0001-01-01T00:00:00+08:00", "9999-12-31",
    "9999-12-31T23:59", "9999-12-31T23:59:59-23:59", "2026-02-30", "%00", "[" * DEEP, '{"a":' * DEEP,
    "x" * 20_000, "'\"<>&;--", "\r\n\t", "../../etc/passwd", "\u202e\ufeff", "😀" * 10, "",
)
TABLES_NOT_COMPARED = {"process_definition", "alembic_version"}  # large, written only by deploys


def hostile_text() -> st.SearchStrategy[str]:
    """Text as an attacker types it: the corpus, any code point (NUL and lone surrogates included),
    huge integers, dates out of range and deep nesting."""
    return st.one_of(
        st.sampled_from(CORPUS),
        st.text(st.characters(exclude_categories=()), max_size=40),
        st.integers(-(10**30), 10**30).map(str),
        st.dates().map(lambda day: day.isoformat()),
        st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
        st.integers(1, DEEP).flatmap(lambda depth: st.sampled_from(["[" * depth, "a." * depth + "0"])),
    )


def hostile_name() -> st.SearchStrategy[str]:
    """A field or parameter name no page declares."""
    return st.one_of(st.sampled_from(["\x00", "_action", "csrf_token", "a." * 500 + "0", "rows.99999999999999999999.x",
                                      "\ud800", "__class__", "page[]"]),
                     st.text(st.characters(exclude_categories=()), min_size=1, max_size=20))


def short(value: object, limit: int = 300) -> str:
    """A failure message that fits on a screen (the values are up to 20,000 characters)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _quote(text: str) -> str:
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


def encode(pairs: list[tuple[str, str]]) -> bytes:
    """An urlencoded body or query string; lone surrogates go out as the bytes a broken client sends."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in pairs).encode("ascii")


def post_form(client: Any, url: str, pairs: list[tuple[str, str]]) -> Any:
    return client.post(url, data=encode(pairs), content_type="application/x-www-form-urlencoded", buffered=True)


# -- rendered forms -------------------------------------------------------------------------------------------


@dataclass
class Form:
    """One <form> of a page: where it goes and its controls as a browser would post them."""

    method: str
    action: str
    names: list[str] = field(default_factory=list)  # every control's name, buttons included
    pairs: list[tuple[str, str]] = field(default_factory=list)  # what submitting it unchanged sends
    submits: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type (text, date, number, select …)

    def baseline(self) -> list[tuple[str, str]]:
        """The unchanged form sent with its first named button (as pressing it does)."""
        return self.pairs + self.submits[:1]


class _FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self.links = page_url, [], []
        self._form: Form | None = None
        self._select: tuple[str, list[tuple[str, bool]], bool] | None = None
        self._textarea: list[str] | None = None
        self._textarea_name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action") or self.page_url)
        elif self._form is not None and "name" in a and "disabled" not in a:
            self._control(tag, a)
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))

    def _control(self, tag: str, a: dict[str, str]) -> None:
        form, name = self._form, a["name"]
        form.names.append(name)
        kind = a.get("type", "text").lower() if tag == "input" else tag
        form.kinds[name] = kind
        if tag == "button" or kind == "submit":
            form.submits.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = (name, [], "multiple" in a)
        elif tag == "textarea":
            self._textarea, self._textarea_name = [], name
        elif kind in ("checkbox", "radio"):
            if "checked" in a:
                form.pairs.append((name, a.get("value", "on")))
        elif kind != "file":
            form.pairs.append((name, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.pairs.append((self._textarea_name, "".join(self._textarea).removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options, multiple = self._select
            chosen = [value for value, selected in options if selected]
            if not chosen and not multiple and options:
                chosen = [options[0][0]]
            self._form.pairs.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def parse_page(html: str, page_url: str) -> tuple[list[Form], list[str]]:
    """The forms and link targets of a rendered page."""
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms, parser.links


def local_path(href: str) -> str | None:
    """The path (and query) of a link to this site, else None."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- rollback and no-change checks -----------------------------------------------------------------------------


@contextmanager
def rolled_back(client: Any) -> Iterator[None]:
    """Everything a request inside writes is undone afterwards, cookies (a logout, a language) included.

    The test's session runs in a savepoint of one connection (tests/conftest.py `db`); requests join it
    with savepoints of their own, so one more savepoint around them takes all their commits back.
    """
    session = db.session()
    connection = session.bind
    session.commit()  # the test's pending work stays in the outer transaction
    cookie = client.get_cookie("session")
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        session.rollback()
        if savepoint.is_active:
            savepoint.rollback()
        session.expire_all()
        if cookie is not None:
            client.set_cookie("session", cookie.value)
        else:
            client.delete_cookie("session")


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table (deployed specs aside), to compare before and after."""
    connection = db.session().bind
    digests = {}
    for table in db.metadata.sorted_tables:
        if table.name in TABLES_NOT_COMPARED:
            continue
        rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
        digests[table.name] = hashlib.sha256(repr(rows).encode("utf-8", "surrogatepass")).hexdigest()
    return digests


def changed_tables(before: dict[str, str], ignore: frozenset[str] = frozenset()) -> list[str]:
    after = fingerprint()
    return sorted(name for name in before if before[name] != after.get(name) and name not in ignore)


class Probe:
    """Sends requests whose every write is taken back, and checks that refused ones wrote nothing.

    Since each request is rolled back, the database before each one is the same: it is read once.
    Make a new probe when the database changed in between (a walk went on).
    """

    def __init__(self, client: Any):
        self.client = client
        self.before: dict[str, str] | None = None
        self.last = ""  # the last answer's text, for failure messages

    def send(self, request: Callable[[Any], Any], what: object, follow: tuple[str, ...] = ()) -> int:
        """Send one request; after a success, also open `follow` (and where it redirected): pages that show
        what was accepted must show it."""
        with rolled_back(self.client):
            if self.before is None:
                self.before = fingerprint()
            response = request(self.client)
            self.last = response.get_data().decode("utf-8", "replace")  # downloads (.xlsx, .docx) are binary
            assert response.status_code < 500, short(what)
            if response.status_code >= 400:
                assert changed_tables(self.before) == [], (response.status_code, short(what))
            elif follow:
                for url in (local_path(response.headers.get("Location", "")), *follow):
                    shown = self.client.get(url, buffered=True) if url else None
                    assert shown is None or shown.status_code < 500, (url, short(what))
            return response.status_code

    def get(self, url: str, pairs: list[tuple[str, str]]) -> int:
        query = encode(pairs).decode("ascii")
        return self.send(lambda client: client.get(url, query_string=query, buffered=True), (url, pairs))

    def post(self, url: str, pairs: list[tuple[str, str]], follow: tuple[str, ...] = ()) -> int:
        return self.send(lambda client: post_form(client, url, pairs), (url, pairs), follow)
