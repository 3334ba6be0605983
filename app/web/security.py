"""Browser hardening headers on every response (docs/security.md §4)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response, request

from app.forms import CONTENT_TYPES

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# bpmn-js writes style attributes on the SVG it draws; scripts stay 'self' only.
DIAGRAM_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def security_headers(response: Response) -> Response:
    """CSP, nosniff, referrer policy, no framing, HSTS on HTTPS, no caching of pages."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/") and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


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
