"""The dialogue's typed slots: a fixed schema of constraints the user sets during a session.

A slot is set by a `SlotSet(name, value)` event. Only the slots declared here exist: an unknown name, or a
value of the wrong type or out of range, raises `ValidationError` naming the slot and what it accepts.

Slots
    year_min, year_max   release-year window (inclusive); None = open-ended.
    n_recommendations    how many items to show per recommendation turn (1..50, default 5).
    include_seen         whether items the user has already seen may be recommended (default False).

Conflict rule (last word wins): setting `year_min` above the current `year_max` clears `year_max`, and
setting `year_max` below the current `year_min` clears `year_min` - the newest constraint is kept whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from recsys.errors import ValidationError

SlotValue = int | float | str | bool | None

MIN_YEAR, MAX_YEAR = 1870, 2100
MAX_RECOMMENDATIONS = 50


def _year(name: str, value: SlotValue) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"slot {name!r} takes a year (int) or null, got {value!r}")
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise ValidationError(f"slot {name!r}: year {value} outside {MIN_YEAR}..{MAX_YEAR}")
    return value


def _count(name: str, value: SlotValue) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"slot {name!r} takes an int, got {value!r}")
    if not 1 <= value <= MAX_RECOMMENDATIONS:
        raise ValidationError(f"slot {name!r}: {value} outside 1..{MAX_RECOMMENDATIONS}")
    return value


def _flag(name: str, value: SlotValue) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"slot {name!r} takes true or false, got {value!r}")
    return value


# name -> validator returning the typed value (raises ValidationError)
_VALIDATORS: dict[str, Callable[[str, SlotValue], Any]] = {
    "year_min": _year,
    "year_max": _year,
    "n_recommendations": _count,
    "include_seen": _flag,
}


def validate_slot(name: str, value: SlotValue) -> SlotValue:
    """The typed value for slot `name`; raises ValidationError for an unknown slot or a bad value."""
    validator = _VALIDATORS.get(name)
    if validator is None:
        raise ValidationError(f"unknown slot {name!r}; known slots: {', '.join(sorted(_VALIDATORS))}")
    return validator(name, value)


@dataclass
class Slots:
    """Current slot values of one session."""

    year_min: int | None = None
    year_max: int | None = None
    n_recommendations: int = 5
    include_seen: bool = False

    def set(self, name: str, value: SlotValue) -> None:
        """Set one slot (validated), applying the year-window conflict rule of the module docstring."""
        typed = validate_slot(name, value)
        setattr(self, name, typed)
        if name == "year_min" and typed is not None and self.year_max is not None and typed > self.year_max:
            self.year_max = None
        elif name == "year_max" and typed is not None and self.year_min is not None and typed < self.year_min:
            self.year_min = None

    def to_dict(self) -> dict[str, SlotValue]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Slots:
        """Rebuild from `to_dict()` output; every value is validated, unknown names raise."""
        slots = cls()
        for name, value in data.items():
            setattr(slots, name, validate_slot(name, value))
        return slots


SLOT_NAMES: tuple[str, ...] = tuple(_VALIDATORS)
