"""Starting processes by hand or from another system: which processes a person may start, and a start
that honours an idempotency key (a repeat of the same key gets the first instance, never a second).

The pages start the same way: an incident by anybody signed in, a risk assessment by its owners; the
other processes start from messages (leads) or timers (the monthly analysis), never by hand.

A start may carry start data, checked against the process's start form as a page checks its form: an
incident takes a lead's fields (the lead form of /alerts/new) and opens with them as triage's 登记为新舆情
does, so its registration task shows them filled in; a process without a start form takes none.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import forms
from app.db import transaction
from app.extensions import db
from app.models import ApiIdempotency, ProcessDefinition, ProcessInstance, User
from app.operations import instances, intake, tasks
from app.operations.errors import Conflict, Forbidden, Invalid, NotFound

# process key → roles that may start it (None: anybody signed in), as the pages allow.
STARTABLE: dict[str, tuple[str, ...] | None] = {
    "yq_incident": None,
    "yq_risk_assessment": ("risk_owner", "admin"),
}
MAX_KEY = 200
# the lead form's field → the incident's (as triage's st_open_incident passes them on)
LEAD_TO_INCIDENT = {"title": "title", "source_type": "source_type", "url": "url", "platform": "platform",
                    "snippet": "summary", "author": "author", "note": "lead_note", "published_at": "occurred_at"}


# Who registers an incident on its page (登记舆情): the lane of the quick report (domain.md §8, ut_register)
# holds it as they fill it in (decision 94), and admins. Others bring what they found to the 线索库 (/alerts),
# where the office triages it into a new incident or an existing one (decision 117).
REGISTRARS = ("monitor", "admin")


def may_register(user: User) -> bool:
    return user.has_role(*REGISTRARS)


def ensure_may_register(user: User) -> None:
    """Refuse the registration page to people who do not register incidents, saying where leads go."""
    if not may_register(user):
        raise Forbidden(str(_l("舆情由舆情监控员登记并填写快报。您发现的线索请在“线索库”登记,由办公室研判。")))


def may_start(process_key: str, user: User) -> bool:
    if process_key not in STARTABLE:
        return False
    roles = STARTABLE[process_key]
    return roles is None or user.has_role(*roles)


def list_processes() -> list[ProcessDefinition]:
    """Every deployed version, newest version first within each process."""
    return list(db.session.scalars(select(ProcessDefinition)
                                   .order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())))


def start_form(process_key: str) -> forms.FormSpec | None:
    """The form a start's data is checked against, or None when the process takes no start data."""
    return intake.manual_form() if process_key == instances.INCIDENT_PROCESS else None


def check_start_data(process_key: str, data: Any) -> dict[str, Any]:
    """Start data checked as the page checks its form: errors per field (`data.<name>`), Invalid if any."""
    if data in (None, {}):
        return {}
    form = start_form(process_key)
    if not isinstance(data, dict):
        raise _refused({"data": [str(_l("启动数据须为 JSON 对象。"))]})
    if form is None:
        return _refuse_all(data)
    unknown = sorted(set(data) - set(form.by_name))
    if unknown:
        raise _refused({f"data.{name}": [str(_l("表单中没有这个字段。"))] for name in unknown[:50]})
    errors = forms.validate(form, data, {}, {}, locale=tasks.current_locale())
    if errors:
        raise _refused({f"data.{path}" if path else "data": texts for path, texts in errors.items()})
    return dict(data)


def _refuse_all(data: dict[str, Any]) -> dict[str, Any]:
    text = str(_l("该流程启动时不接收数据。"))
    raise _refused({f"data.{name}": [text] for name in sorted(data)[:50]})


def _refused(errors: dict[str, list[str]]) -> Invalid:
    return Invalid(str(_l("启动数据有错误,请按各字段的说明修改。")), errors)


def _incident_data(session: Any, lead: dict[str, Any]) -> dict[str, Any]:
    data = {LEAD_TO_INCIDENT[key]: value for key, value in lead.items() if key in LEAD_TO_INCIDENT}
    return intake.incident_from_lead(session, data)


@dataclass(frozen=True)
class Started:
    instance: ProcessInstance
    created: bool


def _begin(session: Any, process_key: str, actor: User, data: dict[str, Any]) -> ProcessInstance:
    instances.latest_definition(session, process_key)  # NotFound before anything is written
    if process_key == instances.INCIDENT_PROCESS:
        return instances._start_incident(session, actor, _incident_data(session, data) if data else {})
    return instances._start(session, process_key, actor, {})


def start_process(process_key: str, actor: User, *, token_id: int | None = None,
                  key: str | None = None, data: Any = None) -> Started:
    """Start `process_key` as `actor` with start `data` (checked against its start form); with `key`, a
    repeat (even a concurrent one) returns the first, and the same key with other data is a conflict."""
    if not may_start(process_key, actor):
        raise NotFound(str(_l("流程不存在或您不能启动它。")))
    if key is not None and (not key.strip() or len(key) > MAX_KEY):
        raise Invalid(str(_l("Idempotency-Key 须为 1 到 %(max)s 个字符。", max=MAX_KEY)),
                      {"Idempotency-Key": [str(_l("Idempotency-Key 须为 1 到 %(max)s 个字符。", max=MAX_KEY))]})
    data = check_start_data(process_key, data)
    if key is None or token_id is None:
        with transaction() as session:
            return Started(_begin(session, process_key, actor, data), True)
    # without data the fingerprint is the one keys were stored with before starts carried data
    request = ["start", process_key, data] if data else ["start", process_key]
    fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    try:
        with transaction() as session:
            earlier = _earlier(session, token_id, key, fingerprint)
            if earlier is not None:
                return Started(earlier, False)
            mark = ApiIdempotency(token_id=token_id, key=key, fingerprint=fingerprint)
            session.add(mark)
            session.flush()  # PostgreSQL: a concurrent twin waits here on the unique key, then fails
            instance = _begin(session, process_key, actor, data)
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
