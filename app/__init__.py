"""The application factory: configuration, extensions, blueprints, commands. Nothing else.

Layers are imported inside create_app() so that importing a leaf module (app.clock, app.engine)
never drags the web layer in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; `config` overrides what the environment says (tests pass it)."""
    from app import api, cli, db, web  # noqa: PLC0415
    from app.config import load_config  # noqa: PLC0415
    from app.extensions import babel, csrf, limiter, login_manager, migrate  # noqa: PLC0415

    app = Flask(__name__)
    app.config.update(load_config(config))
    from app.engine import state  # noqa: PLC0415

    state.WARM.resize(app.config["WARM_WORKFLOWS"])
    db.init_app(app)
    migrate.init_app(app, db=db.db, directory=str(Path(__file__).resolve().parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale, timezone_selector=web.select_timezone)
    web.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    if app.config["WORKER"] == "celery":
        from app.jobs.celery_app import install_dispatch  # noqa: PLC0415

        install_dispatch(app)
    return app
