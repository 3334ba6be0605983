"""Every notification type a diagram names has its own template, rendered in the sandbox."""

from __future__ import annotations

import re

import pytest
from jinja2.exceptions import SecurityError

from app.notify import templates
from tests.conftest import ROOT

NAMED = sorted({m for p in (ROOT / "processes").glob("*.bpmn")
                for m in re.findall(r'id="template" type="str" value="&quot;([a-z_]+)&quot;"', p.read_text())})


def test_diagrams_name_notification_types():
    assert {"quick_report", "report_overdue", "archive"} <= set(NAMED)


@pytest.mark.parametrize("kind", NAMED)
def test_each_named_type_has_a_template(kind):
    assert templates.exists(kind)
    subject, body = templates.render(kind, {"incident_no": "YQ-2026-0001", "title": "标题", "level_name": "Ⅳ级",
                                            "release_due_at_local": "2026-11-25 21:00", "process_name": "p",
                                            "discovered_at_local": "x", "report_due_at_local": "y",
                                            "grade_basis": "", "summary": ""})
    assert "YQ-2026-0001" in subject + body


def test_templates_cannot_reach_python_internals():
    env = templates._environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x="a")
