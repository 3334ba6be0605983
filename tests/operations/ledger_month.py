"""Three incidents of November 2026 written through the ledger's real entry points, for the statistics tests."""

from __future__ import annotations

from datetime import timedelta

from app.db import transaction
from app.engine.services import SideEffect
from app.operations import instances, ledger
from tests.conftest import make_user


def _record(instance, kind, data, **params):
    with transaction() as session:
        return ledger.record_effect(session, instance, SideEffect("ledger", {"kind": kind, **params}, "st_x", "p",
                                                                  "g", data))


def _incident(user, fake_clock, *, title, summary="", platform="weibo", report_after=0, level=4,
              released_after=None, unit="policy"):
    """An incident discovered now, its quick report `report_after` minutes later (due in 30), then confirmed."""
    instance = instances.start_incident(user)
    _record(instance, "deadlines_set", {"report_due_at": (fake_clock.current + timedelta(minutes=30)).isoformat(),
                                        "release_due_at": (fake_clock.current + timedelta(hours=12)).isoformat(),
                                        "national_due_at": (fake_clock.current + timedelta(hours=48)).isoformat(),
                                        "current_level": level})
    fake_clock.advance(minutes=report_after)
    _record(instance, "registered", {"title": title, "summary": summary, "platform": platform,
                                     "source_type": "self_monitoring"})
    _record(instance, "level_confirmed", {"confirmed_level": level, "lead_unit": unit})
    if released_after is not None:
        fake_clock.advance(hours=released_after)
        _record(instance, "release_published", {})
    return instance


def november(fake_clock):
    """Three incidents of November 2026: one reported late, one released late, one on time."""
    user = make_user(["monitor"])
    late_report = _incident(user, fake_clock, title="社保卡补办排队", summary="网民反映ＡＢＣ窗口办事拖延",
                            report_after=45, released_after=2)
    late_release = _incident(user, fake_clock, title="就业补贴发放", platform="douyin", released_after=13,
                             level=3, unit="employment")
    on_time = _incident(user, fake_clock, title="政策解读咨询", report_after=5)
    return late_report, late_release, on_time
