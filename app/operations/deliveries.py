"""Deliveries of a notification beyond the inbox: e-mail and SMS to people, robots and webhooks to groups.

`plan_deliveries` runs in the transaction of the step that raised the notification: it writes one
delivery row and one job per destination. The `deliver_notification` job (`send_delivery`) sends
it through the channel, outside any transaction, and records the outcome; the job table retries
temporary failures with backoff and shows permanent ones to admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock, notify
from app.db import transaction
from app.extensions import db
from app.models import (
    AuditEvent,
    Job,
    NotificationChannel,
    NotificationDelivery,
    NotificationPreference,
    User,
)
from app.operations import jobs
from app.operations.errors import Invalid, NotFound

JOB_KIND = "deliver_notification"
TASK_KIND = "task"  # the preference row (and robot subscription) of every task notice
ROBOT_KINDS = ("dingtalk", "wecom")
MAX_ATTEMPTS = 10  # with the backoff of app.operations.jobs this spans more than 20 minutes of outage


@dataclass(frozen=True)
class Notice:
    """One rendered notification, as every destination receives it."""

    kind: str
    subject: str
    body: str
    urgent: bool
    link: str
    instance_id: int | None = None


def plan_deliveries(session: Session, notice: Notice, user_ids: list[int], event_key: str,
                    group_channels: str = "all") -> list[NotificationDelivery]:
    """Write the deliveries (and their jobs) one notification needs, by preferences and channels.

    `group_channels`: "all" (robots and webhooks that want the type, `*` included), "explicit" (only
    those that name the type: a person's task notices reach a group chat only if it asked for them),
    or "none" (personal channels only).
    """
    kind, urgent = notice.kind, notice.urgent
    common = {"kind": kind, "subject": notice.subject, "body": notice.body, "urgent": urgent, "link": notice.link,
              "instance_id": notice.instance_id}
    rows: list[NotificationDelivery] = []
    channels = list(session.scalars(select(NotificationChannel).where(NotificationChannel.active.is_(True))))
    sms_gateway = next((c for c in channels if c.kind == "sms"), None)
    email_on = bool(current_app.config["SMTP"].get("host"))
    reachable = _reachable(session, user_ids, email_on, sms_gateway is not None)
    choices = _personal_choices(session, reachable, kind, urgent)
    for user in reachable:
        email, sms = choices[user.id]
        if email and user.email and email_on:
            rows.append(NotificationDelivery(channel_kind="email", user_id=user.id, address=user.email,
                                             dedup_key=f"{event_key}:email:{user.id}", **common))
        if sms and user.phone and sms_gateway is not None:
            rows.append(NotificationDelivery(channel_kind="sms", channel_id=sms_gateway.id, user_id=user.id,
                                             address=user.phone, dedup_key=f"{event_key}:sms:{user.id}", **common))
    for channel in channels:
        if group_channels == "none" or (group_channels == "explicit" and kind not in (channel.kinds or [])):
            continue
        if channel.kind != "sms" and channel.wants(kind, urgent):
            rows.append(NotificationDelivery(channel_kind=channel.kind, channel_id=channel.id,
                                             address=channel.address, dedup_key=f"{event_key}:channel:{channel.id}",
                                             **common))
    if not rows:
        return rows
    for row in rows:
        session.add(row)
    session.flush()
    jobs.enqueue_new(session, JOB_KIND, [(f"delivery-{row.id}", {"delivery_id": row.id}) for row in rows],
                     max_attempts=MAX_ATTEMPTS)
    return rows


def _reachable(session: Session, user_ids: list[int], email_on: bool, sms_on: bool) -> list[Any]:
    """Id, e-mail and phone of the recipients a personal channel can reach (no query when none can)."""
    if not user_ids or not (email_on or sms_on):
        return []
    rows = session.execute(select(User.id, User.email, User.phone).where(User.id.in_(user_ids))).all()
    return [row for row in rows if (email_on and row.email) or (sms_on and row.phone)]


def _personal_choices(session: Session, users: list[Any], kind: str, urgent: bool) -> dict[int, tuple[bool, bool]]:
    """(e-mail?, SMS?) per person: their preference for this type, else for all types, else the
    default — e-mail always, SMS only for urgent notifications."""
    if not users:
        return {}
    stored: dict[tuple[int, str], NotificationPreference] = {
        (p.user_id, p.kind): p for p in session.scalars(select(NotificationPreference).where(
            NotificationPreference.user_id.in_([u.id for u in users]), NotificationPreference.kind.in_([kind, "*"])))}
    choices = {}
    for user in users:
        chosen = stored.get((user.id, kind)) or stored.get((user.id, "*"))
        if chosen is None:
            choices[user.id] = (True, urgent)
        else:
            choices[user.id] = (chosen.email, chosen.sms == "always" or (chosen.sms == "urgent" and urgent))
    return choices


def send_delivery(payload: dict[str, Any]) -> str:
    """The `deliver_notification` job: send one delivery (once it is sent, never again)."""
    delivery = db.session.get(NotificationDelivery, int(payload["delivery_id"]))
    if delivery is None:
        raise notify.PermanentFailure(f"delivery {payload['delivery_id']} does not exist")
    if delivery.status == "sent":
        return delivery.receipt or "already sent"
    destination, message = _destination(delivery), _message(delivery)
    channel = notify.channel_for(delivery.channel_kind, current_app.config["SMTP"])
    db.session.rollback()  # no transaction stays open while the network is slow
    try:
        receipt = channel.send(destination, message)
    except notify.DeliveryError as exc:
        _record(delivery.id, error=str(exc), final=isinstance(exc, notify.PermanentFailure))
        raise
    _record(delivery.id, receipt=receipt)
    return receipt


def _destination(delivery: NotificationDelivery) -> notify.Destination:
    channel = db.session.get(NotificationChannel, delivery.channel_id) if delivery.channel_id else None
    if delivery.channel_kind == "sms":
        if channel is None or not channel.active:
            raise notify.PermanentFailure("no active SMS gateway is registered")
        return notify.Destination(kind="sms", address=delivery.address, secret=channel.secret,
                                  allow_networks=tuple(channel.allow_networks or ()),
                                  allow_http=channel.allow_http, gateway_url=channel.address)
    if delivery.channel_kind == "email":
        return notify.Destination(kind="email", address=delivery.address)
    if channel is None or not channel.active:
        raise notify.PermanentFailure("the channel was removed or deactivated")
    return notify.Destination(kind=channel.kind, address=channel.address, secret=channel.secret,
                              allow_networks=tuple(channel.allow_networks or ()), allow_http=channel.allow_http)


def _message(delivery: NotificationDelivery) -> notify.OutgoingMessage:
    return notify.OutgoingMessage(key=f"delivery-{delivery.id}", subject=delivery.subject, body=delivery.body,
                                  urgent=delivery.urgent, link=delivery.link,
                                  mentions=tuple(delivery.mentions or ()))


def _job_failed(session: Session, job: Job) -> None:
    """The delivery's job gave up (retries exhausted or a permanent error): the delivery failed, with why."""
    delivery = _delivery_of(session, job)
    if delivery is not None and delivery.status != "sent":
        delivery.status, delivery.last_error = "failed", (job.last_error or "")[:2000]


def _job_retried(session: Session, job: Job) -> None:
    """An admin retries the delivery's job: the delivery is pending again until the job sends it."""
    delivery = _delivery_of(session, job)
    if delivery is not None and delivery.status == "failed":
        delivery.status = "pending"


def _delivery_of(session: Session, job: Job) -> NotificationDelivery | None:
    delivery_id = (job.payload or {}).get("delivery_id")
    return session.get(NotificationDelivery, delivery_id) if isinstance(delivery_id, int) else None


jobs.on_job_settled(JOB_KIND, failed=_job_failed, retried=_job_retried)


def _record(delivery_id: int, *, receipt: str | None = None, error: str | None = None, final: bool = False) -> None:
    with transaction() as session:
        delivery = session.get(NotificationDelivery, delivery_id)
        if delivery is None:
            return
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.receipt, delivery.sent_at = "sent", receipt, clock.now()
            delivery.last_error = None
        else:
            delivery.last_error = error[:2000]
            if final:
                delivery.status = "failed"


# -- destinations registered by admins -----------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    """What an admin registers: a group robot, webhook or SMS gateway and what it should receive."""

    name: str
    kind: str  # webhook | dingtalk | wecom | sms
    address: str
    secret: str | None = None
    kinds: tuple[str, ...] = ("*",)
    urgent_only: bool = False
    allow_networks: tuple[str, ...] = ()
    allow_http: bool = False


def register_channel(spec: ChannelSpec, actor: User | None) -> NotificationChannel:
    """Register a destination, checked against the SSRF rules now (and again at every send)."""
    if spec.kind not in ("webhook", "dingtalk", "wecom", "sms"):
        raise Invalid(str(_l("不支持的通道类型:%(kind)s", kind=spec.kind)))
    try:
        notify.check_url(spec.address, spec.allow_networks, spec.allow_http)
    except notify.PermanentFailure as exc:
        raise Invalid(str(_l("地址不可用:%(reason)s", reason=str(exc))), {"address": [str(exc)]}) from exc
    with transaction() as session:
        if session.scalar(select(NotificationChannel.id).where(NotificationChannel.name == spec.name)) is not None:
            raise Invalid(str(_l("通道名称已存在。")), {"name": [str(_l("通道名称已存在。"))]})
        channel = NotificationChannel(
            name=spec.name, kind=spec.kind, address=spec.address, secret=spec.secret, kinds=list(spec.kinds),
            urgent_only=spec.urgent_only, allow_networks=list(spec.allow_networks), allow_http=spec.allow_http,
            created_by_id=actor.id if actor else None)
        session.add(channel)
        session.flush()
        session.add(AuditEvent(actor_id=actor.id if actor else None, action="channel_registered",
                               detail={"channel": channel.id, "name": spec.name, "kind": spec.kind,
                                       "allow_networks": list(spec.allow_networks), "allow_http": spec.allow_http}))
        return channel


def deactivate_channel(channel_id: int, actor: User | None) -> NotificationChannel:
    """Stop sending to a channel (its deliveries still queued fail permanently, visibly)."""
    with transaction() as session:
        channel = session.get(NotificationChannel, channel_id)
        if channel is None:
            raise NotFound(str(_l("通道不存在。")))
        channel.active = False
        session.add(AuditEvent(actor_id=actor.id if actor else None, action="channel_deactivated",
                               detail={"channel": channel.id, "name": channel.name}))
        return channel


def list_channels() -> list[NotificationChannel]:
    """Every registered channel."""
    return list(db.session.scalars(select(NotificationChannel).order_by(NotificationChannel.name)))


def fallbacks(user: User) -> list[str]:
    """Why some notices reach this person in the inbox only: an address they have not given, or a
    channel this installation has not set up (shown on their settings page)."""
    notes = []
    if not user.email:
        notes.append(str(_l("您还没有填写电子邮箱:应发邮件的通知只会出现在站内消息中。")))
    elif not current_app.config["SMTP"].get("host"):
        notes.append(str(_l("本系统未配置邮件服务器:应发邮件的通知只会出现在站内消息中。")))
    if not user.phone:
        notes.append(str(_l("您还没有填写手机号码:应发短信的通知只会出现在站内消息中。")))
    elif db.session.scalar(select(NotificationChannel.id).where(
            NotificationChannel.kind == "sms", NotificationChannel.active.is_(True)).limit(1)) is None:
        notes.append(str(_l("本系统未登记短信网关:应发短信的通知只会出现在站内消息中。")))
    if preference_for(user.id, TASK_KIND).im != "never":
        if not user.phone:
            notes.append(str(_l("您还没有填写手机号码:钉钉/企业微信值班群不会@您,任务通知只会出现在站内消息中。")))
        elif not duty_groups(db.session):
            notes.append(str(_l("本系统没有订阅任务通知的钉钉/企业微信值班群:任务通知只会出现在站内消息中。")))
    return notes


def duty_groups(session: Session) -> list[NotificationChannel]:
    """The active DingTalk/WeCom robots an admin subscribed to task notices by name: the duty groups."""
    rows = session.scalars(select(NotificationChannel).where(NotificationChannel.active.is_(True),
                                                             NotificationChannel.kind.in_(ROBOT_KINDS)))
    return [row for row in rows if TASK_KIND in (row.kinds or [])]


def preference_for(user_id: int, kind: str) -> NotificationPreference:
    """A user's stored preference for a type, or the default (e-mail on, SMS when urgent)."""
    stored = db.session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == user_id, NotificationPreference.kind == kind))
    return stored or NotificationPreference(user_id=user_id, kind=kind, email=True, sms="urgent", im="never")


def set_preference(user_id: int, kind: str, *, email: bool, sms: str, im: str | None = None) -> NotificationPreference:
    """A user's personal channels for one notification type (`*` for all); `im`: be @-mentioned in the
    duty groups (never | urgent | always), kept as it is when not given."""
    if sms not in ("never", "urgent", "always"):
        raise Invalid(str(_l("短信设置无效。")))
    if im not in (None, "never", "urgent", "always"):
        raise Invalid(str(_l("钉钉/企业微信设置无效。")), {"task_im": [str(_l("钉钉/企业微信设置无效。"))]})
    with transaction() as session:
        preference = session.scalar(select(NotificationPreference).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == kind))
        if preference is None:
            preference = NotificationPreference(user_id=user_id, kind=kind)
            session.add(preference)
        preference.email, preference.sms = email, sms
        if im is not None:
            preference.im = im
        elif preference.im is None:
            preference.im = "never"
        return preference
