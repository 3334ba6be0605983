"""The JSON REST API under /api/v1 (docs/api.md): bearer tokens, problem+json errors, an OpenAPI 3.1
document generated from the views' schemas (flask-smorest), browsable docs served from local assets.
Handlers parse input and call operations — the same ones, with the same permissions, as the pages."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from app.api import alerts, docs, documents, incidents, processes, reports, tasks


class _Api(Api):
    """flask-smorest without its app-wide error handler: the pages keep theirs, the API blueprints
    answer problem+json (app.api.problems), and document them per view; the document is served by
    app.api.docs."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        pass


def init_app(app: Flask) -> None:
    """Build the document and register the API's blueprints."""
    api = _Api(spec_kwargs={
        "title": "网络舆情应急处置平台 API", "version": "v1", "openapi_version": "3.1.0",
        "info": {"description": "Bearer tokens are issued at /admin/api-tokens or with `yuqing create-token`; "
                                "errors are application/problem+json (RFC 9457)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
    })
    api.init_app(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for bp in (alerts.bp, processes.bp, tasks.bp, incidents.bp, documents.bp, reports.bp):
        api.register_blueprint(bp)
    docs.init_app(app, api)
