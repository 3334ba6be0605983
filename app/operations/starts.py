"""Starting processes by hand or from another system: which processes a person may start, and a start
that honours an idempotency key (a repeat of the same key gets the first instance, never a second).

The pages start the same way: an incident by anybody signed in, a risk assessment by its owners; the
other processes start from messages (leads) or timers (the monthly analysis), never by hand.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import transaction
from app.extensions import db
from app.models import ApiIdempotency, ProcessDefinition, ProcessInstance, User
from app.operations import instances
from app.operations.errors import Conflict, Invalid, NotFound

# process key → roles that may start it (None: anybody signed in), as the pages allow.
STARTABLE: dict[str, tuple[str, ...] | None] = {
    "yq_incident": None,
    "yq_risk_assessment": ("risk_owner", "admin"),
}
MAX_KEY = 200


def may_start(process_key: str, user: User) -> bool:
    if process_key not in STARTABLE:
        return False
    roles = STARTABLE[process_key]
    return roles is None or user.has_role(*roles)


def list_processes() -> list[ProcessDefinition]:
    """Every deployed version, newest version first within each process."""
    return list(db.session.scalars(select(ProcessDefinition)
                                   .order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())))


@dataclass(frozen=True)
class Started:
    instance: ProcessInstance
    created: bool


def _begin(session: Any, process_key: str, actor: User) -> ProcessInstance:
    instances.latest_definition(session, process_key)  # NotFound before anything is written
    if process_key == instances.INCIDENT_PROCESS:
        return instances._start_incident(session, actor, {})
    return instances._start(session, process_key, actor, {})


def start_process(process_key: str, actor: User, *, token_id: int | None = None,
                  key: str | None = None) -> Started:
    """Start `process_key` as `actor`; with `key`, a repeat (even a concurrent one) returns the first."""
    if not may_start(process_key, actor):
        raise NotFound(str(_l("流程不存在或您不能启动它。")))
    if key is not None and (not key.strip() or len(key) > MAX_KEY):
        raise Invalid(str(_l("Idempotency-Key 须为 1 到 %(max)s 个字符。", max=MAX_KEY)),
                      {"Idempotency-Key": [str(_l("Idempotency-Key 须为 1 到 %(max)s 个字符。", max=MAX_KEY))]})
    if key is None or token_id is None:
        with transaction() as session:
            return Started(_begin(session, process_key, actor), True)
    fingerprint = hashlib.sha256(json.dumps(["start", process_key]).encode()).hexdigest()
    try:
        with transaction() as session:
            earlier = _earlier(session, token_id, key, fingerprint)
            if earlier is not None:
                return Started(earlier, False)
            mark = ApiIdempotency(token_id=token_id, key=key, fingerprint=fingerprint)
            session.add(mark)
            session.flush()  # PostgreSQL: a concurrent twin waits here on the unique key, then fails
            instance = _begin(session, process_key, actor)
            mark.instance_id = instance.id
            return Started(instance, True)
    except IntegrityError:
        # The twin committed first: its instance is the answer (nothing of this attempt was kept).
        earlier = _earlier(db.session, token_id, key, fingerprint)
        if earlier is None:
            raise
        return Started(earlier, False)


def _earlier(session: Any, token_id: int, key: str, fingerprint: str) -> ProcessInstance | None:
    mark = session.scalar(select(ApiIdempotency).where(ApiIdempotency.token_id == token_id,
                                                       ApiIdempotency.key == key))
    if mark is None:
        return None
    if mark.fingerprint != fingerprint:
        raise Conflict(str(_l("这个 Idempotency-Key 已用于另一个请求。")))
    instance = session.get(ProcessInstance, mark.instance_id) if mark.instance_id else None
    if instance is None:
        raise Conflict(str(_l("这个 Idempotency-Key 的实例已不存在。")))
    return instance
