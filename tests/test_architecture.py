"""Rules of the codebase that a grep can check (docs/architecture.md)."""

from __future__ import annotations

import re

from tests.conftest import ROOT

APP = ROOT / "app"


def _sources():
    return [p for p in APP.rglob("*.py") if "migrations" not in p.parts]


def test_only_the_unit_of_work_commits():
    offenders = [str(p.relative_to(ROOT)) for p in _sources()
                 if ".commit(" in p.read_text() and p != APP / "db.py"]
    assert offenders == []


def test_only_the_engine_imports_spiffworkflow():
    pattern = re.compile(r"^\s*(from|import)\s+SpiffWorkflow", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in _sources()
                 if pattern.search(p.read_text()) and "engine" not in p.relative_to(APP).parts[:1]]
    assert offenders == []


def test_only_config_reads_the_environment():
    offenders = [str(p.relative_to(ROOT)) for p in _sources()
                 if "os.environ" in p.read_text() and p != APP / "config.py"]
    assert offenders == []


def test_every_package_states_its_rule():
    packages = [p for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    missing = [p.name for p in packages if '"""' not in (p / "__init__.py").read_text()]
    assert missing == []


def test_the_default_spiffworkflow_script_engine_is_never_constructed():
    offenders = [str(p.relative_to(ROOT)) for p in _sources()
                 if re.search(r"PythonScriptEngine\(\s*\)|TaskDataEnvironment\(", p.read_text())]
    assert offenders == []


def test_every_process_file_has_its_scenario_test():
    """Every BPMN/DMN file of processes/ is driven through the real engine by tests/processes/test_<file>.py."""
    missing = [p.name for p in sorted((ROOT / "processes").iterdir()) if p.suffix in (".bpmn", ".dmn")
               and not (ROOT / "tests" / "processes" / f"test_{p.stem}.py").exists()]
    assert missing == []
