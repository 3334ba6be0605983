"""The scale-out files describe the shape the README promises (Docker cannot run in CI here)."""

from __future__ import annotations

import runpy
import subprocess

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
