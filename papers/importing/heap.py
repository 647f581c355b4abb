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
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# gc.set_threshold takes a C int.
_NEVER = 2**31 - 1

# The thresholds are the process's: two imports in two threads (or one inside another) pause
# once, and the last to leave restores them.
_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """Inside: only the young generations are collected (cycles among new objects are still
    freed, and reference counting frees everything else as always); no automatic full
    collection. On leaving, the thresholds come back and one full collection frees what the
    block dropped: the library's model of the data is full of parent links, so only the cycle
    collector frees it, and it would otherwise stay until the next full pass."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], _NEVER)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            last = _holders == 0
            if last:
                gc.set_threshold(*_saved)
        if last:
            gc.collect()
