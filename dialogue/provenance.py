"""`ProvenanceCache`: the generator provenance of the items a session was shown, kept in process so that a
later "why that one?" can explain them with the same evidence (bounded; oldest entries are dropped first)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from dialogue.ranking import RankedItem
from recsys.models.types import Trace


class ProvenanceCache:
    """(session, item) -> provenance of a shown item, at most `capacity` entries (thread-safe)."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, int], Mapping[str, Trace]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, session_id: str, ranked: Sequence[RankedItem]) -> None:
        """Keep the provenance of the items just shown (the newest entries)."""
        with self._lock:
            for r in ranked:
                self._entries[(session_id, r.item_id)] = r.provenance
                self._entries.move_to_end((session_id, r.item_id))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def recall(self, session_id: str, item_id: int) -> Mapping[str, Trace]:
        """The provenance the item had when the session was shown it ({} if unknown or forgotten)."""
        with self._lock:
            return self._entries.get((session_id, item_id), {})
