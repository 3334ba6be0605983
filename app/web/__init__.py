"""Server-rendered pages. Handlers parse input, call one operation, render; no business rules here.

Every page but login needs a session; every form carries a CSRF token; security headers and
`Cache-Control: no-store` are set on every response (docs/security.md §4, §5).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import login_manager
from app.operations import users
from app.operations.errors import OperationError
from app.operations.notifications import unread_count
from app.web import (
    account,
    admin,
    alerts,
    auth,
    filters,
    inbox,
    instances,
    ledger,
    observability,
    start,
    studio,
    tasks,
)
from app.web.security import security_headers


def select_locale() -> str:
    """zh_CN unless the user (or the session) asked for English; zh_CN outside requests (CLI, worker)."""
    if not has_request_context():
        return "zh_CN"
    if "lang" in session:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return "zh_CN"


def select_timezone() -> str:
    """Times are shown in Asia/Shanghai."""
    return "Asia/Shanghai"


def init_app(app: Flask) -> None:
    """Register blueprints, login handling, filters, headers and error pages."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    login_manager.user_loader(users.load_user)
    for blueprint in (auth.bp, tasks.bp, instances.bp, inbox.bp, account.bp, admin.bp, alerts.bp, ledger.bp, start.bp,
                      observability.bp, studio.bp):
        app.register_blueprint(blueprint)
    filters.init_app(app)
    app.before_request(_require_new_password)
    app.after_request(security_headers)
    app.register_error_handler(OperationError, _operation_error)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(429, _too_many_requests)
    app.context_processor(_template_globals)


def _require_new_password() -> Response | None:
    """A user with an initial (printed) password must change it before doing anything else."""
    open_endpoints = {"auth.password", "auth.logout", "auth.language", "static"}
    if (current_user and current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in open_endpoints):
        return redirect(url_for("auth.password"))
    return None


def _template_globals() -> dict[str, Any]:
    unread = unread_count(current_user) if current_user and current_user.is_authenticated else 0
    return {"unread_count": unread, "current_locale": select_locale()}


def _operation_error(error: OperationError) -> tuple[str, int]:
    return render_template("error.html", message=error.message, status=error.status), error.status


def _stale(_error: StaleDataError) -> tuple[str, int]:
    return render_template("error.html", message=_("数据已被他人修改,请刷新后重试。"), status=409), 409


def _too_many_requests(_error: Exception) -> tuple[str, int]:
    return render_template("error.html", message=_("登录尝试过于频繁,请一分钟后再试。"), status=429), 429


def _database_unavailable(_error: OperationalError) -> tuple[str, int, dict[str, str]]:
    page = render_template("error.html", message=_("数据库暂时不可用,请稍后重试。"), status=503)
    return page, 503, {"Retry-After": "5"}
