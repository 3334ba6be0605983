"""The incident ledger (舆情台账) read by scripts and other systems, and updates pushed to a running
incident by its number or by the external reference of a lead the same platform sent."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask_babel import gettext as _
from marshmallow import RAISE

from app import clock
from app.api.auth import caller, scope
from app.api.common import blueprint, documented_errors, link, links
from app.api.schemas import IncidentDetail, IncidentPage, IncidentQuery, MessageBody, MessageResult
from app.models import Incident
from app.operations import labels, ledger_reading, updates
from app.operations.errors import Forbidden, NotFound
from app.operations.ledger_filter import LedgerFilter
from app.operations.task_pages import decode_cursor, encode_cursor
from app.operations.vocabulary import level_name

bp = blueprint("api_incidents", "Incidents 舆情事件", "The incident ledger (舆情台账), and messages that start an "
               "incident or reach a running one (monitoring platforms, superiors' notices)")
# Who reads the ledger: the same roles as its pages (app/web/ledger.py).
LEDGER_ROLES = ("admin", "group_leader", "group_deputy", "office_director", "office_staff", "info_officer",
                "party_group")


def _incident_json(incident: Incident, names: dict[str, str]) -> dict[str, Any]:
    facts = labels.incident_facts(incident, names=names)
    return {
        "number": incident.number, "title": incident.title, "status": incident.status,
        "status_label": facts["status"], "level": incident.level, "level_label": level_name(incident.level),
        "source_type": incident.source_type, "source_label": facts["source_type"], "platform": incident.platform,
        "platform_label": facts["platform"], "lead_unit": incident.lead_unit, "lead_unit_label": facts["lead_unit"],
        "overdue": bool(incident.overdue), "discovered_at": incident.discovered_at,
        "reported_at": incident.reported_at, "first_release_at": incident.first_release_at,
        "closed_at": incident.closed_at, "instance_id": ledger_reading.instance_public_id(incident),
    }


def _day(value: Any) -> datetime | None:
    return datetime.combine(value, time(0), tzinfo=clock.SHANGHAI) if value else None


@bp.route("/incidents", methods=["GET"])
@scope("incidents:read")
@bp.arguments(IncidentQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, IncidentPage)
@links(bp, ("200",), GetIncident=link("/incidents/{number}", "get", number="$response.body#/items/0/number"))
@documented_errors(bp)
def list_incidents(cursor: str | None = None, limit: int = 50, **args: Any) -> dict[str, Any]:
    """The ledger, newest discovery first (the ledger page's filters)."""
    if not caller().user.has_role(*LEDGER_ROLES):
        raise Forbidden(_("该令牌的角色不能查看舆情台账。"))
    page = decode_cursor(cursor) or 1
    f = LedgerFilter(text=args.get("text") or "", level=args.get("level"), status=args.get("status"),
                            unit=args.get("unit"), platform=args.get("platform"), source=args.get("source"),
                            overdue=args.get("overdue"), since=_day(args.get("since")),
                            until=_day(args.get("until")))
    rows, total = ledger_reading.list_incidents(f, page, limit)
    names = labels.unit_names()
    more = page * limit < total
    return {"items": [_incident_json(row, names) for row in rows],
            "next_cursor": encode_cursor(page + 1) if more else None, "total": total}


@bp.route("/incidents/<string(maxlength=32):number>", methods=["GET"])
@scope("incidents:read")
@bp.response(200, IncidentDetail)
@links(bp, ("200",), IncidentDocuments=link("/incidents/{number}/documents", "get", number="$response.body#/number"),
       GetInstance=link("/instances/{instance_id}", "get", instance_id="$response.body#/instance_id"))
@documented_errors(bp, 404)
def get_incident(number: str) -> dict[str, Any]:
    """One incident: its ledger head with labels and every ledger line in time order."""
    if not caller().user.has_role(*LEDGER_ROLES):
        raise NotFound(_("台账中没有这个事件。"))
    incident = ledger_reading.get_incident(number)
    entries = [{"at": entry.at, "kind": entry.kind, "label": label, "summary": entry.summary or "", "actor": actor}
               for entry, label, actor in ledger_reading.entries_of(incident)]
    return {**_incident_json(incident, labels.unit_names()), "entries": entries}


@bp.route("/messages/<string(maxlength=64):name>", methods=["POST"])
@scope("messages:send")
@bp.arguments(MessageBody)
@bp.response(200, MessageResult)
@links(bp, ("200",), GetIncident=link("/incidents/{number}", "get", number="$response.body#/incident_number"))
@documented_errors(bp, 404)
def send_message(body: dict[str, Any], name: str) -> dict[str, Any]:
    """Push new information to a running incident (`msg_yq_update`), found by `incident_number` or by the
    `external_ref` of a lead this token sent; recorded in its ledger, delivered if a step waits for it."""
    who = caller()
    content = dict(body["content"])
    if content.get("observed_at"):
        content["observed_at"] = content["observed_at"].isoformat()
    pushed = updates.push_update(name, content, who.user, source=who.name, number=body.get("incident_number"),
                                 external_ref=body.get("external_ref"))
    return {"incident_number": pushed.incident.number, "delivered": pushed.delivered}
