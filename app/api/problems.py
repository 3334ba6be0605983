"""Errors of the JSON API as `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`
and, for refused input, `errors` — one entry per field with its messages. Malformed requests (wrong
content type, unreadable or oversized JSON) are refused here, before any operation runs, so a refused
request changes nothing."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, json, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.operations.errors import Invalid, OperationError

MEDIA_TYPE = "application/problem+json"
MAX_BODY = 256 * 1024


def _titles() -> dict[int, str]:
    return {400: _("请求无效"), 401: _("未认证"), 403: _("无权操作"), 404: _("不存在"), 405: _("方法不允许"),
            409: _("操作冲突"), 413: _("请求过大"), 415: _("内容类型不支持"), 422: _("内容有误"),
            429: _("请求过于频繁"), 500: _("服务器内部错误"), 503: _("服务暂时不可用")}


def problem(status: int, detail: str, *, errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": _titles().get(status, str(status)), "status": status,
                            "detail": detail}
    if errors is not None:
        body["errors"] = [{"field": field, "messages": [str(m) for m in messages]}
                          for field, messages in errors.items()]
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    response.headers.update(headers or {})
    return response


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages ({"json": {"data": {"a": ["…"]}}}) as {"data.a": ["…"]}."""
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = str(key) if prefix == "" and key in ("json", "query", "headers", "view_args") else None
            if name is not None:
                out.update(_flatten(value, ""))
            else:
                out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "": list(messages)}
    return {prefix or "": [str(messages)]}


def on_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None)
    if status == 422 and isinstance(data, dict) and "messages" in data:
        return problem(422, _("请求内容有误,请按各字段的说明修改。"), errors=_flatten(data["messages"]))
    detail = {
        400: _("请求无法解析(JSON 无效、嵌套过深、含 NaN 或无效字符)。"),
        404: _("地址不存在,或对象不存在、您无权查看。"),
        405: _("该地址不支持这个方法。"), 413: _("请求内容过大。"), 429: _("请求过于频繁,请稍后再试。"),
    }.get(status, error.description or "")
    headers = {k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")}
    return problem(status, str(detail), headers=headers)


def on_operation_error(error: OperationError) -> Response:
    db.session.rollback()
    errors = (error.errors or {"": [error.message]}) if isinstance(error, Invalid) else None
    return problem(error.status, error.message, errors=errors)


def on_stale(_error: StaleDataError) -> Response:
    db.session.rollback()
    return problem(409, _("数据已被他人修改,请重新读取后再试。"))


def on_database_unavailable(_error: OperationalError) -> Response:
    db.session.rollback()
    return problem(503, _("数据库暂时不可用,请稍后重试。"), headers={"Retry-After": "5"})


def check_body() -> Response | None:
    """Refuse, before anything runs, a body that is not JSON, too big, or unreadable JSON."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    length = request.content_length
    raw = request.get_data(cache=True) if length is None or length <= MAX_BODY else b""
    if (length or 0) > MAX_BODY or len(raw) > MAX_BODY:
        return problem(413, _("请求内容过大(上限 %(kb)s KB)。", kb=MAX_BODY // 1024))
    if request.mimetype != "application/json":
        # A form body may already be parsed (and its stream read) by the app's NUL check.
        if raw or length or request.form or request.files:
            return problem(415, _("请以 application/json 提交。"))
        return None
    if raw:
        request.get_json()  # the app's strict reader: deep nesting, NaN, NUL, lone surrogates are a 400
    return None


def register(blueprint: Any) -> None:
    """The handlers of one API blueprint (the most specific class wins)."""
    blueprint.register_error_handler(HTTPException, on_http_error)
    blueprint.register_error_handler(OperationError, on_operation_error)
    blueprint.register_error_handler(StaleDataError, on_stale)
    blueprint.register_error_handler(OperationalError, on_database_unavailable)

