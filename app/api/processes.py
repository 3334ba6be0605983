"""Processes and their instances: list deployed versions, start one (Idempotency-Key), list and read
instances (the admin console's filters and keyset pages), suspend / resume / terminate (admins)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import RAISE

from app.api.auth import caller, scope
from app.api.common import blueprint, documented_errors, instance_json
from app.api.schemas import Instance, InstancePage, InstanceQuery, Intervention, ProcessList
from app.operations import instances, interventions, search, starts
from app.operations.errors import Forbidden, Invalid

bp = blueprint("api_processes", "Deployed processes and their instances")
ADMIN = "admin"


@bp.route("/processes", methods=["GET"])
@scope("processes:read")
@bp.response(200, ProcessList)
@documented_errors(bp)
def list_processes() -> dict[str, Any]:
    """Deployed processes, every version; `startable` says whether the caller may start it."""
    user = caller().user
    return {"items": [{"key": d.process_key, "name": d.name, "version": d.version, "latest": d.is_latest,
                       "deployed_at": d.deployed_at, "startable": d.is_latest and starts.may_start(d.process_key, user)}
                      for d in starts.list_processes()]}


@bp.route("/processes/<string(maxlength=100):key>/instances", methods=["POST"])
@scope("instances:start")
@bp.response(201, Instance, description="started")
@bp.alt_response(200, schema=Instance, description="the instance a request with this Idempotency-Key started")
@bp.doc(responses={"201": {"links": {
    "GetInstance": {"operationRef": "#/paths/~1api~1v1~1instances~1{instance_id}/get",
                    "parameters": {"instance_id": "$response.body#/id"}},
    "SuspendInstance": {"operationRef": "#/paths/~1api~1v1~1instances~1{instance_id}~1suspend/post",
                        "parameters": {"instance_id": "$response.body#/id"}}}}})
@bp.doc(parameters=[{"in": "path", "name": "key", "required": True, "description": "a process the caller may start",
                     "schema": {"type": "string", "enum": sorted(starts.STARTABLE)}},
                    {"in": "header", "name": "Idempotency-Key", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                     "description": "a repeat with the same key returns the first instance"}])
@documented_errors(bp, 404, 409)
def start(key: str) -> tuple[dict[str, Any], int]:
    """Start the newest version of a process (an incident gets its number)."""
    if request.get_data(cache=True) and request.get_json() not in ({}, None):
        raise Invalid(_("启动时不接收数据。"), {"": [_("启动时不接收数据。")]})
    who = caller()
    idempotency = request.headers.get("Idempotency-Key")
    started = starts.start_process(key, who.user, token_id=who.token_id, key=idempotency)
    return instance_json(started.instance), 201 if started.created else 200


@bp.route("/instances", methods=["GET"])
@scope("instances:read")
@bp.arguments(InstanceQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, InstancePage)
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
@documented_errors(bp, 404)
def get_instance(instance_id: str) -> dict[str, Any]:
    """One instance the caller may see."""
    return instance_json(instances.get_visible_instance(instance_id, caller().user))


def _intervene(instance_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    user = caller().user
    instances.get_visible_instance(instance_id, user)  # 404 before 403: an unseen instance does not exist
    if not user.has_role(ADMIN):
        raise Forbidden(_("只有系统管理员可以挂起、恢复或终止实例。"))
    return instance_json(interventions.act(instance_id, action, body.get("expected"), user, body["reason"]))


def _route(action: str) -> None:
    @bp.route(f"/instances/<string(length=36):instance_id>/{action}", methods=["POST"], endpoint=action)
    @scope("instances:manage")
    @bp.arguments(Intervention)
    @bp.response(200, Instance)
    @documented_errors(bp, 404, 409)
    def view(body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        return _intervene(instance_id, action, body)

    view.__doc__ = {"suspend": "Suspend an instance (admins; with a reason).",
                    "resume": "Resume a suspended instance (admins; with a reason).",
                    "terminate": "Terminate an instance (admins; with a reason)."}[action]


for _action in ("suspend", "resume", "terminate"):
    _route(_action)
