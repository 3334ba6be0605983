"""Processes and their instances: list deployed versions, start one (Idempotency-Key), list and read
instances (the admin console's filters and keyset pages), suspend / resume / terminate (admins)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import RAISE

from app.api.auth import caller, scope
from app.api.common import blueprint, documented_errors, instance_json, link, links, task_json
from app.api.schemas import (
    Instance,
    InstancePage,
    InstanceQuery,
    Intervention,
    ProcessList,
    StartBody,
    StartedInstance,
)
from app.operations import instance_views, interventions, search, starts, tasks
from app.operations.errors import Forbidden

bp = blueprint("api_processes", "Processes 流程", "Deployed processes, starting them, and their instances: "
               "read, suspend, resume, terminate")
ADMIN = "admin"
INSTANCE = "/instances/{instance_id}"
# where an instance's answer leads: itself, its open tasks, an intervention
INSTANCE_LINKS = {
    "GetInstance": link(INSTANCE, "get", instance_id="$response.body#/id"),
    "InstanceTasks": link("/tasks", "get", instance="$response.body#/id"),
    "SuspendInstance": link(f"{INSTANCE}/suspend", "post", instance_id="$response.body#/id"),
}


@bp.route("/processes", methods=["GET"])
@scope("processes:read")
@bp.response(200, ProcessList)
@documented_errors(bp)
def list_processes() -> dict[str, Any]:
    """Deployed processes, every version; `startable` says whether the caller may start it."""
    user = caller().user
    items = []
    for d in starts.list_processes():
        startable = d.is_latest and starts.may_start(d.process_key, user)
        form = starts.start_form(d.process_key) if startable else None
        items.append({"key": d.process_key, "name": d.name, "version": d.version, "latest": d.is_latest,
                      "deployed_at": d.deployed_at, "startable": startable,
                      "start_form": form.schema if form else None})
    return {"items": items}


@bp.route("/processes/<string(maxlength=100):key>/instances", methods=["POST"])
@scope("instances:start")
@bp.arguments(StartBody, required=False)
@bp.response(201, StartedInstance, description="started")
@bp.alt_response(200, schema=StartedInstance, description="the instance a request with this Idempotency-Key started")
@links(bp, ("201", "200"), **INSTANCE_LINKS,
       GetNextTask=link("/tasks/{task_id}", "get", task_id="$response.body#/next_task/id"),
       ClaimNextTask=link("/tasks/{task_id}/claim", "post", task_id="$response.body#/next_task/id"),
       GetIncident=link("/incidents/{number}", "get", number="$response.body#/incident_number"))
@bp.doc(parameters=[{"in": "path", "name": "key", "required": True, "description": "a process the caller may start",
                     "schema": {"type": "string", "enum": sorted(starts.STARTABLE)}},
                    {"in": "header", "name": "Idempotency-Key", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                     "description": "a repeat with the same key returns the first instance"}])
@documented_errors(bp, 404, 409)
def start(body: dict[str, Any], key: str) -> tuple[dict[str, Any], int]:
    """Start the newest version of a process (an incident gets its number), optionally with `data` checked
    against its start form as the page checks it (errors per field, `data.<name>`)."""
    who = caller()
    idempotency = request.headers.get("Idempotency-Key")
    started = starts.start_process(key, who.user, token_id=who.token_id, key=idempotency, data=body.get("data"))
    following = tasks.next_task_for(who.user, started.instance.id)
    return ({**instance_json(started.instance), "next_task": task_json(following) if following else None},
            201 if started.created else 200)


@bp.route("/instances", methods=["GET"])
@scope("instances:read")
@bp.arguments(InstanceQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, InstancePage)
@links(bp, ("200",), GetInstance=link(INSTANCE, "get", instance_id="$response.body#/items/0/id"))
@documented_errors(bp)
def list_instances(cursor: str | None = None, limit: int = 50, status: str | None = None,
                   **args: Any) -> dict[str, Any]:
    """Instances the caller may see, newest first; `next_cursor` fetches the next page."""
    f = search.InstanceFilter(process=args.get("process"), version=args.get("version"),
                              statuses=(status,) if status else (), level=args.get("level"),
                              overdue=bool(args.get("overdue")), started_from=args.get("started_from"),
                              started_to=args.get("started_to"), text=args.get("text"))
    page = search.list_page(caller().user, f, cursor, limit)
    return {"items": [instance_json(row) for row in page.rows], "next_cursor": page.next_cursor,
            "total": page.total}


@bp.route("/instances/<string(length=36):instance_id>", methods=["GET"])
@scope("instances:read")
@bp.response(200, Instance)
@links(bp, ("200",), **{name: value for name, value in INSTANCE_LINKS.items() if name != "GetInstance"})
@documented_errors(bp, 404)
def get_instance(instance_id: str) -> dict[str, Any]:
    """One instance the caller may see."""
    return instance_json(instance_views.get_visible_instance(instance_id, caller().user))


def _intervene(instance_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    user = caller().user
    instance_views.get_visible_instance(instance_id, user)  # 404 before 403: an unseen instance does not exist
    if not user.has_role(ADMIN):
        raise Forbidden(_("只有系统管理员可以挂起、恢复或终止实例。"))
    return instance_json(interventions.act(instance_id, action, body.get("expected"), user, body["reason"]))


FOLLOWING = {
    "suspend": {"ResumeInstance": link(f"{INSTANCE}/resume", "post", instance_id="$response.body#/id")},
    "resume": {"GetInstance": INSTANCE_LINKS["GetInstance"], "InstanceTasks": INSTANCE_LINKS["InstanceTasks"],
               "TerminateInstance": link(f"{INSTANCE}/terminate", "post", instance_id="$response.body#/id")},
    "terminate": {"GetInstance": INSTANCE_LINKS["GetInstance"]},
}


def _route(action: str) -> None:
    @bp.route(f"/instances/<string(length=36):instance_id>/{action}", methods=["POST"], endpoint=action)
    @scope("instances:manage")
    @bp.arguments(Intervention)
    @bp.response(200, Instance)
    @links(bp, ("200",), **FOLLOWING[action])
    @documented_errors(bp, 404, 409)
    def view(body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        return _intervene(instance_id, action, body)

    view.__doc__ = {"suspend": "Suspend an instance (admins; with a reason).",
                    "resume": "Resume a suspended instance (admins; with a reason).",
                    "terminate": "Terminate an instance (admins; with a reason)."}[action]


for _action in ("suspend", "resume", "terminate"):
    _route(_action)
