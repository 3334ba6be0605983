"""What an advance may read from outside the instance: the organisation profile and read-only queries.

The engine knows no database. The operations layer builds an `Environment` for each advance — the
active organisation profile's values and a `query` callable bound to the instance — and the runner
makes it current while SpiffWorkflow runs. Diagram expressions read the profile with the
`profile("key")` function; service tasks whose operator is a query (e.g. `monthly_stats`) get their
result from `query` and store it in their result variable, so what a task showed stays in the record.
Ledger lines go to `record` at once, so a query later in the same advance (the summary's timeline)
already sees them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


class EnvironmentError_(Exception):
    """A profile key or query the environment does not have."""


def _no_query(name: str, params: dict[str, Any]) -> Any:
    raise EnvironmentError_(f"query '{name}' is not available here")


@dataclass(frozen=True)
class Environment:
    """The outside world of one advance."""

    profile: Mapping[str, Any] = field(default_factory=dict)
    query: Callable[[str, dict[str, Any]], Any] = _no_query
    # Effects that must be visible to later queries of the same advance (ledger lines) are handed
    # over as they happen; None keeps them with the step's other side effects.
    record: Callable[[Any], None] | None = None


_current: ContextVar[Environment | None] = ContextVar("yq_engine_environment", default=None)


@contextmanager
def active(environment: Environment | None) -> Iterator[None]:
    """Make `environment` current for the duration of an advance."""
    token = _current.set(environment or Environment())
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Environment:
    return _current.get() or Environment()


def profile_value(key: str, default: Any = None) -> Any:
    """A copy of the profile value `key` (diagrams cannot change the profile through it)."""
    if not isinstance(key, str):
        raise ValueError("profile() takes a key name")
    values = current().profile
    if key not in values:
        if default is not None:
            return copy.deepcopy(default)
        raise KeyError(f"the organisation profile has no value '{key}'")
    return copy.deepcopy(values[key])
