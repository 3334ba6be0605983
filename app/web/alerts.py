"""Leads (线索): the lead pool and a form for a superior's notice / media inquiry / public report
(domain.md §11.4, §12.3). Monitoring platforms post theirs to the API (app/api/alerts.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import forms
from app.operations import intake, tasks
from app.operations.errors import Invalid

bp = Blueprint("alerts", __name__)

LEAD_ROLES = ("admin", "monitor", "office_director", "office_staff", "info_officer", "group_leader", "group_deputy")
OUTCOMES = ("pending", "new", "duplicate", "irrelevant", "closed")


def _allowed() -> None:
    if not current_user.has_role(*LEAD_ROLES):
        abort(404)


@bp.route("/alerts")
@login_required
def index() -> str:
    """The lead pool: every lead with its outcome; irrelevant ones stay here (线索库)."""
    _allowed()
    outcome = request.args.get("outcome")
    rows = intake.list_alerts(outcome if outcome in OUTCOMES else None)
    return render_template("alerts/index.html", rows=rows, outcome=outcome, counts=intake.alert_counts(),
                           source_types=intake.SOURCE_TYPES)


@bp.route("/alerts/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response | tuple[str, int]:
    """Enter a lead by hand; it goes to triage like a platform alert."""
    _allowed()
    locale = tasks.current_locale()
    form = forms.localize(intake.manual_form(), locale)
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        submission = forms.check_submission(form, request.form.to_dict(flat=False), {}, {}, locale)
        values, raw, errors = submission.data, submission.raw, submission.errors
        if errors:  # the lead's own checks (times not in the future …) are said in the same round
            errors = intake.alert_errors(submission.data, errors)
        if not errors:
            try:
                alert, _created = intake.receive_alert(submission.data, source="manual", actor=current_user)
            except Invalid as exc:
                errors = exc.errors or {"": [exc.message]}
            else:
                flash(_("线索已登记,等待初筛。"), "success")
                follow = tasks.next_task_for(current_user, alert.instance_id) if alert.instance_id else None
                if follow is not None:
                    return redirect(url_for("tasks.task", public_id=follow.public_id))
                return redirect(url_for("alerts.index"))
    fields = forms.build_fields(form, values, raw, errors, {}, {}, locale=locale)
    page = render_template("alerts/new.html", fields=fields, form_errors=forms.form_errors(form, errors), errors=errors)
    return (page, 422) if errors else page
