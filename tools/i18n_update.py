"""Refresh the message catalogues after interface text changed (developer tool).

Usage: .venv/bin/python tools/i18n_update.py ["中文=English" ...]
Extracts messages from app/, merges them into every catalogue, fills the given translations,
lists what is still untranslated and compiles. `make test` fails while anything is untranslated.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
BABEL = [sys.executable, "-m", "babel.messages.frontend"]


def _babel(*args: str) -> None:
    subprocess.run([*BABEL, *args], cwd=ROOT, check=True, capture_output=True)  # noqa: S603 - our own arguments


def main(pairs: list[str]) -> int:
    # Several people (or sessions) may refresh the catalogue at once: one at a time rewrites it.
    with (TRANSLATIONS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _update(pairs)


def _update(pairs: list[str]) -> int:
    template = TRANSLATIONS / "messages.pot"
    _babel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2",
           "-o", str(template), ".")
    _babel("update", "-i", str(template), "-d", str(TRANSLATIONS))
    given = dict(pair.split("=", 1) for pair in pairs)
    missing = []
    for catalog_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        with catalog_path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if message.id in given:
                message.string = given[message.id]
                message.flags.discard("fuzzy")
            if message.id and (not message.string or message.fuzzy):
                missing.append(f"{catalog_path.parts[-3]}: {message.id}")
        with catalog_path.open("wb") as handle:
            write_po(handle, catalog, width=100)
    _babel("compile", "-d", str(TRANSLATIONS))
    for line in missing:
        print("untranslated", line)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
