"""The words people read for the codes the data holds: units, roles, the choices of the forms (sources,
platforms, channels …) and statuses, in the reader's language.

Pages, notices and exports ask here, so a code never reaches a person where a label exists: the units
come from the organisation's own table, the roles from theirs, every other choice from the form that
offered it (the incident's own process version, else the newest deployed one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app import forms
from app.extensions import db
from app.forms.messages import normalize_locale
from app.models import Incident, OrgUnit, ProcessDefinition, ProcessInstance, Role
from app.operations import catalog
from app.operations.vocabulary import INCIDENT_STATUSES, list_separator

INCIDENT_PROCESS = "yq_incident"
INSTANCE_STATUSES = {
    "running": _l("运行中"),
    "waiting": _l("办理中"),
    "suspended": _l("已挂起"),
    "completed": _l("已完成"),
    "terminated": _l("已终止"),
    "withdrawn": lazy_pgettext("instance status", "已撤销"),  # 已撤销 alone is a reverted migration
    "error": _l("出错"),
    "open": _l("待办"),
    "cancelled": _l("已取消"),
}


_MEMO = "label_names"


def _remembered(key: str, load: Callable[[], dict[str, str]]) -> dict[str, str]:
    """`load()` once per transaction of the current session (a page asks for the unit names from its
    panel, its comments and its form's choices: one read). Forgotten when the transaction ends and when
    a flush writes a unit or a role."""
    session = db.session()
    if _writes_names(session):  # pending, not yet flushed: the query's autoflush writes them first
        session.info.pop(_MEMO, None)
    memo = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = load()
    return dict(memo[key])


def _writes_names(session: Session) -> bool:
    return any(isinstance(item, OrgUnit | Role) for item in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "after_flush")
def _forget_written(session: Session, _context: Any) -> None:
    if _writes_names(session):
        session.info.pop(_MEMO, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_MEMO, None)


def unit_names(locale: str | None = None) -> dict[str, str]:
    """Unit code → name, inactive units included (old records still name them); in English the unit's
    English name where it has one (documents and exports keep the Chinese: they pass no locale)."""
    english = normalize_locale(locale) == "en"
    name = func.coalesce(func.nullif(func.trim(OrgUnit.name_en), ""), OrgUnit.name) if english else OrgUnit.name
    return _remembered(f"units:{english}", lambda: dict(db.session.execute(select(OrgUnit.code, name)).all()))


def role_names(locale: str = "zh_CN") -> dict[str, str]:
    """Role code → name in the reader's language."""
    column = Role.name_en if locale == "en" else Role.name_zh
    return _remembered(f"roles:{locale == 'en'}",
                       lambda: dict(db.session.execute(select(Role.code, column)).all()))


def units_text(codes: Any, names: dict[str, str] | None = None, sep: str = "、") -> str:
    """Unit codes (one or a list) as their names joined with 、 (`sep`: ", " on an English page); an unknown
    code stays as it is."""
    names = unit_names() if names is None else names
    items = [codes] if isinstance(codes, str) else list(codes or [])
    return sep.join(names.get(str(code), str(code)) for code in items)


def instance_status(code: str | None) -> str:
    """The name of an instance's (or a task's) status."""
    return str(INSTANCE_STATUSES.get(code or "", code or ""))


def incident_status(code: str | None) -> str:
    """The name of an incident's ledger status."""
    return str(INCIDENT_STATUSES.get(code or "", code or ""))


def _incident_version(definition_id: int | None) -> catalog.Version | None:
    if definition_id is None:
        definition_id = db.session.scalar(select(ProcessDefinition.id).where(
            ProcessDefinition.process_key == INCIDENT_PROCESS, ProcessDefinition.is_latest.is_(True)))
    return catalog.version(definition_id) if definition_id is not None else None


def incident_definition(incident: Incident) -> int | None:
    """The process version an incident runs on (its choices are labelled by that version's forms)."""
    if incident.instance_id is None:
        return None
    return db.session.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == incident.instance_id))


def incident_facts(incident: Incident, locale: str = "zh_CN", names: dict[str, str] | None = None,
                   choices: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
    """The coded facts of an incident as words: source, platform, lead and related units, status.

    Lists and exports pass `names` and `choices` (`field_labels` of the newest version) read once for
    all their rows; a single incident is labelled by its own process version, its choices in `locale`.
    """
    names = unit_names(locale) if names is None else names
    if choices is None:
        definition_id = incident_definition(incident)
        choices = {field: field_labels(field, definition_id, locale) for field in ("source_type", "platform")}
    return {
        "source_type": choices["source_type"].get(incident.source_type or "", incident.source_type or ""),
        "platform": choices["platform"].get(incident.platform or "", incident.platform or ""),
        "lead_unit": units_text(incident.lead_unit, names) if incident.lead_unit else "",
        "related_units": units_text(incident.related_units, names, list_separator(locale)),
        "status": incident_status(incident.status),
    }


def with_other_platform(platform: str, registered: dict[str, Any] | None) -> str:
    """The platform as the grading task shows it: 其他 with the name the monitor typed, 其他(B站)."""
    other = str((registered or {}).get("platform_other") or "").strip()
    if not other:
        return platform
    return f"{platform}({other})" if platform else other


def registered_data(entries: list[Any]) -> dict[str, Any]:
    """What the registration (the last `registered` line of `entries`, (entry, ...) rows) recorded."""
    found = [row[0] for row in entries if row[0].kind == "registered"]
    return (found[-1].data or {}) if found else {}


def field_labels(field: str, definition_id: int | None = None, locale: str = "zh_CN") -> dict[str, str]:
    """Value → label of every choice a form field offers (in Chinese unless a page asks for `locale`)."""
    return dict(choice_pairs(field, definition_id, locale))


def choice_pairs(field: str, definition_id: int | None = None, locale: str = "zh_CN") -> list[tuple[str, str]]:
    """(value, label) of every choice a form field offers (for filters that narrow by it), in `locale`."""
    version = _incident_version(definition_id)
    definition = version.fields().get(field) if version is not None else None
    if definition is None:
        return []
    schema = definition.item.schema if definition.item is not None else definition.schema
    return [(str(value), forms.form_text(label, locale)) for value, label in forms.choices(schema, None)]


def column_labels(field: str, column: str, definition_id: int | None = None,
                  locale: str = "zh_CN") -> dict[str, str]:
    """Value → label (in `locale`) of every choice a column of a row-table field offers (e.g. an accountability
    row's result)."""
    version = _incident_version(definition_id)
    definition = version.fields().get(field) if version is not None else None
    for sub in definition.columns if definition is not None else ():
        if sub.name == column:
            return {str(value): forms.form_text(label, locale) for value, label in forms.choices(sub.schema, None)}
    return {}
