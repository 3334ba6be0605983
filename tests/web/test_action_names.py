"""Every audit action the code writes has a label: the 处置记录 and the audit pages never show a code."""

from __future__ import annotations

import re
from pathlib import Path

from flask_babel import force_locale

from app.web.filters import ACTION_NAMES

APP = Path(__file__).resolve().parents[2] / "app"


def _written_actions() -> set[str]:
    found: set[str] = set()
    for path in APP.rglob("*.py"):
        found |= set(re.findall(r'action="([a-z_]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_action_written_has_a_chinese_and_an_english_label(app):
    actions = _written_actions()
    assert {"task_completed", "document_generated", "document_downloaded"} <= actions  # the scan finds them
    assert sorted(actions - set(ACTION_NAMES)) == []
    with app.test_request_context(), force_locale("en"):
        untranslated = sorted(code for code in actions if re.search(r"[\u4e00-\u9fff]", str(ACTION_NAMES[code])))
    assert untranslated == []
