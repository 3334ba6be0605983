"""The English names of the diagrams' processes, user tasks, call activities and lanes: every one in processes/
has an entry, no entry is left over, and a name without an entry stays as the diagram wrote it."""

from __future__ import annotations

import json
import re

from lxml import etree

from app.operations.element_names import CATALOGUE_DIR, catalogue, element_name
from tests.conftest import ROOT

CJK = re.compile(r"[\u3400-\u9fff]")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NAMED = ("process", "userTask", "callActivity", "subProcess", "lane")


def _shipped_names() -> dict[str, set[str]]:
    """Kind → the names of that kind of element in processes/*.bpmn."""
    found: dict[str, set[str]] = {kind: set() for kind in NAMED}
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        for kind in NAMED:
            found[kind] |= {element.get("name").strip() for element in tree.iter(BPMN + kind) if element.get("name")}
    return found


def test_every_user_task_call_activity_lane_and_process_of_processes_has_an_english_name():
    names = _shipped_names()
    assert len(names["userTask"]) >= 50 and len(names["process"]) >= 10  # the diagrams really were read
    english = catalogue("en")
    missing = sorted(f"{kind}: {name}" for kind, found in names.items() for name in found if name not in english)
    assert missing == [], "add these to app/operations/i18n/en.json:\n" + "\n".join(missing)


def test_the_catalogue_is_english_and_has_no_stray_entries():
    entries = json.loads((CATALOGUE_DIR / "en.json").read_text(encoding="utf-8"))
    assert [source for source, text in entries.items() if CJK.search(text) or not text.strip()] == []
    used = set().union(*_shipped_names().values())
    assert sorted(set(entries) - used) == []  # a name no diagram uses any more is removed


def test_a_name_is_looked_up_by_its_text_and_falls_back_to_itself():
    assert element_name("登记舆情(快报)", "en") == "Register incident (quick report)"
    assert element_name("确认定级与启动响应", "en_US") == "Confirm level and start response"
    assert element_name("登记舆情(快报)", "zh_CN") == "登记舆情(快报)"
    assert element_name("登记舆情(快报)", None) == "登记舆情(快报)"
    assert element_name("流程管理员新画的环节", "en") == "流程管理员新画的环节"  # a diagram without English
    assert element_name(None, "en") == "" and element_name("", "en") == ""
