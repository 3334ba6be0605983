"""Instance list (filters, pages, saved filters, CSV, batch operations) and the instance page with the
admin interventions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import clock
from app.db import transaction
from app.forms.messages import normalize_locale
from app.models import AuditEvent, InstanceStatus, TaskStatus
from app.operations import batches, element_names, instance_views, interventions, migrations, search, tasks
from app.operations.errors import Invalid, OperationError
from app.web.filters import element_name
from app.web.inputs import int_arg, parse_json
from app.web.security import DIAGRAM_CSP

bp = Blueprint("instances", __name__)
PROCESS_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
ADMIN = "admin"


def _admin() -> bool:
    return bool(current_user.has_role(ADMIN))


def _require_admin() -> None:
    if not _admin():
        abort(404)


def _overview() -> bool:
    return bool(current_user.has_role(*instance_views.OVERVIEW_ROLES))


# -- list ---------------------------------------------------------------------------------------


@bp.route("/instances")
@login_required
def index() -> str:
    """Instances the user may see, filtered, a page at a time (keyset), with the user's saved filters."""
    f = search.parse_filter(request.args)
    try:
        page = search.list_page(current_user, f, request.args.get("after"))
    except Invalid as exc:
        flash(exc.message, "error")
        page = search.list_page(current_user, f)
    query = f.query_args()
    return render_template(
        "instances/index.html", page=page, f=f, query=query, errors=f.errors, processes=search.process_choices(),
        statuses=search.STATUSES, saved=search.saved_filters(current_user), admin=_admin(), overview=_overview(),
        first_page=bool(request.args.get("after")), batch_kinds=batches.KINDS,
        users=interventions.assignable_users() if _admin() else [], roles=interventions.roles() if _admin() else [],
    )


@bp.route("/instances.csv")
@login_required
def export() -> Response:
    """The filtered list as CSV (overview roles); every export is audited."""
    if not _overview():
        abort(404)
    f = search.parse_filter(request.args)
    with transaction() as session:
        session.add(AuditEvent(actor_id=current_user.id, action="instances_exported", detail=search.describe(f)))
    stamp = clock.local(clock.now()).strftime("%Y%m%d-%H%M")
    disposition = f"attachment; filename=\"instances-{stamp}.csv\"; filename*=UTF-8''{quote(f'流程实例-{stamp}.csv')}"
    rows = search.export_rows(current_user, f, request.host_url.rstrip("/"))
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": disposition})


@bp.route("/instances/filters", methods=["POST"])
@login_required
def save_filter() -> Response:
    """Save the current filter under a name."""
    f = search.parse_filter(_query_from(request.form.get("query", "")))
    try:
        search.save_filter(current_user, request.form.get("name", ""), f)
    except OperationError as exc:
        flash(exc.message, "error")
    else:
        flash(_("筛选条件已保存。"), "success")
    return redirect(url_for("instances.index", **f.query_args()))


@bp.route("/instances/filters/<int:filter_id>/delete", methods=["POST"])
@login_required
def delete_filter(filter_id: int) -> Response:
    """Delete one of my saved filters."""
    search.delete_filter(current_user, filter_id)
    flash(_("筛选条件已删除。"), "success")
    return redirect(url_for("instances.index"))


def _query_from(text: str) -> dict[str, Any]:
    try:
        value = parse_json(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# -- batch operations ---------------------------------------------------------------------------


@bp.route("/instances/batch", methods=["POST"])
@login_required
def start_batch() -> Response:
    """Start a batch on the checked instances, or on all matching the filter."""
    _require_admin()
    f = search.parse_filter(_query_from(request.form.get("query", "")))
    selected = request.form.getlist("selected")
    scope_all = request.form.get("scope") == "all"
    params = {"username": request.form.get("assignee"), "role": request.form.get("role"),
              "element": request.form.get("element"), "confirmed": request.form.get("confirm_outside") == "on"}
    try:
        batch = batches.start_batch(current_user, request.form.get("kind", ""), request.form.get("reason"),
                                    selected=None if scope_all else selected, f=f if scope_all else None,
                                    params=params)
    except OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("instances.index", **f.query_args()))
    return redirect(url_for("instances.batch", public_id=batch.public_id))


@bp.route("/admin/batches")
@login_required
def batch_list() -> str:
    """Recent batch operations."""
    _require_admin()
    return render_template("admin/batches.html", rows=batches.recent_batches())


@bp.route("/admin/batches/<public_id>")
@login_required
def batch(public_id: str) -> str:
    """A batch's progress bar (polled) and its per-instance report."""
    _require_admin()
    item = batches.get_batch(public_id[:36])
    return render_template("admin/batch.html", batch=item, progress=batches.progress(item))


@bp.route("/admin/batches/<public_id>.json")
@login_required
def batch_progress(public_id: str) -> Response:
    """What the progress bar polls."""
    _require_admin()
    return Response(json.dumps(batches.progress(batches.get_batch(public_id[:36])), ensure_ascii=False),
                    mimetype="application/json")


# -- version migration --------------------------------------------------------------------------


@bp.route("/admin/migrations", methods=["GET", "POST"])
@login_required
def migration_preview() -> str | Response:
    """Choose a process and two versions; preview every unfinished instance; migrate the movable ones."""
    _require_admin()
    processes = search.process_choices()
    key = request.values.get("process") or ""
    versions = migrations.versions_of(key) if key else []
    source_v = int_arg(request.values, "from")
    target_v = int_arg(request.values, "to") or (versions[0].version if versions else None)
    if request.method == "POST":
        target = migrations.definition(key, target_v or 0)
        try:
            batch = batches.start_batch(current_user, "migrate", request.form.get("reason"),
                                        selected=request.form.getlist("selected"),
                                        params={"to_definition_id": target.id})
        except OperationError as exc:
            flash(exc.message, "error")
            return redirect(url_for("instances.migration_preview", process=key, to=target_v, **{"from": source_v}))
        return redirect(url_for("instances.batch", public_id=batch.public_id))
    previews: list[migrations.InstancePreview] = []
    total = 0
    error = None
    if key and source_v and target_v:
        try:
            previews, total = migrations.preview(migrations.definition(key, source_v),
                                                 migrations.definition(key, target_v))
        except OperationError as exc:
            error = exc.message
    return render_template("admin/migrations.html", processes=processes, key=key, versions=versions,
                           source_v=source_v, target_v=target_v, previews=previews, total=total, error=error,
                           counts=migrations.summary(previews))


@bp.route("/admin/migrations/<int:migration_id>/revert", methods=["POST"])
@login_required
def revert_migration(migration_id: int) -> Response:
    """Undo a migration while nothing happened since."""
    _require_admin()
    instance = migrations.revert(migration_id, current_user, request.form.get("reason"))
    flash(_("已撤销迁移,流程回到原版本。"), "success")
    return redirect(url_for("instances.detail", public_id=instance.public_id))


# -- instance page ------------------------------------------------------------------------------


@bp.route("/instances/<public_id>")
@login_required
def detail(public_id: str) -> Response:
    """One instance: status, diagram, open and done tasks, audit trail; for admins, data, timers,
    messages and interventions."""
    instance = instance_views.get_visible_instance(public_id, current_user)
    return _detail_page(instance, {}, {})


def _detail_page(instance: Any, errors: dict[str, list[str]], form: dict[str, Any], status: int = 200) -> Response:
    all_tasks = instance_views.instance_tasks(instance)
    done = [t for t in all_tasks if t.status == TaskStatus.COMPLETED]
    links = get_template_attribute("forms/_fields.html", "attachment_links")  # attachments as download links
    overview = _overview()
    page = render_template(
        "instances/detail.html", instance=instance,
        open_tasks=[t for t in all_tasks if t.status == TaskStatus.OPEN],
        # What was submitted in a task shows only to those who may open it (an accountability result,
        # a task force's phone numbers are not for everyone who worked a step of the incident).
        done_tasks=[(t, tasks.submitted_items(t, links) if tasks.can_view(t, current_user) else None)
                    for t in done],
        viewable={t.id for t in all_tasks if tasks.can_view(t, current_user)},
        events=instance_views.instance_events(instance),
        diagram=_named(instance_views.instance_diagram(instance)),
        admin=_admin(), overview=overview,
        repair=interventions.instance_repair_view(instance) if overview else None,
        migrations=migrations.history(instance) if overview else [],
        revertible=migrations.revertible(instance) if _admin() else None,
        versions=migrations.versions_of(instance.process_key) if _admin() else [],
        users=interventions.assignable_users() if _admin() else [],
        roles=interventions.roles() if _admin() else [],
        errors=errors, form=form, statuses=InstanceStatus, task_names={t.spec_id: t.name for t in all_tasks},
    )
    response = make_response(page, status)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


def _named(diagram: dict[str, Any]) -> dict[str, Any]:
    """The diagram's process tabs and element names in the page's language; `labels` ({diagram's name:
    English name}) lets the viewer draw the elements' English names (the BPMN it fetches stays as deployed)."""
    return {**diagram, "processes": [{**p, "name": element_name(p["name"])} for p in diagram.get("processes", [])],
            "labels": dict(element_names.catalogue(normalize_locale(tasks.current_locale())))}


def _intervene(public_id: str, run: Callable[[int | None, str], Any],
               done: str | Callable[[Any], tuple[bool, str]]) -> Response:
    """Run one intervention with the version and reason of the form; errors come back on the page.

    `done` is what the flash says, or a function of the intervention's result giving (ok, message)."""
    _require_admin()
    expected = int_arg(request.form, "version")
    reason = request.form.get("reason", "")
    try:
        result = run(expected, reason)
    except Invalid as exc:
        instance = instance_views.get_visible_instance(public_id, current_user)
        errors = exc.errors or {"": [exc.message]}
        errors.setdefault("", [exc.message])
        return _detail_page(instance, {f"{request.form.get('_form', '')}.{k}" if k else "": v
                                       for k, v in errors.items()}, request.form.to_dict(), 422)
    ok, message = done(result) if callable(done) else (True, done)
    flash(message, "success" if ok else "error")
    return redirect(url_for("instances.detail", public_id=public_id))


@bp.route("/instances/<public_id>/act", methods=["POST"])
@login_required
def act(public_id: str) -> Response:
    """Suspend, resume, terminate or retry."""
    action = request.form.get("action", "")
    names = {"suspend": _("流程已挂起。"), "resume": _("流程已恢复。"), "terminate": _("流程已终止。")}
    done = interventions.retry_outcome if action == "retry" else names.get(action, _("已完成。"))
    return _intervene(public_id, lambda v, r: interventions.act(public_id, action, v, current_user, r), done)


@bp.route("/instances/<public_id>/data", methods=["POST"])
@login_required
def edit_data(public_id: str) -> Response:
    """Set or delete data keys; values are JSON (a bare word is taken as text)."""
    key = (request.form.get("key") or "").strip()[:100]
    remove = request.form.get("remove") == "on"

    def run(expected: int | None, reason: str) -> Any:
        if not key or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            message = _("请填写数据项名称(字母、数字、下划线)。")
            raise Invalid(message, {"key": [message]})
        value = _json_value(request.form.get("value", ""))
        return interventions.edit_data(public_id, expected, current_user, reason, {} if remove else {key: value},
                                       [key] if remove else [])

    return _intervene(public_id, run, _("流程数据已修改。"))


def _json_value(text: str) -> Any:
    try:
        return parse_json(text)
    except ValueError:
        return text


def _local_datetime(name: str) -> datetime:
    text = request.form.get(name) or ""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        message = _("请填写有效的时间。")
        raise Invalid(message, {name: [message]}) from None
    return value.replace(tzinfo=clock.SHANGHAI) if value.tzinfo is None else value


@bp.route("/instances/<public_id>/timers/<guid>", methods=["POST"])
@login_required
def reschedule(public_id: str, guid: str) -> Response:
    """Move a waiting timer."""
    return _intervene(public_id, lambda v, r: interventions.reschedule_timer(
        public_id, v, current_user, r, guid[:36], _local_datetime("due_at")), _("定时已调整。"))


@bp.route("/instances/<public_id>/message", methods=["POST"])
@login_required
def send_message(public_id: str) -> Response:
    """Deliver a message the instance waits for; the payload is a JSON object."""

    def run(expected: int | None, reason: str) -> Any:
        payload = _json_value(request.form.get("payload") or "{}")
        if not isinstance(payload, dict):
            message = _("消息内容应为 JSON 对象。")
            raise Invalid(message, {"payload": [message]})
        return interventions.send_message(public_id, expected, current_user, reason,
                                          (request.form.get("name") or "")[:100], payload)

    return _intervene(public_id, run, _("消息已发送。"))


@bp.route("/instances/<public_id>/migrate", methods=["POST"])
@login_required
def migrate(public_id: str) -> Response:
    """Move this instance to another version."""
    target = int_arg(request.form, "to_definition_id", 0)
    return _intervene(public_id, lambda v, r: migrations.migrate_instance(public_id, v, target, current_user, r),
                      _("已迁移到新版本。"))


@bp.route("/instances/<public_id>/tasks/<task_id>", methods=["POST"])
@login_required
def task_action(public_id: str, task_id: str) -> Response:
    """Reassign a task, change its due time, or skip it."""
    action = request.form.get("action", "")

    def run(expected: int | None, reason: str) -> Any:
        if action == "reassign":
            return interventions.reassign_task(task_id, expected, current_user, reason,
                                               request.form.get("assignee") or None, request.form.get("role") or None,
                                               confirmed=request.form.get("confirm_outside") == "on")
        if action == "due":
            due = _local_datetime("due_at") if request.form.get("due_at") else None
            return interventions.change_task_due(task_id, expected, current_user, reason, due)
        if action == "skip":
            return interventions.complete_on_behalf(task_id, expected, current_user, reason, None)
        raise Invalid(_("未知操作。"))

    return _intervene(public_id, run, _("任务已处理。"))


@bp.route("/instances/<public_id>/diagram/<process_id>.bpmn")
@login_required
def diagram(public_id: str, process_id: str) -> Response:
    """The deployed BPMN of one process of the instance's version, for the diagram viewer."""
    if not PROCESS_ID.match(process_id):
        abort(404)
    instance = instance_views.get_visible_instance(public_id, current_user)
    response = make_response(instance_views.diagram_source(instance, process_id))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"  # never rendered as a document
    response.headers["Content-Disposition"] = f'attachment; filename="{process_id}.bpmn"'
    return response
