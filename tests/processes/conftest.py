"""Every scenario path also checks that the compacted state restores like the full one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.engine import runner
from tests.processes import compaction_check


@pytest.fixture(autouse=True)
def compared_states(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(runner, "dump_state", compaction_check.checked_dump)
    yield
