"""Unbound extension objects; create_app() binds them."""

from __future__ import annotations

import logging

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class _LoudStorageFallback(logging.Filter):
    """Flask-Limiter notes at WARNING that its storage is unreachable and it counts in memory; that
    means each process now limits logins on its own, which operators must notice: make it an ERROR
    that says so."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "falling back to in-memory" in record.getMessage():
            record.levelno, record.levelname = logging.ERROR, "ERROR"
            record.msg = ("rate-limit storage (YQ_RATELIMIT_STORAGE_URI) unreachable: login limits are counted "
                          "in this process's memory until it is back")
            record.args = ()
        return True


logging.getLogger("flask-limiter").addFilter(_LoudStorageFallback())
