"""Copy the front-end files the pages use from node_modules into app/static/vendor (run by `make assets`).

Only the listed files are copied, so the app serves exactly what it needs and nothing is fetched
from the internet at run time. Then the process modeller is bundled from assets/modeler/ into
app/static/vendor/modeler/ (tools/build_modeler.py: esbuild from node_modules).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import build_modeler  # tools/ is on sys.path when this file runs as a script

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "app" / "static" / "vendor"
FILES = {
    "bpmn-js/dist/bpmn-navigated-viewer.production.min.js": "bpmn-js/bpmn-navigated-viewer.production.min.js",
    "bpmn-js/dist/assets/diagram-js.css": "bpmn-js/diagram-js.css",
    "bpmn-js/dist/assets/bpmn-js.css": "bpmn-js/bpmn-js.css",
    "bpmn-js/dist/assets/bpmn-font/css/bpmn.css": "bpmn-js/bpmn-font/css/bpmn.css",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2": "bpmn-js/bpmn-font/font/bpmn.woff2",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff": "bpmn-js/bpmn-font/font/bpmn.woff",
    "chart.js/dist/chart.umd.js": "chart.js/chart.umd.js",
}


def main() -> int:
    missing = [source for source in FILES if not (ROOT / "node_modules" / source).is_file()]
    if missing:
        print("missing in node_modules (run npm ci):", ", ".join(missing), file=sys.stderr)
        return 1
    for source, target in FILES.items():
        destination = VENDOR / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "node_modules" / source, destination)
    print(f"copied {len(FILES)} asset files to {VENDOR.relative_to(ROOT)}")
    return build_modeler.main()


if __name__ == "__main__":
    sys.exit(main())
