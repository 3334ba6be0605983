"""Headers of a file download (an attachment, a generated document, a diagram): shared by the pages and
the API, which both send files and must send them the same way (docs/security.md §4)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from app.forms import CONTENT_TYPES


def download_headers(filename: str, content_type: str, ascii_name: str | None = None) -> dict[str, str]:
    """Headers of an attachment download: never rendered, never sniffed, never cached by a proxy.

    The content type is served only when it is one the upload checks can produce; anything else is
    `application/octet-stream`. `filename*` (RFC 5987/6266) carries the Chinese name; `filename` is
    an ASCII fallback for old clients.
    """
    served = content_type if content_type in CONTENT_TYPES else "application/octet-stream"
    return {
        "Content-Type": served,
        "Content-Disposition": f"attachment; filename=\"{_ascii_filename(ascii_name or filename)}\"; "
                               f"filename*=UTF-8''{quote(filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    }


def _ascii_filename(filename: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()-]", "_", ascii_name).strip(" ._")
    stem, dot, _ext = ascii_name.rpartition(".")
    if not dot or not re.search(r"[A-Za-z0-9]", stem):
        suffix = filename.rpartition(".")[2] if "." in filename else ""
        suffix = re.sub(r"[^A-Za-z0-9]", "", suffix)[:16]
        return f"attachment.{suffix}" if suffix else "attachment"
    return ascii_name
