"""While an import holds the data, Python makes no full pass over its heap
(papers.importing.heap)."""

import gc
import io

import pytest
from django.core.management import call_command

from papers.importing import heap, reader
from papers.importing import services as importing
from papers.models import Paper


def _full_collections_while(action) -> int:
    """How many full collections Python starts automatically while ACTION runs."""
    started: list[int] = []

    def watch(phase, info):
        if phase == "start" and info["generation"] == 2:
            started.append(1)

    gc.callbacks.append(watch)
    try:
        action()
    finally:
        gc.callbacks.remove(watch)
    return len(started)


def _grow_a_heap(kept: list) -> None:
    # Enough surviving containers that the default thresholds start full collections.
    for _ in range(300_000):
        kept.append([None])


def test_inside_no_full_collection_runs_but_young_cycles_are_still_freed():
    kept: list = []
    assert _full_collections_while(lambda: _grow_a_heap(kept)) > 0  # what happens outside
    kept.clear()
    freed: list[str] = []

    class Node:
        def __del__(self):
            freed.append("cycle")

    def inside():
        with heap.full_collections_paused():
            node = Node()
            node.self = node  # a cycle: only the collector frees it
            del node
            _grow_a_heap(kept)  # the allocations run the young collections

    assert _full_collections_while(inside) == 0
    assert freed == ["cycle"]


def test_the_thresholds_come_back_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), heap.full_collections_paused():
        assert gc.get_threshold()[2] > before[2]
        raise RuntimeError("import failed")
    assert gc.get_threshold() == before


@pytest.fixture
def thresholds_while_reading(monkeypatch):
    """The old generation's threshold each time the data is read."""
    seen: list[int] = []
    read = reader.read_snapshot

    def read_and_look(*args, **kwargs):
        seen.append(gc.get_threshold()[2])
        return read(*args, **kwargs)

    monkeypatch.setattr(importing, "read_snapshot", read_and_look)
    monkeypatch.setattr("papers.management.commands.verify_import.read_snapshot", read_and_look)
    return seen


def test_import_and_verify_read_the_data_with_full_collections_paused(
    db, fixture_data_dir, thresholds_while_reading
):
    normal = gc.get_threshold()
    importing.anthology_import(path=fixture_data_dir)
    call_command("verify_import", str(fixture_data_dir), stdout=io.StringIO())
    assert Paper.objects.exists()
    assert thresholds_while_reading == [heap._NEVER, heap._NEVER]
    assert gc.get_threshold() == normal
