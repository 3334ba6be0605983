"""The scale-out files describe the shape the README promises (Docker cannot run in CI here)."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import tomllib

import pytest
import yaml

from tests.conftest import ROOT


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_compose_has_the_scale_out_shape():
    services = _compose()
    assert {"postgres", "redis", "mailpit", "setup", "web1", "web2", "worker1", "worker2", "beat"} <= set(services)
    for name in ("web1", "web2"):
        env = services[name]["environment"]
        assert env["YQ_WORKER"] == "celery" and int(env["GUNICORN_WORKERS"]) >= 2
        assert env["YQ_DATABASE_URL"].startswith("postgresql+psycopg://") and env["YQ_SMTP_HOST"] == "mailpit"
    assert services["worker1"]["command"][:2] == ["yuqing", "worker"]
    assert services["beat"]["command"] == ["yuqing", "beat"]
    assert services["web1"]["depends_on"]["setup"]["condition"] == "service_completed_successfully"


def test_the_image_builds_assets_at_build_time_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "copy_assets.py" in dockerfile
    assert "gunicorn.conf.py" in dockerfile
    for command in ("curl ", "wget "):
        assert command not in dockerfile


def test_the_image_installs_runtime_dependencies_only():
    """The image gets the package and its `server` extra (gunicorn), never the dev extra; the installed
    package is the only copy, so processes/ and forms/ are named for `yuqing deploy`."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert re.findall(r"pip install [^\n]*'\.\[(\w+)\]'", dockerfile) == ["server"]
    assert "[dev]" not in dockerfile
    extras = project["optional-dependencies"]
    assert any(dep.startswith("gunicorn") for dep in extras["server"])
    assert "yuqing[server]" in extras["dev"]  # make run / make test keep gunicorn
    dev_only = {re.split(r"[<>=\[ ]", dep)[0].lower() for dep in extras["dev"]} - {"yuqing"}
    assert not dev_only & {re.split(r"[<>=\[ ]", dep)[0].lower() for dep in project["dependencies"]}
    assert "YQ_PROCESSES_DIR=/srv/yuqing/processes" in dockerfile and "YQ_FORMS_DIR=/srv/yuqing/forms" in dockerfile


@pytest.mark.parametrize(("sqlite", "postgresql"), [(0, 0), (1, 0), (0, 1), (5, 0), (0, 5)])
def test_make_test_runs_both_passes_and_fails_if_either_failed(tmp_path, sqlite, postgresql):
    """`make test` (what .ci/run calls): the PostgreSQL pass runs even after the SQLite pass failed, and
    any non-zero pytest status fails the target — 5, "no tests collected", too."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "pass $YQ_TEST_BACKEND with $*"\n'
                    'case "$YQ_TEST_BACKEND" in sqlite) exit $FAKE_SQLITE;; postgresql) exit $FAKE_PG;; esac\n')
    fake.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS"))}
    env.update(FAKE_SQLITE=str(sqlite), FAKE_PG=str(postgresql), TEST_DATABASE_URL="postgresql+psycopg://ci@db/x")
    steps = [arg for step in ("install", "assets", "translations", "lint", "browser") for arg in ("-o", step)]
    result = subprocess.run(["make", "-s", *steps, "test", f"PY={fake}"], cwd=ROOT, env=env, check=False,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.count("pass sqlite") == 1 and result.stdout.count("pass postgresql") == 1, result.stdout
    # each pass spreads its tests over the cores: CI has 90 minutes for both
    assert result.stdout.count("with -m pytest -n auto --dist worksteal") == 2, result.stdout
    assert (result.returncode == 0) == (sqlite == postgresql == 0), result.stdout + result.stderr


def test_ci_runs_make_test_on_a_database_of_its_own():
    script = (ROOT / ".ci" / "run").read_text()
    subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=True)
    assert "make test" in script and "TEST_DATABASE_URL" in script and "DROP DATABASE" in script


def test_stack_script_is_valid_bash_and_knows_its_commands():
    script = ROOT / "scripts" / "stack.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    usage = subprocess.run(["bash", str(script)], check=False, capture_output=True, text=True)
    assert usage.returncode == 2 and "start|stop|status" in usage.stderr


def test_gunicorn_starts_the_embedded_worker_only_when_asked(app, monkeypatch):
    started = []
    monkeypatch.setattr("app.jobs.embedded.start", started.append)
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    class Worker:
        wsgi = app

    hooks["post_worker_init"](Worker())
    assert started == []
    monkeypatch.setitem(app.config, "WORKER", "embedded")
    hooks["post_worker_init"](Worker())
    assert started == [app]
