"""Drive the scale-out stack started by `scripts/stack.sh start` (make stack) and print what it did.

Usage: .venv/bin/python bench/stack.py [--incidents 20]

Over real HTTP it registers incidents as `monitor` on web node 1, confirms them as `office` on web
node 2, and checks that the Celery workers delivered the quick-report e-mails to the mail catcher;
then it moves the stack's controlled clock past the 30-minute deadline of incidents left
unregistered and measures how long beat and the workers take to fire them. Exits non-zero when
something did not happen.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "instance" / "stack"
NODES = ("http://127.0.0.1:5001", "http://127.0.0.1:5002")
REGISTER = {
    "title": "基准事件", "discovered_at": "", "source_type": "self_monitoring", "platform": "weibo",
    "url": "https://weibo.com/1", "summary": "基准测试", "related_units": "social_insurance",
    "netizen_attention": "low", "foreign_media": "none", "spread_speed": "slow", "impact_scope": "small",
    "offline_risk": "none", "is_mass_incident": "false", "is_sudden_event": "false", "is_false_info": "false",
}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's cookies against one web node."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())
        self.token = self._token(self.get("/login"))
        status, _ = self.post("/login", {"username": username, "password": password})
        assert status == 302, f"login of {username} failed ({status})"
        self.token = self._token(self.get("/tasks"))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path) as response:
            return response.read().decode()

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}, doseq=True).encode()
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body, method="POST")) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", "")

    @staticmethod
    def _token(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def yuqing(*args: str) -> str:
    env = {**os.environ, **dict(line.split("=", 1) for line in subprocess.run(
        [str(ROOT / "scripts" / "stack.sh"), "env"], capture_output=True, text=True, check=True).stdout.split())}
    return subprocess.run([str(ROOT / ".venv" / "bin" / "yuqing"), *args], capture_output=True, text=True,
                          check=True, env=env).stdout


def passwords() -> dict[str, str]:
    found = {}
    for line in (STACK / "seed.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("demo"):
            found[parts[0]] = parts[1]
    return found


def mails() -> int:
    return (STACK / "mail.log").read_text(errors="replace").count("---------- MESSAGE FOLLOWS ----------")


def wait(condition, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20)
    args = parser.parse_args()
    secrets = passwords()
    for name in ("leader", "deputy", "office", "section"):
        yuqing("contact", name, "--email", f"{name}@bureau.example")
    yuqing("clock", "reset")
    monitor = Browser(NODES[0], "monitor", secrets["monitor"])
    office = Browser(NODES[1], "office", secrets["office"])
    before = mails()
    register_ms, confirm_ms = [], []
    for _ in range(args.incidents):
        status, location = monitor.post("/incidents/new", {})
        assert status == 302 and "/tasks/" in location, (status, location)
        path = urllib.parse.urlparse(location).path
        discovered = re.search(r'name="discovered_at" value="([^"]*)"', monitor.get(path)).group(1)
        started = time.perf_counter()
        status, _ = monitor.post(path, {**REGISTER, "discovered_at": discovered, "_action": "complete"})
        register_ms.append((time.perf_counter() - started) * 1000)
        assert status == 302, f"register refused ({status})"
    worklist = office.get("/tasks?view=group")
    confirm_paths = re.findall(r'href="(/tasks/[0-9a-f-]{36})">确认定级与启动响应', worklist)
    for path in confirm_paths[: args.incidents]:
        started = time.perf_counter()
        status, _ = office.post(path, {"confirmed_level": "4", "lead_unit": "social_insurance", "start_plan": "true",
                                       "_action": "complete"})
        confirm_ms.append((time.perf_counter() - started) * 1000)
        assert status == 302, f"confirmation refused ({status})"
    expected = before + 4 * args.incidents  # quick report: leader, deputy, office, section head
    mail_seconds = wait(lambda: mails() >= expected, timeout=120)
    quick_report_mails = mails() - before
    for _ in range(args.incidents):  # incidents nobody registers: their 30-minute deadline will pass
        monitor.post("/incidents/new", {})
    overdue_before = mails()
    yuqing("clock", "advance", "PT31M")
    timer_seconds = wait(lambda: mails() >= overdue_before + args.incidents, timeout=120)
    yuqing("clock", "reset")
    print(f"web nodes: {len(NODES)}   incidents: {args.incidents}")
    print(f"register (node 1): median {statistics.median(register_ms):.1f} ms   "
          f"confirm (node 2): median {statistics.median(confirm_ms):.1f} ms ({len(confirm_ms)} confirmed)")
    print(f"quick-report mails delivered by the Celery workers: {quick_report_mails} "
          f"(all there {mail_seconds:.1f} s after the last confirmation)"
          if mail_seconds is not None else "quick-report mails: NOT all delivered")
    print(f"overdue reminders after the clock passed 30 min: fired and mailed within {timer_seconds:.1f} s"
          if timer_seconds is not None else "overdue reminders: NOT all fired")
    return 0 if mail_seconds is not None and timer_seconds is not None and len(confirm_ms) == args.incidents else 1


if __name__ == "__main__":
    sys.exit(main())
