"""Python's cycle collector while an import holds the whole data in memory.

CPython runs a full collection, a pass over every object it tracks, each time the objects that
survived the young generations have grown by a quarter since the last one. An import builds tens
of millions of objects that all live until it ends (the library's model of the data, then the
rows), so those passes came again and again over an ever larger heap, each slower per object as
the heap outgrew the caches: at ten times the Anthology, 23 full passes of up to 49 s took 160 s
of a 698 s import, and made it grow faster than the data (`bench/scale.py`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# gc.set_threshold takes a C int.
_NEVER = 2**31 - 1


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """Inside: only the young generations are collected (cycles among new objects are still
    freed, and reference counting frees everything else as always); no automatic full
    collection. On leaving, the thresholds come back and one full collection frees what the
    block dropped: the library's model of the data is full of parent links, so only the cycle
    collector frees it, and it would otherwise stay until the next full pass."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)
        gc.collect()
