"""Durations and reminder cycles: typed as a number and a unit, stored as ISO 8601, read as words.

A `"format": "duration"` field is shown as [30] [分钟 ▾] and stored as `PT30M` (`PT4H`, `P7D`); a
`"format": "duration-cycle"` field as 每 [1] [小时 ▾] 提醒一次,最多 [3] 次 and stored as `R3/PT1H`, the
spellings the processes read (`add_duration(..., profile("report_within"))`, cycle timers). Stored values
read as 30分钟, 1天12小时, 每1小时,最多3次. The bounds are the engine's: more than nothing, at most
`MAX_DURATION` (ten years) and `MAX_CYCLES` repeats. See docs/forms.md (Durations).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from app.engine.helpers import MAX_CYCLES, MAX_DURATION
from app.forms.fields import FieldDef
from app.forms.messages import message

DURATION_FORMAT, CYCLE_FORMAT = "duration", "duration-cycle"
UNITS = ("minutes", "hours", "days")  # the posted unit codes, in the order the select offers them
_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60}
MAX_MINUTES = int(MAX_DURATION.total_seconds()) // 60
MAX_DAYS = MAX_MINUTES // _MINUTES["days"]
# Days, hours and minutes only: what a person can type with the units offered.
_DURATION_RE = re.compile(r"P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?)?")
_CYCLE_RE = re.compile(r"R(\d{1,9})/(P.*)")


def minutes_of(value: Any) -> int | None:
    """The length of a stored duration (`PT30M`, `P1DT12H`) in minutes; None unless it is one the field
    accepts (days, hours and minutes, more than nothing, at most ten years)."""
    parts = _parts(value)
    if parts is None:
        return None
    total = sum(amount * _MINUTES[unit] for unit, amount in parts.items())
    return total if 0 < total <= MAX_MINUTES else None


def cycle_of(value: Any) -> tuple[int, int] | None:
    """(repeats, minutes between) of a stored cycle (`R3/PT1H`); None unless the field accepts it."""
    match = _CYCLE_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return None
    times, minutes = int(match.group(1)), minutes_of(match.group(2))
    return (times, minutes) if minutes is not None and 1 <= times <= MAX_CYCLES else None


def is_duration(value: Any) -> bool:
    return minutes_of(value) is not None


def is_cycle(value: Any) -> bool:
    return cycle_of(value) is not None


def _parts(value: Any) -> dict[str, int] | None:
    """{unit: amount} of the components a stored duration spells (zero ones included)."""
    if not isinstance(value, str) or value in ("P", "PT") or value.endswith("T"):
        return None
    match = _DURATION_RE.fullmatch(value)
    if not match:
        return None
    spelled = zip(("days", "hours", "minutes"), match.groups(), strict=True)
    return {unit: int(amount) for unit, amount in spelled if amount is not None}


def iso(amount: int, unit: str) -> str:
    """The ISO spelling of `amount` units: PT30M, PT4H, P7D."""
    return f"P{amount}D" if unit == "days" else f"PT{amount}{unit[0].upper()}"


def to_input(value: Any) -> tuple[str, str]:
    """(number, unit) a stored duration is typed as: its own unit when it spells one (PT24H stays 24 小时),
    else the largest unit that measures it (P1DT12H is 36 小时). A value the field does not accept comes
    back as typed text, so the page shows it and a save asks for a number."""
    if value is None or value == "":
        return "", UNITS[0]
    total = minutes_of(value)
    if total is None:
        return str(value), UNITS[0]
    spelled = [(unit, amount) for unit, amount in (_parts(value) or {}).items() if amount]
    if len(spelled) == 1:
        unit, amount = spelled[0]
        return str(amount), unit
    unit = next(unit for unit in reversed(UNITS) if total % _MINUTES[unit] == 0)
    return str(total // _MINUTES[unit]), unit


def cycle_to_input(value: Any) -> tuple[str, str, str]:
    """(number, unit, repeats) a stored cycle is typed as; an unreadable one as its text and no repeats."""
    if value is None or value == "":
        return "", UNITS[0], ""
    match = _CYCLE_RE.fullmatch(value) if isinstance(value, str) and is_cycle(value) else None
    if not match:
        return str(value), UNITS[0], ""
    amount, unit = to_input(match.group(2))
    return amount, unit, match.group(1)


def from_input(amount: int | None, unit: str, locale: str = "zh_CN") -> tuple[str | None, str | None]:
    """(ISO duration, None) from a typed whole number and a unit code, or (None, the message to show)."""
    if amount is None:
        return None, message("integer", locale)
    if unit not in UNITS:
        return None, message("choice", locale)
    if amount <= 0:
        return None, message("duration_positive", locale)
    if amount * _MINUTES[unit] > MAX_MINUTES:
        return None, message("duration_max", locale, limit=MAX_DAYS)
    return iso(amount, unit), None


def cycle_from_input(amount: int | None, unit: str, times: int | None,
                     locale: str = "zh_CN") -> tuple[str | None, str | None]:
    """(ISO cycle `R3/PT1H`, None) from every [amount] [unit], at most [times], or (None, the message)."""
    interval, error = from_input(amount, unit, locale)
    if error:
        return None, error
    if times is None or not 1 <= times <= MAX_CYCLES:
        return None, message("cycle_times", locale, limit=MAX_CYCLES)
    return f"R{times}/{interval}", None


def duration_words(value: Any, locale: str = "zh_CN") -> str | None:
    """A stored duration as words (30分钟, 1天12小时; 30 minutes in English); None if it is not one."""
    if minutes_of(value) is None:
        return None
    spelled = [(unit, amount) for unit, amount in (_parts(value) or {}).items() if amount]
    return message("amount_join", locale).join(_amount(amount, unit, locale) for unit, amount in spelled)


def cycle_words(value: Any, locale: str = "zh_CN") -> str | None:
    """A stored cycle as words (每1小时,最多3次); None if it is not one."""
    if not is_cycle(value):
        return None
    times, interval = value.split("/", 1)
    return message("cycle_text", locale, every=duration_words(interval, locale), times=int(times[1:]))


def unit_label(unit: str, locale: str = "zh_CN") -> str:
    """The word a unit select shows (分钟 / minutes)."""
    return message(f"unit_{unit}", locale)


def _amount(amount: int, unit: str, locale: str) -> str:
    word = message(f"unit_{unit}_one" if amount == 1 else f"unit_{unit}", locale)
    return message("amount", locale, n=amount, unit=word)


def keep_spelling(fields: Iterable[FieldDef], stored: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` in which each duration or cycle of `fields` that means what `stored` held keeps the stored
    spelling: a profile saved unchanged stays as it was, byte for byte (P1DT12H, shown as 36 小时, is not
    rewritten as PT36H; PT24H shows as 24 小时 and needs no help)."""
    kept = dict(values)
    for definition in fields:
        name = definition.name
        old, new = stored.get(name), values.get(name)
        reading = {"cycle": cycle_of, "duration": minutes_of}.get(definition.kind)
        if reading is None:
            continue
        if old != new and reading(old) is not None and reading(old) == reading(new):
            kept[name] = old
    return kept
