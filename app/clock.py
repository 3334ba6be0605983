"""The one clock every deadline computation and timer reads (domain.md decision 13).

Production uses the real UTC time. Outside production an admin may pin or shift it; the app
installs a source that reads that setting, and tests install their own source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _real_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _real_now


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    value = _source()
    if value.tzinfo is None:
        raise ValueError("clock source returned a naive datetime")
    return value.astimezone(UTC)


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the clock source; None restores the real clock."""
    global _source  # noqa: PLW0603 - the clock is process-wide by design
    _source = source or _real_now


def shifted(offset: timedelta, pinned: datetime | None = None) -> Callable[[], datetime]:
    """A source that returns `pinned` (if given) or the real time, plus `offset`."""

    def source() -> datetime:
        return (pinned or _real_now()) + offset

    return source


def local(value: datetime) -> datetime:
    """Convert an aware datetime to Asia/Shanghai for display."""
    return value.astimezone(SHANGHAI)


def parse_aware(value: object) -> datetime | None:
    """An ISO-8601 datetime that carries an offset (or an aware datetime), else None — never naive."""
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if not isinstance(value, str) or not value or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
