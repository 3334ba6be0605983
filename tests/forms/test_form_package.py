"""The package rule of app/forms: no web framework, database, workflow engine or upper layers."""

import ast
from pathlib import Path

FORMS = Path(__file__).resolve().parents[2] / "app" / "forms"
FORBIDDEN = ("flask", "sqlalchemy", "flask_sqlalchemy", "SpiffWorkflow", "app.models", "app.operations",
             "app.web", "app.db", "app.extensions")


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_forms_import_nothing_forbidden():
    found = {(path.name, module) for path in FORMS.glob("*.py") for module in imported_modules(path)
             if module.split(".")[0] in FORBIDDEN or module.startswith(FORBIDDEN)}
    assert found == set()


def test_the_only_app_imports_are_forms_and_the_evaluator():
    app_imports = {module for path in FORMS.glob("*.py") for module in imported_modules(path)
                   if module.startswith("app.") and not module.startswith("app.forms")}
    assert app_imports == {"app.engine.evaluator", "app.engine.helpers"}
