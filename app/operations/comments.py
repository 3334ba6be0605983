"""Comments on an incident (流转意见): a plain-text thread for the people who may see the incident.

A comment may name colleagues with @username or @name; each named person who may see the incident gets
an in-app notice (and e-mail/SMS by their settings) linking to the thread. A comment naming someone it
cannot reach (unknown, or not allowed to see the incident) is sent back to its writer with the reason,
unless they choose to post it anyway, telling only the others. Every comment is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import transaction
from app.extensions import db
from app.models import AuditEvent, Incident, IncidentComment, Notification, ProcessInstance, User
from app.models.users import is_person
from app.notify import templates
from app.operations import deliveries as deliveries_ops
from app.operations import incident_page
from app.operations.errors import Invalid, NotFound

MAX_LENGTH = 2000
MAX_MENTIONS = 20
KIND = "comment_mention"
# @ followed by a name: up to the next space or punctuation (ASCII or Chinese).
MENTION = re.compile(r"@([^\s@,,。.;;::!!??、()()\[\]【】<>《》\"'“”‘’]{1,64})")


@dataclass
class Posted:
    """A stored comment, the people it told, and the names it could not tell (unknown or not allowed)."""

    comment: IncidentComment
    told: list[str] = field(default_factory=list)
    not_told: list[str] = field(default_factory=list)


def thread(incident: Incident) -> list[IncidentComment]:
    """Every comment of an incident, oldest first (the reader was checked by `get_visible_incident`)."""
    return list(db.session.scalars(select(IncidentComment).where(IncidentComment.incident_id == incident.id)
                                   .order_by(IncidentComment.id)))


def latest(instance: ProcessInstance, count: int = 3) -> tuple[list[IncidentComment], int]:
    """The newest comments of a task's incident, oldest of them first as on the incident page, and how
    many there are in all."""
    incident_id = select(Incident.id).where(Incident.instance_id == instance.id).scalar_subquery()
    rows = list(db.session.scalars(select(IncidentComment).where(IncidentComment.incident_id == incident_id)
                                   .order_by(IncidentComment.id.desc()).limit(count)))
    rows.reverse()
    total = db.session.scalar(select(func.count()).select_from(IncidentComment)
                              .where(IncidentComment.incident_id == incident_id)) if rows else 0
    return rows, total or 0


def mentioned_names(body: str) -> list[str]:
    """The distinct names written after @, in order (at most MAX_MENTIONS)."""
    names: list[str] = []
    for name in MENTION.findall(body):
        if name not in names:
            names.append(name)
    return names[:MAX_MENTIONS]


def check_body(text: str) -> str:
    """The comment as it will be stored; Invalid (keyed `body`) when empty or too long."""
    body = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if not body:
        message = str(_l("请填写意见内容。"))
        raise Invalid(message, errors={"body": [message]})
    if len(body) > MAX_LENGTH:
        message = str(_l("意见最多 %(n)s 字。", n=MAX_LENGTH))
        raise Invalid(message, errors={"body": [message]})
    return body


def add_comment(number: str, text: str, user: User, notify_reachable_only: bool = False) -> Posted:
    """Store a comment on an incident the user may see, tell the people it mentions, audit it.

    A comment naming someone it cannot reach (nobody by that name, or a person who may not see the
    incident) is refused with Invalid, keyed `body` (one sentence per name and what to do) and
    `unreachable` (the names), unless `notify_reachable_only`: then it is stored and tells the others.
    """
    body = check_body(text)
    with transaction() as session:
        incident = session.scalar(select(Incident).where(Incident.number == number[:32],
                                                         incident_page.visible_clause(user)))
        if incident is None:
            raise NotFound(str(_l("事件不存在或您无权查看。")))
        comment = IncidentComment(incident_id=incident.id, author_id=user.id, body=body, mentions=[])
        posted = Posted(comment)
        refusals = _sort_mentions(incident, posted, user, mentioned_names(body))
        if refusals and not notify_reachable_only:
            refusals.append(str(_l("请删去这些 @ 后再发表;如需其参与,请先把本舆情的相关任务交其办理(转办、指派),"
                                   "或将其所在科室列为承办、协办单位。也可勾选“仍然发表,不提醒以上人员”。")))
            raise Invalid(refusals[0], errors={"body": refusals, "unreachable": posted.not_told})
        session.add(comment)
        session.flush()
        _notify(session, incident, comment, user)
        session.add(AuditEvent(actor_id=user.id, instance_id=incident.instance_id, action="comment_added",
                               detail={"incident": incident.number, "comment": comment.public_id,
                                       "length": len(body), "mentioned": len(comment.mentions),
                                       "not_told": posted.not_told}))
        return posted


def _sort_mentions(incident: Incident, posted: Posted, author: User, names: list[str]) -> list[str]:
    """Put each named person the comment may tell into its mentions, the others into `not_told`; returns
    why each of the others cannot be told, as the writer reads it."""
    refusals: list[str] = []
    people = _people(names)
    comment = posted.comment
    for name in names:
        person = people.get(name) or people.get(name.lower())
        if person is None:
            posted.not_told.append(name)
            refusals.append(str(_l("查无“@%(name)s”:没有用户名或姓名为此的在用账号(或有重名),请核对。", name=name)))
        elif person.id == author.id or person.id in comment.mentions:
            continue
        elif not incident_page.can_view(incident, person):
            posted.not_told.append(name)
            refusals.append(str(_l("「%(person)s」尚无权查看此舆情,提及后不会收到提醒,也看不到本条意见。",
                                   person=person.display_name)))
        else:
            comment.mentions = [*comment.mentions, person.id]
            posted.told.append(person.display_name)
    return refusals


def _people(names: list[str]) -> dict[str, User]:
    """Active users named by username (any case) or display name; a name two people share names nobody."""
    if not names:
        return {}
    lowered = [name.lower() for name in names]
    rows = db.session.scalars(select(User).where(User.active.is_(True), is_person(), or_(
        func.lower(User.username).in_(lowered), User.display_name.in_(names)))).all()
    found: dict[str, User] = {}
    by_name: dict[str, list[User]] = {}
    for person in rows:
        found[person.username.lower()] = person
        by_name.setdefault(person.display_name, []).append(person)
    for name, holders in by_name.items():
        if len(holders) == 1 and name not in found:
            found[name] = holders[0]
    return found


def _notify(session: Session, incident: Incident, comment: IncidentComment, author: User) -> None:
    if not comment.mentions:
        return
    link = f"/incidents/{incident.number}#comment-{comment.public_id}"
    excerpt = comment.body if len(comment.body) <= 200 else comment.body[:200] + "…"
    subject, body = templates.render(KIND, {"author": author.display_name, "incident_no": incident.number,
                                            "title": incident.title, "excerpt": excerpt})
    event_key = f"comment:{comment.public_id}"
    for user_id in comment.mentions:
        session.add(Notification(user_id=user_id, kind=KIND, title=subject, body=body, link=link,
                                 instance_id=incident.instance_id, dedup_key=f"{event_key}:{user_id}"))
    notice = deliveries_ops.Notice(kind=KIND, subject=subject, body=body, urgent=False,
                                   link=current_app.config["PUBLIC_URL"] + link, instance_id=incident.instance_id)
    deliveries_ops.plan_deliveries(session, notice, sorted(comment.mentions), event_key)
