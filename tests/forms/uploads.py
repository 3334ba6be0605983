"""Small files of every kind an attachment field meets: the allowed ones and the hostile ones."""

from __future__ import annotations

import io
import zipfile

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
DOCM_TYPE = "application/vnd.ms-word.document.macroEnabled.main+xml"

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TEXT_UTF8 = "网民发帖反映社保窗口办事拖延。\n评论数百条。\n".encode()
TEXT_GB18030 = "网民发帖反映社保窗口办事拖延。\n".encode("gb18030")
CSV = "平台,阅读量\n微博,12000\n".encode()
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 24


def _zip(entries: dict[str, bytes], level: int = 6) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _content_types(main: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/word/document.xml" ContentType="{main}"/></Types>').encode()


def ooxml(main: str = DOCX_TYPE, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal OOXML package whose main part has content type `main`."""
    return _zip({"[Content_Types].xml": _content_types(main), "word/document.xml": b"<w:document/>",
                 **(extra or {})})


def docx() -> bytes:
    return ooxml(DOCX_TYPE)


def xlsx() -> bytes:
    return ooxml(XLSX_TYPE)


def pptx() -> bytes:
    return ooxml(PPTX_TYPE)


def docm() -> bytes:
    """A macro-enabled Word document (vbaProject.bin inside)."""
    return ooxml(DOCM_TYPE, {"word/vbaProject.bin": b"\x00" * 64})


def zip_bomb_docx(megabytes: int = 8) -> bytes:
    """A "docx" whose one entry inflates from a few kB to `megabytes` MB of zeros."""
    return ooxml(DOCX_TYPE, {"word/media/huge.bin": b"\x00" * (megabytes * 1024 * 1024)})


def plain_zip() -> bytes:
    """An ordinary archive: no [Content_Types].xml."""
    return _zip({"readme.txt": b"hello", "payload.exe": EXE})


def _ole2(stream_name: str) -> bytes:
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    return header + (stream_name + "\x00").encode("utf-16-le") + b"\x00" * 64


def doc() -> bytes:
    return _ole2("WordDocument")


def xls() -> bytes:
    return _ole2("Workbook")


def msi() -> bytes:
    """An OLE2 compound file that is neither Word nor Excel (an installer)."""
    return _ole2("SummaryInformation")
