"""Leads from monitoring platforms (`POST /api/v1/alerts`, domain.md §11.4): checked field by field by
the intake (app.operations.intake.clean_alert), stored and sent to triage; a repeated `external_ref`
from the same token answers 200 with the first lead."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, fields

from app.api.auth import caller, scope
from app.api.common import blueprint, documented_errors
from app.api.problems import problem
from app.operations import intake

bp = blueprint("api_alerts", "Leads 舆情线索", "Leads pushed by monitoring platforms; they wait in the lead pool "
               "until the office registers them as an incident or adds them to a running one")
MAX_ALERT = 64 * 1024
_TIME = {"type": "string", "format": "date-time", "maxLength": 40, "description": "ISO 8601 with an offset"}
ALERT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["source_type", "title"],
    "properties": {
        "source_type": {"type": "string", "enum": sorted(intake.SOURCE_TYPES)},
        **{key: {"type": "string", "maxLength": limit} for key, limit in intake.TEXT_LIMITS.items()},
        "published_at": _TIME, "detected_at": _TIME,
        "metrics": {"type": "object", "additionalProperties": False,
                    "properties": {key: {"type": "integer", "minimum": 0, "maximum": 10**12}
                                   for key in intake.METRICS}},
    },
}


class AlertResult(Schema):
    id = fields.String(required=True)
    outcome = fields.String(required=True)
    duplicate = fields.Boolean(required=True)


@bp.route("/alerts", methods=["POST"])
@scope("alerts:write")
@bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ALERT_BODY}}})
@bp.response(201, AlertResult, description="a new lead, sent to triage")
@bp.alt_response(200, schema=AlertResult, description="already received (same external_ref from this token)")
@documented_errors(bp)
def receive() -> Any:
    """A monitoring platform posts one lead."""
    if (request.content_length or 0) > MAX_ALERT:
        return problem(413, _("线索内容过大。"))
    alert, created = intake.receive_alert(request.get_json(silent=True), source=caller().name)
    return {"id": alert.public_id, "outcome": alert.outcome, "duplicate": not created}, 201 if created else 200
