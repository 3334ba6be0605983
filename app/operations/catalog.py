"""Deployed versions, read once per process: engine spec, task metadata and forms by definition id.

A process_definition row never changes after deploy (only its is_latest flag), so everything
derived from it is cached by id and shared by every request and job of the process.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from sqlalchemy import select

from app import forms
from app.engine import state
from app.extensions import db
from app.models import ProcessDefinition

CACHE_SIZE = 128


@dataclass
class Version:
    """What the app needs of one deployed version, without its row."""

    definition_id: int
    name: str
    tasks: dict[str, Any]
    form_files: dict[str, Any]
    _forms: dict[str, forms.FormSpec] = field(default_factory=dict)
    _fields: dict[str, Any] | None = None

    def task_info(self, process_id: str, spec_id: str) -> dict[str, Any]:
        return self.tasks.get(f"{process_id}:{spec_id}", {})

    def form(self, name: str, ui_name: str | None) -> forms.FormSpec | None:
        key = f"{name}|{ui_name}"
        if key not in self._forms and name in self.form_files:
            self._forms[key] = forms.FormSpec(name=name, schema=self.form_files[name],
                                              uischema=self.form_files.get(ui_name or "") or {})
        return self._forms.get(key)

    def fields(self) -> dict[str, Any]:
        """Every form field of the version by name (labels task data shown as context)."""
        if self._fields is None:
            specs = [self.form(name, name.replace(".schema.", ".uischema.")) for name in sorted(self.form_files)
                     if name.endswith(".schema.json")]
            self._fields = forms.field_index([spec for spec in specs if spec is not None])
        return self._fields


class _Cache:
    def __init__(self) -> None:
        self.lock = Lock()
        self.items: OrderedDict[int, Version] = OrderedDict()

    def get(self, definition_id: int) -> Version:
        with self.lock:
            if definition_id in self.items:
                self.items.move_to_end(definition_id)
                return self.items[definition_id]
        row = db.session.execute(select(ProcessDefinition.name, ProcessDefinition.tasks, ProcessDefinition.forms)
                                 .where(ProcessDefinition.id == definition_id)).one()
        version = Version(definition_id, row.name, row.tasks, row.forms)
        with self.lock:
            self.items[definition_id] = version
            while len(self.items) > CACHE_SIZE:
                self.items.popitem(last=False)
        return version


    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_VERSIONS = _Cache()


def forget_all() -> None:
    """Drop every cached version (tests that roll deployed rows back, whose ids may then be reused)."""
    _VERSIONS.clear()
    state.SPECS.clear()


def version(definition_id: int) -> Version:
    """The cached view of a deployed version."""
    return _VERSIONS.get(definition_id)


def spec(definition_id: int) -> state.LoadedSpec:
    """The engine spec of a deployed version; its stored text is read only on a cache miss."""

    def read() -> str:
        return db.session.scalar(select(ProcessDefinition.spec_json).where(ProcessDefinition.id == definition_id))

    return state.load_spec(str(definition_id), read)
