"""Organisation profiles (domain.md §10, decision 1): who the superiors are, how releases are approved,
who handles false information. One profile is active; diagrams read it with `profile("key")`.

The city profile (篇三) is seeded as the active default, the county profile (篇二) is shipped beside
it. An admin edits a profile through the same JSON Schema form machinery as task forms
(`profile.schema.json`); a changed value applies to every instance from its next step on, because
the profile is read when an instance advances, not copied into it (docs/decisions.md).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from threading import Lock
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from app import clock, forms
from app.db import transaction
from app.extensions import db
from app.models import AuditEvent, OrgProfile, User
from app.operations.errors import Invalid, NotFound

HERE = Path(__file__).resolve().parent

# The English pages name the bodies of the lists below by the profile's `english_names` (decision 115);
# these are the shipped profiles' defaults, an admin edits them with the rest of the profile.
BODY_NAMES_EN = {
    "市委、市政府": "Municipal Party committee and government",
    "市委宣传部": "Municipal Party committee publicity department",
    "市政府分管领导": "Municipal government leader in charge",
    "市委网信办": "Municipal cyberspace affairs office",
    "市委办": "Municipal Party committee office",
    "市政府办": "Municipal government office",
    "市政府新闻办": "Municipal government information office",
    "省人力资源和社会保障厅": "Provincial human resources and social security department",
    "市公安局网安支队": "Municipal public security cyber security detachment",
    "属地政府": "Local government",
    "专家": "Experts",
    "县委、县政府分管领导": "County Party committee and government leaders in charge",
    "县委、县政府": "County Party committee and government",
    "县委宣传部": "County Party committee publicity department",
    "县政府分管领导": "County government leader in charge",
    "县委网信办": "County cyberspace affairs office",
    "县委办": "County Party committee office",
    "县政府办": "County government office",
    "市民政局": "Municipal civil affairs bureau",
    "县公安局": "County public security bureau",
}

CITY: dict[str, Any] = {
    "org_name": "市人力资源和社会保障局",
    "levels_in_use": "four",
    "report_within": "PT30M",
    "superiors_l1": ["市委、市政府"],
    "external_report_to": ["市委宣传部", "市政府分管领导", "市委网信办"],
    "quick_report_to": ["市委办", "市政府办", "市委网信办"],
    "file_record_l3": True,
    "file_record_with": ["市委网信办"],
    "release_approval_l1": "external",
    "release_approval_l2": "external",
    "release_approval_l3": "group",
    "release_approval_l4": "group",
    "external_approvers": ["市委宣传部", "市委网信办"],
    "false_info_owner": "leadership",
    "press_conference_requester": "leadership",
    "spokesperson_designators": ["市委宣传部", "市政府新闻办"],
    "continuous_monitoring_hours": 24,
    "aftermath_watch": "P7D",
    "aftermath_check_every": "P1D",
    "summary_due": "P15D",
    "approval_reminder": "R3/PT1H",
    "monthly_report_recipients": ["市委网信办", "省人力资源和社会保障厅"],
    "risk_filing_depts": ["省人力资源和社会保障厅", "市委、市政府"],
    "consultation_superiors": ["市委、市政府", "市委宣传部", "市委网信办"],
    "consultation_partners": ["市委网信办", "市委宣传部", "市公安局网安支队", "属地政府", "专家"],
    "english_names": [{"name": name, "name_en": english} for name, english in BODY_NAMES_EN.items()],
}

COUNTY: dict[str, Any] = {
    **CITY,
    "org_name": "县民政局",
    "superiors_l1": ["县委、县政府分管领导", "市委、市政府"],
    "external_report_to": ["市委宣传部", "县委宣传部", "县政府分管领导", "县委网信办"],
    "quick_report_to": ["县委办", "县政府办", "县委网信办"],
    "file_record_l3": False,
    "file_record_with": [],
    "external_approvers": ["县委、县政府", "县委宣传部"],
    "false_info_owner": "party_group",
    "press_conference_requester": "party_group",
    "spokesperson_designators": ["县委宣传部"],
    "risk_filing_depts": ["市民政局", "县委、县政府"],
    "monthly_report_recipients": ["县委网信办", "市民政局"],
    "consultation_superiors": ["县委、县政府", "县委宣传部", "市委宣传部"],
    "consultation_partners": ["县委网信办", "县委宣传部", "县公安局", "属地政府", "专家"],
}

SHIPPED = {"city": ("市级单位(篇三)", CITY), "county": ("县级单位(篇二)", COUNTY)}
SHIPPED_EN = {"city": "Municipal unit (Part 3)", "county": "County unit (Part 2)"}
DEFAULT = "city"


@cache
def profile_form() -> forms.FormSpec:
    """The form an admin edits a profile with (also the schema its values are checked against)."""
    return forms.FormSpec.from_files("profile", (HERE / "profile.schema.json").read_bytes(),
                                     (HERE / "profile.uischema.json").read_bytes())


def ensure_profiles() -> int:
    """Create the shipped profiles that are missing; make the city profile active if none is."""
    with transaction() as session:
        existing = {p.code: p for p in session.scalars(select(OrgProfile))}
        created = 0
        for code, (name, values) in SHIPPED.items():
            if code not in existing:
                existing[code] = OrgProfile(code=code, name=name, values=copy.deepcopy(values), active=False)
                session.add(existing[code])
                created += 1
        if not any(p.active for p in existing.values()):
            existing[DEFAULT].active = True
        return created


def active_values(session: Session | None = None) -> dict[str, Any]:
    """The active profile's values over its shipped defaults (a key added in a later release has a value)."""
    session = session or db.session
    row = session.scalar(select(OrgProfile).where(OrgProfile.active.is_(True)))
    return values_of(row) if row else dict(CITY)


_CACHE: dict[str, dict[str, Any]] = {}
_CACHE_LOCK = Lock()


def stamp_column() -> Any:
    """A column for any SELECT: the active profile's code and revision, as one text (its version).

    Selected with the row a use case reads anyway, it lets `values_for_stamp` reuse this process's
    copy of the values without a statement of its own.
    """
    return (select(OrgProfile.code + literal("@") + OrgProfile.revision)
            .where(OrgProfile.active.is_(True)).limit(1).scalar_subquery().label("profile_stamp"))


def values_for_stamp(session: Session, stamp: str | None) -> dict[str, Any]:
    """The active profile's values, read only when this process has not seen this version yet (a change
    of the values or of the active profile gives a new stamp)."""
    if stamp is None:  # no revision yet (a row from before migration 0011): read it
        return active_values(session)
    with _CACHE_LOCK:
        cached = _CACHE.get(stamp)
    if cached is not None:
        return cached
    values = active_values(session)
    with _CACHE_LOCK:
        _CACHE.clear()  # one version is current; older ones are never asked for again
        _CACHE[stamp] = values
    return values


def values_of(row: OrgProfile) -> dict[str, Any]:
    """A profile's values over the shipped defaults of the same profile (the city's for others), so a key
    added in a later release names the county's bodies in the county profile, not the city's."""
    defaults = SHIPPED.get(row.code, ("", CITY))[1]
    return {**defaults, **(row.values or {})}


def english_names(values: dict[str, Any]) -> dict[str, str]:
    """Chinese → English name of the bodies a profile's `english_names` table names (rows left blank skipped)."""
    rows = values.get("english_names")
    pairs = (row for row in rows if isinstance(row, dict)) if isinstance(rows, list) else ()
    return {str(row.get("name") or "").strip(): str(row.get("name_en") or "").strip() for row in pairs
            if str(row.get("name") or "").strip() and str(row.get("name_en") or "").strip()}


def display_name(row: OrgProfile, locale: str | None = None) -> str:
    """A profile's name for a page: a shipped profile still under its shipped name reads in English on
    English pages; a name the administrator gave stays as written."""
    english = (locale or "").lower().startswith("en")
    if english and row.code in SHIPPED and row.name == SHIPPED[row.code][0]:
        return SHIPPED_EN[row.code]
    return row.name


def list_profiles() -> list[OrgProfile]:
    return list(db.session.scalars(select(OrgProfile).order_by(OrgProfile.code)))


def get_profile(code: str) -> OrgProfile:
    row = db.session.get(OrgProfile, code)
    if row is None:
        raise NotFound(str(_l("没有这个机构配置。")))
    return row


def check_values(values: dict[str, Any], locale: str = "zh_CN") -> dict[str, list[str]]:
    """Errors by field for a profile's values: the form's rules, durations and cycles within the engine's
    bounds included (their formats, docs/forms.md)."""
    return forms.validate(forms.localize(profile_form(), locale), values, {}, locale=locale)


def update_profile(code: str, values: dict[str, Any], actor: User, reason: str) -> OrgProfile:
    """Replace a profile's values (all of them, checked); audited with the keys that changed."""
    if not reason.strip():
        raise Invalid(str(_l("请填写修改原因。")), errors={"reason": [str(_l("请填写修改原因。"))]})
    errors = check_values(values)
    if errors:
        raise Invalid(str(_l("机构配置有误,请按提示修改。")), errors=errors)
    with transaction() as session:
        row = session.get(OrgProfile, code)
        if row is None:
            raise NotFound(str(_l("没有这个机构配置。")))
        before = row.values or {}
        values = forms.keep_spelling(profile_form().fields, before, values)
        changed = sorted(k for k in set(before) | set(values) if before.get(k) != values.get(k))
        row.values = copy.deepcopy(values)
        row.updated_by_id = actor.id
        row.updated_at = clock.now()
        session.add(AuditEvent(actor_id=actor.id, action="profile_updated",
                               detail={"profile": code, "changed": changed, "reason": reason.strip()[:500],
                                       "before": {k: before.get(k) for k in changed}}))
        return row


def activate(code: str, actor: User) -> OrgProfile:
    """Make `code` the active profile (exactly one is active)."""
    with transaction() as session:
        rows = {p.code: p for p in session.scalars(select(OrgProfile).with_for_update())}
        if code not in rows:
            raise NotFound(str(_l("没有这个机构配置。")))
        for row in rows.values():
            row.active = row.code == code
        session.add(AuditEvent(actor_id=actor.id, action="profile_activated", detail={"profile": code}))
        return rows[code]
