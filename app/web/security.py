"""Browser hardening headers on every response (docs/security.md §4)."""

from __future__ import annotations

from flask import Response, request

from app.operations.downloads import download_headers

__all__ = ["CSP", "DIAGRAM_CSP", "download_headers", "security_headers"]

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


