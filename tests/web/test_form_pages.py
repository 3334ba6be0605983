"""Task pages offer only what they accept, carry what they need, and show every error at its field.

Each test walks the real pages: log in through the login form, open the task page, read the
fields and options it renders, post them as the page names them, and read what the page says.
"""

from __future__ import annotations

import re

from tests.web.scenario import FORMS, act_as, open_task, start_incident, submit
from tests.web.test_task_forms import _field_errors


def _options(page: str, name: str) -> list[str]:
    """The values a page offers for field `name` (radios, checkboxes and select options)."""
    inputs = re.findall(rf'<input type="(?:radio|checkbox)"[^>]*name="{re.escape(name)}" value="([^"]*)"', page)
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    options = re.findall(r'<option value="([^"]*)"', select.group(1)) if select else []
    return inputs + [value for value in options if value]


def test_an_unknown_checkbox_value_is_shown_at_its_field_with_the_rest_kept(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    page = monitor.get(f"/tasks/{open_task(instance, 'ut_register').public_id}").get_data(as_text=True)
    assert "social_insurance" in _options(page, "related_units") and "nosuchunit" not in page
    response = submit(monitor, instance, "ut_register", related_units=["social_insurance", "nosuchunit"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _field_errors(page)["related_units"] == ["请选择有效的选项"]
    assert re.search(r'name="related_units" value="social_insurance"[^>]*checked', page)
    assert 'value="某街道社保窗口服务态度问题引发网民关注"' in page  # what was typed elsewhere is kept too
