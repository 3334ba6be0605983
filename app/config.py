"""Configuration: the only module that reads os.environ (prefix YQ_)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"YQ_{name}", default)


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance: Path, env: str) -> str:
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    if env == "production":
        raise RuntimeError("YQ_SECRET_KEY must be set in production")
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _networks(name: str, default: str) -> list[str]:
    """A comma-separated list of networks (CIDR), checked now so a typo stops the start, not a scrape."""
    networks = [item.strip() for item in (_env(name, default) or "").split(",") if item.strip()]
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise RuntimeError(f"YQ_{name}: {network!r} is not a network (e.g. 10.0.0.0/8)") from exc
    return networks


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, then apply `overrides` (tests)."""
    overrides = overrides or {}
    env = overrides.get("YQ_ENV") or _env("ENV", "development")
    instance = Path(overrides.get("INSTANCE_PATH") or _env("INSTANCE_PATH") or ROOT / "instance")
    production = env == "production"
    upload_mb = int(_env("MAX_UPLOAD_MB", "20"))
    ratelimit_uri = overrides.get("RATELIMIT_STORAGE_URI") or _env("RATELIMIT_STORAGE_URI", "memory://") or "memory://"
    config: dict[str, Any] = {
        "YQ_ENV": env,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance, env),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL") or f"sqlite:///{instance / 'yuqing.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PROCESSES_DIR": _env("PROCESSES_DIR") or str(ROOT / "processes"),
        "FORMS_DIR": _env("FORMS_DIR") or str(ROOT / "forms"),
        # One attachment of up to MAX_UPLOAD_MB per file, plus room for the form's other fields; a
        # larger request is refused with 413 before it is read. One text field (or a whole urlencoded
        # body) is held in memory up to MAX_FORM_MEMORY_SIZE: well above the largest field a form allows
        # (100,000 characters, 9 bytes each when percent-encoded), so an overlong text reaches the form's
        # own check and comes back next to its field rather than as a 413 that loses what was typed.
        "MAX_UPLOAD_MB": upload_mb,
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str((upload_mb + 1) * 1024 * 1024))),
        "MAX_FORM_MEMORY_SIZE": int(_env("MAX_FORM_MEMORY_SIZE", str(4 * 1024 * 1024))),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_NAME": "yq_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "REMEMBER_COOKIE_DURATION": timedelta(hours=8),
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        "RATELIMIT_STORAGE_URI": ratelimit_uri,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Shared storage (Redis) down: count in this process's memory and log it, never answer 500 to
        # everyone who logs in (decision 49); a blackholed host must not hang the login either.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": ({"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
                                      if ratelimit_uri.startswith(("redis://", "rediss://")) else {}),
        # Failed logins (successes never count, decision 79): per account, and a larger allowance
        # per address, because an office's colleagues log in from behind one address at shift change.
        "LOGIN_LIMIT_ACCOUNT": _env("LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_ADDRESS": _env("LOGIN_LIMIT_ADDRESS", "30 per 15 minutes"),
        "CONTROLLED_CLOCK": (not production) and _flag("CONTROLLED_CLOCK", True),
        "DEMO_PASSWORDS_ALLOWED": not production,
        "STEP_BUDGET": int(_env("STEP_BUDGET", "500")),
        # Background work: "embedded" (a thread in the serving process), "celery" (web nodes send job
        # ids to Redis for `yuqing worker`), or "off" (CLI, tests).
        "WORKER": _env("WORKER", "off"),
        "WORKER_POLL_SECONDS": float(_env("WORKER_POLL_SECONDS", "2")),
        "CELERY_BROKER_URL": _env("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        "SWEEP_SECONDS": float(_env("SWEEP_SECONDS", "5")),
        "TIMER_SHARDS": int(_env("TIMER_SHARDS", "4")),
        # Outgoing e-mail (no host: e-mail is off and no e-mail deliveries are created).
        "SMTP": {
            "host": _env("SMTP_HOST"),
            "port": int(_env("SMTP_PORT", "25")),
            "security": _env("SMTP_SECURITY", "none"),  # none | starttls | ssl
            "username": _env("SMTP_USERNAME"),
            "password": _env("SMTP_PASSWORD"),
            "sender": _env("SMTP_SENDER", "yuqing@localhost"),
            "timeout": float(_env("SMTP_TIMEOUT", "10")),
            "hostname_for_message_id": _env("SMTP_MESSAGE_ID_HOST", "yuqing.local"),
        },
        # Task notices landing on one person within this many seconds go out as one e-mail/SMS.
        "TASK_DIGEST_SECONDS": int(_env("TASK_DIGEST_SECONDS", "120")),
        # Workflows each process keeps in memory after a step, so the instance's next step there need not
        # restore its state from JSON (app/engine/state.py, decision 114); 0 turns it off.
        "WARM_WORKFLOWS": int(_env("WARM_WORKFLOWS", "32")),
        "PUBLIC_URL": (_env("PUBLIC_URL", "http://127.0.0.1:5000") or "").rstrip("/"),
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        # Monitoring: /metrics answers anonymous scrapes only from these networks (admins anywhere);
        # /healthz reports "degraded" when the newest worker heartbeat is older than this.
        "METRICS_ALLOW": _networks("METRICS_ALLOW", "127.0.0.1/32,::1/128"),
        "HEALTH_WORKER_STALE_SECONDS": float(_env("HEALTH_WORKER_STALE_SECONDS", "120")),
    }
    config.update(overrides)
    if config["YQ_ENV"] == "production" and config.get("CONTROLLED_CLOCK"):
        raise RuntimeError("the controlled clock cannot be enabled in production")
    return config
