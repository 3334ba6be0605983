"""Task data as people read it: labels for stored values, the context above a form, a submitted record."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.forms.durations import cycle_words, duration_words
from app.forms.fields import DURATION_KINDS, FieldDef, Options, choices
from app.forms.files import attachment_refs, format_size
from app.forms.messages import message
from app.forms.schema import FormSpec
from app.forms.values import to_local_display


@dataclass(frozen=True)
class FileItem:
    """One attachment as a page lists it: the id its download link and hidden input carry."""

    id: str
    name: str
    size: str
    removed: bool = False
    remove_label: str = ""
    remove_text: str = ""


Renderer = Callable[[list[FileItem]], str]


def context_items(form: FormSpec, context: Mapping[str, Any], options: Options | None = None,
                  locale: str = "zh_CN", fields: Mapping[str, FieldDef] | None = None,
                  files: Renderer | None = None, link: Callable[[str], str] | None = None) -> list[tuple[str, str]]:
    """(label, text) pairs of the task data named by `ui:context`, shown above the form.

    A key that is not a field of this form is labelled by `fields` (the fields of the other forms of
    the process), or by the field named in the entry's `as`, so codes show as their labels. A dotted
    key reads inside a dict (`monthly_stats.total`); `lines` shows a list one item per line; an
    `optional` entry is left out while its value is blank. With `files`, the attachments of a file[]
    field show as what it returns for them (download links); with `link`, an http(s) address of a url
    field as what it returns for it.
    """
    known = {**(fields or {}), **form.by_name}
    items = []
    for entry in form.uischema.get("ui:context", []):
        key = entry["key"]
        definition = known.get(entry.get("as", key.split(".")[-1]))
        value = _at_path(context, key)
        if entry.get("optional") and (value is None or value in ("", [])):
            continue
        if entry.get("lines") and isinstance(value, list) and value:
            text = "\n".join(display_text(definition, element, options, locale) for element in value)
        else:
            text = _shown(definition, value, options, locale, (files, link))
        items.append((entry["label"], text))
    return items


def _shown(definition: FieldDef | None, value: Any, options: Options | None, locale: str,
           renderers: tuple[Renderer | None, Callable[[str], str] | None]) -> str:
    files, link = renderers
    kind = definition.kind if definition else None
    if files and kind == "files" and attachment_refs(value):
        return files(file_items(attachment_refs(value)))
    if link and kind == "url" and isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return link(value)
    return display_text(definition, value, options, locale)


def _at_path(context: Mapping[str, Any], key: str) -> Any:
    value: Any = context
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def summary(form: FormSpec, data: Mapping[str, Any], options: Options | None = None,
            locale: str = "zh_CN", files: Renderer | None = None) -> list[tuple[str, str]]:
    """(label, text) of every field of a submitted record, in form order, skipping absent ones.

    With `files`, attachments are shown as what it returns for their items (the pages pass the
    `attachment_links` macro, so they become download links); otherwise as their names.
    """
    items = []
    for definition in form.fields:
        if definition.name not in data:
            continue
        value = data[definition.name]
        refs = attachment_refs(value) if definition.kind == "files" else []
        text = files(file_items(refs)) if files and refs else display_text(definition, value, options, locale)
        items.append((definition.title, text))
    return items


def file_items(refs: Sequence[Mapping[str, Any]], removed: frozenset[str] = frozenset(),
               locale: str = "zh_CN") -> list[FileItem]:
    """Attachment refs as the items a page lists."""
    remove = message("remove_file", locale)
    return [FileItem(str(ref["id"]), str(ref["name"]), format_size(ref.get("size")), ref["id"] in removed,
                     message("remove_file_label", locale, name=ref["name"]), remove) for ref in refs]


def display_text(definition: FieldDef | None, value: Any, options: Options | None = None,
                 locale: str = "zh_CN") -> str:
    """A stored value as text to read: option labels, 是/否, local times, durations in words (30分钟,
    每1小时,最多3次), lists joined with 、."""
    if value is None or value in ("", []):
        return message("empty", locale)
    if isinstance(value, bool):
        return message("yes" if value else "no", locale)
    if isinstance(value, list):
        return _display_list(definition, value, options, locale)
    if isinstance(value, dict):
        return _display_row(definition, value, options, locale)
    return _display_scalar(definition, value, options, locale)


def _display_scalar(definition: FieldDef | None, value: Any, options: Options | None, locale: str) -> str:
    if definition is not None and definition.kind in DURATION_KINDS:
        words = (cycle_words if definition.kind == "cycle" else duration_words)(value, locale)
        return words or str(value)
    for option, label in choices(definition.schema, options) if definition else ():
        if option == value:
            return label
    if definition is None and isinstance(value, str) and value.startswith(("P", "R")):
        # process data shown as context (a monitoring interval): a duration reads as words there too
        words = duration_words(value, locale) or cycle_words(value, locale)
        if words:
            return words
    return to_local_display(value) if isinstance(value, str) else str(value)


def _display_list(definition: FieldDef | None, value: list[Any], options: Options | None, locale: str) -> str:
    if definition is not None and definition.kind == "files":
        return message("list_separator", locale).join(ref["name"] for ref in attachment_refs(value)) or message(
            "empty", locale)
    item = definition.item if definition else None
    return message("list_separator", locale).join(display_text(item or definition, element, options, locale)
                                                  for element in value)


def _display_row(definition: FieldDef | None, row: dict[str, Any], options: Options | None,
                 locale: str) -> str:
    columns = {column.name: column for column in definition.columns} if definition else {}
    parts = []
    for key, cell in row.items():
        column = columns.get(key)
        parts.append(message("row_cell", locale, column=column.title if column else key,
                             value=display_text(column, cell, options, locale)))
    return message("row_separator", locale).join(parts)
