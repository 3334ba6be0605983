"""Form stubs from other modellers' form keys and form fields (Camunda formData, Flowable formProperty,
Camunda 8 forms): a JSON Schema form with one field per convertible field, for the owner to complete."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from app.engine.import_xml import ACTIVITI, CAMUNDA, FLOWABLE, ZEEBE, B, properties_of, set_property

MAX_TEXT = 2000
_TYPES = {"string": "string", "long": "integer", "integer": "integer", "boolean": "boolean", "date": "date",
          "enum": "enum", "textfield": "string", "textarea": "string", "number": "integer", "checkbox": "boolean",
          "select": "enum", "radio": "enum", "datetime": "date"}


def form_name(task_id: str) -> str:
    """The stub's file name: ut_<task id in lower case>.schema.json."""
    stem = re.sub(r"[^a-z0-9_]+", "_", (task_id or "task").lower()).strip("_") or "task"
    stem = stem if stem.startswith("ut_") else f"ut_{stem}"
    return f"{stem[:70]}.schema.json"


def field_name(key: str) -> str | None:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key or "")
    name = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return name[:63] if name and name[0].isalpha() else None


class FormsMixin:
    """Form conversion for the converter (importing._Converter): needs note(), take() and handled."""

    root: Any
    forms: dict[str, dict[str, Any]]
    handled: set[tuple[Any, str]]
    # provided by the converter: record a report line; read (and mark as handled) a vendor attribute
    note: Callable[..., None]
    take: Callable[[Any, str], str | None]

    def convert_form(self, task: Any) -> None:
        key = self.take(task, "formKey") or self.take(task, "formRef")
        fields: list[tuple[str, str, str, list[tuple[str, str]]]] = []  # (id, label, type, choices)
        extensions = task.find(f"{B}extensionElements")
        for child in list(extensions) if extensions is not None else []:
            namespace, local = etree.QName(child).namespace, etree.QName(child).localname
            if namespace == CAMUNDA and local == "formData":
                self.handled.add((child, "*"))
                fields += [(f.get("id"), f.get("label") or f.get("id"), f.get("type") or "string", _choices(f))
                           for f in child if etree.QName(f).localname == "formField"]
            elif namespace in (FLOWABLE, ACTIVITI) and local == "formProperty":
                self.handled.add((child, "*"))
                fields.append((child.get("id"), child.get("name") or child.get("id"), child.get("type") or "string",
                               _choices(child)))
            elif namespace == ZEEBE and local == "formDefinition":
                self.handled.add((child, "*"))
                key = key or child.get("formKey") or child.get("formId")
                fields += self._camunda8_fields(child.get("formKey") or "")
        if not key and not fields:
            return
        if properties_of(task).get("formJsonSchemaFilename"):
            self.note(task, "form_kept", False, form=key or "")
            return
        name = form_name(task.get("id"))
        schema, skipped = stub_schema(task.get("name") or task.get("id"), fields)
        self.forms[name] = schema
        set_property(task, "formJsonSchemaFilename", name)
        self.note(task, "form_stub", True, form=name, key=key or "", fields=len(schema["properties"]))
        for label in skipped:
            self.note(task, "form_field", False, field=label)
        for key, *_rest in fields:
            if field_name(key) not in (None, key) and field_name(key) in schema["properties"]:
                self.note(task, "form_field_renamed", False, field=key, name=field_name(key))

    def _camunda8_fields(self, form_key: str) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
        """Fields of a Camunda 8 form embedded in the file (zeebe:userTaskForm), by its form key."""
        wanted = form_key.rsplit(":", 1)[-1]
        for form in self.root.iter(f"{{{ZEEBE}}}userTaskForm"):
            if form.get("id") != wanted:
                continue
            self.handled.add((form, "*"))
            try:
                components = json.loads(form.text or "{}").get("components", [])
            except (ValueError, AttributeError):
                return []
            return [(c.get("key"), c.get("label") or c.get("key"), c.get("type") or "textfield",
                     [(str(v.get("value")), str(v.get("label") or v.get("value"))) for v in c.get("values") or []])
                    for c in components if isinstance(c, dict) and c.get("key")]
        return []


def _choices(field: Any) -> list[tuple[str, str]]:
    return [(v.get("id"), v.get("name") or v.get("id")) for v in field
            if isinstance(v.tag, str) and etree.QName(v).localname == "value"]


def stub_schema(title: str, fields: list[tuple[str, str, str, list[tuple[str, str]]]]
                ) -> tuple[dict[str, Any], list[str]]:
    """A form schema with the fields that convert; the labels of those that do not."""
    properties: dict[str, Any] = {}
    skipped: list[str] = []
    for key, label, kind, choices in fields:
        name, mapped = field_name(key), _TYPES.get((kind or "").lower())
        if name is None or mapped is None or name in properties:
            skipped.append(f"{label} ({kind})")
            continue
        prop: dict[str, Any] = {"title": label or name}
        if mapped == "enum":
            if not choices:
                skipped.append(f"{label} ({kind})")
                continue
            prop.update({"type": "string", "oneOf": [{"const": c, "title": t} for c, t in choices]})
        elif mapped == "date":
            prop.update({"type": "string", "format": "date"})
        elif mapped == "string":
            prop.update({"type": "string", "maxLength": MAX_TEXT})
        else:
            prop["type"] = mapped
        properties[name] = prop
    if not properties:
        properties["note"] = {"type": "string", "title": "办理意见", "maxLength": MAX_TEXT}
    schema = {"title": title, "type": "object", "additionalProperties": False, "properties": properties}
    return schema, skipped
