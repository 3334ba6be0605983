"""What the studio's editors show beside the file: the modeller's pickers (forms, processes, decisions,
service operators, roles), the ui schema that goes with a form schema, and the live form preview.

Read-only: nothing here stores or validates the workspace (studio.py does).
"""

from __future__ import annotations

import re
from typing import Any

from app.extensions import db
from app.models import WorkspaceFile
from app.operations import operator_labels, studio
from app.operations.vocabulary import ROLES


def preview_form(name: str, schema_text: str, uischema_text: str = "") -> tuple[Any, list[str]]:
    """A form as the worklist would render it, from (unsaved) editor text: (FormSpec or None, problems)."""
    from app import forms  # noqa: PLC0415 - only the form preview needs the renderer's model

    problems: list[str] = []
    try:
        schema = forms.load_json(schema_text.encode(), name)
        uischema = forms.load_json(uischema_text.encode(), name) if uischema_text.strip() else {}
    except forms.FormSchemaError as exc:
        return None, list(exc.problems)
    problems.extend(forms.check_schema(name, schema, uischema or None))
    if problems:
        return None, problems
    return forms.FormSpec(name=name, schema=schema, uischema=uischema), []


def ui_companion(name: str) -> WorkspaceFile | None:
    """The ui schema file that goes with a form schema file, if there is one."""
    if not name.endswith(".schema.json"):
        return None
    return db.session.get(WorkspaceFile, name.replace(".schema.json", ".uischema.json"))


def catalogue() -> dict[str, Any]:
    """What the modeller's pickers offer: forms, processes, decisions, service operators and roles."""
    from app.engine import services  # noqa: PLC0415

    rows = studio.list_files()
    return {
        "forms": [row.name for row in rows if row.name.endswith(".schema.json")],
        "uiforms": [row.name for row in rows if row.name.endswith(".uischema.json")],
        "processes": sorted({pid for row in rows if row.kind == "bpmn"
                             for pid in re.findall(r'<bpmn:process id="([^"]+)"', row.current)}),
        "decisions": sorted({did for row in rows if row.kind == "dmn"
                             for did in re.findall(r'<decision id="([^"]+)"', row.current)}),
        "operators": operator_labels.labelled(services.operator_catalogue()),
        "roles": [{"value": code, "label": f"{name_zh} ({code})"} for code, name_zh, _en in ROLES],
    }
