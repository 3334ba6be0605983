"""Admin pages of the notification and job machinery: failures to retry or dismiss, channels."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.operations import deliveries
from app.operations import jobs as job_ops
from app.operations.errors import Invalid

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only administrators; others get 404 (the page does not exist for them)."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.has_role("admin"):
            abort(404)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/failures")
@admin_required
def failures() -> str:
    """Background jobs that gave up, newest first."""
    return render_template("admin/failures.html", rows=job_ops.list_jobs("failed"))


@bp.route("/failures/<int:job_id>", methods=["POST"])
@admin_required
def failure_action(job_id: int) -> Response:
    """Retry or dismiss a failed job."""
    if request.form.get("_action") == "dismiss":
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            flash(_("忽略失败任务须填写理由。"), "error")
            return redirect(url_for("admin.failures"))
        job_ops.dismiss_job(job_id, current_user, reason[:500])
        flash(_("已忽略该任务。"), "success")
    else:
        job_ops.retry_job(job_id, current_user)
        flash(_("已重新排队。"), "success")
    return redirect(url_for("admin.failures"))


@bp.route("/channels", methods=["GET", "POST"])
@admin_required
def channels() -> str | tuple[str, int] | Response:
    """Registered destinations, and the form to register one."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        spec = deliveries.ChannelSpec(
            name=(form.get("name") or "").strip()[:100], kind=form.get("kind", ""),
            address=(form.get("address") or "").strip(), secret=(form.get("secret") or "").strip() or None,
            kinds=tuple(k.strip() for k in (form.get("kinds") or "*").split(",") if k.strip()) or ("*",),
            urgent_only=form.get("urgent_only") == "on",
            allow_networks=tuple(n.strip() for n in (form.get("allow_networks") or "").split(",") if n.strip()),
            allow_http=form.get("allow_http") == "on")
        try:
            deliveries.register_channel(spec, current_user)
        except Invalid as exc:
            errors = exc.errors or {"": [exc.message]}
        else:
            flash(_("通道已登记。"), "success")
            return redirect(url_for("admin.channels"))
    page = render_template("admin/channels.html", rows=deliveries.list_channels(), errors=errors, form=request.form)
    return (page, 422) if errors else page


@bp.route("/channels/<int:channel_id>/deactivate", methods=["POST"])
@admin_required
def deactivate(channel_id: int) -> Response:
    """Stop sending to a channel."""
    deliveries.deactivate_channel(channel_id, current_user)
    flash(_("通道已停用。"), "success")
    return redirect(url_for("admin.channels"))
