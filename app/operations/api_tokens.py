"""API tokens (docs/api.md): issued by admins on /admin/api-tokens or with `yuqing create-token`, shown
once and stored as a SHA-256 hash. A token acts as its own service user (roles, unit), which cannot log
in; its scopes (`resource:action`) say which endpoints it may call at all, and within them the service
user's roles and unit decide what it sees and may do, by the same SQL as the pages. Every call is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import ApiToken, AuditEvent, OrgUnit, Role, User, UserRole
from app.models.users import SERVICE_PASSWORD
from app.operations import visibility
from app.operations.errors import Invalid, NotFound

TOKEN_PREFIX = "yqt_"  # noqa: S105 - a visible prefix of issued tokens, not a secret
UNUSABLE_PASSWORD = SERVICE_PASSWORD  # no argon2 hash: the service user can never log in
SCOPES = {
    "alerts:write": _l("推送线索"),
    "processes:read": _l("查看流程"),
    "instances:read": _l("查看流程实例"),
    "instances:start": _l("启动流程"),
    "instances:manage": _l("挂起、恢复、终止实例"),
    "tasks:read": _l("查看任务"),
    "tasks:work": _l("签收、退回、办理任务"),
    "messages:send": _l("推送事件新情况"),
    "incidents:read": _l("查看舆情台账"),
    "documents:read": _l("查看和下载事件文书"),
    "documents:write": _l("生成事件文书"),
    "reports:read": _l("查看和下载月度分析研判报告"),
    "reports:write": _l("生成月度分析研判报告"),
}
DEFAULT_RATE = 120
MAX_RATE = 100_000


@dataclass(frozen=True)
class Caller:
    """Who an API request acts as: the token and its service user."""

    token_id: int
    name: str
    key: str  # the token's hash: the rate limiter's key (ids of rolled-back rows may come again)
    scopes: frozenset[str]
    user: User
    unit_code: str | None
    rate_per_minute: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _refuse(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


def _checked(name: str, scopes: list[str], expires_at: datetime | None, rate: int) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise _refuse("name", str(_l("请填写名称(不超过100个字符)。")))
    if not scopes:
        raise _refuse("scopes", str(_l("请至少选择一项权限范围。")))
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise _refuse("scopes", str(_l("未知的权限范围:%(scopes)s", scopes=", ".join(unknown))))
    if expires_at is not None and expires_at <= clock.now():
        raise _refuse("expires_at", str(_l("有效期须晚于现在。")))
    if not 1 <= rate <= MAX_RATE:
        raise _refuse("rate_per_minute", str(_l("每分钟请求上限须在 1 到 %(max)s 之间。", max=MAX_RATE)))
    return name


def issue_token(name: str, actor: User | None, *, scopes: list[str], roles: list[str] | None = None,
                unit_code: str | None = None, expires_at: datetime | None = None,
                rate_per_minute: int = DEFAULT_RATE) -> tuple[ApiToken, str]:
    """A new token and its service user; the clear text is returned once and never stored."""
    name = _checked(name, scopes, expires_at, rate_per_minute)
    roles = sorted(set(roles or []))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction() as session:
        if session.scalar(select(ApiToken.id).where(ApiToken.name == name)):
            raise _refuse("name", str(_l("已有同名的接口令牌。")))
        unknown = sorted(set(roles) - set(session.scalars(select(Role.code))))
        if unknown:
            raise _refuse("roles", str(_l("未知角色:%(roles)s", roles=", ".join(unknown))))
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code)) if unit_code else None
        if unit_code and unit is None:
            raise _refuse("unit_code", str(_l("没有这个单位。")))
        if unit_code and set(roles) & set(visibility.OVERVIEW_ROLES):
            # Those roles see every incident whatever their unit: the restriction would be a lie.
            raise _refuse("roles", str(_l("限定单位的令牌不能带全局查看的角色(如系统管理员、办公室)。")))
        user = User(username=f"api-{secrets.token_hex(8)}", display_name=f"{_l('接口')}:{name}"[:100],
                    password_hash=UNUSABLE_PASSWORD, unit=unit, roles=[UserRole(role_code=r) for r in roles])
        session.add(user)
        session.flush()
        row = ApiToken(name=name, token_hash=hash_token(token), created_by_id=actor.id if actor else None,
                       scopes=sorted(set(scopes)), user_id=user.id, unit_code=unit_code, expires_at=expires_at,
                       rate_per_minute=rate_per_minute)
        session.add(row)
        session.flush()
        session.add(AuditEvent(actor_id=actor.id if actor else None, action="api_token_issued",
                               detail={"name": name, "scopes": row.scopes, "roles": roles, "unit": unit_code,
                                       "expires_at": expires_at.isoformat() if expires_at else None}))
        return row, token


def revoke_token(token_id: int, actor: User) -> ApiToken:
    """Stop a token at once; its service user is deactivated with it."""
    with transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(str(_l("没有这个接口令牌。")))
        row.revoked_at = row.revoked_at or clock.now()
        if row.user is not None:
            row.user.active = False
        session.add(AuditEvent(actor_id=actor.id, action="api_token_revoked", detail={"name": row.name}))
        return row


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))


def find_token(token: str) -> ApiToken | None:
    """The live token (not revoked, not expired) with this clear text, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token),
                                                   ApiToken.revoked_at.is_(None)))
    if row is None or (row.expires_at is not None and row.expires_at <= clock.now()):
        return None
    return row


def authenticate(token: str) -> Caller | None:
    """The caller a bearer token stands for, or None (unknown, revoked, expired, or without a user)."""
    row = find_token(token)
    if row is None or row.user is None or not row.user.active:
        return None
    return Caller(token_id=row.id, name=row.name, key=row.token_hash, scopes=frozenset(row.scopes or ()),
                  user=row.user, unit_code=row.unit_code, rate_per_minute=row.rate_per_minute or DEFAULT_RATE)


def record_call(caller: Caller, method: str, path: str, status: int) -> None:
    """Audit one API call (refused ones too) and note when the token was last used."""
    with transaction() as session:
        session.execute(ApiToken.__table__.update().where(ApiToken.id == caller.token_id)
                        .values(last_used_at=clock.now()))
        session.add(AuditEvent(actor_id=caller.user.id, action="api_call",
                               detail={"token": caller.name, "method": method, "path": path[:300],
                                       "status": status}))
