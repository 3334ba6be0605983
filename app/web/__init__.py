"""Server-rendered pages. Handlers parse input, call one operation, render; no business rules here.

Every page but login needs a session; every form carries a CSRF token; security headers and
`Cache-Control: no-store` are set on every response (docs/security.md §4, §5).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user

from app.extensions import login_manager
from app.operations import users, worklist
from app.operations.notifications import unread_count
from app.web import (
    account,
    admin,
    alerts,
    auth,
    documents,
    errors,
    filters,
    inbox,
    incidents,
    inputs,
    instances,
    ledger,
    observability,
    start,
    studio,
    tasks,
)
from app.web.security import security_headers

LANGUAGES = ("zh_CN", "en")


def select_locale() -> str:
    """zh_CN unless the link (?lang=), the session or the user asked for English; zh_CN outside requests."""
    if not has_request_context():
        return "zh_CN"
    asked = request.args.get("lang")
    if asked in LANGUAGES:  # a link that names its language (?lang=en) is read in it, without switching
        return asked
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
    inputs.init_app(app)  # before the routes: `<int:…>` must be the bounded converter when they compile
    for blueprint in (auth.bp, tasks.bp, instances.bp, inbox.bp, account.bp, admin.bp, alerts.bp, ledger.bp,
                      incidents.bp, start.bp, observability.bp, studio.bp, documents.bp):
        app.register_blueprint(blueprint)
    filters.init_app(app)
    errors.init_app(app)
    app.before_request(_require_new_password)
    app.after_request(security_headers)
    app.context_processor(_template_globals)


def _require_new_password() -> Response | None:
    """A user with an initial (printed) password must change it before doing anything else."""
    open_endpoints = {"auth.password", "auth.logout", "auth.language", "static"}
    if (current_user and current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in open_endpoints):
        return redirect(url_for("auth.password"))
    return None


def _template_globals() -> dict[str, Any]:
    # An error page (perhaps for a failed database) draws the layout without the inbox count.
    signed_in = current_user and current_user.is_authenticated and not errors.is_error_page()
    unread = (g.unread_count if "unread_count" in g else unread_count(current_user)) if signed_in else 0
    todo = 0
    if signed_in:
        todo = g.todo_count if "todo_count" in g else worklist.todo_count(current_user)
    return {"unread_count": unread, "todo_count": todo, "current_locale": select_locale()}
