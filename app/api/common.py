"""What every API resource module shares: a blueprint with the token check, the body gate, problem+json
errors and the audit line; documented error responses; the JSON shapes of instances and tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

from app.api import auth, problems
from app.api.schemas import Problem
from app.extensions import csrf
from app.models import HumanTask, ProcessInstance
from app.operations import labels
from app.operations.vocabulary import level_name

# blueprint name → the tag its operations are listed under: English then Chinese, for the document is built
# once per process and read on the Chinese docs page by the developers of other systems (decision 98)
TAGS: dict[str, str] = {}
ERROR_TEXT = {400: "unreadable JSON", 401: "no live token", 403: "scope or role missing",
              404: "not found, or not visible to the caller", 409: "changed meanwhile, or not in that state",
              413: "body too large", 415: "body is not application/json", 422: "refused input, errors per field",
              429: "rate limit of the token"}


def blueprint(name: str, tag: str, description: str) -> Blueprint:
    """A resource blueprint; its operations are listed under `tag` in the document (not under `name`)."""
    bp = Blueprint(name, __name__, url_prefix="/api/v1", description=description)
    TAGS[name] = tag
    csrf.exempt(bp)  # bearer tokens, never the session cookie
    bp.before_request(auth.authenticate)
    bp.before_request(problems.check_body)
    bp.after_request(auth.audit)
    problems.register(bp)
    return bp


def documented_errors(bp: Blueprint, *codes: int) -> Callable[[Any], Any]:
    """Declare the problem+json answers a view may give (401, 403, 429 always; 422 for any input)."""
    def decorate(view: Any) -> Any:
        for code in sorted({400, 401, 403, 415, 413, 422, 429, *codes}):
            view = bp.alt_response(code, schema=Problem, description=ERROR_TEXT.get(code, ""),
                                   content_type=problems.MEDIA_TYPE)(view)
        return view
    return decorate


def link(path: str, method: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method` `path` (under /api/v1), its parameters from runtime
    expressions such as `$response.body#/id` (schemathesis's stateful run follows them)."""
    pointer = ("/api/v1" + path).replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}


def links(bp: Blueprint, statuses: tuple[str, ...], **named: dict[str, Any]) -> Callable[[Any], Any]:
    """Document `named` links on the answers `statuses` of a view."""
    return bp.doc(responses={int(status): {"links": named} for status in statuses})  # int: the key bp.response uses


def instance_json(instance: ProcessInstance) -> dict[str, Any]:
    return {
        "id": instance.public_id, "process": instance.process_key, "version": instance.definition.version,
        "title": instance.title, "incident_number": instance.business_key if instance.process_key == "yq_incident"
        else None, "level": instance.level, "level_label": level_name(instance.level),
        "status": instance.status, "status_label": labels.instance_status(instance.status),
        "started_at": instance.started_at, "updated_at": instance.updated_at, "ended_at": instance.ended_at,
        "revision": instance.version,
    }


def task_json(task: HumanTask) -> dict[str, Any]:
    instance = task.instance
    return {
        "id": task.public_id, "name": task.name, "instance_id": instance.public_id, "process": task.process_id,
        "element": task.spec_id, "status": task.status, "assignee": task.assignee.username if task.assignee else None,
        "unit": task.unit_code, "due_at": task.due_at, "created_at": task.created_at,
        "incident_number": instance.business_key if instance.process_key == "yq_incident" else None,
    }
