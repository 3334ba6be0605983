"""The studio's index: search and grouping of the workspace's files, and validation that does not slow
the page down.

Validating the workspace runs every deploy check on every file (about a second and a half for the
app's ~120 files). The index therefore never validates while it renders: it shows the last result
for exactly this workspace content when there is one (remembered by a digest of every file's current
text, the roles and the current versions), and otherwise lets the page fetch it afterwards.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from threading import Lock

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import load_only

from app.extensions import db
from app.models import ProcessDefinition, Role, User, WorkspaceFile
from app.operations import studio

_CACHE: OrderedDict[str, studio.Validation] = OrderedDict()
_CACHE_SIZE = 16
_LOCK = Lock()
GROUPINGS = ("kind", "process", "drafts")


def workspace_digest(rows: Iterable[WorkspaceFile] | None = None) -> str:
    """A digest of everything a validation's outcome depends on: each file's current text, the roles,
    and the current version of each process (what a deploy would change)."""
    digest = hashlib.sha256()
    for row in sorted(rows if rows is not None else studio.list_files(), key=lambda r: r.name):
        text = row.current or ""
        digest.update(f"{row.name}\0{len(text)}\0".encode())
        digest.update(text.encode())
    digest.update("\0".join(sorted(db.session.scalars(select(Role.code)))).encode())
    latest = db.session.execute(select(ProcessDefinition.process_key, ProcessDefinition.content_hash)
                                .where(ProcessDefinition.is_latest.is_(True))
                                .order_by(ProcessDefinition.process_key)).all()
    digest.update(repr(latest).encode())
    return digest.hexdigest()


def _key(rows: Iterable[WorkspaceFile] | None = None) -> str:
    """The workspace's digest and the page's language: a result's messages are in the language it was made in."""
    return f"{workspace_digest(rows)}:{get_locale() or ''}"


def remembered(rows: Iterable[WorkspaceFile]) -> studio.Validation | None:
    """The validation of exactly this workspace, if it was done already (None: not yet)."""
    key = _key(rows)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
        return found


def validate(actor: User) -> studio.Validation:
    """`studio.validate`, remembered for this workspace content (any change of a file, a role or a
    current version gives another digest, so a remembered result is never stale)."""
    studio.require_edit(actor)
    key = _key()
    with _LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    result = studio.validate(actor)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def forget() -> None:
    """Drop remembered validations (tests)."""
    with _LOCK:
        _CACHE.clear()


# -- search and grouping --------------------------------------------------------------------------


@dataclass
class Group:
    """A heading of the index and its files."""

    key: str
    label: str
    files: list[WorkspaceFile] = field(default_factory=list)


_USERS_CACHE: dict[tuple[int, ...], dict[str, list[tuple[str, str]]]] = {}


def file_users() -> dict[str, list[tuple[str, str]]]:
    """File name → [(process key, process name)] of the current versions that use it. Deployed rows never
    change, so the map is remembered by the ids of the current versions."""
    rows = db.session.execute(select(ProcessDefinition.id, ProcessDefinition.process_key, ProcessDefinition.name)
                              .where(ProcessDefinition.is_latest.is_(True))
                              .order_by(ProcessDefinition.process_key)).all()
    key = tuple(row.id for row in rows)
    found = _USERS_CACHE.get(key)
    if found is not None:
        return found
    users: dict[str, list[tuple[str, str]]] = {}
    query = select(ProcessDefinition).where(ProcessDefinition.id.in_(key)).options(load_only(
        ProcessDefinition.process_key, ProcessDefinition.name, ProcessDefinition.sources, ProcessDefinition.forms))
    for definition in db.session.scalars(query):
        for name in [*(definition.sources or {}), *(definition.forms or {})]:
            users.setdefault(name, []).append((definition.process_key, definition.name))
    for found_users in users.values():
        found_users.sort()
    _USERS_CACHE.clear()
    _USERS_CACHE[key] = users
    return users


def _processes_in(row: WorkspaceFile) -> list[str]:
    if row.kind != "bpmn":
        return []
    return re.findall(r'<(?:\w+:)?process\b[^>]*\bid="([^"]+)"', row.current or "")


def _titles_in(row: WorkspaceFile) -> list[str]:
    """What a person calls the file: a form's title, a diagram's process names, a table's decision names
    (read only when somebody searches)."""
    text = row.current or ""
    if row.kind == "form":
        try:
            title = json.loads(text).get("title")
        except (ValueError, AttributeError):
            return []
        return [title] if isinstance(title, str) else []
    return re.findall(r'<(?:\w+:)?(?:process|decision)\b[^>]*\bname="([^"]+)"', text)


def search(rows: list[WorkspaceFile], query: str, users: dict[str, list[tuple[str, str]]]) -> list[WorkspaceFile]:
    """Files whose name, or the name or key of a process using them, contains every word of `query`."""
    words = [w.lower() for w in (query or "").split() if w][:10]
    if not words:
        return rows

    def haystack(row: WorkspaceFile) -> str:
        names = [row.name, *_processes_in(row), *_titles_in(row)]
        names += [part for pair in users.get(row.name, []) for part in pair]
        return " ".join(names).lower()

    return [row for row in rows if all(word in haystack(row) for word in words)]


def group(rows: list[WorkspaceFile], by: str, users: dict[str, list[tuple[str, str]]]) -> list[Group]:
    """The files under headings: by kind (流程图/决策表/表单), by process that uses them (a file used by
    several processes is under each), or drafts first."""
    if by == "process":
        groups: dict[str, Group] = {}
        for row in rows:
            keys = users.get(row.name) or [(pid, pid) for pid in _processes_in(row)]
            if not keys:
                groups.setdefault("", Group("", str(_l("未被已发布的流程使用")))).files.append(row)
            for pid, name in keys:
                groups.setdefault(pid, Group(pid, name)).files.append(row)
        return sorted(groups.values(), key=lambda g: (g.key == "", g.key))  # by process key: a stable order
    if by == "drafts":
        with_draft = Group("draft", str(_l("有草稿")), [r for r in rows if r.draft is not None])
        without = Group("deployed", str(_l("无草稿")), [r for r in rows if r.draft is None])
        return [g for g in (with_draft, without) if g.files]
    labels = {"bpmn": _l("流程图"), "dmn": _l("决策表"), "form": _l("表单")}
    return [Group(kind, str(label), [r for r in rows if r.kind == kind]) for kind, label in labels.items()
            if any(r.kind == kind for r in rows)]
