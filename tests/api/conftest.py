"""Fixtures of the API tests: tokens issued through the operation, a client that sends them."""

from __future__ import annotations

from typing import Any

import pytest

from app.operations import api_tokens

ALL_SCOPES = sorted(api_tokens.SCOPES)


class ApiClient:
    """The test client with a bearer token on every request."""

    def __init__(self, client: Any, token: str):
        self.client, self.token = client, token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


_names = iter(range(1, 10**9))


def make_token(roles: list[str], scopes: list[str] | None = None, **options: Any) -> tuple[Any, str]:
    return api_tokens.issue_token(f"测试令牌{next(_names)}", None, scopes=scopes or ALL_SCOPES, roles=roles,
                                  **options)


@pytest.fixture
def api(client: Any, db: Any) -> Any:
    """api(roles, scopes=None, **options) → an ApiClient acting as a new token's service user."""
    def build(roles: list[str], scopes: list[str] | None = None, **options: Any) -> ApiClient:
        _row, token = make_token(roles, scopes, **options)
        return ApiClient(client, token)
    return build
