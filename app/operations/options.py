"""Option lists a form field can pick from (`x-source`), read for the current moment.

- `org_units`: active organisation units;
- `users:<role>`: active people holding a role (e.g. `users:commentator`);
- `open_incidents`: incidents still being handled (number and title), for "duplicate of";
- `profile:<key>`: a list value of the active organisation profile (e.g. `profile:external_report_to`).

Deploy refuses forms naming any other source, so a field is never left with nothing to choose.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.forms.messages import normalize_locale
from app.models import Incident, OrgUnit, User, UserRole
from app.models.users import is_person
from app.operations import profiles

Options = dict[str, list[tuple[str, str]]]


def source_problem(source: str, known_roles: set[str]) -> str | None:
    """Why `source` is not a known option list, or None."""
    kind, _, arg = source.partition(":")
    if source in ("org_units", "open_incidents"):
        return None
    if kind == "users" and arg in known_roles:
        return None
    if kind == "profile" and _is_name_list(profiles.CITY.get(arg)):
        return None
    lists = sorted(k for k, v in profiles.CITY.items() if _is_name_list(v))
    return (f"x-source '{source}' is not a known option list (org_units, open_incidents, users:<role>, "
            f"profile:<{'|'.join(lists)}>)")


def _is_name_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def options_for(sources: set[str] | list[str], locale: str | None = None) -> Options:
    """(value, label) pairs of each source; units by their English name for an English page (`locale`)."""
    english = normalize_locale(locale) == "en"
    result: Options = {}
    profile_values = None
    for source in sources:
        kind, _, arg = source.partition(":")
        if source == "org_units":
            units = db.session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True)).order_by(OrgUnit.code))
            result[source] = [(u.code, (english and (u.name_en or "").strip()) or u.name) for u in units]
        elif source == "open_incidents":
            rows = db.session.execute(select(Incident.number, Incident.title).where(Incident.status == "open")
                                      .order_by(Incident.id.desc()).limit(500))
            result[source] = [(number, f"{number} {title}".strip()) for number, title in rows]
        elif kind == "users":
            users = db.session.scalars(select(User).join(UserRole).where(
                UserRole.role_code == arg, User.active.is_(True), is_person()).order_by(User.username))
            result[source] = [(u.username, u.display_name) for u in users]
        elif kind == "profile":
            profile_values = profile_values if profile_values is not None else profiles.active_values()
            values = profile_values.get(arg)
            names = profiles.english_names(profile_values) if english else {}
            result[source] = [(str(v), names.get(str(v), str(v))) for v in values] if isinstance(values, list) else []
        else:
            result[source] = []
    return result
