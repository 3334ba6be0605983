"""Error pages: every refusal and failure is a page in the app's layout, in the reader's language, that
says what happened and links back; the JSON API and the studio's scripts get the same as JSON.

Unexpected exceptions are logged by Flask (`log_exception`) before the 500 page is drawn; under
TESTING they propagate to the test as Flask does by default.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from app import clock
from app.extensions import db, limiter
from app.operations import attachments
from app.operations.errors import OperationError
from app.web.auth import ACCOUNT_KEY

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the handlers; the most specific class wins (Flask looks along the MRO)."""
    app.register_error_handler(OperationError, _operation_error)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _internal_error)
    app.register_error_handler(HTTPException, _http_error)


def is_error_page() -> bool:
    """True while an error page is drawn: the layout then skips its own database reads."""
    return bool(g.get("yq_error_page"))


def _messages() -> dict[int, str]:
    return {
        400: _("请求无法处理:提交的内容含有不允许的字符或格式。请返回上一页检查后重试。"),
        403: _("您没有权限执行此操作。"),
        404: _("找不到该页面:地址有误,或内容已不存在,或您无权查看。"),
        405: _("不能以这种方式访问该地址。请使用页面上的链接或按钮。"),
        413: _("提交的内容过大(上限 %(limit)s MB),未被接收。请返回上一页,精简内容后再提交。",
               limit=_limit_mb()),
        429: _("操作过于频繁,请稍后再试。"),
        500: _("服务器内部错误,操作未能完成,已记录该问题。请返回上一页重试;如仍不能完成,请联系系统管理员。"),
    }


def _titles() -> dict[int, str]:
    return {400: _("请求无效"), 403: _("无权访问"), 404: _("页面不存在"), 405: _("访问方式不正确"),
            409: _("操作冲突"), 413: _("提交的内容过大"), 429: _("操作过于频繁"), 500: _("服务器内部错误"),
            503: _("服务暂时不可用")}


def _limit_mb() -> int:
    return max((current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024), 1)


def _http_error(error: HTTPException) -> Response | tuple[str, int, list[tuple[str, str]]]:
    code = error.code or 500
    message = _messages().get(code) or _("请求无法完成(错误代码 %(code)s)。", code=code)
    back = None
    if code == 429 and request.endpoint == "auth.login":
        message = _login_locked_message()
    if code == 413:
        message, back = _too_large_message()
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return _page(code, message, back=back, headers=headers)


def _login_locked_message() -> str:
    """Which limit the failed logins reached (this account, or this address) and when to try again."""
    limit = limiter.current_limit
    # The lock runs on real time (a shifted trial clock must not unlock an account), but the time shown
    # is on the platform's clock, like every other time on the pages (decision 93).
    remaining = max(0.0, (limit.reset_at if limit else time.time() + 60) - time.time())
    minutes = max(1, round(remaining / 60))
    at = clock.local(clock.now() + timedelta(seconds=remaining)).strftime("%H:%M")
    if limit is not None and f"/{ACCOUNT_KEY}" in "/" + "/".join(limit.request_args):
        return _("该账号登录失败次数过多,已暂时锁定。请在 %(at)s 后(约 %(minutes)s 分钟)再试;"
                 "忘记密码请联系系统管理员。", at=at, minutes=minutes)
    return _("从您所在的网络地址登录失败的次数过多,已暂时停止接受登录。请在 %(at)s 后(约 %(minutes)s 分钟)再试。",
             at=at, minutes=minutes)


def _too_large_message() -> tuple[str, str | None]:
    """What was too large: the whole request (over MAX_CONTENT_LENGTH, said by its length before it is read),
    or, in a request under that, one typed field over MAX_FORM_MEMORY_SIZE. A task form with file fields is
    the only multipart form whose size is mostly its attachments."""
    public_id = (request.view_args or {}).get("public_id")
    task = request.endpoint == "tasks.act" and bool(public_id)
    back = url_for("tasks.task", public_id=public_id) if task else None
    whole = current_app.config.get("MAX_CONTENT_LENGTH")
    if whole and request.content_length is not None and request.content_length <= whole:
        limit_kb = max((current_app.config.get("MAX_FORM_MEMORY_SIZE") or 0) // 1024, 1)
        return _("填写的某一项内容过长(单项不能超过 %(limit)s KB),未被接收。请返回上一页,精简该项内容后再提交。",
                 limit=limit_kb), back
    if task and request.mimetype == "multipart/form-data":
        message = _("提交的内容过大:附件和填写的内容合计不能超过 %(total)s MB(单个附件不能超过 %(limit)s MB),"
                    "未被接收。请返回任务页面,减少附件或换用较小的文件后再提交。",
                    total=_limit_mb(), limit=attachments.max_upload_mb())
        return message, back
    return _messages()[413], back


def _csrf_error(_error: CSRFError) -> Response | tuple[str, int, list[tuple[str, str]]]:
    message = _("页面已过期(停留时间过长,或已在别处退出登录),这次提交未被接收。请返回上一页,刷新后重新填写提交。")
    return _page(400, message, title=_("页面已过期"))


def _internal_error(error: InternalServerError) -> Response | tuple[str, int, list[tuple[str, str]]]:
    # Flask has logged the original exception; what is left is to leave the session usable.
    db.session.rollback()
    try:
        return _page(500, _messages()[500])
    except Exception:  # the layout itself failed (e.g. the database is gone): a page without it
        log.exception("the error page could not be drawn for %s", error.original_exception or error)
        body = f"<!doctype html><meta charset=utf-8><title>500</title><p>{escape(_messages()[500])}</p>"
        return Response(body, 500, mimetype="text/html")


def _operation_error(error: OperationError) -> Response | tuple[str, int, list[tuple[str, str]]]:
    return _page(error.status, error.message)


def _stale(_error: StaleDataError) -> Response | tuple[str, int, list[tuple[str, str]]]:
    return _page(409, _("数据已被他人修改,请刷新后重试。"))


def _database_unavailable(_error: OperationalError) -> Response | tuple[str, int, list[tuple[str, str]]]:
    db.session.rollback()
    return _page(503, _("数据库暂时不可用,请稍后重试。"), headers=[("Retry-After", "5")])


def _page(status: int, message: str, *, title: str | None = None, back: str | None = None,
          headers: list[tuple[str, str]] | None = None) -> Response | tuple[str, int, list[tuple[str, str]]]:
    """The error page (or JSON for the API and for scripts that ask for JSON)."""
    if request.path.startswith("/api/") or _prefers_json():
        body = {"error": status, "message": message}
        if request.path.startswith("/api/"):  # RFC 9457, as the API's own answers (app/api/problems.py)
            body = {"type": "about:blank", "title": title or _titles().get(status, str(status)), "status": status,
                    "detail": message, **body}
        response = jsonify(body)
        response.status_code = status
        if request.path.startswith("/api/"):
            response.mimetype = "application/problem+json"
        response.headers.extend(headers or [])
        return response
    g.yq_error_page = True
    page = render_template("error.html", status=status, title=title or _titles().get(status), message=message,
                           back=back or _referrer())
    return page, status, headers or []


def _prefers_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _referrer() -> str | None:
    """Where the reader came from, when it is a page of this site other than the one that failed."""
    parts = urlsplit(request.referrer or "")
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith(("//", "/\\")):
        return None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if request.method == "GET" and target == request.full_path.rstrip("?"):
        return None
    return target
