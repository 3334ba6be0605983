"""User tasks: the lists (mine, my groups', every open one I may see), one task with its form schema, UI
hints and current data, claim, unclaim, complete — the worklist's operations, the page's validation."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import RAISE

from app.api.auth import caller, scope
from app.api.common import blueprint, documented_errors, link, links, task_json
from app.api.schemas import Completed, Completion, Task, TaskDetail, TaskPage, TaskQuery
from app.operations import task_pages, tasks
from app.operations.errors import Invalid

bp = blueprint("api_tasks", "Tasks 待办任务", "User tasks of the caller's roles and units: read, claim, "
               "unclaim, complete with the form's data")
TASK_ID = "/tasks/<string(length=36):task_id>"
TASK = "/tasks/{task_id}"


def _to(action: str, pointer: str = "$response.body#/id") -> dict[str, Any]:
    return link(f"{TASK}/{action}" if action else TASK, "post" if action else "get", task_id=pointer)


GET_TASK = _to("")
GET_INSTANCE = link("/instances/{instance_id}", "get", instance_id="$response.body#/instance_id")


@bp.route("/tasks", methods=["GET"])
@scope("tasks:read")
@bp.arguments(TaskQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, TaskPage)
@links(bp, ("200",), GetTask=_to("", "$response.body#/items/0/id"))
@documented_errors(bp)
def list_tasks(scope: str = "open", cursor: str | None = None, limit: int = 50, process: str | None = None,
               overdue: bool | None = None, instance: str | None = None) -> dict[str, Any]:
    """Open tasks, oldest first: `mine` (claimed by the caller), `groups` (the caller's roles and unit),
    `open` (every open task the caller may see); `instance` keeps one instance's."""
    page = task_pages.page_tasks(caller().user, scope, process=process, overdue=overdue, instance=instance,
                                 cursor=cursor, limit=limit)
    return {"items": [task_json(row) for row in page.rows], "next_cursor": page.next_cursor}


@bp.route(TASK_ID, methods=["GET"])
@links(bp, ("200",), ClaimTask=_to("claim"), UnclaimTask=_to("unclaim"), CompleteTask=_to("complete"),
       GetInstance=GET_INSTANCE)
@scope("tasks:read")
@bp.response(200, TaskDetail)
@documented_errors(bp, 404)
def get_task(task_id: str) -> dict[str, Any]:
    """One task with its form (JSON Schema and UI hints), the data shown with it and the saved draft."""
    user = caller().user
    task = tasks.get_task(task_id, user)
    form = tasks.task_form(task)
    return {**task_json(task), "form_schema": form.schema, "ui_schema": form.uischema,
            "context": task.context or {}, "draft": task.draft, "can_work": tasks.can_work(task, user)}


@bp.route(f"{TASK_ID}/claim", methods=["POST"])
@scope("tasks:work")
@bp.response(200, Task)
@links(bp, ("200",), GetTask=GET_TASK, UnclaimTask=_to("unclaim"), CompleteTask=_to("complete"))
@documented_errors(bp, 404, 409)
def claim(task_id: str) -> dict[str, Any]:
    """Take an open task of one of the caller's roles."""
    user = caller().user
    tasks.get_task(task_id, user)
    return task_json(tasks.claim_task(task_id, user))


@bp.route(f"{TASK_ID}/unclaim", methods=["POST"])
@scope("tasks:work")
@bp.response(200, Task)
@links(bp, ("200",), GetTask=GET_TASK, ClaimTask=_to("claim"))
@documented_errors(bp, 404, 409)
def unclaim(task_id: str) -> dict[str, Any]:
    """Give a claimed task back to its group."""
    user = caller().user
    tasks.get_task(task_id, user)
    return task_json(tasks.unclaim_task(task_id, user))


@bp.route(f"{TASK_ID}/complete", methods=["POST"])
@scope("tasks:work")
@bp.arguments(Completion)
@bp.response(200, Completed)
@links(bp, ("200",), GetNextTask=_to("", "$response.body#/next_task/id"),
       GetInstance=link("/instances/{instance_id}", "get", instance_id="$response.body#/task/instance_id"))
@documented_errors(bp, 404, 409)
def complete(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Complete a task with `data` — the form's fields, validated as on the page (errors per field)."""
    user = caller().user
    task = tasks.get_task(task_id, user)
    form = tasks.task_form(task)
    unknown = sorted(set(body["data"]) - set(form.by_name))
    if unknown:
        raise Invalid(_("表单中没有这些字段。"), {f"data.{name}": [_("表单中没有这个字段。")] for name in unknown[:50]})
    try:
        following = tasks.complete_task(task_id, body["data"], user)
    except Invalid as exc:  # the page's messages, named by the body's path
        raise Invalid(exc.message, {f"data.{k}" if k else "data": v for k, v in exc.errors.items()}) from exc
    done = tasks.get_task(task_id, user)
    return {"task": task_json(done), "next_task": task_json(following) if following else None}
