"""What a channel raises: the worker retries a TemporaryFailure and gives up on a PermanentFailure."""

from __future__ import annotations


class DeliveryError(Exception):
    """A message could not be delivered; `reason` is a short text fit for the incident page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryError):
    """Worth retrying later: network down, timeout, 5xx, 408/429, SMTP 4xx, throttling."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after  # seconds the receiver asked us to wait (Retry-After), if any


class PermanentFailure(DeliveryError):
    """Retrying will not help: bad address, refused destination, 4xx, SMTP 5xx, unknown kind."""
