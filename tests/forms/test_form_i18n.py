"""The English catalogue of form texts: it covers forms/, a text it lacks stays Chinese, nothing but texts
change, and the render model, context, summary and rule messages all read the translated form."""

from __future__ import annotations

import json
import re

from app.forms import FormSpec, build_fields, context_items, localize, localize_fields, summary, validate
from app.forms.translate import CATALOGUE_DIR, catalogue, form_texts
from tests.conftest import ROOT

CJK = re.compile(r"[\u3400-\u9fff]")


def _shipped_forms():
    """The task forms of forms/ and the app's own (a lead entered by hand, the organisation profile)."""
    paths = sorted((ROOT / "forms").glob("*.schema.json")) + sorted((ROOT / "app" / "operations").glob("*.schema.json"))
    for path in paths:
        ui_path = path.with_name(path.name.replace(".schema.", ".uischema."))
        uischema = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.exists() else {}
        yield path.name, json.loads(path.read_text(encoding="utf-8")), uischema


def test_the_catalogue_covers_every_text_of_the_shipped_forms():
    english = catalogue("en")
    missing = sorted({text for _name, schema, uischema in _shipped_forms() for text in form_texts(schema, uischema)
                      if CJK.search(text) and text not in english})
    assert len(list(_shipped_forms())) >= 50  # the forms really were read
    assert missing == [], "add these to app/forms/i18n/en.json:\n" + "\n".join(missing)


def test_the_catalogue_is_english_and_has_no_stray_entries():
    entries = json.loads((CATALOGUE_DIR / "en.json").read_text(encoding="utf-8"))
    assert [source for source, text in entries.items() if CJK.search(text) or not text.strip()] == []
    used = {text for _name, schema, uischema in _shipped_forms() for text in form_texts(schema, uischema)}
    assert sorted(set(entries) - used) == []  # a text no shipped form uses any more is removed


def test_every_shipped_form_reads_without_chinese_in_english():
    for name, schema, uischema in _shipped_forms():
        english = localize(FormSpec(name, schema, uischema), "en")
        texts = list(form_texts(english.schema, english.uischema))
        assert [text for text in texts if CJK.search(text)] == [], name


def test_chinese_is_the_form_itself_and_english_changes_only_texts(form):
    assert localize(form, "zh_CN") is form
    assert localize(form, None) is form
    english = localize(form, "en_US")
    assert english is localize(form, "en")  # cached per form
    assert english.schema["title"] == "Confirm level and start response"
    assert [field.name for field in english.fields] == [field.name for field in form.fields]
    assert english.by_name["confirmed_level"].title == "Confirmed level"
    assert english.by_name["title"].help == "一句话概括"  # no English for it: as written
    sources = english.by_name["source_type"].schema["oneOf"]
    assert sources == [{"const": "self_monitoring", "title": "Own monitoring"},
                       {"const": "public_report", "title": "Public report"}]
    assert form.schema["title"] == "确认定级与启动响应"  # the original is not changed


def _unknown_form():
    schema = {
        "type": "object", "title": "新表单甲", "required": ["choice"],
        "properties": {
            "choice": {"type": "string", "title": "自拟选项", "description": "处理人自拟的说明",
                       "oneOf": [{"const": "a", "title": "甲方案"}, {"const": "b", "title": "其他"}]},
            "rows": {"type": "array", "title": "明细", "maxItems": 5,
                     "items": {"type": "object", "properties": {"who": {"type": "string", "title": "姓名",
                                                                       "maxLength": 20}}}},
        },
        "x-rules": [{"when": "choice == 'b'", "require": ["rows"], "message": "选其他时须填写明细"}],
    }
    uischema = {"choice": {"ui:widget": "radio", "ui:help": "自拟帮助"},
                "ui:context": [{"key": "incident_no", "label": "事件编号"}, {"key": "note", "label": "自拟标签"}]}
    return FormSpec("ut_new", schema, uischema)


def test_a_text_without_english_stays_chinese_and_known_texts_are_translated():
    english = localize(_unknown_form(), "en")
    [choice, rows] = build_fields(english, locale="en")
    assert (choice.label, choice.help) == ("自拟选项", "自拟帮助")
    assert [label for _value, label, _chosen in choice.choices] == ["甲方案", "Other"]
    assert rows.columns == [("Name", False)]
    items = context_items(english, {"incident_no": "YQ-1", "note": "x"}, locale="en")
    assert items == [("Incident number", "YQ-1"), ("自拟标签", "x")]
    assert validate(english, {"choice": "b"}, {}, locale="en") == {"rows": ["选其他时须填写明细"]}
    assert summary(english, {"choice": "b"}, locale="en") == [("自拟选项", "Other")]


def test_rule_messages_and_row_labels_come_out_in_english():
    schema = {"type": "object", "properties": {
        "platform": {"type": "string", "title": "发布平台", "oneOf": [{"const": "other", "title": "其他"}]},
        "platform_other": {"type": "string", "title": "其他平台名称", "maxLength": 50}},
        "x-rules": [{"when": "platform == 'other'", "require": ["platform_other"],
                     "message": "发布平台选“其他”时请写明平台名称"}]}
    english = localize(FormSpec("ut_x", schema, {}), "en")
    errors = validate(english, {"platform": "other"}, {}, locale="en")
    assert errors == {"platform_other": ["Please name the platform when “Other” is chosen"]}


def test_a_field_index_is_translated_field_by_field(form):
    index = {definition.name: definition for definition in form.fields}
    assert localize_fields(index, "zh_CN") == index
    english = localize_fields(index, "en")
    assert english["confirmed_level"].title != index["confirmed_level"].title
    assert english["confirmed_level"] is localize_fields(index, "en")["confirmed_level"]


def _shown_texts(field):
    texts = [field.label, field.help, field.placeholder, field.hint, *field.words]
    texts += [label for _value, label, _chosen in field.choices] + [title for title, _required in field.columns]
    for part in [*field.parts, *(cell for row in field.rows for cell in row)]:
        texts += _shown_texts(part)
    return texts


def test_every_shipped_form_renders_in_english_without_chinese():
    for name, schema, uischema in _shipped_forms():
        form = localize(FormSpec(name, schema, uischema), "en")
        shown = [text for field in build_fields(form, locale="en") for text in _shown_texts(field)]
        shown += [label for label, _text in context_items(form, {}, locale="en")]
        assert [text for text in shown if CJK.search(text)] == [], name
