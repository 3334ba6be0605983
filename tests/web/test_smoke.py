"""Pages answer and need a login."""

from tests.conftest import login


def test_login_page_renders_in_chinese(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)


def test_worklist_requires_login(client):
    response = client.get("/tasks")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_worklist_after_login(client, user_factory):
    user = user_factory(["monitor"])
    login(client, user)
    response = client.get("/tasks")
    assert response.status_code == 200
    assert "待办任务" in response.get_data(as_text=True)
