"""The render model of a form: plain Field objects a template shows with loops only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app import clock
from app.forms.display import FileItem, display_text, file_items
from app.forms.durations import UNITS, cycle_to_input, to_input, unit_label
from app.forms.fields import DURATION_KINDS, FieldDef, Options, offered, widget_for
from app.forms.files import StoredFiles, accept_attribute, accepted_categories, attachment_refs, extensions_text
from app.forms.messages import message
from app.forms.schema import FormSpec
from app.forms.submit import ROWS_KEY
from app.forms.values import to_local_input

_INPUT_TYPES = {"text": "text", "integer": "text", "datetime": "datetime-local", "date": "date", "url": "url"}
# The blank row a page copies for 添加一行 names its inputs with these; the script puts the row's in.
ROW_INDEX, ROW_NUMBER = "__i__", "__n__"


@dataclass
class RowTools:
    """What a table needs to add and remove rows: the blank row to copy, the cap, the buttons' words."""

    template: list[Field]
    max_rows: int
    add: str
    remove: str
    actions: str


@dataclass
class Field:
    """One control (or one table of controls) with everything its HTML needs."""

    name: str
    path: str
    id: str
    label: str
    widget: str
    help: str = ""
    required: bool = False
    value: str | list[str] = ""
    choices: list[tuple[str, str, bool]] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    columns: list[tuple[str, bool]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    placeholder: str = ""
    maxlength: int | None = None
    input_type: str = "text"
    inputmode: str = ""
    text_rows: int = 4
    help_id: str = ""
    error_id: str = ""
    describedby: str = ""
    files: list[FileItem] = field(default_factory=list)
    accept: str = ""
    hint: str = ""
    row_tools: RowTools | None = None
    parts: list[Field] = field(default_factory=list)  # a duration's number and unit (a cycle's repeats too)
    words: list[str] = field(default_factory=list)  # a cycle's words around its parts: 每 … 提醒一次,最多 … 次


@dataclass(frozen=True)
class _Sources:
    values: Mapping[str, Any]
    raw: Mapping[str, Any]
    errors: Mapping[str, list[str]]
    context: Mapping[str, Any]
    options: Options
    locale: str
    files: StoredFiles


def build_fields(form: FormSpec, values: Mapping[str, Any] | None = None,  # noqa: PLR0913 - one per source
                 raw: Mapping[str, Any] | None = None, errors: Mapping[str, list[str]] | None = None,
                 context: Mapping[str, Any] | None = None, options: Options | None = None,
                 locale: str = "zh_CN", *, files: StoredFiles | None = None) -> list[Field]:
    """The fields of `form` in order; `raw` (a posted form) wins over `values`, then the task context.

    `files` holds the task's stored attachments, which file[] fields list (docs/forms.md, Attachments).
    """
    sources = _Sources(values or {}, raw or {}, errors or {}, context or {}, options or {}, locale,
                       files or StoredFiles())
    return [_build(definition, form, sources) for definition in form.fields]


def form_errors(form: FormSpec, errors: Mapping[str, list[str]]) -> list[str]:
    """Messages no field shows: form-level ones and those about undeclared keys."""
    shown = set(form.by_name)
    return [text for path, texts in errors.items() if path.split(".")[0] not in shown for text in texts]


def _build(definition: FieldDef, form: FormSpec, sources: _Sources) -> Field:
    if definition.read_only:
        stored = sources.context.get(definition.name)
        value = display_text(definition, stored, sources.options, sources.locale)
        files = file_items(attachment_refs(stored)) if definition.kind == "files" else []
        return _finish(Field(definition.name, definition.name, _html_id(definition.name), definition.title,
                             "readonly", help=definition.help, value=value, files=files,
                             errors=_errors_at(sources.errors, definition.name)))
    if definition.kind == "files":
        return _files_field(definition, sources)
    if definition.kind in ("table", "list"):
        return _rows_field(definition, _initial(definition, form, sources), sources)
    if definition.kind in DURATION_KINDS:
        return _duration_field(definition, _initial(definition, form, sources), sources)
    if sources.raw:
        value = sources.raw.get(definition.name, [] if definition.kind == "multi" else "")
    else:
        value = _input_value(definition, _initial(definition, form, sources))
    return _control(definition, definition.name, definition.title, value, sources)


def _initial(definition: FieldDef, form: FormSpec, sources: _Sources) -> Any:
    """The value a field starts from: saved values, then ui:prefill, then ui:default "now", then default.

    Task data of the same name is deliberately not used: in loops and across tasks it holds the
    previous round's answer (an old approval, an old observation time), which must not be pre-chosen.
    """
    name = definition.name
    if name in sources.values:
        return sources.values[name]
    prefill = form.uischema.get("ui:prefill", {}).get(name)
    if prefill in sources.context:
        return sources.context[prefill]
    if definition.ui.get("ui:default") == "now" and definition.kind in ("datetime", "date"):
        current = clock.local(clock.now())
        return current.isoformat(timespec="minutes") if definition.kind == "datetime" else current.date().isoformat()
    return definition.schema.get("default")


def _input_value(definition: FieldDef, value: Any) -> str | list[str]:
    if definition.kind == "multi":
        return [_input_text(definition, item) for item in value] if isinstance(value, list) else []
    return _input_text(definition, value)


def _input_text(definition: FieldDef, value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_local_input(value) if definition.kind == "datetime" else str(value)


def _control(definition: FieldDef, name: str, label: str, value: str | list[str], sources: _Sources) -> Field:
    widget = widget_for(definition)
    ui = definition.ui
    result = Field(
        name, name, _html_id(name), label, widget, help=definition.help, required=definition.required,
        value=value, errors=_errors_at(sources.errors, name, nested=definition.kind == "multi"),
        placeholder=str(ui.get("ui:placeholder", "")),
        maxlength=definition.max_length if definition.kind in ("text", "textarea", "url") else None,
        input_type=_INPUT_TYPES.get(widget, "text"), inputmode="numeric" if widget == "integer" else "",
        text_rows=ui.get("ui:rows", 4),
    )
    result.choices = _choices(definition, widget, value, sources)
    return _finish(result)


def _errors_at(errors: Mapping[str, list[str]], path: str, *, nested: bool = False) -> list[str]:
    """The messages of `path`, and with `nested` those of its items too (`related_units.2` when a
    checkbox value is not among the options), once each: every error shows next to its field."""
    found: list[str] = []
    for key, texts in errors.items():
        if key == path or (nested and key.startswith(f"{path}.")):
            found += [text for text in texts if text not in found]
    return found


def _choices(definition: FieldDef, widget: str, value: str | list[str],
             sources: _Sources) -> list[tuple[str, str, bool]]:
    if definition.kind == "bool":
        pairs = [("true", definition.title)] if widget == "checkbox" else [
            ("true", message("yes", sources.locale)), ("false", message("no", sources.locale))]
    elif definition.kind in ("enum", "multi"):
        schema = definition.item.schema if definition.item else definition.schema
        pairs = [(str(option), label) for option, label in offered(schema, sources.options, sources.context)]
    else:
        return []
    if widget == "select":
        pairs.insert(0, ("", message("select", sources.locale)))
    chosen = set(value) if isinstance(value, list) else {value}
    return [(option, label, option in chosen) for option, label in pairs]


def _duration_field(definition: FieldDef, initial: Any, sources: _Sources) -> Field:
    """[number] [unit ▾], for a cycle 每 [number] [unit ▾] 提醒一次,最多 [repeats] 次: what was posted, else
    the stored ISO value (`PT30M`, `R3/PT1H`) in its own unit (docs/forms.md, Durations)."""
    name, label, locale = definition.name, definition.title, sources.locale
    cycle = definition.kind == "cycle"
    if sources.raw:
        amount, unit, times = (str(sources.raw.get(key, "")) for key in (name, f"{name}.unit", f"{name}.times"))
    else:
        amount, unit, times = cycle_to_input(initial) if cycle else (*to_input(initial), "")
    result = _finish(Field(name, name, _html_id(name), label, definition.kind, help=definition.help,
                           required=definition.required, errors=_errors_at(sources.errors, name)))
    every = message("cycle_every_label", locale, label=label) if cycle else ""
    units = _part(result, ".unit", unit, message("unit_label", locale, label=label))
    units.widget = "select"
    units.choices = [(code, unit_label(code, locale), code == unit) for code in UNITS]
    result.parts = [_part(result, "", amount, every), units]
    if cycle:
        result.parts.append(_part(result, ".times", times, message("cycle_times_label", locale, label=label)))
        result.words = [message(key, locale) for key in ("cycle_every", "cycle_between", "cycle_after")]
    return result


def _part(whole: Field, suffix: str, value: str, aria_label: str) -> Field:
    """One input of a duration: named `<field><suffix>`, described and marked invalid with the whole field."""
    part = Field(whole.name + suffix, whole.path + suffix, whole.id + suffix.replace(".", "-"), aria_label,
                 "integer", required=whole.required, value=value, errors=whole.errors, inputmode="numeric")
    part.describedby = whole.describedby
    return part


def _rows_field(definition: FieldDef, initial: Any, sources: _Sources) -> Field:
    existing = _existing_rows(definition, initial, sources)
    limit = definition.max_items
    wanted = max(len(existing) + definition.blank_rows, _rows_asked(definition, sources.raw))
    count = max(len(existing), min(wanted, limit))
    rows = [_row(definition, index, existing[index] if index < len(existing) else {}, sources)
            for index in range(count)]
    columns = [(column.title, column.required) for column in definition.columns]
    locale = sources.locale
    tools = RowTools(_row(definition, ROW_INDEX, {}, sources), limit, message("add_row", locale),
                     message("remove_row", locale), message("row_actions", locale))
    result = Field(definition.name, definition.name, _html_id(definition.name), definition.title, "rows",
                   help=definition.help, required=definition.required, rows=rows,
                   columns=columns or [(_item_title(definition), False)], row_tools=tools)
    shown = {cell.path for row in rows for cell in row}
    prefix = f"{definition.name}."
    result.errors = [text for path, texts in sources.errors.items()
                     if path == definition.name or (path.startswith(prefix) and path not in shown)
                     for text in texts]
    return _finish(result)


def _rows_asked(definition: FieldDef, raw: Mapping[str, Any]) -> int:
    """How many rows the person asked for (添加一行 without JavaScript, `forms.add_row`); 0 if they did not."""
    asked = raw.get(f"{definition.name}.{ROWS_KEY}")
    return asked if isinstance(asked, int) and not isinstance(asked, bool) else 0


def _files_field(definition: FieldDef, sources: _Sources) -> Field:
    """Attached files (from the post, else the stored values, else all stored for the field) and a file input."""
    name = definition.name
    known = sources.files.known(name)
    removed: frozenset[str] = frozenset()
    if name in sources.raw:
        refs = [known[i] for i in dict.fromkeys(_texts(sources.raw[name])) if i in known]
        removed = frozenset(_texts(sources.raw.get(f"{name}.remove")))
    elif name in sources.values:
        refs = [known.get(ref["id"], ref) for ref in attachment_refs(sources.values[name])]
    else:
        refs = list(known.values())
    categories = accepted_categories(definition.schema)
    types = extensions_text(categories, sources.locale)
    limit = sources.files.max_mb
    hint = message("files_hint", sources.locale, types=types, limit=limit) if limit else types
    prefix = f"{name}."
    errors = [text for path, texts in sources.errors.items() if path == name or path.startswith(prefix)
              for text in texts]
    result = _finish(Field(name, name, _html_id(name), definition.title, "files", help=definition.help,
                           required=definition.required, errors=errors,
                           files=file_items(refs, removed, sources.locale), accept=accept_attribute(categories),
                           hint=hint))
    result.describedby = " ".join(part for part in (result.describedby, f"{result.id}-hint") if part)
    return result


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list | tuple) else []


def _item_title(definition: FieldDef) -> str:
    item_schema = definition.item.schema if definition.item else {}
    return str(item_schema.get("title") or definition.title)


def _existing_rows(definition: FieldDef, initial: Any, sources: _Sources) -> list[dict[str, str]]:
    """Rows to show filled in, each as {column name ("" for a list): input text}."""
    if sources.raw:
        return _raw_rows(definition, sources.raw)
    stored = initial if isinstance(initial, list) else []
    if definition.kind == "list":
        return [{"": _input_text(definition.item or definition, item)} for item in stored]
    return [{column.name: _input_text(column, row.get(column.name)) for column in definition.columns}
            for row in stored if isinstance(row, dict)]


def _raw_rows(definition: FieldDef, raw: Mapping[str, Any]) -> list[dict[str, str]]:
    prefix = f"{definition.name}."
    indices = [int(key[len(prefix):].split(".")[0]) for key in raw
               if key.startswith(prefix) and key[len(prefix):].split(".")[0].isdigit()]
    count = min(max(indices, default=-1) + 1, definition.max_items)
    columns = [column.name for column in definition.columns] or [""]
    return [{column: str(raw.get(f"{prefix}{index}" + (f".{column}" if column else ""), ""))
             for column in columns} for index in range(count)]


def _row(definition: FieldDef, index: int | str, texts: dict[str, str], sources: _Sources) -> list[Field]:
    locale = sources.locale
    number = index + 1 if isinstance(index, int) else ROW_NUMBER
    if definition.kind == "list":
        item = definition.item or definition
        label = message("item", locale, label=definition.title, n=number)
        return [_cell(_control(item, f"{definition.name}.{index}", label, texts.get("", ""), sources))]
    cells = []
    for column in definition.columns:
        label = message("row", locale, label=definition.title, n=number, column=column.title)
        cell = _control(column, f"{definition.name}.{index}.{column.name}", label, texts.get(column.name, ""),
                        sources)
        # A radio group does not fit a table cell; the header already labels the column.
        if cell.widget == "radio":
            cell.widget = "select"
            cell.choices.insert(0, ("", message("select", locale), cell.value == ""))
        cells.append(_cell(cell))
    return cells


def _cell(cell: Field) -> Field:
    # Blank rows may stay empty, so cells are not marked required; the column header says it.
    cell.help = ""
    cell.required = False
    return _finish(cell)


def _html_id(path: str) -> str:
    return "field-" + path.replace(".", "-")


def _finish(result: Field) -> Field:
    result.help_id = f"{result.id}-help" if result.help else ""
    result.error_id = f"{result.id}-error" if result.errors else ""
    result.describedby = " ".join(part for part in (result.help_id, result.error_id) if part)
    return result
