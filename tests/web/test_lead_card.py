"""The confirm-level page shows the lead itself next to the proposal: link, platform, metrics, screenshot."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.forms import uploads
from tests.web.scenario import FORMS, act_as, open_task, open_tasks, start_incident


def _register_with_files(monitor, instance):
    task = open_task(instance, "ut_register")
    answers = [(key, value) for key, value in FORMS["ut_register"].items() if key != "related_units"]
    items = [("_action", "complete"), *answers,
             ("related_units", "social_insurance"),
             ("attachments", FileStorage(io.BytesIO(uploads.PNG), filename="微博截图.png")),
             ("attachments", FileStorage(io.BytesIO(uploads.PDF), filename="情况说明.pdf"))]
    boundary, body = encode_multipart(MultiDict(items))
    response = monitor.client.post(f"/tasks/{task.public_id}", data=body,
                                   content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]


def test_the_confirm_level_page_shows_the_lead_beside_the_proposal(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    instance = start_incident(monitor)
    _register_with_files(monitor, instance)
    task = next(t for t in open_tasks(instance) if t.spec_id == "ut_confirm_level")
    page = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    card = page[page.index('data-testid="lead-card"'):]
    card = card[:card.index("</section>")]
    assert "系统建议" in card and "级" in card and "定级依据" in card
    assert "发布平台</dt><dd>微博" in card and "weibo</dd>" not in card  # the label, not the code
    assert 'href="https://weibo.com/1234567/abc" target="_blank" rel="noopener noreferrer nofollow"' in card
    assert "阅读量" in card and "12000" in card and "转发量" in card and "230" in card
    preview = card[card.index('<img src="') + 10:]
    preview = preview[:preview.index('"')]
    assert preview.startswith("/attachments/") and preview.endswith("/preview") and 'alt="微博截图.png"' in card
    assert "情况说明.pdf" in card
    image = office.get(preview)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline;")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image.headers["Content-Security-Policy"]
    assert image.data == uploads.PNG
    # a PDF is never shown inline; and people who may not see the incident get nothing
    pdf_href = card[card.index("情况说明.pdf") - 200:card.index("情况说明.pdf")]
    pdf_id = pdf_href[pdf_href.rindex("/attachments/") + len("/attachments/"):].split('"')[0]
    assert office.get(f"/attachments/{pdf_id}/preview").status_code == 404
    stranger = act_as(app, user_factory(["commentator"]))
    assert stranger.get(preview).status_code == 404


def test_tasks_that_do_not_grade_show_no_lead_card(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    assert 'data-testid="lead-card"' not in monitor.get(f"/tasks/{task.public_id}").get_data(as_text=True)
