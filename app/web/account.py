"""A person's own settings: where notifications reach them."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock
from app.operations import delegation, deliveries, task_notices, users
from app.operations.errors import Invalid, NotFound
from app.web.inputs import int_arg

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications() -> str | tuple[str, int] | Response:
    """E-mail address, mobile number and which of them to use, for notices in general and task notices."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        try:
            users.set_contact(current_user.username, email=(form.get("email") or "").strip() or None,
                              phone=(form.get("phone") or "").strip() or None, actor=current_user)
            deliveries.set_preference(current_user.id, "*", email=form.get("use_email") == "on",
                                      sms=form.get("sms", "urgent"))
            deliveries.set_preference(current_user.id, task_notices.PREFERENCE_KIND,
                                      email=form.get("task_email") == "on", sms=form.get("task_sms", "urgent"),
                                      im=form.get("task_im", "never"))
        except Invalid as exc:
            errors = exc.errors or {"": [exc.message]}
        else:
            flash(_("通知设置已保存。"), "success")
            return redirect(url_for("account.notifications"))
    preference = deliveries.preference_for(current_user.id, "*")
    tasks = deliveries.preference_for(current_user.id, task_notices.PREFERENCE_KIND)
    page = render_template("account/notifications.html", errors=errors, preference=preference, tasks=tasks,
                           fallbacks=deliveries.fallbacks(current_user), form=request.form if errors else None)
    return (page, 422) if errors else page


@bp.route("/delegation", methods=["GET", "POST"])
@login_required
def delegations() -> str | tuple[str, int] | Response:
    """委托: a standing delegate for my tasks while I am away, with a start and an end; end one early."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        try:
            if form.get("_action") == "end":
                delegation.end_delegation(current_user, int_arg(form, "id", 0, low=0) or 0)
                flash(_("委托已结束。"), "success")
            else:
                delegation.create_delegation(current_user, form.get("delegate", ""), _local(form.get("starts_at")),
                                             _local(form.get("ends_at")), form.get("reason", ""))
                flash(_("委托已保存:委托期间,受托人可以查看并办理您名下的任务。"), "success")
        except (Invalid, NotFound) as exc:
            errors = getattr(exc, "errors", None) or {"": [exc.message]}
        else:
            return redirect(url_for("account.delegations"))
    page = render_template("account/delegation.html", errors=errors, rows=delegation.delegations_of(current_user),
                           people=delegation.colleagues(current_user), form=request.form if errors else {},
                           now=clock.local(clock.now()).strftime("%Y-%m-%dT%H:%M"))
    return (page, 422) if errors else page


def _local(value: str | None) -> datetime | None:
    """A datetime-local field (Beijing time) as an aware datetime; None when empty or malformed."""
    try:
        parsed = datetime.fromisoformat((value or "").strip()[:16])
    except ValueError:
        return None
    return parsed.replace(tzinfo=clock.SHANGHAI)
