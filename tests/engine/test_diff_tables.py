"""Decision-table and form diffs: any DMN namespace (prefixed, 1.1-1.3), several decisions per file,
rules matched by id (by position when they have none), cells compared by column; forms field by field."""

from __future__ import annotations

from app.engine import diff_tables
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus"


def test_a_prefixed_dmn_file_is_compared_cell_by_cell():
    before = (CORPUS / "dmn13_prefixed.dmn").read_bytes()
    after = before.replace(b"<dmn:text>&lt;= 2</dmn:text>", b"<dmn:text>&lt;= 3</dmn:text>")
    [decision] = diff_tables.diff_dmn(before, after)
    assert decision["id"] == "corpus_prefixed" and decision["rules"]["added"] == []
    [rule] = decision["rules"]["changed"]
    assert rule["id"] == "Rule_report_yes"
    assert rule["cells"] == [{"column": "Input_level", "label": "等级", "kind": "input", "before": "<= 2",
                              "after": "<= 3"}]
    assert diff_tables.diff_dmn(before, before) == []


def test_a_decision_added_to_a_multi_decision_file_and_a_hit_policy_change():
    before = (CORPUS / "dmn13_multi_decision.dmn").read_bytes()
    start = before.index(b'<decision id="corpus_owner"')
    only_band = before[:start] + before[before.index(b"</decision>", start) + len(b"</decision>"):]
    changed = before.replace(b'hitPolicy="UNIQUE"', b'hitPolicy="FIRST"')
    added = diff_tables.diff_dmn(only_band, before)
    assert [(d["id"], d["status"]) for d in added] == [("corpus_owner", "added")]
    assert [r["id"] for r in added[0]["rules"]["added"]] == ["Rule_owner_a", "Rule_owner_b"]
    [policy] = diff_tables.diff_dmn(before, changed)
    assert policy["hit_policy"] == ("UNIQUE", "FIRST")


def test_rules_without_ids_are_paired_by_position():
    def table(*cells: str) -> bytes:
        rules = "".join(f'<rule><inputEntry><text>{c}</text></inputEntry><outputEntry><text>1</text></outputEntry>'
                        f"</rule>" for c in cells)
        return (f'<definitions xmlns="http://www.omg.org/spec/DMN/20180521/MODEL/"><decision id="d">'
                f'<decisionTable><input id="i"><inputExpression><text>x</text></inputExpression></input>'
                f'<output id="o" name="y"/>{rules}</decisionTable></decision></definitions>').encode()

    [decision] = diff_tables.diff_dmn(table("1", "2"), table("1", "5", "7"))
    assert [r["index"] for r in decision["rules"]["added"]] == [3]
    [rule] = decision["rules"]["changed"]
    assert rule["index"] == 2 and rule["cells"][0]["before"] == "2" and rule["cells"][0]["after"] == "5"


def test_forms_are_compared_field_by_field_with_nested_fields_and_order():
    before = {"title": "登记", "type": "object", "required": ["a"], "properties": {
        "a": {"type": "string", "title": "名称", "maxLength": 20},
        "b": {"type": "string", "title": "结果", "oneOf": [{"const": "y", "title": "是"}]},
        "rows": {"type": "array", "maxItems": 5, "items": {"type": "object", "properties": {
            "who": {"type": "string", "title": "姓名", "maxLength": 20}}}}}}
    after = {"title": "登记", "type": "object", "required": ["a", "b"], "properties": {
        "b": {"type": "string", "title": "结果",
              "oneOf": [{"const": "y", "title": "是"}, {"const": "n", "title": "否"}]},
        "a": {"type": "string", "title": "名称", "maxLength": 20},
        "rows": {"type": "array", "maxItems": 5, "items": {"type": "object", "properties": {
            "who": {"type": "string", "title": "姓名(全名)", "maxLength": 20}}}}}}
    diff = diff_tables.diff_form(before, after, {"a": {"ui:help": "旧"}}, {"a": {"ui:help": "新"}})
    changed = {c["field"]: c["changes"] for c in diff["changed"]}
    assert changed["a"] == [{"attribute": "ui:help", "before": "旧", "after": "新"}]
    assert changed["b"] == [{"attribute": "choices", "before": [["y", "是"]], "after": [["y", "是"], ["n", "否"]]},
                            {"attribute": "required", "before": False, "after": True}]
    assert changed["rows[].who"] == [{"attribute": "title", "before": "姓名", "after": "姓名(全名)"}]
    assert diff["order"] == (["a", "b", "rows"], ["b", "a", "rows"])
    assert diff_tables.form_is_empty(diff_tables.diff_form(before, before))
