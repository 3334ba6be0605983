"""The English catalogue covers every message of the interface."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from tests.conftest import ROOT

CATALOG = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_every_message_has_an_english_translation():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def test_catalog_is_up_to_date_with_the_code(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2", "-o", str(template), "."],
                   check=True, capture_output=True, cwd=ROOT)
    with template.open("rb") as handle:
        wanted = {(m.context or "", str(m.id)) for m in read_po(handle) if m.id}
    assert len(wanted) > 100  # the extraction really found the interface's messages
    with CATALOG.open("rb") as handle:
        present = {(m.context or "", str(m.id)) for m in read_po(handle) if m.id}
    assert sorted(wanted - present) == []
