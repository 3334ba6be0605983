"""Accounts: create, authenticate, change password, revoke sessions, seed roles and demo users."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from zxcvbn import zxcvbn

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import AuditEvent, OrgUnit, Role, User, UserRole
from app.operations.errors import Invalid, NotFound
from app.operations.vocabulary import ORG_UNIT_NAMES_EN, ORG_UNITS, ROLES

MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_SCORE = 3  # zxcvbn 0–4: 3 means "safely unguessable" against online and slow offline attacks

DEMO_USERS = [
    ("monitor", "舆情监控员(演示)", ["monitor", "commentator"], "employment"),
    ("office", "办公室主任(演示)", ["office_director", "office_staff", "info_officer"], "office"),
    ("leader", "领导小组组长(演示)", ["group_leader"], None),
    ("deputy", "领导小组副组长(演示)", ["group_deputy", "consultation_member"], None),
    ("section", "承办科室负责人(演示)", ["section_head", "section_staff", "consultation_member",
                                    "team_investigation"], "employment"),
    ("section2", "社会保险科负责人(演示)", ["section_head", "section_staff"], "social_insurance"),
    # Every unit the demo offers as a lead or related unit has a head, so its tasks have someone to take them.
    ("section3", "劳动关系科负责人(演示)", ["section_head", "section_staff"], "labour_relations"),
    ("section4", "政策法规科负责人(演示)", ["section_head", "section_staff"], "policy"),
    ("section5", "劳动保障监察支队负责人(演示)", ["section_head", "section_staff"], "supervision"),
    ("section6", "政务服务中心负责人(演示)", ["section_head", "section_staff"], "service_center"),
    ("section7", "局办公室承办人(演示)", ["section_head", "section_staff"], "office"),
    ("publicity", "宣传组成员(演示)", ["team_publicity", "office_staff"], "office"),
    ("spokesperson", "新闻发言人(演示)", ["spokesperson"], "office"),
    ("commentator", "网评员(演示)", ["commentator", "monitor"], "social_insurance"),
    ("party", "局党组成员(演示)", ["party_group"], None),
    ("coordinator", "协调组成员(演示)", ["team_coordination", "team_support"], "office"),
    ("risk", "风险评估主体(演示)", ["risk_owner"], "policy"),
    ("owner", "流程管理员(演示)", ["process_owner"], "office"),
    ("publisher", "流程发布人(演示)", ["process_owner", "process_publisher"], "office"),
    ("admin", "系统管理员(演示)", ["admin"], "office"),
]


def check_password_strength(password: str, personal: tuple[str, ...] = ()) -> list[str]:
    """Reasons a new password is refused: too short, or common/guessable (zxcvbn's offline lists of
    leaked passwords, words and names, plus the user's own name)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(str(_l("密码至少需要 %(n)d 个字符。", n=MIN_PASSWORD_LENGTH)))
    if zxcvbn(password[:128], user_inputs=list(personal))["score"] < MIN_PASSWORD_SCORE:
        problems.append(str(_l("该密码过于常见或容易被猜出,请换一个。")))
    return problems


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _HASHER.hash(password)


def ensure_roles_and_units() -> int:
    """Create the known roles and the default organisation units if missing; returns rows added."""
    with transaction() as session:
        added = 0
        existing_roles = set(session.scalars(select(Role.code)))
        for code, name_zh, name_en in ROLES:
            if code not in existing_roles:
                session.add(Role(code=code, name_zh=name_zh, name_en=name_en))
                added += 1
        existing_units = set(session.scalars(select(OrgUnit.code)))
        for code, name, kind in ORG_UNITS:
            if code not in existing_units:
                session.add(OrgUnit(code=code, name=name, name_en=ORG_UNIT_NAMES_EN.get(code), kind=kind))
                added += 1
        return added


def create_user(username: str, display_name: str, password: str, roles: list[str], *,
                unit_code: str | None = None, must_change_password: bool = True,
                check_strength: bool = True) -> User:
    """Create an account with roles."""
    if check_strength and (problems := check_password_strength(password, (username, display_name))):
        raise Invalid(problems[0], {"password": problems})
    with transaction() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Invalid(str(_l("用户名已存在。")), {"username": [str(_l("用户名已存在。"))]})
        known = set(session.scalars(select(Role.code)))
        unknown = [r for r in roles if r not in known]
        if unknown:
            raise Invalid(str(_l("未知角色:%(roles)s", roles=", ".join(unknown))))
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code)) if unit_code else None
        user = User(username=username, display_name=display_name, password_hash=hash_password(password),
                    must_change_password=must_change_password, unit=unit,
                    roles=[UserRole(role_code=r) for r in roles])
        session.add(user)
        session.flush()
        session.add(AuditEvent(action="user_created", detail={"username": username, "roles": roles}))
        return user


@dataclass
class DemoAccount:
    """A seeded demo account and its one-time password."""

    username: str
    display_name: str
    roles: list[str]
    password: str


def seed_demo_users(*, must_change_password: bool = True) -> list[DemoAccount]:
    """Create the demo users that do not exist yet; returns them with their new passwords.

    Outside development mode the printed passwords must be changed at first login, and in
    production they are refused (decision 48).
    """
    ensure_roles_and_units()
    created = []
    existing = set(db.session.scalars(select(User.username)))
    for username, name, roles, unit in DEMO_USERS:
        if username in existing:
            continue
        password = secrets.token_urlsafe(12)
        create_user(username, name, password, roles, unit_code=unit, must_change_password=must_change_password)
        created.append(DemoAccount(username, name, roles, password))
    if created:  # before anything is printed: these passwords will be known to whoever reads the output
        with transaction() as session:
            session.execute(update(User).where(User.username.in_([account.username for account in created]))
                            .values(demo_password=True))
    return created


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None (timing is the same either way)."""
    user = db.session.scalar(select(User).where(User.username == username))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    return user


def demo_login_refused(user: User) -> bool:
    """Is this a demo account still on its printed password, where such passwords are refused
    (production)? Its logins are refused and its sessions end."""
    return bool(user.demo_password) and not current_app.config["DEMO_PASSWORDS_ALLOWED"]


def record_login(user_id: int, password: str) -> User:
    """Note a successful login and upgrade the password hash if its parameters are old.

    Outside development a demo account must first change the password that was printed.
    """
    with transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(str(_l("用户不存在。")))
        user.last_login_at = clock.now()
        if user.demo_password and current_app.config["YQ_ENV"] != "development":
            user.must_change_password = True
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.add(AuditEvent(actor_id=user.id, action="login"))
        return user


def change_password(user_id: int, current: str, new: str) -> User:
    """Change a password after checking the current one; ends other sessions."""
    with transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(str(_l("用户不存在。")))
        problems = check_password_strength(new, (user.username, user.display_name))
        if problems:
            raise Invalid(problems[0], {"new_password": problems})
        try:
            _HASHER.verify(user.password_hash, current)
        except (VerificationError, InvalidHashError) as exc:
            message = str(_l("当前密码不正确。"))
            raise Invalid(message, {"current_password": [message]}) from exc
        user.password_hash = hash_password(new)
        user.must_change_password = user.demo_password = False
        user.session_epoch += 1
        session.add(AuditEvent(actor_id=user.id, action="password_changed"))
        return user


def end_sessions(user_id: int) -> None:
    """Invalidate every session cookie of a user (logout everywhere)."""
    with transaction() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.session_epoch += 1
            session.add(AuditEvent(actor_id=user.id, action="logout"))


def set_contact(username: str, *, email: str | None, phone: str | None, actor: User | None = None) -> User:
    """Set where a person's e-mail and SMS notifications go (empty text clears)."""
    from app.notify import check_email_address  # noqa: PLC0415 - the one validation shared with the channel

    errors: dict[str, list[str]] = {}
    if email:
        try:
            email = check_email_address(email)
        except Exception as exc:
            errors["email"] = [str(exc)]
    if phone and not re.fullmatch(r"\+?[0-9]{5,20}", phone):
        errors["phone"] = [str(_l("请输入有效的手机号码。"))]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], errors)
    with transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(str(_l("用户不存在。")))
        user.email, user.phone = email or None, phone or None
        session.add(AuditEvent(actor_id=actor.id if actor else None, action="contact_changed",
                               detail={"user": user.username}))
        return user


_SESSION_USER = select(User).options(joinedload(User.roles)).where(User.id == bindparam("user_id"))


def load_user(session_id: str) -> User | None:
    """The user of a session id `<id>:<epoch>`, if the epoch is still current."""
    try:
        user_id, epoch = (int(part) for part in session_id.split(":", 1))
    except ValueError:
        return None
    # The roles in the same statement (a join, not selectin's second query): every page reads them. The
    # statement is built once (its cache key too); `session.get` with options built it on every request.
    user = db.session.execute(_SESSION_USER, {"user_id": user_id}).unique().scalar_one_or_none()
    if user is None or user.session_epoch != epoch or not user.active or demo_login_refused(user):
        return None
    return user
