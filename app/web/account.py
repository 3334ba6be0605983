"""A person's own settings: where notifications reach them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.operations import deliveries, task_notices, users
from app.operations.errors import Invalid

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
                                      email=form.get("task_email") == "on", sms=form.get("task_sms", "urgent"))
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
