"""Turning posted form fields (`MultiDict.to_dict(flat=False)`) into typed task data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.forms.durations import cycle_from_input, from_input
from app.forms.fields import FieldDef, Options
from app.forms.files import StoredFiles
from app.forms.messages import message
from app.forms.schema import FormSpec
from app.forms.validate import add_error, validate
from app.forms.values import (
    MAX_DATA_BYTES,
    data_size,
    parse_boolean,
    parse_date,
    parse_datetime,
    parse_integer,
)

_MISSING = object()
_PART_LENGTH = 50  # what is kept of a typed number or unit of a duration, for redisplay
_ROW_KEY = re.compile(r"(\d{1,5})(?:\.([a-z][a-z0-9_]{0,63}))?")
ROWS_KEY = "_rows"  # `<table>._rows` in `raw`: how many rows to show when the form comes back

FormData = Mapping[str, Any]


@dataclass
class Submission:
    """Typed data to store, what the user typed (for redisplay) and coercion errors, by field path."""

    data: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def parse_submission(form: FormSpec, formdata: FormData, options: Options | None = None,
                     locale: str = "zh_CN", files: StoredFiles | None = None) -> Submission:
    """Coerce posted strings into the form's JSON types; never raises on hostile input.

    `options` is accepted so that every step takes the same arguments; membership of x-source
    values is checked by `validate`. `files` holds the attachments the server stored for the task:
    a file[] field accepts only their ids.
    """
    submission = Submission()
    for definition in form.fields:
        if definition.read_only:
            continue
        if definition.kind == "files":
            _read_files(definition, formdata, submission, locale, files or StoredFiles())
            continue
        reader = _READERS.get(definition.kind, _read_scalar)
        reader(definition, formdata, submission, locale)
    if data_size(submission.data) > MAX_DATA_BYTES:
        add_error(submission.errors, "", message("too_large", locale))
    return submission


def check_submission(form: FormSpec, formdata: FormData, context: Mapping[str, Any],
                     options: Options | None = None, locale: str = "zh_CN",
                     files: StoredFiles | None = None) -> Submission:
    """Parse and validate a posted form; a coercion error hides validation errors of the same path."""
    submission = parse_submission(form, formdata, options, locale, files)
    for path, messages in validate(form, submission.data, context, options, locale).items():
        if path not in submission.errors:
            submission.errors[path] = messages
    return submission


def _values(formdata: FormData, key: str) -> list[str]:
    value = formdata.get(key)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def _first(formdata: FormData, key: str) -> str:
    values = _values(formdata, key)
    return values[0] if values else ""


def _read_scalar(definition: FieldDef, formdata: FormData, submission: Submission, locale: str) -> None:
    value = _take(definition, definition.name, _first(formdata, definition.name), submission, locale)
    if value is not _MISSING:
        submission.data[definition.name] = value


def _take(definition: FieldDef, path: str, text: str, submission: Submission, locale: str) -> Any:
    """Coerce one posted string, recording what was typed and any error; _MISSING if nothing to store."""
    submission.raw[path] = text[:definition.max_length]
    value, error = _coerce(definition, text, locale)
    if error:
        add_error(submission.errors, path, error)
        return _MISSING
    return value


def _coerce(definition: FieldDef, text: str, locale: str = "zh_CN") -> tuple[Any, str | None]:
    """One posted string as the field's JSON value (or _MISSING when blank) and an error message."""
    text = text.replace("\r\n", "\n").strip()
    if definition.ui.get("ui:widget") == "checkbox" and definition.kind == "bool":
        return parse_boolean(text) is True, None
    if not text:
        return _MISSING, None
    if len(text) > definition.max_length:
        return _MISSING, message("maxLength", locale, limit=definition.max_length)
    parsed, error_key = _convert(definition, text)
    return (_MISSING, message(error_key, locale)) if parsed is None else (parsed, None)


def _convert(definition: FieldDef, text: str) -> tuple[Any, str]:
    kind = definition.kind
    if kind == "int" or (kind == "enum" and definition.schema.get("type") == "integer"):
        return parse_integer(text), "integer" if kind == "int" else "choice"
    if kind == "bool":
        return parse_boolean(text), "boolean"
    if kind == "datetime":
        return parse_datetime(text), "date-time"
    if kind == "date":
        return parse_date(text), "date"
    return text, "invalid"


def _read_multi(definition: FieldDef, formdata: FormData, submission: Submission, locale: str) -> None:
    texts = list(dict.fromkeys(text.strip() for text in _values(formdata, definition.name) if text.strip()))
    if len(texts) > definition.max_items:
        add_error(submission.errors, definition.name, message("maxItems", locale, limit=definition.max_items))
        texts = texts[:definition.max_items]
    item = definition.item or definition
    submission.raw[definition.name] = [text[:item.max_length] for text in texts]
    values = []
    for text in texts:
        value, error = _coerce(item, text, locale)
        if error:
            add_error(submission.errors, definition.name, message("choice", locale))
        elif value is not _MISSING:
            values.append(value)
    if values:
        submission.data[definition.name] = values


def add_row(form: FormSpec, formdata: FormData, raw: dict[str, Any], name: str) -> dict[str, Any]:
    """`raw` (of `formdata`) asking for one row more of table `name` than the page posted: 添加一行
    without JavaScript re-shows the form with what was typed and a blank row, validating nothing."""
    definition = form.by_name.get(name)
    if definition is None or definition.read_only or definition.kind not in ("table", "list"):
        return raw
    shown = len(_row_indices(formdata, name))
    return {**raw, f"{name}.{ROWS_KEY}": min(shown + 1, definition.max_items)}


def _row_indices(formdata: FormData, name: str) -> list[int]:
    prefix = f"{name}."
    indices = set()
    for key in formdata:
        if isinstance(key, str) and key.startswith(prefix):
            match = _ROW_KEY.fullmatch(key[len(prefix):])
            if match:
                indices.add(int(match.group(1)))
    return sorted(indices)


def _posted_rows(definition: FieldDef, formdata: FormData, submission: Submission,
                 locale: str) -> list[dict[str, str]]:
    """The non-blank posted rows in order, each as {column: text}; blank rows are dropped."""
    columns = [column.name for column in definition.columns] or [""]
    rows = []
    for index in _row_indices(formdata, definition.name):
        keys = {column: f"{definition.name}.{index}" + (f".{column}" if column else "") for column in columns}
        row = {column: _first(formdata, key) for column, key in keys.items()}
        if any(text.strip() for text in row.values()):
            rows.append(row)
        if len(rows) > definition.max_items:
            limit = definition.max_items
            add_error(submission.errors, definition.name, message("maxItems", locale, limit=limit))
            return rows[:limit]
    return rows


def _read_table(definition: FieldDef, formdata: FormData, submission: Submission, locale: str) -> None:
    rows = []
    for index, posted in enumerate(_posted_rows(definition, formdata, submission, locale)):
        row = {}
        for column in definition.columns:
            path = f"{definition.name}.{index}.{column.name}"
            value = _take(column, path, posted[column.name], submission, locale)
            if value is not _MISSING:
                row[column.name] = value
        rows.append(row)
    if rows:
        submission.data[definition.name] = rows


def _read_list(definition: FieldDef, formdata: FormData, submission: Submission, locale: str) -> None:
    item = definition.item or definition
    values = []
    for index, posted in enumerate(_posted_rows(definition, formdata, submission, locale)):
        path = f"{definition.name}.{index}"
        value = _take(item, path, posted[""], submission, locale)
        # Keep what was typed in place of a refused item so later indexes still match `raw`.
        values.append(submission.raw[path] if value is _MISSING else value)
    if values:
        submission.data[definition.name] = values


def _read_files(definition: FieldDef, formdata: FormData, submission: Submission, locale: str,
                files: StoredFiles) -> None:
    """Posted attachment ids (hidden inputs) minus the ticked "remove" boxes, as the server's own refs."""
    name = definition.name
    cap = definition.max_items + 50  # what a page can post; more is hostile and only kept out of drafts
    posted = list(dict.fromkeys(text.strip()[:36] for text in _values(formdata, name) if text.strip()))[:cap]
    removed = set(_values(formdata, f"{name}.remove"))
    submission.raw[name] = posted
    submission.raw[f"{name}.remove"] = [file_id for file_id in posted if file_id in removed]
    known = files.known(name)
    kept = [file_id for file_id in posted if file_id not in removed]
    if any(file_id not in known for file_id in kept):
        add_error(submission.errors, name, message("attachment", locale))
    refs = [dict(known[file_id]) for file_id in kept if file_id in known]
    if len(refs) > definition.max_items:
        add_error(submission.errors, name, message("maxItems", locale, limit=definition.max_items))
    if refs:
        submission.data[name] = refs


def _read_duration(definition: FieldDef, formdata: FormData, submission: Submission, locale: str) -> None:
    """[number] [unit] as an ISO duration (`PT30M`); a blank number leaves the field blank."""
    name = definition.name
    amount, unit = _part(formdata, submission, name), _part(formdata, submission, f"{name}.unit")
    if amount.strip():
        value, error = from_input(parse_integer(amount), unit.strip(), locale)
        _store(submission, name, value, error)


def _read_cycle(definition: FieldDef, formdata: FormData, submission: Submission, locale: str) -> None:
    """每 [number] [unit] 提醒一次,最多 [repeats] 次 as an ISO cycle (`R3/PT1H`); blank when both are blank."""
    name = definition.name
    amount, unit = _part(formdata, submission, name), _part(formdata, submission, f"{name}.unit")
    times = _part(formdata, submission, f"{name}.times")
    if amount.strip() or times.strip():
        value, error = cycle_from_input(parse_integer(amount), unit.strip(), parse_integer(times), locale)
        _store(submission, name, value, error)


def _part(formdata: FormData, submission: Submission, key: str) -> str:
    text = _first(formdata, key)[:_PART_LENGTH]
    submission.raw[key] = text
    return text


def _store(submission: Submission, name: str, value: str | None, error: str | None) -> None:
    if value is None:
        add_error(submission.errors, name, error or "")
    else:
        submission.data[name] = value


_READERS = {"multi": _read_multi, "table": _read_table, "list": _read_list, "duration": _read_duration,
            "cycle": _read_cycle}
