"""Conversions between typed task data, what a browser sends, and what a page shows."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DATA_BYTES = 256 * 1024

_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?")
_OFFSET_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER_RE = re.compile(r"[+-]?[0-9]{1,15}")
TRUE_WORDS = frozenset({"true", "1", "on", "yes", "是"})
FALSE_WORDS = frozenset({"false", "0", "off", "no", "否"})


def is_blank(value: Any) -> bool:
    """True for what a form treats as not answered: None, blank strings, empty lists and dicts."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict | tuple) and not value


def data_size(data: Any) -> int:
    """Bytes of the UTF-8 JSON encoding of `data`; data too deep to encode counts as too large."""
    try:
        return len(json.dumps(data, ensure_ascii=False, default=str).encode())
    except RecursionError:
        return MAX_DATA_BYTES + 1


def parse_integer(text: str) -> int | None:
    """An integer from user input; full-width digits and thousands separators are accepted."""
    text = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    return int(text) if _INTEGER_RE.fullmatch(text) else None


def parse_boolean(text: str) -> bool | None:
    """True/False from a radio or checkbox value, None when it is neither."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    return False if word in FALSE_WORDS else None


def parse_datetime(text: str) -> str | None:
    """ISO-8601 with +08:00 from a datetime-local value (read as Asia/Shanghai) or an offset time."""
    text = text.strip()
    if not _DATETIME_RE.fullmatch(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(SHANGHAI).isoformat(timespec="seconds")


def parse_date(text: str) -> str | None:
    """A YYYY-MM-DD date, None when the text is not a real calendar date."""
    text = text.strip()
    if not _DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def is_offset_datetime(text: str) -> bool:
    """True for an RFC 3339 date-time string (an offset is required)."""
    if not _OFFSET_DATETIME_RE.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def to_local_input(value: Any) -> str:
    """An ISO datetime as `YYYY-MM-DDTHH:MM` in Asia/Shanghai, for `<input type="datetime-local">`."""
    local = _local(value)
    return local.strftime("%Y-%m-%dT%H:%M") if local else _text(value)


def to_local_display(value: Any) -> str:
    """An ISO datetime as `YYYY-MM-DD HH:MM` in Asia/Shanghai, for reading."""
    local = _local(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else _text(value)


def _local(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATETIME_RE.fullmatch(value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(SHANGHAI)


def _text(value: Any) -> str:
    return "" if value is None else str(value)
