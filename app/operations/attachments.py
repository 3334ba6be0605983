"""Attachments of task forms (file[] fields): store one upload, list a task's files, open one to download.

Each upload is checked by `app.forms.check_upload` (extension allow-list AND content) and stored in a
transaction of its own before the form is handled, so a form sent back with errors still lists it.
Downloads are audited (previews shown inside a page are not) and allowed only to people who may see
the file's task or instance; for everyone else the file does not exist (404). Which files a completed
task keeps is settled by `tasks.complete_task`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, NoReturn

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, undefer

from app import forms
from app.db import transaction
from app.extensions import db
from app.models import Attachment, AuditEvent, HumanTask, ProcessInstance, User
from app.operations import tasks, visibility
from app.operations.errors import Invalid, NotFound

MB = 1024 * 1024
MAX_FILES_PER_TASK = 100  # uploads kept for one open task, removed ones included until it completes


@dataclass(frozen=True)
class Download:
    """What a download sends: the stored name, content type and bytes."""

    filename: str
    content_type: str
    content: bytes
    ascii_name: str | None = None  # the fallback name for clients that cannot read `filename*`


def max_upload_mb() -> int:
    """The per-file size cap (YQ_MAX_UPLOAD_MB)."""
    return int(current_app.config["MAX_UPLOAD_MB"])


def stored_files(task: HumanTask, form: forms.FormSpec | None = None) -> forms.StoredFiles:
    """The task's attachments by field, in upload order, with the size cap: what its form lists and accepts.

    With `form`, a form without file[] fields costs no query (it can have no attachments).
    """
    if form is not None and not any(field.kind == "files" for field in form.fields):
        return forms.StoredFiles({}, max_upload_mb())
    rows = db.session.execute(
        select(Attachment.public_id, Attachment.field, Attachment.filename, Attachment.size, Attachment.content_type)
        .where(Attachment.task_id == task.id).order_by(Attachment.id))
    by_field: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_field.setdefault(row.field or "", []).append(_ref(row))
    return forms.StoredFiles(by_field, max_upload_mb())


def store_upload(public_id: str, field: str, filename: str, content: bytes, user: User) -> dict[str, Any]:
    """Check one uploaded file and store it for the task's file[] field; returns its reference.

    Raises Invalid (with the message keyed by `field`) for a refused file, NotFound for a task the
    user may not see, Conflict/Forbidden when they may not work on it.
    """
    locale = tasks.current_locale()
    task = tasks.get_task(public_id, user)
    definition = _file_field(task, field)
    name = forms.clean_filename(filename)
    if len(content) > max_upload_mb() * MB:
        _refuse(field, forms.message("file_too_large", locale, name=name, limit=max_upload_mb()))
    try:
        checked = forms.check_upload(filename, content, forms.accepted_categories(definition.schema), locale)
    except forms.FileRefused as exc:
        _refuse(field, str(exc))
    digest = hashlib.sha256(content).hexdigest()
    with transaction() as session:
        task = tasks.task_for_write(session, public_id, user)
        if not tasks.can_work(task, user):
            raise tasks.not_workable(task)
        if _count(session, task) >= MAX_FILES_PER_TASK:
            _refuse(field, forms.message("file_limit", locale))
        row = Attachment(filename=checked.filename, content_type=checked.content_type, size=len(content),
                         sha256=digest, content=content, uploaded_by_id=user.id, instance_id=task.instance_id,
                         task_id=task.id, field=field)
        session.add(row)
        session.flush()
        session.add(AuditEvent(actor_id=user.id, instance_id=task.instance_id, task_id=task.id,
                               action="attachment_uploaded",
                               detail={"task": task.spec_id, "field": field, "attachment": row.public_id,
                                       "name": row.filename, "size": row.size, "content_type": row.content_type,
                                       "sha256": digest}))
        return _ref(row)


def open_attachment(public_id: str, user: User) -> Download:
    """An attachment's content for someone who may see its task or instance; the download is audited."""
    with transaction() as session:
        row = session.scalar(select(Attachment).where(Attachment.public_id == public_id, _visible(user))
                             .options(undefer(Attachment.content)))
        if row is None:
            raise NotFound(str(_l("附件不存在或您无权查看。")))
        session.add(AuditEvent(actor_id=user.id, instance_id=row.instance_id, task_id=row.task_id,
                               action="attachment_downloaded",
                               detail={"field": row.field, "attachment": row.public_id, "name": row.filename}))
        return Download(row.filename, row.content_type, row.content)


PREVIEW_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def open_preview(public_id: str, user: User) -> Download:
    """A raster image attachment to show inline (the incident page's and lead card's thumbnails), for someone
    who may see it; anything else, and anything they may not see, does not exist. Not audited: a page
    showing its thumbnails is reading the page, and only a download (`open_attachment`) is recorded."""
    row = db.session.scalar(select(Attachment).where(Attachment.public_id == public_id, _visible(user),
                                                     Attachment.content_type.in_(sorted(PREVIEW_TYPES)))
                            .options(undefer(Attachment.content)))
    if row is None:
        raise NotFound(str(_l("附件不存在或您无权查看。")))
    return Download(row.filename, row.content_type, row.content)


def _file_field(task: HumanTask, field: str) -> forms.FieldDef:
    definition = tasks.task_form(task).by_name.get(field)
    if definition is None or definition.kind != "files" or definition.read_only:
        _refuse(field, forms.message("invalid", tasks.current_locale()))
    return definition


def _refuse(field: str, text: str) -> NoReturn:
    raise Invalid(text, {field: [text]})


def _count(session: Session, task: HumanTask) -> int:
    return session.scalar(select(func.count()).select_from(Attachment).where(Attachment.task_id == task.id)) or 0


def _visible(user: User) -> ColumnElement[bool]:
    """Attachments of the tasks the user may see, and of the instances they may see (in SQL)."""
    return or_(Attachment.task_id.in_(select(HumanTask.id).where(visibility.task_clause(user))),
               Attachment.instance_id.in_(select(ProcessInstance.id).where(visibility.instance_clause(user))))


def _ref(row: Any) -> dict[str, Any]:
    return {"id": row.public_id, "name": row.filename, "size": row.size, "content_type": row.content_type}
