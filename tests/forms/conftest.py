"""A sample task form with one field of every kind, and factories for variants of it."""

import copy
import json

import pytest

from app.forms import FormSpec

LEVELS = [
    {"const": 1, "title": "Ⅰ级 特别重大"},
    {"const": 2, "title": "Ⅱ级 重大"},
    {"const": 3, "title": "Ⅲ级 较大"},
    {"const": 4, "title": "Ⅳ级 一般"},
]
PLATFORMS = [
    {"const": "weibo", "title": "微博"},
    {"const": "wechat", "title": "微信"},
    {"const": "douyin", "title": "抖音"},
]
URL = {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2000}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "确认定级与启动响应",
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "is_false_info", "source_type", "confirmed_level", "discovered_at",
                 "proposed_level"],
    "properties": {
        "title": {"type": "string", "title": "舆情标题", "maxLength": 200, "description": "一句话概括"},
        "summary": {"type": "string", "title": "内容摘要", "maxLength": 2000},
        "views": {"type": "integer", "title": "阅读量", "minimum": 0},
        "is_false_info": {"type": "boolean", "title": "是否疑似虚假不实信息"},
        "start_plan": {"type": "boolean", "title": "启动应急预案"},
        "source_type": {"type": "string", "title": "线索来源", "oneOf": [
            {"const": "self_monitoring", "title": "自行监测"},
            {"const": "public_report", "title": "群众反映"},
        ]},
        "proposed_level": {"type": "integer", "title": "系统建议等级", "readOnly": True, "oneOf": LEVELS},
        "confirmed_level": {"type": "integer", "title": "确认等级", "oneOf": LEVELS},
        "level_change_reason": {"type": "string", "title": "调整理由", "maxLength": 500},
        "platforms": {"type": "array", "title": "发布平台", "uniqueItems": True, "maxItems": 3,
                      "items": {"type": "string", "oneOf": PLATFORMS}},
        "lead_unit": {"type": "string", "title": "承办科室", "x-source": "org_units"},
        "assist_units": {"type": "array", "title": "协办单位", "maxItems": 10, "uniqueItems": True,
                         "items": {"type": "string", "x-source": "org_units"}},
        "discovered_at": {"type": "string", "title": "发现时间", "format": "date-time"},
        "filed_on": {"type": "string", "title": "备案日期", "format": "date"},
        "url": {**URL, "title": "原文链接"},
        "links": {"type": "array", "title": "相关链接", "maxItems": 5, "items": URL},
        "members": {
            "type": "array", "title": "专班成员", "maxItems": 50,
            "items": {
                "type": "object", "additionalProperties": False, "required": ["person"],
                "properties": {
                    "team": {"type": "string", "title": "工作组", "oneOf": [
                        {"const": "coordination", "title": "协调组"},
                        {"const": "publicity", "title": "宣传组"},
                    ]},
                    "person": {"type": "string", "title": "姓名", "maxLength": 50},
                    "phone": {"type": "string", "title": "电话", "maxLength": 20, "pattern": "^[0-9-]+$"},
                },
            },
        },
    },
    "x-rules": [
        {"when": "confirmed_level != proposed_level", "require": ["level_change_reason"],
         "message": "确认等级与系统建议不同，请填写调整理由"},
        {"when": "views != None and views > 100000000", "forbid": "阅读量超出合理范围", "field": "views"},
    ],
}

UISCHEMA = {
    "ui:order": ["title", "discovered_at"],
    "summary": {"ui:widget": "textarea", "ui:rows": 6},
    "source_type": {"ui:widget": "radio"},
    "start_plan": {"ui:widget": "checkbox"},
    "members": {"ui:options": {"blankRows": 1}, "person": {"ui:placeholder": "姓名"}},
    "ui:context": [
        {"key": "proposed_level", "label": "系统建议等级"},
        {"key": "platforms", "label": "发布平台"},
    ],
    "ui:prefill": {"confirmed_level": "proposed_level"},
}

ORG_UNITS = {"org_units": [("u1", "宣传科"), ("u2", "办公室")]}


def _make_schema(**properties):
    """The sample schema with `properties` added or replaced (None removes one)."""
    schema = copy.deepcopy(SCHEMA)
    for name, prop in properties.items():
        if prop is None:
            schema["properties"].pop(name)
        else:
            schema["properties"][name] = prop
    return schema


def _make_form(schema=None, uischema=None, name="ut_sample"):
    """A checked FormSpec built through the same path as deployed files."""
    schema_bytes = json.dumps(schema if schema is not None else SCHEMA).encode()
    ui = uischema if uischema is not None else UISCHEMA
    return FormSpec.from_files(name, schema_bytes, json.dumps(ui).encode())


def _valid_data(**overrides):
    """Typed data that passes validation against the sample form with context level 2."""
    data = {
        "title": "某地网传事件",
        "is_false_info": False,
        "source_type": "self_monitoring",
        "confirmed_level": 2,
        "discovered_at": "2026-11-25T09:30:00+08:00",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def make_schema():
    return _make_schema


@pytest.fixture
def make_form():
    return _make_form


@pytest.fixture
def valid_data():
    return _valid_data


@pytest.fixture
def uischema():
    return copy.deepcopy(UISCHEMA)


@pytest.fixture
def form():
    return _make_form()


@pytest.fixture
def options():
    return ORG_UNITS
