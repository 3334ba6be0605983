"""Version history in the studio: the versions of a process and the files each was deployed with, make
an earlier version current again (undo of a deploy), what each version changed (its diagram, a decision
table it uses, a form), and the diff of two versions for every file kind: diagrams element by element,
decision tables rule by rule and cell by cell, forms field by field.

Making a version current changes which version new instances start from; running instances keep the
version they started with. The files of that version go back into the workspace (so the next deploy
does not bring the undone content back), except a file another process's current version uses as it is.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.db import transaction
from app.engine import definitions, diff_tables, diffing
from app.extensions import db
from app.models import AuditEvent, Deployment, ProcessDefinition, User, WorkspaceFile
from app.operations import studio
from app.operations.errors import Forbidden, Invalid, NotFound

MADE_CURRENT = "version_made_current"


def _definition(process_key: str, version: int) -> ProcessDefinition:
    found = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == process_key,
                                                              ProcessDefinition.version == version))
    if found is None:
        raise NotFound(str(_l("版本不存在。")))
    return found


# -- the versions of a process --------------------------------------------------------------------


def versions(process_key: str) -> list[tuple[ProcessDefinition, Deployment, str | None]]:
    """(version, deployment, deployer's name) of a process, newest first."""
    rows = db.session.execute(select(ProcessDefinition, Deployment, User.display_name)
                              .join(Deployment, Deployment.id == ProcessDefinition.deployment_id)
                              .outerjoin(User, User.id == Deployment.created_by_id)
                              .where(ProcessDefinition.process_key == process_key)
                              .order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(str(_l("流程不存在。")))
    return [(row[0], row[1], row[2]) for row in rows]


def processes() -> list[ProcessDefinition]:
    """The newest version of every process."""
    return list(db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.is_latest.is_(True))
                                   .order_by(ProcessDefinition.process_key)))


def version_file(process_key: str, version: int, name: str) -> str:
    """A file as deployed with one version of a process: its own BPMN, called processes, decisions, and the
    JSON Schema of its forms (stored parsed, so written out again as indented JSON)."""
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == process_key,
                                                                   ProcessDefinition.version == version))
    if definition is not None and name in (definition.sources or {}):
        return definition.sources[name]
    if definition is not None and name in (definition.forms or {}):
        return json.dumps(definition.forms[name], ensure_ascii=False, indent=2) + "\n"
    raise NotFound(str(_l("文件不存在。")))


def main_file(definition: ProcessDefinition) -> str:
    """The file that defines the process itself (not the ones it calls)."""
    for name, xml in sorted((definition.sources or {}).items()):
        if name.endswith(".bpmn") and f'id="{definition.process_key}"' in xml:
            return name
    return next(iter(sorted(definition.sources or {})), "")


def diff(process_key: str, old: int, new: int) -> dict[str, Any]:
    """What changed in a process's own diagram between two versions, element by element."""
    before, after = _definition(process_key, old), _definition(process_key, new)
    name_before, name_after = main_file(before), main_file(after)
    changes = diffing.diff_bpmn(before.sources[name_before].encode(), after.sources[name_after].encode())
    return {"file_before": name_before, "file_after": name_after, **changes}


# -- making an earlier version current -------------------------------------------------------------


def make_current(process_key: str, version: int, actor: User, note: str) -> dict[str, Any]:
    """New instances start from `version` again (a note is required); running instances keep theirs.

    Returns {"previous": the version that was current, "restored": workspace files set back to that
    version's content, "kept": files left as they are because another current process uses them}.
    """
    if not studio.can_deploy(actor):
        raise Forbidden(str(_l("您没有此项权限。")))
    note = (note or "").strip()
    if not note:
        message = str(_l("请填写说明:为什么改回这个版本。"))
        raise Invalid(message, {"note": [message]})
    with transaction() as session:
        target = _definition(process_key, version)
        current = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == process_key,
                                                                 ProcessDefinition.is_latest.is_(True)))
        if current is not None and current.id == target.id:
            raise Invalid(str(_l("v%(version)s 已是当前版本。", version=version)))
        session.execute(update(ProcessDefinition).where(ProcessDefinition.process_key == process_key)
                        .values(is_latest=False))
        target.is_latest = True
        restored, kept = _restore_workspace(session, target)
        detail = {"process": process_key, "version": version, "previous": current.version if current else None,
                  "note": note[:2000], "restored": restored, "kept": kept}
        session.add(AuditEvent(actor_id=actor.id, action=MADE_CURRENT, detail=detail))
        return detail


def _restore_workspace(session: Any, target: ProcessDefinition) -> tuple[list[str], list[str]]:
    others = list(session.scalars(select(ProcessDefinition).where(ProcessDefinition.is_latest.is_(True),
                                                                  ProcessDefinition.process_key
                                                                  != target.process_key)))
    wanted: dict[str, str] = dict(target.sources or {})
    for name, schema in (target.forms or {}).items():
        wanted[name] = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    restored, kept = [], []
    for name in sorted(wanted):
        row = session.get(WorkspaceFile, name)
        if row is None or row.content is None:
            continue  # a generated form, or a file no longer in the workspace
        if _same(name, row.content, wanted[name], target):
            continue
        if any(_same(name, row.content, _file_of(other, name), other) for other in others if _has(other, name)):
            kept.append(name)
            continue
        row.content = wanted[name]
        row.content_hash = definitions.file_hash(wanted[name].encode())
        restored.append(name)
    return restored, kept


def _has(definition: ProcessDefinition, name: str) -> bool:
    return name in (definition.sources or {}) or name in (definition.forms or {})


def _file_of(definition: ProcessDefinition, name: str) -> str:
    if name in (definition.sources or {}):
        return definition.sources[name]
    return json.dumps((definition.forms or {}).get(name), ensure_ascii=False, indent=2) + "\n"


def _same(name: str, text: str, other: str, definition: ProcessDefinition) -> bool:
    """Same content: XML by text, forms by their JSON value (formatting does not matter)."""
    if name in (definition.sources or {}):
        return text == other
    try:
        return bool(json.loads(text) == json.loads(other))
    except ValueError:
        return False


def made_current_events(process_key: str, limit: int = 50) -> list[AuditEvent]:
    """The times an earlier version of the process was made current again, newest first."""
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == MADE_CURRENT)
                                .order_by(AuditEvent.id.desc()).limit(500))
    return [e for e in events if (e.detail or {}).get("process") == process_key][:limit]


# -- what each version changed ----------------------------------------------------------------------


def _kind(name: str) -> str:
    return "bpmn" if name.endswith(".bpmn") else "dmn" if name.endswith(".dmn") else "form"


def changed_files(before: ProcessDefinition | None, after: ProcessDefinition) -> list[dict[str, str]]:
    """The files of `after` that differ from `before` (or are new/gone): [{"name", "kind", "status"}]."""
    old = {**{n: t for n, t in (before.sources or {}).items()}, **{n: json.dumps(f, sort_keys=True)
                                                                   for n, f in (before.forms or {}).items()}} \
        if before else {}
    new = {**dict((after.sources or {}).items()),
           **{n: json.dumps(f, sort_keys=True) for n, f in (after.forms or {}).items()}}
    found = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        status = "added" if name not in old else "removed" if name not in new else "changed"
        found.append({"name": name, "kind": _kind(name), "status": status})
    return found


def version_changes(process_key: str) -> dict[int, list[dict[str, str]]]:
    """Per version, the files that changed since the version before it (the first version: none)."""
    rows = list(db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == process_key)
                                   .order_by(ProcessDefinition.version)))
    changes: dict[int, list[dict[str, str]]] = {}
    for previous, row in zip([None, *rows[:-1]], rows, strict=True):
        changes[row.version] = changed_files(previous, row) if previous is not None else []
    return changes


def deployed_with(process_key: str) -> dict[int, list[tuple[str, int]]]:
    """Per version of the process, the other processes that got a new version in the same deploy."""
    rows = db.session.execute(select(ProcessDefinition.version, ProcessDefinition.deployment_id)
                              .where(ProcessDefinition.process_key == process_key)).all()
    by_deployment = {row.deployment_id: row.version for row in rows if row.deployment_id is not None}
    found: dict[int, list[tuple[str, int]]] = {version: [] for version, _deployment in rows}
    if by_deployment:
        others = db.session.execute(
            select(ProcessDefinition.deployment_id, ProcessDefinition.process_key, ProcessDefinition.version)
            .where(ProcessDefinition.deployment_id.in_(list(by_deployment)),
                   ProcessDefinition.process_key != process_key)
            .order_by(ProcessDefinition.process_key)).all()
        for other in others:
            found[by_deployment[other.deployment_id]].append((other.process_key, other.version))
    return found


def because_of_tables_or_forms(created: dict[str, int]) -> dict[str, list[str]]:
    """For new versions (process key → version) whose own diagrams did not change: the decision tables and
    forms whose change gave them the new version."""
    found: dict[str, list[str]] = {}
    for key, version in created.items():
        if version <= 1:
            continue
        changed = changed_files(_definition(key, version - 1), _definition(key, version))
        if changed and all(item["kind"] != "bpmn" for item in changed):
            found[key] = [item["name"] for item in changed]
    return found


def full_diff(process_key: str, old: int, new: int) -> dict[str, Any]:
    """The diff of two versions for every file: the process's diagram (as `diff`), the other
    diagrams it calls, its decision tables (rule by rule, cell by cell) and its forms (field by field)."""
    before, after = _definition(process_key, old), _definition(process_key, new)
    result: dict[str, Any] = diff(process_key, old, new)
    files = changed_files(before, after)
    main = {result["file_before"], result["file_after"]}
    tables, forms_, diagrams = [], [], []
    for item in files:
        name = item["name"]
        if item["kind"] == "dmn":
            decisions = diff_tables.diff_dmn(_encoded(before.sources, name), _encoded(after.sources, name), name)
            tables.append({**item, "decisions": decisions})
        elif item["kind"] == "form" and not name.endswith(".uischema.json"):
            ui_name = name.replace(".schema.json", ".uischema.json")
            changes = diff_tables.diff_form((before.forms or {}).get(name), (after.forms or {}).get(name),
                                            (before.forms or {}).get(ui_name), (after.forms or {}).get(ui_name))
            forms_.append({**item, "changes": changes})
        elif item["kind"] == "bpmn" and name not in main:
            old_xml, new_xml = _encoded(before.sources, name), _encoded(after.sources, name)
            if old_xml and new_xml:
                diagrams.append({**item, "changes": diffing.diff_bpmn(old_xml, new_xml)})
            else:
                diagrams.append({**item, "changes": None})
    for item in files:  # a ui schema that changed alone shows under its form
        name = item["name"]
        if item["kind"] == "form" and name.endswith(".uischema.json"):
            form_name = name.replace(".uischema.json", ".schema.json")
            if not any(f["name"] == form_name for f in forms_):
                changes = diff_tables.diff_form((before.forms or {}).get(form_name),
                                                (after.forms or {}).get(form_name),
                                                (before.forms or {}).get(name), (after.forms or {}).get(name))
                forms_.append({"name": form_name, "kind": "form", "status": "changed", "changes": changes})
    result.update({"files": files, "tables": tables, "forms": forms_, "diagrams": diagrams})
    return result


def _encoded(sources: dict[str, str] | None, name: str) -> bytes | None:
    text = (sources or {}).get(name)
    return text.encode() if text is not None else None
