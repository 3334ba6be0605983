"""Errors a use case reports to its caller; each maps to one HTTP status."""

from __future__ import annotations

from typing import Any


class OperationError(Exception):
    """Base class: `message` is for people (Chinese by default), `status` for HTTP."""

    status = 400

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(OperationError):
    """The object does not exist or the caller may not see it (404 either way)."""

    status = 404


class Forbidden(OperationError):
    """The caller may see the object but not do this."""

    status = 403


class Conflict(OperationError):
    """Someone else changed the object first (409)."""

    status = 409


class Invalid(OperationError):
    """The input was refused; `errors` maps field paths to messages (422)."""

    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, **details: Any):
        super().__init__(message, **details)
        self.errors = errors or {}


class DeployRefused(OperationError):
    """Files could not be deployed; `problems` lists file, element and reason."""

    status = 422

    def __init__(self, message: str, problems: list[dict[str, Any]]):
        super().__init__(message)
        self.problems = problems


class StateUnreadable(Conflict):
    """An instance's stored state (or its version's spec) cannot be loaded; `reason` is for the
    failures page. The instance is put in error (app.operations.failures); the caller gets 409."""

    def __init__(self, message: str, instance_id: int, reason: str):
        super().__init__(message)
        self.instance_id = instance_id
        self.reason = reason
