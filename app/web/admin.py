"""Admin pages: failed jobs and instances in error, notification channels, organisation profiles, API tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock, forms
from app.operations import api_tokens, deliveries, interventions, labels, profiles, tasks
from app.operations import jobs as job_ops
from app.operations.errors import Invalid
from app.web.inputs import int_arg, parse_day

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
    """Background jobs that gave up and instances in error, newest first."""
    return render_template("admin/failures.html", rows=job_ops.failed_jobs(),
                           instances=interventions.failed_instances())


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


@bp.route("/profile", methods=["GET", "POST"])
@admin_required
def profile() -> str | Response | tuple[str, int]:
    """The organisation profiles: edit one (all values, with a reason) or make another active."""
    code = request.values.get("code") or next((p.code for p in profiles.list_profiles() if p.active), "city")
    row = profiles.get_profile(code)
    locale = tasks.current_locale()
    form = forms.localize(profiles.profile_form(), locale)
    values: dict[str, Any] = profiles.values_of(row)
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    reason = ""
    if request.method == "POST" and request.form.get("_action") == "activate":
        profiles.activate(code, current_user)
        flash(_("已启用“%(name)s”。", name=profiles.display_name(row, locale)), "success")
        return redirect(url_for("admin.profile", code=code))
    if request.method == "POST":
        submission = forms.parse_submission(form, request.form.to_dict(flat=False), {}, locale)
        values, raw, errors = submission.data, submission.raw, dict(submission.errors)
        reason = (request.form.get("reason") or "").strip()
        if not errors:
            try:
                profiles.update_profile(code, submission.data, current_user, reason)
            except Invalid as exc:
                errors = exc.errors or {"": [exc.message]}
            else:
                flash(_("机构配置已保存,流程实例从下一步起按新配置办理。"), "success")
                return redirect(url_for("admin.profile", code=code))
    fields = forms.build_fields(form, values, raw, errors, {}, {}, locale=locale)
    rows = profiles.list_profiles()
    page = render_template("admin/profile.html", rows=rows, current=row, fields=fields,
                           names={r.code: profiles.display_name(r, locale) for r in rows} | {
                               row.code: profiles.display_name(row, locale)},
                           errors=errors, form_errors=forms.form_errors(form, errors), reason=reason)
    return (page, 422) if errors else page


@bp.route("/api-tokens", methods=["GET", "POST"], endpoint="api_tokens")
@admin_required
def api_tokens_page() -> str | tuple[str, int]:
    """Tokens of platforms, other systems and scripts (docs/api.md); a new token is shown once."""
    errors: dict[str, list[str]] = {}
    issued = None
    if request.method == "POST" and request.form.get("_action") == "revoke":
        api_tokens.revoke_token(int_arg(request.form, "token_id", 0), current_user)
        flash(_("令牌已停用。"), "success")
    elif request.method == "POST":
        try:
            _row, issued = api_tokens.issue_token(actor=current_user, **_token_options(request.form))
        except Invalid as exc:
            errors = exc.errors or {"": [exc.message]}
    page = render_template("admin/api_tokens.html", rows=api_tokens.list_tokens(), errors=errors, issued=issued,
                           form=request.form, scopes=api_tokens.SCOPES, roles=labels.role_names(tasks.current_locale()),
                           units=labels.unit_names(tasks.current_locale()))
    return (page, 422) if errors else page


def _token_options(form: Any) -> dict[str, Any]:
    """What the token form asks for; an unreadable day or rate is refused next to its field."""
    expires = form.get("expires_on", "").strip()
    day = parse_day(expires) if expires else None
    if expires and (day is None or datetime.combine(day, time(0), tzinfo=clock.SHANGHAI) <= clock.now()):
        message = _("请填写今天以后的日期。")
        raise Invalid(message, {"expires_on": [message]})
    rate = form.get("rate_per_minute", "").strip() or str(api_tokens.DEFAULT_RATE)
    if not rate.isdigit() or len(rate) > 6:
        message = _("请填写整数。")
        raise Invalid(message, {"rate_per_minute": [message]})
    return {"name": form.get("name", ""), "scopes": form.getlist("scopes"), "roles": form.getlist("roles"),
            "unit_code": form.get("unit_code") or None, "rate_per_minute": int(rate),
            "expires_at": datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.SHANGHAI) if day else None}
