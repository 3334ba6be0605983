"""What every page a person reaches must satisfy, whatever the scenario:

- no server error;
- on a Chinese page, no English outside the data people typed (and a few names of file formats);
- no internal code where a label exists: the enum values of forms/ and of app/operations/vocabulary.py,
  the statuses, roles, units and ledger kinds are looked for in the rendered text;
- every deadline row shown applies to this incident (its level, its press conference, its dispatch).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lxml.html

from app.operations import deadlines, intake, ledger_kinds, vocabulary
from app.web import filters
from tests.e2e.browser import Page

ROOT = Path(__file__).resolve().parents[2]
# Names that are the same in every language (file formats, the language switch itself).
ALLOWED_WORDS = {"CSV", "Excel", "XLSX", "XLS", "Word", "DOC", "DOCX", "PPTX", "PPT", "TXT", "BPMN", "DMN", "JSON",
                 "XML", "PDF", "PNG", "JPG", "JPEG", "GIF", "WEBP", "MB", "KB", "English", "ID", "http", "https",
                 "HTTP", "HTTPS", "ISO", "Webhook", "Authorization", "Bearer", "SMTP", "API", "URL", "UI", "Schema"}
DATA_PATTERNS = [
    re.compile(r"https?://\S+"),
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
    re.compile(r"\bYQ-\d{4}-\d{4}\b"),
    re.compile(r"[\w\u4e00-\u9fff().-]+\.(png|jpg|jpeg|pdf|docx?|xlsx?|txt|csv|bpmn|dmn|json)\b", re.I),
    re.compile(r"(?<![\w/])/[a-z][\w/.{}<>-]*"),  # a path of this site (/api/v1/alerts)
    re.compile(r"\bv\d+\b"),  # a version number
    re.compile(r"(?<!\w)\.(bpmn|dmn|json|png|pdf|docx?|xlsx?|csv)\b", re.I),  # a kind of file
]
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]+")


def _form_codes() -> set[str]:
    codes: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("const"), str) and "title" in node:
                codes.add(node["const"])
            for value in node.get("enum", []) if isinstance(node.get("enum"), list) else []:
                if isinstance(value, str):
                    codes.add(value)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for path in (ROOT / "forms").glob("*.schema.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return codes


def internal_codes() -> set[str]:
    """Every code the interface has a label for."""
    codes = _form_codes()
    codes |= {code for code, _zh, _en in vocabulary.ROLES}
    codes |= {code for code, _name, _kind in vocabulary.ORG_UNITS}
    codes |= set(intake.SOURCE_TYPES) | set(ledger_kinds.KINDS) | set(deadlines.DEADLINE_LABELS)
    codes |= set(filters.STATUS_NAMES) | set(filters.ACTION_NAMES)
    codes |= {"open", "closed", "rejected", "terminated"}
    # Codes that are also plain words of a label in English pages are still codes on Chinese pages.
    return {code for code in codes if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]+", code)}


CODES = internal_codes()


@dataclass
class DataSeen:
    """What counts as data on pages: what people typed, who they are, numbers of incidents."""

    strings: set[str] = field(default_factory=set)

    def add(self, values: Iterable[str]) -> None:
        for raw in values:
            value = str(raw).strip()
            if value and re.search(r"[A-Za-z]", value):
                self.strings.add(value)
                self.strings.update(line.strip() for line in value.splitlines() if line.strip())

    def strip(self, text: str) -> str:
        for pattern in DATA_PATTERNS:
            text = pattern.sub(" ", text)
        for value in sorted(self.strings, key=len, reverse=True):  # whole words only: `risk` is not in `yq_risk_…`
            text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", " ", text)
        return text


def foreign_words(page: Page, data: DataSeen) -> list[str]:
    """English words (and codes) a person reads on a Chinese page, outside data."""
    if not page.is_html or not page.lang.startswith("zh"):
        return []
    text = data.strip(" \n ".join(_pieces(page)))
    return sorted({word for word in WORD.findall(text) if word not in ALLOWED_WORDS})


def _pieces(page: Page) -> list[str]:
    doc = lxml.html.fromstring(page.body)
    for element in list(doc.iter("pre", "code", "textarea")):  # raw data an admin reads or edits
        element.drop_tree()
    return page.text_pieces(doc)


def codes_in_csv(page: Page, data: DataSeen) -> list[str]:
    """Codes and English words in an exported CSV's cells (outside data)."""
    text = page.body.decode("utf-8-sig", "replace")
    found = set()
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            cleaned = data.strip(cell)
            found.update(w for w in WORD.findall(cleaned) if w not in ALLOWED_WORDS)
            if re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", cell):
                found.add(f"ISO timestamp {cell}")
    return sorted(found)


def deadline_problems(page: Page, allowed: set[str]) -> list[str]:
    """Deadline rows that do not apply, and missed ones that do not say by how much."""
    problems = []
    for testid in ("deadlines", "panel-deadlines"):
        for cells in page.table_rows(testid):
            label = cells[0]
            name = next((n for n, text in deadlines.DEADLINE_LABELS.items() if label.startswith(text.split("(")[0])),
                        None)
            if name is None:
                problems.append(f"unknown deadline row {label!r}")
            elif name not in allowed:
                problems.append(f"deadline row {label!r} does not apply here (allowed: {sorted(allowed)})")
            row_text = " ".join(cells)
            if "超时" in row_text and not re.search(r"超时\s*\d+\s*(天|小时|分钟)", row_text):
                problems.append(f"missed deadline {label!r} does not say by how much: {row_text!r}")
            if name == "dispatch" and ("—  —" in row_text or row_text.count("—") >= 2):
                problems.append(f"dispatch row without unit, due or done time: {row_text!r}")
    return problems


def page_problems(page: Page, data: DataSeen, allowed_deadlines: set[str] | None = None) -> list[str]:
    """Everything wrong with one page, as lines naming the page."""
    problems: list[str] = []
    if page.status >= 500:
        problems.append(f"HTTP {page.status}")
    elif page.content_type.startswith("text/csv"):
        problems += [f"CSV shows {w!r}" for w in codes_in_csv(page, data)]
    elif page.is_html:
        words = foreign_words(page, data)
        problems += [f"code {w!r} shown instead of its label" if w in CODES else f"English {w!r} on a Chinese page"
                     for w in words]
        if allowed_deadlines is not None:
            problems += deadline_problems(page, allowed_deadlines)
    return [f"{page.url}: {p}" for p in problems]
