"""Instance list and instance page (status, current tasks, history)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.models import TaskStatus
from app.operations import instances, tasks

bp = Blueprint("instances", __name__)


@bp.route("/instances")
@login_required
def index() -> str:
    """Instances the user may see."""
    return render_template("instances/index.html", rows=instances.list_instances(current_user))


@bp.route("/instances/<public_id>")
@login_required
def detail(public_id: str) -> str:
    """One instance: status, open tasks, completed tasks with their data, audit trail."""
    instance = instances.get_visible_instance(public_id, current_user)
    all_tasks = instances.instance_tasks(instance)
    done = [t for t in all_tasks if t.status == TaskStatus.COMPLETED]
    return render_template(
        "instances/detail.html", instance=instance,
        open_tasks=[t for t in all_tasks if t.status == TaskStatus.OPEN],
        done_tasks=[(t, tasks.submitted_items(t)) for t in done],
        events=instances.instance_events(instance),
    )
