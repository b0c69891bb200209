"""A small thread-safe LRU bounded by entry count (and optionally by total weight, e.g. bytes),
for per-process caches of the runtime and the compilers."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class BoundedLRU(Generic[V]):
    """Least recently used entries are evicted beyond ``size`` entries, and beyond a total
    ``max_weight`` when given (``weigh(value)`` per entry; a value heavier than ``max_weight`` is
    returned by :meth:`put` but not kept). Thread-safe."""

    def __init__(self, size: int, max_weight: int | None = None,
                 weigh: Callable[[V], int] | None = None) -> None:
        if (max_weight is None) != (weigh is None):
            raise ValueError("BoundedLRU: max_weight and weigh go together")
        self.size = size
        self.max_weight = max_weight
        self._weigh = weigh
        self._weights: dict[Hashable, int] = {}
        self.weight = 0
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> V:
        """Store ``value`` unless ``key`` is already present; returns the stored value."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            w = self._weigh(value) if self._weigh is not None else 0
            if self.max_weight is not None and w > self.max_weight:
                return value
            self._items[key] = value
            self._weights[key] = w
            self.weight += w
            while len(self._items) > self.size or (self.max_weight is not None and self.weight > self.max_weight):
                old, _ = self._items.popitem(last=False)
                self.weight -= self._weights.pop(old)
            return value

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The cached value of ``key``, building it (outside the lock) on a miss."""
        hit = self.get(key)
        return hit if hit is not None else self.put(key, build())

    def pop(self, key: Hashable) -> V | None:
        with self._lock:
            self.weight -= self._weights.pop(key, 0)
            return self._items.pop(key, None)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items
