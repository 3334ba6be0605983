#!/usr/bin/env python3
"""Run the deploy checks on process and form files without a database.

Usage::

    .venv/bin/python tools/validate.py                       # processes/ and forms/ as they are
    .venv/bin/python tools/validate.py draft/yq_x.bpmn draft/ut_x.schema.json
                                                             # ... with these files added or replacing

Extra files are placed by their base name (`yq_x.bpmn` joins the processes, `ut_x.schema.json` the
forms), so a draft can be checked against everything else before it is saved where `yuqing deploy`
(and every test) reads it. Prints each problem as `file · element: reason` and exits 1 on any.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.engine import definitions  # noqa: E402
from app.operations import deploy  # noqa: E402
from app.operations.vocabulary import ROLES  # noqa: E402


def main(argv: list[str]) -> int:
    process_files, form_files = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    for name in argv:
        path = Path(name)
        target = form_files if path.name.endswith(deploy.FORM_NAME_SUFFIXES) else process_files
        target[path.name.removesuffix(".wip")] = path.read_bytes()
    roles = {code for code, _zh, _en in ROLES}
    loaded, problems = deploy.check_forms(form_files, roles)
    try:
        compiled = definitions.compile_bundle(process_files, known_roles=roles, known_forms=set(loaded))
    except definitions.DefinitionError as exc:
        problems.extend(exc.problems)
        compiled = {}
    for problem in problems:
        print(f"{problem.file} · {problem.element or '-'}: {problem.reason}")
    if not problems:
        print(f"ok: {len(compiled)} processes, {len(loaded)} form files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
