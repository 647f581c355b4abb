"""While an import holds the data, Python makes no full pass over its heap
(papers.importing.heap)."""

import gc
import io
import weakref

import pytest
from django.core.management import call_command

from papers.importing import heap, reader, writer
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
    # Enough surviving containers that the default thresholds start full collections: more
    # than a quarter of what the process already tracks, however large the suite has made it.
    for _ in range(max(300_000, len(gc.get_objects()) // 2)):
        kept.append([None])


def test_inside_no_full_collection_runs_but_young_cycles_are_still_freed():
    kept: list = []
    assert _full_collections_while(lambda: _grow_a_heap(kept)) > 0  # what happens outside
    kept.clear()
    freed: list[str] = []

    class Node:
        def __del__(self):
            freed.append("cycle")

    def cycle_then_heap():
        node = Node()
        node.self = node  # a cycle: only the collector frees it
        del node
        _grow_a_heap(kept)  # the allocations run the young collections

    with heap.full_collections_paused():
        assert _full_collections_while(cycle_then_heap) == 0
        assert freed == ["cycle"]


def test_leaving_frees_old_cycles_in_one_full_collection():
    freed: list[str] = []

    class Node:
        def __del__(self):
            freed.append("old cycle")

    node = Node()
    node.self = node
    gc.collect()  # now in the old generation: no young collection looks at it
    del node
    with heap.full_collections_paused():
        assert _full_collections_while(lambda: _grow_a_heap([])) == 0
        assert freed == []
    assert freed == ["old cycle"]


def test_overlapping_pauses_restore_the_thresholds_once_the_last_one_leaves():
    before = gc.get_threshold()
    first, second = heap.full_collections_paused(), heap.full_collections_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # not nested: the first to enter leaves first
    assert gc.get_threshold()[2] == heap._NEVER
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), heap.full_collections_paused():
        assert gc.get_threshold()[2] > before[2]
        raise RuntimeError("import failed")
    assert gc.get_threshold() == before


@pytest.fixture
def library_loads(monkeypatch):
    """Each time the library loads the data: the old generation's threshold then, and a weak
    reference to the library's model."""
    seen: list[tuple[int, weakref.ref]] = []
    load = reader._load_library

    def load_and_look(*args, **kwargs):
        anthology = load(*args, **kwargs)
        seen.append((gc.get_threshold()[2], weakref.ref(anthology)))
        return anthology

    monkeypatch.setattr(reader, "_load_library", load_and_look)
    return seen


def test_import_and_verify_read_with_full_collections_paused_and_free_the_model(
    db, fixture_data_dir, library_loads, monkeypatch
):
    normal = gc.get_threshold()
    model_alive_at_write: list[bool] = []
    load_empty = writer.load_empty

    def look_then_load(cursor, snap):
        model_alive_at_write.append(library_loads[0][1]() is not None)
        return load_empty(cursor, snap)

    monkeypatch.setattr(writer, "load_empty", look_then_load)
    importing.anthology_import(path=fixture_data_dir)
    assert model_alive_at_write == [False]  # freed before the database is written
    call_command("verify_import", str(fixture_data_dir), stdout=io.StringIO())
    assert Paper.objects.exists()
    assert [threshold for threshold, _ in library_loads] == [heap._NEVER, heap._NEVER]
    assert all(model() is None for _, model in library_loads)
    assert gc.get_threshold() == normal
