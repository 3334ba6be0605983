"""The English names of the diagrams' processes, user tasks, call activities and lanes, and their longer texts
(instructions, grading basis): every one in processes/ has an entry, no entry is left over, and a name or text
without an entry stays as the diagram wrote it. The ledger's kinds and deadlines have English names too."""

from __future__ import annotations

import json
import re

from lxml import etree

from app.operations.deadlines import DEADLINE_LABELS, DEADLINE_LABELS_EN, DEADLINE_SHORT_EN
from app.operations.element_names import CATALOGUE_DIR, TEXTS_DIR, catalogue, diagram_text, element_name, texts
from app.operations.ledger_kinds import KIND_LABELS_EN, KINDS, kind_label
from tests.conftest import ROOT

CJK = re.compile(r"[\u3400-\u9fff]")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NAMED = ("process", "userTask", "callActivity", "subProcess", "lane")
# what else the instance page's viewer draws with a name (relabelled in English, decision NN)
DRAWN = ("sequenceFlow", "serviceTask", "scriptTask", "businessRuleTask", "exclusiveGateway", "parallelGateway",
         "eventBasedGateway", "startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent",
         "intermediateThrowEvent")


def _shipped_names() -> dict[str, set[str]]:
    """Kind → the names of that kind of element in processes/*.bpmn."""
    found: dict[str, set[str]] = {kind: set() for kind in (*NAMED, *DRAWN)}
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        for kind in found:
            found[kind] |= {element.get("name").strip() for element in tree.iter(BPMN + kind) if element.get("name")}
    return found


def test_every_named_element_of_processes_has_an_english_name():
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


def _shipped_texts() -> set[str]:
    """The user tasks' instructions of processes/*.bpmn and the grading basis yq_grade.dmn and the grading
    script give."""
    found: set[str] = set()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path), parser)
        for task in tree.iter(BPMN + "userTask"):
            documentation = task.find(BPMN + "documentation")
            if documentation is not None and (documentation.text or "").strip():
                found.add(documentation.text.strip())
        for script in tree.iter(BPMN + "script"):  # the basis when no rule matched
            if "grade_basis" in (script.text or ""):
                found |= set(re.findall(r'else "([^"]+)"', script.text or ""))
    dmn = etree.parse(str(ROOT / "processes" / "yq_grade.dmn"), parser)
    basis = {output.get("id") for output in dmn.iter("{*}output") if output.get("name") == "basis"}
    assert basis
    for entry in dmn.iter("{*}outputEntry"):
        if entry.get("id", "").endswith("_basis"):
            found.add(entry.findtext("{*}text").strip().strip('"'))
    return found


def test_every_instruction_and_grading_basis_has_english_and_no_entry_is_stray():
    shipped = _shipped_texts()
    assert len(shipped) >= 70 and "未命中定级规则,按Ⅳ级建议" in shipped and "网民关注度低" in shipped
    english = texts("en")
    assert sorted(text[:40] for text in shipped if text not in english) == []
    entries = json.loads((TEXTS_DIR / "en.json").read_text(encoding="utf-8"))
    assert [source for source, text in entries.items() if CJK.search(text) or not text.strip()] == []
    assert sorted(set(entries) - shipped) == []


def test_a_text_is_looked_up_whole_or_part_by_part_and_otherwise_stays():
    assert diagram_text("传播速度快、网民关注度高", "en") == "spreading fast; high attention from internet users"
    assert diagram_text("传播速度快、网民自己写的话", "en") == "传播速度快、网民自己写的话"  # not every part known
    assert diagram_text("影响范围比初判更大", "en") == "影响范围比初判更大"  # a person's reason
    assert diagram_text("传播速度快", "zh_CN") == "传播速度快" and diagram_text(None, "en") == ""


def test_every_ledger_kind_and_deadline_has_an_english_name():
    assert set(KIND_LABELS_EN) == set(KINDS) and set(DEADLINE_LABELS_EN) == set(DEADLINE_LABELS)
    assert set(DEADLINE_SHORT_EN) == set(DEADLINE_LABELS)
    assert kind_label("registered", "en") == "Incident registered (quick report)"
    assert kind_label("registered") == "登记舆情(快报)" and kind_label("gone_kind", "en") == "gone_kind"
