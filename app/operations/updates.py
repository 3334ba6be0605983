"""New information about a running incident pushed by another system (`POST /api/v1/messages/{name}`):
found by its number (YQ-2026-0001) or by the external reference of a lead the same source sent, delivered
to the incident's instance when a step waits for it and recorded in its ledger either way — what the
lead triage does for a duplicate lead (instances._forward_update)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import transaction
from app.models import Alert, Incident, ProcessInstance, User
from app.operations import instances, ledger, visibility
from app.operations.errors import Invalid, NotFound

MESSAGES = ("msg_yq_update",)


@dataclass(frozen=True)
class Pushed:
    incident: Incident
    delivered: bool


def push_update(name: str, update: dict[str, Any], actor: User, *, source: str, number: str | None = None,
                external_ref: str | None = None) -> Pushed:
    """Deliver `update` to the incident; NotFound when there is none the caller may reach."""
    if name not in MESSAGES:
        raise NotFound(str(_l("没有这种消息。")))
    if bool(number) == bool(external_ref):
        message = str(_l("请给出事件编号或外部编号(二者之一)。"))
        raise Invalid(message, {"incident_number": [message], "external_ref": [message]})
    with transaction() as session:
        incident = _find(session, actor, source, number, external_ref)
        target = session.get(ProcessInstance, incident.instance_id) if incident.instance_id else None
        if target is None:
            raise NotFound(str(_l("事件不存在或您无权查看。")))
        data = {**update, "incident_no": incident.number}
        delivered = instances.deliver_message(session, target, name, data, actor)
        ledger.record_update(session, target, data, actor, delivered)
        return Pushed(incident, delivered)


def _find(session: Any, actor: User, source: str, number: str | None, external_ref: str | None) -> Incident:
    own_leads = select(Alert.incident_id).where(Alert.source == source, Alert.incident_id.is_not(None))
    if external_ref:
        query = select(Incident).where(Incident.id.in_(own_leads.where(Alert.external_ref == external_ref)))
    else:
        seen = select(ProcessInstance.id).where(visibility.instance_clause(actor))
        query = select(Incident).where(Incident.number == number,
                                       Incident.id.in_(own_leads) | Incident.instance_id.in_(seen))
    incident = session.scalars(query.order_by(Incident.id.desc()).limit(1)).first()
    if incident is None:
        raise NotFound(str(_l("事件不存在或您无权查看。")))
    return incident
