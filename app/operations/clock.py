"""The controlled clock (domain.md decision 13): pin, advance or reset the app's time outside production.

The setting lives in the database so every process (web, worker) sees the same time; each process
reads it at most once a second on a connection of its own.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import AppSetting, AuditEvent
from app.operations.errors import Forbidden

SETTING = "controlled_clock"
CACHE_SECONDS = 1.0


def _require_enabled() -> None:
    if not current_app.config.get("CONTROLLED_CLOCK"):
        raise Forbidden(str(_l("受控时钟仅在非生产环境可用。")))


def _store(value: dict[str, Any] | None, action: str) -> None:
    with transaction() as session:
        setting = session.get(AppSetting, SETTING)
        if value is None:
            if setting is not None:
                session.delete(setting)
        elif setting is None:
            session.add(AppSetting(key=SETTING, value=value))
        else:
            setting.value = value
        session.add(AuditEvent(action=action, detail=value or {}))
    _CACHE.clear()


def set_clock(when: datetime) -> datetime:
    """Pin the clock at `when` (it then stands still until advanced or reset)."""
    _require_enabled()
    if when.tzinfo is None:
        raise ValueError("the pinned time needs a time zone")
    _store({"pinned": when.astimezone(UTC).isoformat(), "offset": 0}, "clock_set")
    return clock.now()


def advance_clock(delta: timedelta) -> datetime:
    """Move the clock forward (pinned or running) by `delta`."""
    _require_enabled()
    current = read_setting() or {"pinned": None, "offset": 0}
    current["offset"] = current.get("offset", 0) + delta.total_seconds()
    _store(current, "clock_advanced")
    return clock.now()


def reset_clock() -> datetime:
    """Back to real time."""
    _require_enabled()
    _store(None, "clock_reset")
    return clock.now()


def read_setting() -> dict[str, Any] | None:
    """The stored clock setting, read on a connection of its own (never inside a use case's transaction)."""
    try:
        with db.engine.connect() as connection:
            row = connection.execute(select(AppSetting.value).where(AppSetting.key == SETTING)).first()
            connection.rollback()
    except DBAPIError:
        return None  # no schema yet (before the first migration): real time
    return row[0] if row else None


class _Cache:
    def __init__(self) -> None:
        self.lock = Lock()
        self.value: tuple[float, dict[str, Any] | None] | None = None

    def clear(self) -> None:
        with self.lock:
            self.value = None


_CACHE = _Cache()


def install(app: Flask) -> None:
    """Make app.clock read the controlled clock setting of this app's database."""
    if not app.config.get("CONTROLLED_CLOCK"):
        clock.set_source(None)
        return

    def source() -> datetime:
        real = datetime.now(UTC)
        with _CACHE.lock:
            cached = _CACHE.value
        if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
            with app.app_context():
                setting = read_setting()
            with _CACHE.lock:
                _CACHE.value = (time.monotonic(), setting)
        else:
            setting = cached[1]
        if not setting:
            return real
        base = datetime.fromisoformat(setting["pinned"]) if setting.get("pinned") else real
        return base + timedelta(seconds=setting.get("offset", 0))

    clock.set_source(source)
