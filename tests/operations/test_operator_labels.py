"""The modeller's operator picker reads in the page's language: every registered operator and parameter
has a Chinese label (English on request), the registry's codes stay as they are."""

from __future__ import annotations

from flask_babel import force_locale

from app.engine import services
from app.operations import operator_labels


def test_every_operator_and_parameter_has_a_chinese_label(app):
    with app.test_request_context(), force_locale("zh_CN"):
        labelled = operator_labels.labelled(services.operator_catalogue())
    assert {op["name"] for op in labelled} == set(services.OPERATORS)
    assert set(operator_labels.OPERATORS) == set(services.OPERATORS)
    assert set(operator_labels.PARAMETERS) == {(op.name, p.name) for op in services.OPERATORS.values()
                                              for p in op.parameters}
    notify = next(op for op in labelled if op["name"] == "notify")
    assert notify["label"].startswith("发送通知(notify):按角色")
    assert notify["parameters"][0]["name"] == "template" and notify["parameters"][0]["type"] == "str"
    assert notify["parameters"][0]["description"].startswith("通知类型")


def test_in_english_the_labels_are_english(app):
    with app.test_request_context(), force_locale("en"):
        labelled = operator_labels.labelled(services.operator_catalogue())
    call = next(op for op in labelled if op["name"] == "call_system")
    assert call["label"].startswith("Call external system (call_system): Send a JSON object")
    assert call["parameters"][1]["description"] == "the JSON object to send"
