"""Build the process modeller into app/static/vendor/modeler/ (run by tools/copy_assets.py, i.e. `make assets`).

- `modeler.js`: assets/modeler/index.js bundled by esbuild (one minified IIFE that sets
  `window.YuqingModeler`: bpmn-js Modeler + properties panel + our spiffworkflow extension, the live
  lint (bpmn-js-bpmnlint with our rules), the minimap and our element templates, dmn-js Modeler).
- `modeler.css`: the CSS the bundle needs, concatenated in this order (diagram-js, bpmn-js, bpmn font,
  properties panel, lint, minimap, dmn-js parts, dmn font, our markers), with the font URLs pointing at
- `bpmn-font/font/bpmn.woff2|woff` and `dmn-font/font/dmn.woff2|woff`.

A page loads `/static/vendor/modeler/modeler.css` and `/static/vendor/modeler/modeler.js` and nothing else:
no CDN, no request at run time. esbuild comes from node_modules (`npm ci`); its native binary is used when
present, so the build also works where Node is not installed (the Docker image copies node_modules into a
Python-only stage). The bundle must run under `script-src 'self'`: the build refuses a bundle with an
unexpected `eval` or `Function` constructor (see ALLOWED_DYNAMIC_CODE).
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
SOURCE = ROOT / "assets" / "modeler"
ENTRY = SOURCE / "index.js"
OUTPUT = ROOT / "app" / "static" / "vendor" / "modeler"
BUNDLE = OUTPUT / "modeler.js"
STYLESHEET = OUTPUT / "modeler.css"

# (file, what its `url(../font/…)` becomes inside modeler.css); node_modules paths unless absolute.
CSS: tuple[tuple[Path, str | None], ...] = (
    (NODE_MODULES / "diagram-js/assets/diagram-js.css", None),
    (NODE_MODULES / "bpmn-js/dist/assets/bpmn-js.css", None),
    (NODE_MODULES / "bpmn-js/dist/assets/bpmn-font/css/bpmn.css", "bpmn-font/font/"),
    (NODE_MODULES / "@bpmn-io/properties-panel/dist/assets/properties-panel.css", None),
    (NODE_MODULES / "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css", None),
    (NODE_MODULES / "diagram-js-minimap/assets/diagram-js-minimap.css", None),
    (NODE_MODULES / "dmn-js-shared/assets/css/dmn-js-shared.css", None),
    (NODE_MODULES / "dmn-js-drd/assets/css/dmn-js-drd.css", None),
    (NODE_MODULES / "dmn-js-decision-table/assets/css/dmn-js-decision-table.css", None),
    (NODE_MODULES / "dmn-js-decision-table/assets/css/dmn-js-decision-table-controls.css", None),
    (NODE_MODULES / "dmn-js-literal-expression/assets/css/dmn-js-literal-expression.css", None),
    (NODE_MODULES / "dmn-js-boxed-expression/assets/css/dmn-js-boxed-expression.css", None),
    (NODE_MODULES / "dmn-js-boxed-expression/assets/css/dmn-js-boxed-expression-controls.css", None),
    (NODE_MODULES / "dmn-js/dist/assets/dmn-font/css/dmn.css", "dmn-font/font/"),
    (SOURCE / "modeler.css", None),
)
# Browsers take woff2 (woff as fallback); the eot/ttf/svg entries of the font CSS are never requested.
FONTS = {
    NODE_MODULES / "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2": "bpmn-font/font/bpmn.woff2",
    NODE_MODULES / "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff": "bpmn-font/font/bpmn.woff",
    NODE_MODULES / "dmn-js/dist/assets/dmn-font/font/dmn.woff2": "dmn-font/font/dmn.woff2",
    NODE_MODULES / "dmn-js/dist/assets/dmn-font/font/dmn.woff": "dmn-font/font/dmn.woff",
}

DYNAMIC_CODE = re.compile(r"\bnew Function\s*\(|(?<![\w$.])Function\s*\(|(?<![\w$.])eval\s*\(")
# selection-ranges (dmn-js's content-editable cells) inlines dom-iterator, whose `compile` builds a
# filter with `new Function` for string selectors only; selection-ranges never passes one (it calls
# `next()` without a selector), so the branch is dead and needs no 'unsafe-eval'.
ALLOWED_DYNAMIC_CODE = (
    re.compile(r'new Function\("node","Object\.freeze\(node\); return "\+[\w$]+\([\w$]+,"node\."\)\)'),
)


def esbuild_command() -> list[str]:
    """The esbuild executable from node_modules: the native binary if installed, else the npm shim (needs node)."""
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system(), "")
    machines = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}
    machine = machines.get(platform.machine().lower(), "")
    native = NODE_MODULES / "@esbuild" / f"{system}-{machine}" / "bin" / "esbuild"
    if native.is_file():
        return [str(native)]
    shim = NODE_MODULES / ".bin" / "esbuild"
    if shim.exists():
        return [str(shim)]
    raise FileNotFoundError("esbuild is not in node_modules (run npm ci)")


def unexpected_dynamic_code(bundle: str) -> list[str]:
    """Snippets of `eval(` / `Function(` in the bundle other than the known dead one."""
    cleaned = bundle
    for allowed in ALLOWED_DYNAMIC_CODE:
        cleaned = allowed.sub("", cleaned)
    return [cleaned[max(0, match.start() - 60):match.end() + 60] for match in DYNAMIC_CODE.finditer(cleaned)]


def bundle_javascript() -> None:
    command = [*esbuild_command(), str(ENTRY.relative_to(ROOT)), "--bundle", "--minify", "--format=iife",
               "--target=es2020", "--log-level=warning", f"--outfile={BUNDLE.relative_to(ROOT)}"]
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 - fixed argv, no shell


def font_urls(css: str, prefix: str) -> str:
    return re.sub(r"url\((['\"]?)\.\./font/", lambda match: f"url({match.group(1)}{prefix}", css)


def write_stylesheet() -> None:
    parts = []
    for path, font_prefix in CSS:
        css = path.read_text(encoding="utf-8")
        css = re.sub(r"@charset[^;]*;", "", css)
        if font_prefix:
            css = font_urls(css, font_prefix)
        parts.append(f"/* ---- {path.relative_to(ROOT).as_posix()} ---- */\n{css.strip()}\n")
    STYLESHEET.write_text("\n".join(parts), encoding="utf-8")
    for source, target in FONTS.items():
        destination = OUTPUT / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def main() -> int:
    if not SOURCE.is_dir():
        # e.g. an image build that copies tools/ but not assets/: say so loudly rather than break it
        print(f"WARNING: {SOURCE.relative_to(ROOT)} is missing: the process modeller is NOT built "
              "(copy assets/ next to tools/ to build it)", file=sys.stderr)
        return 0
    needed = [ENTRY, *(path for path, _ in CSS), *FONTS]
    missing = [str(path.relative_to(ROOT)) for path in needed if not path.is_file()]
    if missing:
        print("missing (run npm ci):", ", ".join(missing), file=sys.stderr)
        return 1
    OUTPUT.mkdir(parents=True, exist_ok=True)
    try:
        bundle_javascript()
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"modeller bundle failed: {error}", file=sys.stderr)
        return 1
    problems = unexpected_dynamic_code(BUNDLE.read_text(encoding="utf-8"))
    if problems:
        print("the modeller bundle uses eval/Function (forbidden by the CSP):", *problems, sep="\n  ", file=sys.stderr)
        return 1
    write_stylesheet()
    size = BUNDLE.stat().st_size
    print(f"built {BUNDLE.relative_to(ROOT)} ({size / 1024 / 1024:.1f} MB) and {STYLESHEET.name} "
          f"({len(CSS)} stylesheets, {len(FONTS)} fonts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
