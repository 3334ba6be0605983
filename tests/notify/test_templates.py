"""Every notification type a diagram names has its own template, rendered in the sandbox."""

from __future__ import annotations

import re

import pytest
from jinja2 import Environment, meta
from jinja2.exceptions import SecurityError

from app.notify import templates
from tests.conftest import ROOT

NAMED = sorted({m for p in (ROOT / "processes").glob("*.bpmn")
                for m in re.findall(r'id="template" type="str" value="&quot;([a-z_]+)&quot;"', p.read_text())})


def test_diagrams_name_notification_types():
    assert {"quick_report", "report_overdue", "archive"} <= set(NAMED)


NOT_INCIDENTS = {"monthly_draft_reminder", "risk_filing_due"}  # sent by processes that are not incidents


@pytest.mark.parametrize("kind", NAMED)
def test_each_named_type_has_a_template(kind):
    assert templates.exists(kind)
    times = {f"{key}_local": "2026-11-25 21:00" for key in (
        "discovered_at", "report_due_at", "release_due_at", "release_warn_at", "national_due_at",
        "press_conf_due_at", "summary_due_at", "dispatch_due_at", "aftermath_until")}
    subject, body = templates.render(kind, {"incident_no": "YQ-2026-0001", "title": "某标题", "level_name": "Ⅳ级",
                                            "process_name": "p", "grade_basis": "", "summary": "", "reason": "",
                                            "worsening_desc": "", "first_release_done": False,
                                            "dispatch_unit_name": "", "dispatch_task_text": "", **times})
    assert ("某标题" if kind in NOT_INCIDENTS else "YQ-2026-0001") in subject + body
    assert "{{" not in subject + body and subject.strip()


def test_templates_cannot_reach_python_internals():
    env = templates._environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x="a")


@pytest.mark.parametrize("kind", sorted(p.name for p in (ROOT / "app" / "templates" / "notify").iterdir()
                                        if (p / "subject.txt").exists()))
def test_an_incident_without_a_title_leaves_no_stray_space(kind):
    """A quick report not yet submitted has no title: “YQ-2026-0002” must not read “YQ-2026-0002 ”."""
    folder = ROOT / "app" / "templates" / "notify" / kind
    names = set().union(*(meta.find_undeclared_variables(Environment().parse((folder / f).read_text()))
                          for f in ("subject.txt", "body.txt")))
    context = {name: "值" for name in names} | {"incident_no": "YQ-2026-0002", "title": "", "count": 2, "items": []}
    subject, body = templates.render(kind, context)
    assert "YQ-2026-0002 ”" not in subject + body and "YQ-2026-0002 —" not in subject + body


def test_the_quick_report_notice_speaks_to_everyone_it_reaches():
    """The quick report goes to the office, the leaders and the units concerned: it says what happens next
    and to whom, rather than instructing the office in a notice a section head reads."""
    _subject, body = templates.render("quick_report", {"title": "标题", "incident_no": "YQ-2026-0001",
                                                       "discovered_at_local": "2026-11-25 09:00", "level_name": "",
                                                       "grade_basis": "", "summary": ""})
    assert "领导小组办公室将确认定级并启动响应" in body and "请领导小组办公室" not in body
