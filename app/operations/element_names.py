"""Names and texts from the diagrams in English on request: processes, user tasks, call activities
(decision 115), the tasks' instructions (办理说明) and the grading rules' basis (decision NN).

The diagrams in processes/ (and those process owners deploy from the studio) name their elements in
Chinese; `human_task.name`, the versions' task lists and the process rows keep that name. The English
pages look the name up in `i18n/en.json` ({"中文名称": "English name"}), keyed by the name itself, as the
form catalogue is (decision 102): a diagram without an entry shows its own name, unchanged. Longer
texts (a user task's documentation, the basis a decision table gives for a level) have their own
catalogue, `i18n/texts/en.json`, keyed the same way by the text itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from app.forms.messages import normalize_locale, read_catalogue

CATALOGUE_DIR = Path(__file__).parent / "i18n"
TEXTS_DIR = CATALOGUE_DIR / "texts"
PARTS = "、"  # the grading script joins the basis of several rules with it


@cache
def catalogue(locale: str) -> Mapping[str, str]:
    """The element names of `locale` ({} for Chinese and for a language without a catalogue)."""
    return read_catalogue(CATALOGUE_DIR, locale, strip_keys=True)


def element_name(name: str | None, locale: str | None) -> str:
    """A diagram's name for a process or an element in `locale`, or as written when there is no entry."""
    if not name:
        return name or ""
    return catalogue(normalize_locale(locale)).get(str(name).strip(), str(name))


@cache
def texts(locale: str) -> Mapping[str, str]:
    """The diagrams' longer texts in `locale` ({} for Chinese and for a language without a catalogue)."""
    return read_catalogue(TEXTS_DIR, locale, strip_keys=True)


def diagram_text(text: str | None, locale: str | None) -> str:
    """A diagram's text (a task's instructions, a level's basis) in `locale`, or as written when there is
    no entry. A basis joined from several rules (网民关注度高、传播速度快) is translated part by part when
    every part has an entry; people's own words (a reason typed in a form) find no entry and stay."""
    if not text:
        return text or ""
    found = texts(normalize_locale(locale))
    if not found:
        return str(text)
    key = str(text).strip()
    if key in found:
        return found[key]
    parts = [part.strip() for part in key.split(PARTS)]
    if len(parts) > 1 and all(part in found for part in parts):
        return "; ".join(found[part] for part in parts)
    return str(text)
