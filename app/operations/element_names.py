"""Names from the diagrams in English on request: processes, user tasks, call activities (decision 115).

The diagrams in processes/ (and those process owners deploy from the studio) name their elements in
Chinese; `human_task.name`, the versions' task lists and the process rows keep that name. The English
pages look the name up in `i18n/en.json` ({"中文名称": "English name"}), keyed by the name itself, as the
form catalogue is (decision 102): a diagram without an entry shows its own name, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from app.forms.messages import DEFAULT_LOCALE, normalize_locale

CATALOGUE_DIR = Path(__file__).parent / "i18n"


@cache
def catalogue(locale: str) -> Mapping[str, str]:
    """The element names of `locale` ({} for Chinese and for a language without a catalogue)."""
    path = CATALOGUE_DIR / f"{locale}.json"
    if locale == DEFAULT_LOCALE or not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {source.strip(): text for source, text in entries.items() if isinstance(text, str) and text.strip()}


def element_name(name: str | None, locale: str | None) -> str:
    """A diagram's name for a process or an element in `locale`, or as written when there is no entry."""
    if not name:
        return name or ""
    return catalogue(normalize_locale(locale)).get(str(name).strip(), str(name))
