"""Request-level input guards: what no page may receive, refused before any handler runs, and the one
way pages read integers from a request (docs/security.md §3, §12, §13).

A refused request is a 400 (or 404 for an impossible id in the path) and changes nothing.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# Row ids and versions are INTEGER columns: 32-bit on PostgreSQL (SQLite's 64 bits hold them too).
DB_INT_MAX = 2**31 - 1
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` in a route matches only what fits a database integer; a larger number is a 404."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(*args, **kwargs)


class UnreadableJSON(ValueError):
    """JSON no page takes: nested too deeply, NaN/Infinity, a NUL or a lone surrogate (which no database
    can store) in a string."""


def parse_json(text: str | bytes) -> Any:
    """json.loads for text from a request; raises UnreadableJSON (a ValueError) where json.loads would
    crash with RecursionError or hand over what cannot be stored."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise UnreadableJSON(str(_l("JSON 内容嵌套过深。"))) from None
    if _holds_bad_text(value):
        raise UnreadableJSON(str(_l("JSON 中含有空字符或无效的 Unicode 字符。")))
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """Request bodies go through parse_json; what it refuses is a 400, even for get_json(silent=True)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return parse_json(s)
        except UnreadableJSON as exc:
            raise BadRequest(str(exc)) from None


# A surrogate code point left after decoding had no partner: it cannot be encoded as UTF-8.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _holds_bad_text(value: Any) -> bool:
    stack = [value]  # no recursion: the value may be nested as deep as json.loads allows
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD_TEXT.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse_constant(name: str) -> Any:
    raise UnreadableJSON(str(_l("JSON 中不能出现 %(name)s。", name=name)))


def init_app(app: Flask) -> None:
    """Install the guards: bounded integer routes, the strict JSON provider, the NUL check."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_nul)


def refuse_nul() -> None:
    """400 for a NUL byte in the path, a query parameter, a form field or an uploaded file's name.

    No text the platform stores or searches may hold one (PostgreSQL refuses it outright), so it is
    refused here once rather than by every page.
    """
    if "\x00" in request.path or _holds_nul(request.args) or (request.mimetype in FORM_TYPES and _form_holds_nul()):
        abort(400)


def _form_holds_nul() -> bool:
    return _holds_nul(request.form) or any("\x00" in (item.filename or "") for item in request.files.values())


def _holds_nul(values: MultiDict[str, str]) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def parse_day(text: str | None) -> date | None:
    """A calendar day typed as YYYY-MM-DD, or None when it is not one or not between 1900 and 2999
    (a filter on 0001-01-01 or 9999-12-31 means nothing, and one day more would overflow)."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def int_arg(values: MultiDict[str, str], name: str, default: int | None = None, *, low: int = 1,
            high: int = DB_INT_MAX) -> int | None:
    """An integer parameter of the query string or form: `default` when it is missing or not an
    integer, clamped into [low, high] otherwise (so `?page=99999999999999999999` is the last page
    allowed, not an overflow)."""
    parsed = values.get(name, type=_decimal)
    if parsed is None:
        return default
    return min(max(parsed, low), high)


def _decimal(value: str) -> int:
    text = value.strip()
    digits = text.lstrip("+-")
    if not (digits.isascii() and digits.isdigit()) or len(text) - len(digits) > 1:
        raise ValueError(value)
    sign = -1 if text.startswith("-") else 1
    return sign * (int(digits) if len(digits) <= 40 else 10**40)  # beyond any bound; no long parse
