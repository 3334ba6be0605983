"""The county profile (篇二): an admin switches to it on the profile page, then an incident is worked under
it — other superiors, no Ⅲ级 filing, false information handled by the Party group."""

from __future__ import annotations

from tests.e2e import answers
from tests.e2e.browser import PageError
from tests.e2e.walk import Walk

REGISTER = ("monitor", "/tasks", "登记新舆情(快报)")


def switch_to_county(walk: Walk) -> None:
    admin = walk.people["admin"]
    page = admin.get("/admin/profile")
    form = next((f for f in page.forms() if "code=county" in f.action and "启用" in f.buttons()), None)
    if form is None:
        raise PageError("the profile page offers no way to switch to the county profile")
    result = admin.submit(form, "启用")
    assert result.status == 200 and "县级单位(篇二)" in result.text()


def test_county_level2_incident_with_false_information_for_the_party_group(walk_factory):
    walk = walk_factory(answers.LEVEL2, prefer={"ut_false_info_party": "party"})
    switch_to_county(walk)
    walk.start(*REGISTER)
    walk.run()
    assert walk.problems == [], walk.report()
    workers = {spec: who for who, spec in walk.done}
    assert workers.get("ut_false_info_party") == "party"  # 篇二: the Party group handles false information
    report = walk.people["office"].get(f"/ledger/{walk.incident().number}").text()
    assert "县" in report  # the county's superiors were reported to


def test_county_level3_incident_needs_no_filing(walk_factory):
    walk = walk_factory(answers.LEVEL3)
    switch_to_county(walk)
    walk.start(*REGISTER)
    walk.run()
    assert walk.problems == [], walk.report()
    assert "ut_file_record" not in {spec for _who, spec in walk.done}
