"""BoundedLRU: count and weight bounds."""
from __future__ import annotations

import pytest

from structgen.runtime.lru import BoundedLRU


def test_count_bound_evicts_least_recently_used():
    c = BoundedLRU(2)
    c.put("a", 1), c.put("b", 2)
    assert c.get("a") == 1  # "b" is now the oldest
    c.put("c", 3)
    assert "b" not in c and c.get("a") == 1 and c.get("c") == 3
    assert c.put("a", 99) == 1  # present: kept, not replaced


def test_weight_bound():
    c = BoundedLRU(10, max_weight=10, weigh=len)
    c.put("a", "xxxx"), c.put("b", "yyyy")
    assert c.weight == 8
    c.put("c", "zzzz")  # 12 > 10: the oldest goes
    assert "a" not in c and c.weight == 8
    assert c.put("d", "w" * 11) == "w" * 11 and "d" not in c  # heavier than the bound: not kept
    assert c.pop("b") == "yyyy" and c.weight == 4
    with pytest.raises(ValueError):
        BoundedLRU(3, max_weight=5)
