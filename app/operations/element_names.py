"""Names from the diagrams in English on request: processes, user tasks, call activities (decision 115).

The diagrams in processes/ (and those process owners deploy from the studio) name their elements in
Chinese; `human_task.name`, the versions' task lists and the process rows keep that name. The English
pages look the name up in `i18n/en.json` ({"中文名称": "English name"}), keyed by the name itself, as the
form catalogue is (decision 102): a diagram without an entry shows its own name, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from app.forms.messages import normalize_locale, read_catalogue

CATALOGUE_DIR = Path(__file__).parent / "i18n"


@cache
def catalogue(locale: str) -> Mapping[str, str]:
    """The element names of `locale` ({} for Chinese and for a language without a catalogue)."""
    return read_catalogue(CATALOGUE_DIR, locale, strip_keys=True)


def element_name(name: str | None, locale: str | None) -> str:
    """A diagram's name for a process or an element in `locale`, or as written when there is no entry."""
    if not name:
        return name or ""
    return catalogue(normalize_locale(locale)).get(str(name).strip(), str(name))
