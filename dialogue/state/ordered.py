"""`OrderedSet`: a set that remembers the order in which its members were last added.

The dialogue state keeps item and attribute sets in recency order (oldest first): adding a member that is
already present moves it to the end, so "the most recent likes" are simply the last members.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class OrderedSet(Generic[T]):
    """Insertion-ordered set; re-adding a member moves it to the end (most recent)."""

    __slots__ = ("_members",)

    def __init__(self, members: Iterable[T] = ()) -> None:
        self._members: dict[T, None] = {}
        for m in members:
            self.add(m)

    def add(self, member: T) -> None:
        """Add `member`, or move it to the end if it is already present."""
        self._members.pop(member, None)
        self._members[member] = None

    def discard(self, member: T) -> bool:
        """Remove `member` if present; True if it was there."""
        return self._members.pop(member, _MISSING) is not _MISSING

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def __iter__(self) -> Iterator[T]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __bool__(self) -> bool:
        return bool(self._members)

    def __eq__(self, other: object) -> bool:
        """Equal to another OrderedSet with the same members in the same order."""
        if isinstance(other, OrderedSet):
            return list(self._members) == list(other._members)
        return NotImplemented

    def __repr__(self) -> str:
        return f"OrderedSet({list(self._members)!r})"

    def to_list(self) -> list[T]:
        return list(self._members)

    def copy(self) -> OrderedSet[T]:
        return OrderedSet(self._members)


_MISSING = object()
