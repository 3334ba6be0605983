"""The OpenAPI document (/api/v1/openapi.json) and Swagger UI 5 (/api/v1/docs) from the files of the
swagger-ui-bundle-v2 package, served by the app (no CDN); neither needs a token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, json, render_template, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from app.api.common import TAGS
from app.extensions import csrf

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
ASSETS = Path(swagger_ui_path)
ALLOWED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                     "favicon-32x32.png"})


@bp.route("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of the API."""
    spec = named_tags(current_app.extensions["yq_api"].spec.to_dict())
    return current_app.response_class(json.dumps(spec, ensure_ascii=False), mimetype="application/json")


def named_tags(spec: dict[str, Any]) -> dict[str, Any]:
    """The document with each blueprint's readable tag instead of its name (flask-smorest tags by name)."""
    for tag in spec.get("tags", []):
        tag["name"] = TAGS.get(tag["name"], tag["name"])
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "tags" in operation:
                operation["tags"] = [TAGS.get(name, name) for name in operation["tags"]]
    return spec


@bp.route("/docs")
def docs() -> str:
    """Swagger UI on the document."""
    return render_template("api/docs.html")


@bp.route("/docs/assets/<name>")
def asset(name: str) -> Response:
    if name not in ALLOWED:
        return Response(status=404)
    return send_from_directory(ASSETS, name, max_age=3600)


def init_app(app: Flask, api: Api) -> None:
    app.extensions["yq_api"] = api
    csrf.exempt(bp)
    app.register_blueprint(bp)
