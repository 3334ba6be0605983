"""Render notification texts from templates/notify/<type>/{subject,body}.txt in the Jinja sandbox."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "notify"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_OUTPUT = 8000


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False,
                                         undefined=StrictUndefined, keep_trailing_newline=False)


def exists(kind: str) -> bool:
    """Is there a template folder for this notification type?"""
    return bool(NAME.match(kind)) and (TEMPLATE_DIR / kind / "subject.txt").is_file()


def render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a notification; an unknown type uses the generic template."""
    folder = kind if exists(kind) else "generic"
    env = _environment()
    values = {**context, "kind": kind}
    subject = env.get_template(f"{folder}/subject.txt").render(values).strip()
    try:
        body = env.get_template(f"{folder}/body.txt").render(values).strip()
    except TemplateNotFound:
        body = ""
    return subject[:300], body[:MAX_OUTPUT]
