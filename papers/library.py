"""The one place that opens Anthology data with the official `acl-anthology` library.

The import, its verification, the export, the clustering's training and `cut_anthology` all
load the data through here, so that they agree on how (quietly, with every entry resolved).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from acl_anthology import Anthology

# (item id, role, position): how an author/editor entry is named in the XML.
EntryKey = tuple[str, str, int]


@contextmanager
def quiet() -> Iterator[None]:
    """The data may ship a newer schema.rnc than the library: harmless, since the app does not
    validate, so the library's warnings about it are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def open_anthology(data_dir: str | Path) -> Anthology:
    """The data folder opened, nothing loaded yet (the library loads collections lazily)."""
    with quiet():
        return Anthology(datadir=str(data_dir), verbose=False)


def load_anthology(data_dir: str | Path) -> Anthology:
    """The data folder with every entry resolved to its person (`people.load()`)."""
    anthology = open_anthology(data_dir)
    with quiet():
        anthology.people.load()
    return anthology


def entry_resolutions(data_dir: str | Path) -> dict[EntryKey, str]:
    """Every author/editor entry and the person id the library resolves it to, asked entry by
    entry. Checks and benchmarks compare the database with this."""
    anthology = load_anthology(data_dir)
    resolve = anthology.people.get_by_namespec
    out: dict[EntryKey, str] = {}
    for volume in anthology.volumes():
        for i, ns in enumerate(volume.editors):
            out[(volume.full_id, "editor", i)] = resolve(ns).id
        for paper in volume.papers():
            for role, specs in (("author", paper.authors), ("editor", paper._editors)):
                for i, ns in enumerate(specs):
                    out[(paper.full_id, role, i)] = resolve(ns).id
    return out
