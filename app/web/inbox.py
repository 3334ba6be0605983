"""The in-app inbox."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.operations import notifications

bp = Blueprint("inbox", __name__)


@bp.route("/inbox")
@login_required
def index() -> str:
    """The newest messages, unread first in bold."""
    return render_template("inbox/index.html", rows=notifications.list_inbox(current_user))


@bp.route("/inbox/read", methods=["POST"])
@login_required
def read() -> Response:
    """Mark one message (or all) as read, then follow its link if asked."""
    raw_id = request.form.get("id")
    notification_id = int(raw_id) if raw_id and raw_id.isdigit() else None
    notifications.mark_read(current_user, notification_id)
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("inbox.index"))
