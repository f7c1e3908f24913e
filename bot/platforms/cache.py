"""A bounded map for what an adapter remembers per person (profiles, DM channels, ids): it
holds at most `size` entries and forgets the one used least recently, so memory stays flat however
many people ever write. Forgetting is always safe: whatever is forgotten is looked up again."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_SIZE = 5000


class Lru(Generic[K, V]):
    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __getitem__(self, key: K) -> V:
        value = self._items[key]
        self._items.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:  # invariant: never more than `size` entries
            self._items.popitem(last=False)

    def pop(self, key: K, default: V | None = None) -> V | None:
        return self._items.pop(key, default)

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._items))  # a copy: the caller may pop while it goes

    def __len__(self) -> int:
        return len(self._items)
