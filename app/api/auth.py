"""Bearer tokens on every API call: who the caller is (401 without a live token), how often it may call
(429 past its rate per minute, counted per token in the limiter's storage), whether the endpoint is in its
scopes (403), and an audit line for every call it makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from limits import RateLimitItemPerMinute, storage, strategies

from app.api.problems import problem
from app.operations import api_tokens
from app.operations.api_tokens import Caller

F = TypeVar("F", bound=Callable[..., Any])
_LIMITERS: dict[str, strategies.RateLimiter] = {}


def scope(name: str) -> Callable[[F], F]:
    """The scope (`resource:action`) a view needs; checked before it runs."""
    if name not in api_tokens.SCOPES:
        raise ValueError(name)

    def mark(view: F) -> F:
        view._api_scope = name  # type: ignore[attr-defined]
        return view

    return mark


def caller() -> Caller:
    """The caller of the current request (set by `authenticate`)."""
    return g.api_caller


def _bearer() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _limiter() -> strategies.RateLimiter:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri not in _LIMITERS:
        try:
            backend = storage.storage_from_string(uri)
        except Exception:
            backend = storage.MemoryStorage()
        _LIMITERS[uri] = strategies.FixedWindowRateLimiter(backend)
    return _LIMITERS[uri]


def _within_rate(who: Caller) -> bool:
    try:
        return _limiter().hit(RateLimitItemPerMinute(who.rate_per_minute), "api-token", who.key)
    except Exception:
        _LIMITERS[current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"] = strategies.FixedWindowRateLimiter(
            storage.MemoryStorage())
        return True


def authenticate() -> Response | None:
    """before_request of every API blueprint."""
    token = _bearer()
    who = api_tokens.authenticate(token) if token else None
    if who is None:
        return problem(401, _("缺少或无效的接口令牌(已停用、已过期或不存在)。"),
                       headers={"WWW-Authenticate": 'Bearer realm="yuqing"'})
    g.api_caller = who
    if not _within_rate(who):
        return problem(429, _("该令牌的请求过于频繁(每分钟 %(n)s 次),请稍后再试。", n=who.rate_per_minute),
                       headers={"Retry-After": "60"})
    view = current_app.view_functions.get(request.endpoint or "")
    needed = getattr(view, "_api_scope", None)
    if needed is None or needed not in who.scopes:
        return problem(403, _("该令牌没有“%(scope)s”权限。", scope=needed or "?"))
    return None


def audit(response: Response) -> Response:
    """after_request of every API blueprint: one audit line per call of a known token."""
    who = g.get("api_caller")
    if who is not None:
        api_tokens.record_call(who, request.method, request.path, response.status_code)
    return response
