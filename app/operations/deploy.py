"""Deploy BPMN/DMN files and forms as new process versions, only where content changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import forms
from app.db import transaction
from app.engine import definitions
from app.extensions import db
from app.models import Deployment, ProcessDefinition, Role, User, WorkspaceFile, utcnow
from app.models.audit import AuditEvent
from app.operations import options, problem_text
from app.operations.errors import DeployRefused

FORM_NAME_SUFFIXES = (".schema.json", ".uischema.json")


@dataclass
class DeployResult:
    """What a deploy stored: new versions (process key → version) and unchanged processes."""

    created: dict[str, int] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    deployment_id: int | None = None


def read_directory(processes_dir: str | Path, forms_dir: str | Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Read *.bpmn, *.dmn and forms/*.json from disk (names only, no subdirectories)."""
    process_files = {p.name: p.read_bytes() for p in sorted(Path(processes_dir).iterdir())
                     if p.is_file() and p.suffix in (".bpmn", ".dmn")}
    form_files = {p.name: p.read_bytes() for p in sorted(Path(forms_dir).iterdir())
                  if p.is_file() and p.name.endswith(FORM_NAME_SUFFIXES)}
    return process_files, form_files


def check_forms(form_files: Mapping[str, bytes], known_roles: set[str] | None = None
                ) -> tuple[dict[str, dict], list[definitions.Problem]]:
    """Parse and check every form file; returns name → JSON and the problems found.

    With `known_roles`, option lists (`x-source`) must be ones the app can fill.
    """
    loaded: dict[str, dict] = {}
    problems: list[definitions.Problem] = []
    for name, content in sorted(form_files.items()):
        if not forms.FORM_FILE_NAME.match(name):
            problems.append(definitions.Problem(name, None, "form file names must look like ut_x.schema.json"))
            continue
        try:
            loaded[name] = forms.load_json(content, name)
        except forms.FormSchemaError as exc:
            problems.extend(definitions.Problem(name, None, p) for p in exc.problems)
    for name, schema in loaded.items():
        if name.endswith(".schema.json"):
            ui_name = name.replace(".schema.json", ".uischema.json")
            for problem in _checked_schema(name, form_files[name], form_files.get(ui_name) if ui_name in loaded
                                           else None, schema, loaded.get(ui_name)):
                problems.append(definitions.Problem(name, None, problem))
            if known_roles is not None:
                for source in sorted(forms.sources_of(forms.FormSpec(name=name, schema=schema, uischema={}))):
                    problem = options.source_problem(source, known_roles)
                    if problem:
                        problems.append(definitions.Problem(name, None, problem))
    return loaded, problems


_SCHEMA_CHECKS: dict[tuple[str, str, str], list[str]] = {}
_SCHEMA_CHECKS_MAX = 2048


def _checked_schema(name: str, content: bytes, ui_content: bytes | None, schema: dict, uischema: dict | None
                    ) -> list[str]:
    """`forms.check_schema`, remembered by the files' content (checking a schema against the JSON Schema
    meta-schema is the slowest part of validating the studio's workspace, and most forms never change)."""
    key = (name, definitions.file_hash(content), definitions.file_hash(ui_content) if ui_content is not None else "")
    found = _SCHEMA_CHECKS.get(key)
    if found is None:
        found = forms.check_schema(name, schema, uischema)
        if len(_SCHEMA_CHECKS) >= _SCHEMA_CHECKS_MAX:
            _SCHEMA_CHECKS.clear()
        _SCHEMA_CHECKS[key] = found
    return list(found)


def deploy_processes(process_files: Mapping[str, bytes], form_files: Mapping[str, bytes], *,
                     actor: User | None = None, note: str = "", source: str = "cli",
                     disk_hashes: Mapping[str, str] | None = None, clear_drafts: bool = False) -> DeployResult:
    """Validate everything, then store a new version of each process whose content changed.

    A single problem anywhere refuses the whole deploy and stores nothing. The deployed files become
    the process owners' workspace (`workspace_file`): `disk_hashes` records what processes/ and
    forms/ held (a deploy from disk), `clear_drafts` ends the drafts that were deployed (the studio).
    """
    with transaction() as session:
        compiled, loaded_forms, problems = compile_files(session, process_files, form_files)
        if problems:
            raise DeployRefused(str(_l("部署被拒绝:文件有错误。")), [_problem_dict(p) for p in problems])
        result = _store(session, compiled, process_files, loaded_forms, actor, note, source)
        _record_workspace(session, {**process_files, **form_files}, disk_hashes or {}, clear_drafts)
        return result


def compile_files(session: Session, process_files: Mapping[str, bytes], form_files: Mapping[str, bytes]
                  ) -> tuple[dict[str, definitions.CompiledProcess], dict[str, dict], list[definitions.Problem]]:
    """Run every deploy check on a set of files without storing anything: compiled processes,
    parsed forms, and the problems (file, element, reason)."""
    known_roles = set(session.scalars(select(Role.code)))
    loaded_forms, problems = check_forms(form_files, known_roles)
    try:
        compiled = definitions.compile_bundle(
            process_files,
            known_roles=known_roles,
            known_forms=set(loaded_forms),
            form_hashes={name: definitions.file_hash(content) for name, content in form_files.items()},
        )
    except definitions.DefinitionError as exc:
        problems.extend(exc.problems)
        compiled = {}
    for process in compiled.values():
        for name, schema in process.generated_forms.items():
            loaded_forms.setdefault(name, schema)  # a form of that name in forms/ replaces the generated one
    return compiled, loaded_forms, problems


def _record_workspace(session: Session, files: Mapping[str, bytes], disk_hashes: Mapping[str, str],
                      clear_drafts: bool) -> None:
    now = utcnow()
    rows = {row.name: row for row in session.scalars(select(WorkspaceFile))}
    for name, content in files.items():
        text = content.decode("utf-8")
        row = rows.get(name)
        if row is None:
            row = WorkspaceFile(name=name, kind=file_kind(name))
            session.add(row)
        if row.content != text:
            row.content, row.content_hash, row.updated_at = text, definitions.file_hash(content), now
        if name in disk_hashes:
            row.disk_hash = disk_hashes[name]
        if clear_drafts or row.draft == text:
            row.draft, row.draft_by_id, row.draft_at = None, None, None


def file_kind(name: str) -> str:
    """bpmn, dmn or form, by the file name."""
    if name.endswith(".bpmn"):
        return "bpmn"
    if name.endswith(".dmn"):
        return "dmn"
    return "form"


def _problem_dict(problem: definitions.Problem) -> dict[str, str | None]:
    return problem_text.describe(problem)


def _store(session: Session, compiled: dict[str, definitions.CompiledProcess],
           process_files: Mapping[str, bytes], loaded_forms: dict[str, dict], actor: User | None, note: str,
           source: str) -> DeployResult:
    result = DeployResult()
    latest = {d.process_key: d for d in session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.is_latest.is_(True)))}
    changed = {pid: proc for pid, proc in compiled.items()
               if pid not in latest or latest[pid].content_hash != proc.content_hash}
    result.unchanged = sorted(set(compiled) - set(changed))
    if not changed:
        return result
    deployment = Deployment(created_by_id=actor.id if actor else None, note=note, source=source)
    session.add(deployment)
    session.flush()
    result.deployment_id = deployment.id
    for pid, proc in sorted(changed.items()):
        previous = latest.get(pid)
        version = _next_version(session, pid)
        if previous is not None:
            session.execute(update(ProcessDefinition).where(ProcessDefinition.process_key == pid)
                            .values(is_latest=False))
        session.add(ProcessDefinition(
            process_key=pid, version=version, name=proc.name, content_hash=proc.content_hash,
            spec_json=proc.spec_json,
            sources={name: process_files[name].decode("utf-8") for name in proc.files},
            forms={name: loaded_forms[name] for name in sorted(proc.forms)},
            tasks={key: _task_dict(info) for key, info in proc.tasks.items()},
            message_starts=proc.message_starts, timer_start=proc.timer_start, schedule=proc.schedule,
            is_latest=True, deployment_id=deployment.id,
        ))
        result.created[pid] = version
    session.add(AuditEvent(actor_id=actor.id if actor else None, action="deploy",
                           detail={"created": result.created, "note": note, "source": source}))
    return result


def _next_version(session: Session, process_key: str) -> int:
    current = session.scalar(select(func.max(ProcessDefinition.version))
                             .where(ProcessDefinition.process_key == process_key))
    return (current or 0) + 1


def _task_dict(info: definitions.TaskInfo) -> dict:
    return {"process_id": info.process_id, "spec_id": info.spec_id, "name": info.name, "lane": info.lane,
            "roles": list(info.roles), "form": info.form, "ui_form": info.ui_form, "ledger": info.ledger}


def latest_definition(process_key: str) -> ProcessDefinition | None:
    """The newest version of a process, or None."""
    return db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_key == process_key, ProcessDefinition.is_latest.is_(True)))
