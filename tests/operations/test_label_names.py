"""Unit and role names are read once per transaction, and a rename is seen at once."""

from __future__ import annotations

from sqlalchemy import event, select

from app.extensions import db as _db
from app.models import OrgUnit
from app.operations import labels


def _reads(fn) -> tuple[object, int]:
    sent: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        if "FROM org_unit" in statement or "FROM role" in statement:
            sent.append(statement)

    bind = _db.session.get_bind()
    event.listen(bind, "before_cursor_execute", listen)
    try:
        return fn(), len(sent)
    finally:
        event.remove(bind, "before_cursor_execute", listen)


def test_names_are_read_once_and_a_rename_or_a_new_unit_is_seen(app, db):
    first, reads = _reads(lambda: (labels.unit_names(), labels.unit_names(), labels.role_names()))
    assert reads == 2  # units once, roles once
    unit = db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)).first()
    assert first[0][unit.code] == unit.name
    unit.name = "改名后的单位"  # pending: the next read sees it
    assert labels.unit_names()[unit.code] == "改名后的单位"
    db.session.add(OrgUnit(code="new_unit_x", name="新设单位", kind="unit", active=True))
    db.session.flush()
    names, reads = _reads(labels.unit_names)
    assert (names["new_unit_x"], reads) == ("新设单位", 1)
    english, reads = _reads(lambda: labels.unit_names("en"))
    assert reads == 1 and english["new_unit_x"] == "新设单位"  # no English name: the Chinese one
    db.session.commit()
    _names, reads = _reads(labels.unit_names)
    assert reads == 1  # a new transaction reads again
