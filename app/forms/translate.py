"""Form texts in English on request: a catalogue keyed by the Chinese text, Chinese when it has no entry.

The forms in forms/ (and those process owners write in the studio) are written in Chinese. For the
English pages, `localize` gives a copy of a form whose titles, descriptions, option labels, help texts,
placeholders, context labels and rule messages are looked up in `i18n/en.json` ({"中文": "English"});
a text the catalogue lacks stays as written, so a new form works unchanged (docs/forms.md, Languages).
Names, option values and expressions are never touched.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from app.forms.fields import FieldDef
from app.forms.messages import DEFAULT_LOCALE, normalize_locale, read_catalogue
from app.forms.schema import FormSpec

CATALOGUE_DIR = Path(__file__).parent / "i18n"
# Keys whose string values are texts people read; everything else (names, consts, x-when) is left alone.
_SCHEMA_TEXTS = frozenset({"title", "description"})
_UI_TEXTS = frozenset({"ui:help", "ui:placeholder"})
_RULE_TEXTS = ("message", "forbid")

_FORMS: weakref.WeakKeyDictionary[FormSpec, dict[str, FormSpec]] = weakref.WeakKeyDictionary()
_FIELDS: weakref.WeakKeyDictionary[FieldDef, dict[str, FieldDef]] = weakref.WeakKeyDictionary()


@cache
def catalogue(locale: str) -> Mapping[str, str]:
    """The form texts of `locale` ({} for Chinese and for a language without a catalogue)."""
    return read_catalogue(CATALOGUE_DIR, locale)


def text(source: str, locale: str | None) -> str:
    """`source` (a Chinese form text) in `locale`, or as written when the catalogue lacks it."""
    return catalogue(normalize_locale(locale)).get(source, source)


def localize(form: FormSpec, locale: str | None) -> FormSpec:
    """`form` with its texts in `locale`; the same object in Chinese. Cached per form object."""
    locale = normalize_locale(locale)
    if locale == DEFAULT_LOCALE:
        return form
    done = _FORMS.setdefault(form, {})
    if locale not in done:
        done[locale] = FormSpec(form.name, _schema(form.schema, locale), _uischema(form.uischema, locale))
    return done[locale]


def localize_fields(fields: Mapping[str, Any], locale: str | None) -> dict[str, Any]:
    """A field index (`field_index`) with every definition's texts in `locale`."""
    locale = normalize_locale(locale)
    if locale == DEFAULT_LOCALE:
        return dict(fields)
    return {name: _field(definition, locale) if isinstance(definition, FieldDef) else definition
            for name, definition in fields.items()}


def form_texts(schema: Mapping[str, Any], uischema: Mapping[str, Any]) -> Iterator[str]:
    """Every text of a form that `localize` looks up (for the check that a catalogue covers forms/)."""
    found: list[str] = []
    _schema(schema, DEFAULT_LOCALE, found)
    _uischema(uischema, DEFAULT_LOCALE, found)
    yield from dict.fromkeys(found)


def _field(definition: FieldDef, locale: str) -> FieldDef:
    done = _FIELDS.setdefault(definition, {})
    if locale not in done:
        done[locale] = replace(
            definition, schema=_schema(definition.schema, locale), ui=_ui(definition.ui, locale),
            columns=tuple(_field(column, locale) for column in definition.columns),
            item=_field(definition.item, locale) if definition.item else None)
    return done[locale]


def _say(value: Any, locale: str, found: list[str] | None) -> Any:
    if not isinstance(value, str):
        return value
    if found is not None:
        found.append(value)
    return text(value, locale)


def _schema(node: Any, locale: str, found: list[str] | None = None) -> Any:
    """A JSON Schema with its titles and descriptions (also of oneOf options) and rule messages translated."""
    if isinstance(node, list):
        return [_schema(item, locale, found) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key in _SCHEMA_TEXTS:
            result[key] = _say(value, locale, found)
        elif key == "properties" and isinstance(value, dict):
            result[key] = {name: _schema(sub, locale, found) for name, sub in value.items()}
        elif key == "x-rules" and isinstance(value, list):
            result[key] = [_rule(rule, locale, found) for rule in value]
        elif key in ("items", "oneOf", "anyOf", "allOf", "then", "else", "if", "not"):
            result[key] = _schema(value, locale, found)
        else:
            result[key] = value
    return result


def _rule(rule: Any, locale: str, found: list[str] | None) -> Any:
    if not isinstance(rule, dict):
        return rule
    return {key: _say(value, locale, found) if key in _RULE_TEXTS else value for key, value in rule.items()}


def _uischema(uischema: Mapping[str, Any], locale: str, found: list[str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in uischema.items():
        if key == "ui:context" and isinstance(value, list):
            result[key] = [{**entry, "label": _say(entry.get("label"), locale, found)}
                           if isinstance(entry, dict) and "label" in entry else entry for entry in value]
        elif key.startswith("ui:"):
            result[key] = value
        else:
            result[key] = _ui(value, locale, found)
    return result


def _ui(ui: Any, locale: str, found: list[str] | None = None) -> Any:
    """A field's ui settings with help and placeholder translated (a table's column settings too)."""
    if not isinstance(ui, dict):
        return ui
    return {key: _say(value, locale, found) if key in _UI_TEXTS
            else value if key.startswith("ui:") else _ui(value, locale, found) for key, value in ui.items()}
