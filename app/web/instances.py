"""Instance list and instance page (status, current tasks, history)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, get_template_attribute, make_response, render_template
from flask_login import current_user, login_required

from app.models import TaskStatus
from app.operations import instances, tasks
from app.web.security import DIAGRAM_CSP

bp = Blueprint("instances", __name__)
PROCESS_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")


@bp.route("/instances")
@login_required
def index() -> str:
    """Instances the user may see."""
    return render_template("instances/index.html", rows=instances.list_instances(current_user))


@bp.route("/instances/<public_id>")
@login_required
def detail(public_id: str) -> Response:
    """One instance: status, open tasks, completed tasks with their data, audit trail."""
    instance = instances.get_visible_instance(public_id, current_user)
    all_tasks = instances.instance_tasks(instance)
    done = [t for t in all_tasks if t.status == TaskStatus.COMPLETED]
    links = get_template_attribute("forms/_fields.html", "attachment_links")  # attachments as download links
    page = render_template(
        "instances/detail.html", instance=instance,
        open_tasks=[t for t in all_tasks if t.status == TaskStatus.OPEN],
        done_tasks=[(t, tasks.submitted_items(t, links)) for t in done],
        events=instances.instance_events(instance),
        diagram=instances.instance_diagram(instance),
    )
    response = make_response(page)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


@bp.route("/instances/<public_id>/diagram/<process_id>.bpmn")
@login_required
def diagram(public_id: str, process_id: str) -> Response:
    """The deployed BPMN of one process of the instance's version, for the diagram viewer."""
    if not PROCESS_ID.match(process_id):
        abort(404)
    instance = instances.get_visible_instance(public_id, current_user)
    response = make_response(instances.diagram_source(instance, process_id))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"  # never rendered as a document
    response.headers["Content-Disposition"] = f'attachment; filename="{process_id}.bpmn"'
    return response
