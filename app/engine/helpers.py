"""The registry of vetted, pure functions diagram expressions and scripts may call.

Every function takes and returns plain data (numbers, strings, lists, dicts). Date helpers work
on ISO-8601 strings with an offset; they never return datetime objects into task data.
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from app import clock
from app.engine import environment

MAX_ITEMS = 10_000
MAX_TEXT = 100_000
MAX_DURATION = timedelta(days=3660)
MAX_CYCLES = 1000  # repeats a cycle timer may ask for (R1000/PT1H)


def _bounded(items: Iterable[Any]) -> list[Any]:
    result = []
    for item in items:
        result.append(item)
        if len(result) > MAX_ITEMS:
            raise ValueError(f"more than {MAX_ITEMS} items")
    return result


def _range(*args: int) -> list[int]:
    if any(not isinstance(a, int) for a in args):
        raise ValueError("range() takes integers")
    values = builtins.range(*args)
    if len(values) > MAX_ITEMS:
        raise ValueError(f"range longer than {MAX_ITEMS}")
    return list(values)


def _join(separator: str, items: Iterable[Any]) -> str:
    parts = [str(item) for item in _bounded(items)]
    size = len(str(separator)) * max(len(parts) - 1, 0) + sum(len(part) for part in parts)
    if size > MAX_TEXT:
        raise ValueError(f"joined text longer than {MAX_TEXT} characters")
    return str(separator).join(parts)


def _sum(items: Iterable[Any], start: float = 0) -> float:
    values = _bounded(items)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in [*values, start]):
        raise ValueError("sum() adds numbers only")
    return sum(values, start)


def _get(container: dict | list, key: Any, default: Any = None) -> Any:
    if isinstance(container, dict):
        return container.get(key, default)
    if isinstance(container, list | tuple) and isinstance(key, int) and -len(container) <= key < len(container):
        return container[key]
    return default


def _round(value: float, digits: int = 0) -> float:
    return builtins.round(value, digits)


def parse_datetime(value: str) -> datetime:
    """Parse an ISO-8601 datetime that carries an offset (naive times are refused)."""
    if not isinstance(value, str):
        raise ValueError("a datetime must be an ISO-8601 string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime '{value}' has no UTC offset")
    return parsed


def parse_duration(value: str) -> timedelta:
    """Parse an ISO-8601 duration of days, hours, minutes and seconds (PnDTnHnMnS, PnW; seconds may
    have a fraction, PT0.2S)."""
    match = re.fullmatch(
        r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
        r"(?:(?P<seconds>\d+(?:[.,]\d{1,9})?)S)?)?",
        value if isinstance(value, str) else "",
    )
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"'{value}' is not an ISO-8601 duration such as PT30M or P1D")
    parts = {k: float(v.replace(",", ".")) if k == "seconds" else int(v) for k, v in match.groupdict().items() if v}
    try:
        result = timedelta(**parts)
    except OverflowError as exc:
        raise ValueError(f"duration '{value}' is longer than ten years") from exc
    if result > MAX_DURATION:
        raise ValueError(f"duration '{value}' is longer than ten years")
    return result


def _isoformat(value: datetime, like: datetime | None = None) -> str:
    tz = like.tzinfo if like is not None else clock.SHANGHAI
    return value.astimezone(tz).isoformat(timespec="seconds")


def now() -> str:
    """The current time in Asia/Shanghai, as ISO-8601 with offset."""
    return _isoformat(clock.now())


def add_duration(when: str, duration: str) -> str:
    """`when` plus an ISO duration, keeping `when`'s offset."""
    start = parse_datetime(when)
    return _isoformat(start + parse_duration(duration), start)


def subtract_duration(when: str, duration: str) -> str:
    """`when` minus an ISO duration, keeping `when`'s offset."""
    start = parse_datetime(when)
    return _isoformat(start - parse_duration(duration), start)


def earliest(*values: str) -> str:
    """The earliest of several ISO datetimes."""
    return min(values, key=parse_datetime)


def latest(*values: str) -> str:
    """The latest of several ISO datetimes."""
    return max(values, key=parse_datetime)


def hours_between(start: str, end: str) -> float:
    """Hours from `start` to `end` (negative when `end` is earlier)."""
    delta = parse_datetime(end) - parse_datetime(start)
    return delta.total_seconds() / 3600


def is_before(first: str, second: str) -> bool:
    """True when `first` is strictly earlier than `second`."""
    return parse_datetime(first) < parse_datetime(second)


def to_utc(when: str) -> str:
    """The same instant written in UTC."""
    return parse_datetime(when).astimezone(UTC).isoformat(timespec="seconds")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "sum": _sum,
    "abs": abs,
    "round": _round,
    "floor": math.floor,
    "ceil": math.ceil,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sorted": lambda items, reverse=False: sorted(_bounded(items), reverse=reverse),
    "list": lambda items=(): _bounded(items),
    "any": any,
    "all": all,
    "zip": lambda *seqs: _bounded(zip(*seqs, strict=False)),
    "range": _range,
    "enumerate": lambda items, start=0: _bounded(enumerate(items, start)),
    "join": _join,
    "get": _get,
    "keys": lambda d: _bounded(d.keys()),
    "values": lambda d: _bounded(d.values()),
    "items": lambda d: _bounded(d.items()),
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "strip": lambda s: str(s).strip(),
    "now": now,
    "add_duration": add_duration,
    "subtract_duration": subtract_duration,
    "earliest": earliest,
    "latest": latest,
    "hours_between": hours_between,
    "is_before": is_before,
    "to_utc": to_utc,
    "profile": environment.profile_value,
    "defined": lambda name: False,  # evaluated by the evaluator itself: is `name` in the task data?
}
