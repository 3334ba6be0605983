"""Leads (线索) from every source into one entry point: `yq_alert_intake` (domain.md §11.4, §12.3).

A monitoring platform posts alerts with an API token; staff enter a superior's notice, a media
inquiry or a public report by hand. Each lead is stored as an `alert` row and starts an intake
instance through its message start event `msg_yq_alert`, in one transaction. Triage then opens a
new incident, forwards the news to a running one, or keeps it in the lead pool. A platform that
sends the same alert twice (same `external_ref`) gets the first one back, not a second lead.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock, forms
from app.db import transaction
from app.engine import runner
from app.extensions import db
from app.models import Alert, ApiToken, AuditEvent, User
from app.operations import api_tokens, catalog, instances
from app.operations.errors import Invalid

INTAKE_PROCESS = "yq_alert_intake"
ALERT_MESSAGE = "msg_yq_alert"
SOURCE_TYPES = {
    "platform_alert": _l("监测平台推送"),
    "superior_notice": _l("上级通报"),
    "media_inquiry": _l("媒体采访"),
    "public_report": _l("群众反映"),
}
TEXT_LIMITS = {"title": 300, "url": 2000, "platform": 64, "snippet": 5000, "author": 200, "external_ref": 200,
               "note": 2000}
METRICS = ("views", "reposts", "comments", "likes")
OTHER_PLATFORM = "other"  # the registration form's 其他, whose name goes into platform_other
EARLIEST_YEAR = 2000  # a lead's times are recent; earlier ones are typing or clock errors


@cache
def manual_form() -> forms.FormSpec:
    """The form staff enter a superior's notice, a media inquiry or a public report with."""
    here = Path(__file__).resolve().parent
    return forms.FormSpec.from_files("alert", (here / "alert.schema.json").read_bytes(),
                                     (here / "alert.uischema.json").read_bytes())


def clean_alert(payload: Any) -> dict[str, Any]:
    """A lead's fields, checked; raises Invalid with an error per field (Chinese)."""
    if not isinstance(payload, dict):
        raise Invalid(str(_l("线索内容必须是 JSON 对象。")), errors={"": [str(_l("线索内容必须是 JSON 对象。"))]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key in sorted(set(payload) - {"source_type", "published_at", "detected_at", "metrics", *TEXT_LIMITS}):
        errors[key] = [str(_l("不认识的字段。"))]
    if isinstance(payload.get("source_type"), str) and payload["source_type"] in SOURCE_TYPES:
        clean["source_type"] = payload["source_type"]
    else:
        errors["source_type"] = [str(_l("线索来源须为 %(values)s 之一。", values=", ".join(SOURCE_TYPES)))]
    _clean_texts(payload, clean, errors)
    _clean_times(payload, clean, errors)
    metrics = payload.get("metrics")
    if metrics not in (None, {}):
        if _valid_metrics(metrics):
            clean["metrics"] = dict(metrics)
        else:
            errors["metrics"] = [str(_l("传播数据须为 views/reposts/comments/likes 的非负整数。"))]
    if errors:
        raise Invalid(str(_l("线索有错误,请按提示修改。")), errors=errors)
    return clean


def alert_errors(payload: dict[str, Any], found: dict[str, list[str]]) -> dict[str, list[str]]:
    """`found` (the form's own errors) with what `clean_alert` says of the other fields added, so a person
    sees every error of the lead in one round rather than the form's first and the lead's after."""
    try:
        clean_alert(payload)
    except Invalid as exc:
        return {**{key: list(value) for key, value in (exc.errors or {}).items() if key and key not in found},
                **found}
    return found


def _clean_texts(payload: dict[str, Any], clean: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for key, limit in TEXT_LIMITS.items():
        value = payload.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            errors[key] = [str(_l("须为不超过 %(n)s 个字符的文本。", n=limit))]
        else:
            clean[key] = value.strip()
    if not clean.get("title"):
        errors.setdefault("title", [str(_l("请填写线索标题。"))])
    url = clean.get("url")
    if url and not url.lower().startswith(("http://", "https://")):
        errors["url"] = [str(_l("链接须以 http:// 或 https:// 开头。"))]


def _clean_times(payload: dict[str, Any], clean: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for key in ("published_at", "detected_at"):
        value = payload.get(key)
        if value in (None, ""):
            continue
        parsed = clock.parse_aware(value)
        if parsed is None:
            errors[key] = [str(_l("须为带时区的 ISO 8601 时间,如 2026-11-25T09:30:00+08:00。"))]
        elif parsed.year < EARLIEST_YEAR:  # year 0001 cannot even be shown in Shanghai time
            errors[key] = [str(_l("时间不能早于 %(year)s 年。", year=EARLIEST_YEAR))]
        elif parsed > clock.now():
            errors[key] = [str(_l("时间不能晚于现在。"))]
        else:
            clean[key] = clock.local(parsed).isoformat(timespec="seconds")


def _valid_metrics(metrics: Any) -> bool:
    return isinstance(metrics, dict) and all(
        k in METRICS and isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10**12
        for k, v in metrics.items())


def incident_from_lead(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """The data a lead opens its incident with: the platform it names (a code or a name such as 抖音,
    百度贴吧) as the registration form's choice, an unknown one as 其他 with its name (decision 54)."""
    text = data.get("platform")
    if not isinstance(text, str) or not text.strip():
        return data
    definition = instances.latest_definition(session, instances.INCIDENT_PROCESS)
    field = catalog.version(definition.id).fields().get("platform")
    if field is None:
        return data
    code = forms.match_choice(field.schema, text)
    if code is None:
        return {**data, "platform": OTHER_PLATFORM, "platform_other": text.strip()}
    return {**data, "platform": code}


def receive_alert(payload: Any, *, source: str, actor: User | None = None) -> tuple[Alert, bool]:
    """Store a lead and start its intake; (alert, created). A repeated `external_ref` from the same
    source returns the first lead unchanged."""
    clean = clean_alert(payload)
    with transaction() as session:
        ref = clean.get("external_ref")
        if ref:
            existing = session.scalar(select(Alert).where(Alert.source == source, Alert.external_ref == ref))
            if existing is not None:
                return existing, False
        alert = Alert(source=source[:100], external_ref=ref, source_type=clean["source_type"], title=clean["title"],
                      url=clean.get("url"), platform=clean.get("platform"), payload=clean,
                      received_by_id=actor.id if actor else None)
        session.add(alert)
        session.flush()
        instance = _start_intake(session, alert, clean, actor)
        alert.instance_id = instance.id
        session.add(AuditEvent(actor_id=actor.id if actor else None, instance_id=instance.id, action="alert_received",
                               detail={"alert": alert.public_id, "source": source, "source_type": alert.source_type}))
        return alert, True


def _start_intake(session: Session, alert: Alert, clean: dict[str, Any], actor: User | None) -> Any:
    definition = instances.latest_definition(session, INTAKE_PROCESS)
    instance = instances.new_instance(session, definition, actor)
    instance.title = alert.title
    data = {"alert_id": alert.public_id, "initiator": actor.username if actor else None}
    message = {**clean, "received_at": clock.local(alert.received_at or clock.now()).isoformat(timespec="seconds")}
    message.setdefault("detected_at", message["received_at"])
    try:
        step = runner.start_by_message(catalog.spec(definition.id), ALERT_MESSAGE, message, data, instances.budget(),
                                       instances.environment(session, instance))
    except (runner.TaskNotReady, runner.RouteRefused) as exc:
        raise Invalid(str(_l("线索接收流程不能启动:%(reason)s", reason=str(exc)))) from exc
    instances.apply_step(session, instance, step, actor)
    return instance


def list_alerts(outcome: str | None = None, limit: int = 200) -> list[Alert]:
    """The lead pool, newest first (optionally only one outcome: pending, new, duplicate, irrelevant)."""
    query = select(Alert).order_by(Alert.received_at.desc(), Alert.id.desc()).limit(limit)
    if outcome:
        query = query.where(Alert.outcome == outcome)
    return list(db.session.scalars(query))


def alert_counts() -> dict[str, int]:
    return dict(db.session.execute(select(Alert.outcome, func.count(Alert.id)).group_by(Alert.outcome)).all())


# -- API tokens for monitoring platforms ----------------------------------------------------------


def issue_token(name: str, actor: User) -> tuple[ApiToken, str]:
    """A token that may only post leads (the page's and the tests' shorthand for api_tokens.issue_token)."""
    return api_tokens.issue_token(name, actor, scopes=["alerts:write"])


def revoke_token(token_id: int, actor: User) -> ApiToken:
    return api_tokens.revoke_token(token_id, actor)


def list_tokens() -> list[ApiToken]:
    return api_tokens.list_tokens()


def token_source(token: str) -> str | None:
    """The name of the platform a live token with the `alerts:write` scope belongs to, or None."""
    row = api_tokens.find_token(token)
    if row is None or "alerts:write" not in (row.scopes or ()):
        return None
    with transaction():
        row.last_used_at = clock.now()
    return row.name
