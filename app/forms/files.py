"""Attachment (`file[]`) fields: the reference schema, what may be uploaded, and checks of a file's bytes.

Uploads are hostile (docs/security.md): a file is accepted only when its extension is on the field's
allow-list AND its bytes are what that extension claims (magic numbers; an OOXML zip is peeked at with
caps on entries, sizes and compression ratio; text must decode without NUL or control characters).
HTML, SVG, scripts, executables, archives and macro documents are refused whatever they are called.
"""

from __future__ import annotations

import copy
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.forms.messages import message

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# Category → extension → the content type it is stored and served with (the only ones ever served).
CATEGORIES: dict[str, dict[str, str]] = {
    "image": {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
              "webp": "image/webp"},
    "pdf": {"pdf": "application/pdf"},
    "office": {"docx": DOCX, "xlsx": XLSX, "pptx": PPTX, "doc": "application/msword",
               "xls": "application/vnd.ms-excel"},
    "text": {"txt": "text/plain", "csv": "text/csv"},
}
EXTENSIONS: dict[str, str] = {ext: category for category, types in CATEGORIES.items() for ext in types}
CONTENT_TYPES: frozenset[str] = frozenset(t for types in CATEGORIES.values() for t in types.values())
MAX_ATTACHMENTS = 20  # per field (its maxItems)
MAX_NAME_LENGTH = 120

# The items schema every file[] field declares: references the server issued, never file content.
ATTACHMENT_ITEMS: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["id", "name"],
    "properties": {
        "id": {"type": "string", "maxLength": 36},
        "name": {"type": "string", "maxLength": 255},
        "size": {"type": "integer", "minimum": 0},
        "content_type": {"type": "string", "maxLength": 100},
    },
}

# Peeking into OOXML zips: bounds on what a hostile archive can make us read.
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_TOTAL = 256 * 1024 * 1024
MAX_ZIP_RATIO = 200
RATIO_FLOOR = 1024 * 1024  # small entries may compress well without being a bomb
MAX_CONTENT_TYPES_XML = 1024 * 1024
_OOXML_MAIN = {
    b"wordprocessingml.document.main+xml": DOCX,
    b"spreadsheetml.sheet.main+xml": XLSX,
    b"presentationml.presentation.main+xml": PPTX,
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image", "image/png"),
    (b"\xff\xd8\xff", "image", "image/jpeg"),
    (b"GIF87a", "image", "image/gif"),
    (b"GIF89a", "image", "image/gif"),
    (b"%PDF-", "pdf", "application/pdf"),
)
_MARKUP = re.compile(r"<\s*(!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta|style|a\s)", re.I)
_WINDOWS_RESERVED = frozenset('<>:"|?*')
# Controls other than tab, newline, form feed and carriage return (C0, DEL and C1) mark binary data.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


class FileRefused(Exception):
    """An upload was refused; the message says why, for the field's error line."""


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed: its cleaned name and the content type it is stored and served with."""

    filename: str
    content_type: str
    category: str


@dataclass(frozen=True)
class StoredFiles:
    """The attachments the server holds for a task, by field (refs in upload order), and the size cap.

    Only these ids are listed or accepted in a submission: an id the server did not issue for this
    task and field is an error, whatever the browser posts.
    """

    by_field: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    max_mb: int | None = None

    def known(self, name: str) -> dict[str, dict[str, Any]]:
        """The field's stored refs by id."""
        return {ref["id"]: ref for ref in attachment_refs(list(self.by_field.get(name, ())))}


def attachment_schema(title: str, max_items: int = 10, accept: Iterable[str] = tuple(CATEGORIES)) -> dict[str, Any]:
    """The schema of a file[] field (docs/forms.md), for authors and tests."""
    return {"type": "array", "title": title, "maxItems": max_items,
            "x-attachments": {"accept": list(accept)}, "items": copy.deepcopy(ATTACHMENT_ITEMS)}


def accepted_categories(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The categories a file[] field accepts (all of them when `accept` is left out)."""
    spec = schema.get("x-attachments")
    accept = spec.get("accept") if isinstance(spec, dict) else None
    if not isinstance(accept, list):
        return tuple(CATEGORIES)
    return tuple(category for category in CATEGORIES if category in accept)


def accept_attribute(categories: Iterable[str]) -> str:
    """The `accept` attribute of the file input: `.png,.jpg,...`."""
    return ",".join(f".{ext}" for category in categories for ext in CATEGORIES.get(category, {}))


def extensions_text(categories: Iterable[str], locale: str | None = None) -> str:
    """The allowed extensions for people: `PNG、JPG、PDF` (`PNG, JPG, PDF` in English)."""
    return message("list_separator", locale).join(ext.upper() for category in categories
                                                  for ext in CATEGORIES.get(category, {}))


def format_size(size: Any) -> str:
    """A byte count as `512 B`, `35 KB`, `1.2 MB`."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_refs(value: Any) -> list[dict[str, Any]]:
    """The well-formed references in a stored file[] value ({id, name, ...} with string id and name)."""
    if not isinstance(value, list):
        return []
    return [item for item in value
            if isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("name"), str)]


def clean_filename(name: str) -> str:
    """A file name safe to store and show: no path, no control or bidi characters, at most 120 characters.

    Chinese and other letters are kept; characters Windows refuses become `_`; a name left empty
    becomes `附件` with its extension.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    # Category C drops controls and format characters such as U+202E, which would show "gpj.exe" as "exe.jpg".
    name = "".join("_" if ch in _WINDOWS_RESERVED else ch for ch in name
                   if unicodedata.category(ch)[0] != "C" and unicodedata.category(ch) not in ("Zl", "Zp"))
    name = " ".join(name.split()).strip().rstrip(".")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext.strip()[:16]
    stem = stem.lstrip(". ")[:MAX_NAME_LENGTH - len(ext) - 1].rstrip() or "附件"
    return f"{stem}.{ext}" if ext else stem


def extension(name: str) -> str:
    """The lower-case extension of a (cleaned) file name, '' when it has none."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def check_upload(filename: str, content: bytes, accept: Iterable[str], locale: str = "zh_CN") -> CheckedFile:
    """Check one upload against a field's categories by name and by content; raises FileRefused."""
    name = clean_filename(filename)
    categories = tuple(accept)
    category = EXTENSIONS.get(extension(name))
    if category is None or category not in categories:
        raise FileRefused(message("file_type", locale, name=name, allowed=extensions_text(categories, locale)))
    if not content:
        raise FileRefused(message("file_empty", locale, name=name))
    sniffed = sniff(content, name, locale)
    if sniffed is None or sniffed[0] != category:
        raise FileRefused(message("file_content", locale, name=name))
    return CheckedFile(name, sniffed[1] or CATEGORIES[category][extension(name)], category)


def sniff(content: bytes, name: str = "", locale: str = "zh_CN") -> tuple[str, str | None] | None:
    """(category, content type or None to go by extension) from the bytes, None when not allowed.

    Raises FileRefused for files that are recognised and refused for a reason worth telling
    (macros, archives that are not Office documents, markup posing as text).
    """
    for magic, category, content_type in _MAGIC:
        if content.startswith(magic):
            return category, content_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image", "image/webp"
    if content.startswith(b"PK\x03\x04"):
        return "office", _sniff_ooxml(content, name, locale)
    if content.startswith(_OLE2):
        return _sniff_ole2(content, name, locale)
    return _sniff_text(content, name, locale)


def _sniff_ooxml(content: bytes, name: str, locale: str) -> str:
    types = _content_types_xml(content, name, locale)
    if b"macroenabled" in types.lower():
        raise FileRefused(message("file_macro", locale, name=name))
    for marker, content_type in _OOXML_MAIN.items():
        if marker in types:
            return content_type
    raise FileRefused(message("file_archive", locale, name=name))


def _content_types_xml(content: bytes, name: str, locale: str) -> bytes:
    """The `[Content_Types].xml` of an OOXML file, read with caps; a plain zip or a bomb is refused."""
    refused = FileRefused(message("file_archive", locale, name=name))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES or not _entries_look_sane(infos):
                raise refused
            if any(info.filename.lower().endswith("vbaproject.bin") for info in infos):
                raise FileRefused(message("file_macro", locale, name=name))
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_XML:
                raise refused
            with archive.open(info) as handle:
                return handle.read(MAX_CONTENT_TYPES_XML + 1)  # the declared size may lie; the read is capped
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError, OSError, NotImplementedError,
            RuntimeError, ValueError):
        raise refused from None


def _entries_look_sane(infos: list[zipfile.ZipInfo]) -> bool:
    """No encryption, no path tricks, bounded total size and compression ratio (a zip bomb is refused)."""
    total = 0
    for info in infos:
        if info.flag_bits & 0x1 or info.filename.startswith(("/", "\\")) or ".." in info.filename.split("/"):
            return False
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            return False
    return total <= MAX_ZIP_TOTAL


def _sniff_ole2(content: bytes, name: str, locale: str) -> tuple[str, str] | None:
    # Legacy Office files are OLE2 compound files; their stream names (UTF-16LE) tell Word from Excel
    # and both from other compound files such as MSI installers.
    if "_VBA_PROJECT".encode("utf-16-le") in content:
        raise FileRefused(message("file_macro", locale, name=name))
    if "WordDocument".encode("utf-16-le") in content:
        return "office", "application/msword"
    if "Workbook".encode("utf-16-le") in content or "Book\x00".encode("utf-16-le") in content:
        return "office", "application/vnd.ms-excel"
    return None


def _sniff_text(content: bytes, name: str, locale: str) -> tuple[str, None] | None:
    if b"\x00" in content:
        return None
    text = _decode(content)
    if text is None or _CONTROLS.search(text):
        return None
    head = text[:1024].lstrip("\ufeff \t\r\n")
    if head.startswith("<") and _MARKUP.search(head):
        raise FileRefused(message("file_markup", locale, name=name))
    return "text", None


def _decode(content: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
