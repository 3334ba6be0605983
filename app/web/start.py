"""Starting the processes a person begins by hand besides an incident: a risk assessment of a major
decision (篇一 三(一)). (Incidents start at /incidents/new, leads at /alerts/new, the monthly analysis by
its own timer.)"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.operations import instances, tasks

bp = Blueprint("start", __name__)

RISK_PROCESS = "yq_risk_assessment"
RISK_ROLES = ("risk_owner", "admin")


@bp.route("/risk-assessments/new", methods=["GET", "POST"])
@login_required
def risk_assessment() -> str | Response:
    """Begin a risk assessment; the owner's first task (确定评估项目) opens at once."""
    if not current_user.has_role(*RISK_ROLES):
        abort(404)
    if request.method == "POST":
        instance = instances.start_instance(RISK_PROCESS, current_user)
        first = tasks.next_task_for(current_user, instance.id)
        if first is not None:
            return redirect(url_for("tasks.task", public_id=first.public_id))
        return redirect(url_for("instances.detail", public_id=instance.public_id))
    return render_template("start/risk_assessment.html")
