"""`yuqing serve` (what `make run` ends with) really serves: start it as a process and fetch pages."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ROOT
from tests.notify.loopback import free_port

YUQING = Path(sys.executable).with_name("yuqing")
PATIENCE = 120  # seconds: start-up on a busy machine; polling returns as soon as the server answers


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=PATIENCE / 4) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_yuqing_serve_answers_on_its_port(tmp_path: Path) -> None:
    env = {**os.environ, "YQ_INSTANCE_PATH": str(tmp_path), "YQ_DATABASE_URL": f"sqlite:///{tmp_path / 'y.db'}",
           "YQ_ENV": "development"}
    init = subprocess.run([str(YUQING), "init-db"], env=env, cwd=ROOT, check=False, capture_output=True, text=True,
                          timeout=PATIENCE * 2)
    assert init.returncode == 0, init.stdout + init.stderr
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([str(YUQING), "serve", "--port", str(port), "--no-worker"], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + PATIENCE
        status = 0
        while time.monotonic() < deadline and status != 200 and server.poll() is None:
            time.sleep(0.2)
            status = _get(f"http://127.0.0.1:{port}/login")
        assert status == 200, (tmp_path / "serve.log").read_text()
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=PATIENCE / 4)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=PATIENCE)  # reaped: a Popen left running is a ResourceWarning (an error here)
        log.close()
