"""Login, logout, password change and language switch."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.operations import users
from app.operations.errors import Invalid

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


ACCOUNT_KEY = "user:"


def _username_key() -> str:
    return ACCOUNT_KEY + (request.form.get("username", "") or "").strip().lower()[:64]


def _failed(response: Response) -> bool:
    """Only a refused password counts against the limits; a success never does."""
    return response.status_code == 401


def _account_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_ACCOUNT"])


def _address_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_ADDRESS"])


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("tasks.worklist")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, methods=["POST"], key_func=_username_key, deduct_when=_failed)
def login() -> str | Response:
    """Show the login form; on POST check the password and start a fresh session."""
    if current_user.is_authenticated:
        return redirect(url_for("tasks.worklist"))
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        user = users.authenticate(username, password)
        if user is None:
            error = _("用户名或密码不正确。")
        elif users.demo_login_refused(user):
            log.warning("login refused: demo account %r still has its printed password", user.username)
            return render_template("auth/login.html", username=username, error=_(
                "该账号是演示账号,仍在使用初始化时打印的密码,生产环境中已停用。请使用正式账号登录"
                "(管理员可用 yuqing create-user 创建)。")), 403
        else:
            lang = session.get("lang")
            session.clear()  # no session fixation: nothing from before login survives
            if lang:
                session["lang"] = lang
            user = users.record_login(user.id, password)
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """End this session and every other session of the user."""
    users.end_sessions(current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    """Change the password (required after the first login outside development)."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            user = users.change_password(current_user.id, request.form.get("current_password") or "",
                                         request.form.get("new_password") or "")
        except Invalid as exc:
            errors = exc.errors or {"": [exc.message]}
        else:
            session.clear()
            login_user(user)
            flash(_("密码已修改。"), "success")
            return redirect(url_for("tasks.worklist"))
    return render_template("auth/password.html", errors=errors), (422 if errors else 200)


@bp.route("/lang/<code>", methods=["POST"])
def language(code: str) -> Response:
    """Switch the interface language for this session."""
    if code in ("zh_CN", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
