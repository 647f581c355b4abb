"""Titles and abstracts as text, rendered by the library, in a second process beside the import.

A module of its own, importing nothing of Django: the second process is started with "spawn"
and imports this module without setting Django up (the reader imports the models).
"""

from __future__ import annotations

from typing import Any

from papers import library


def markup_text(markup: Any) -> str:
    return markup.as_text() if markup is not None else ""


def markup_texts(data_dir: str) -> dict[str, tuple[str, str]]:
    """Every volume's and paper's (title, abstract) as text, as the library renders them.

    Runs in a separate process beside the main load; errors are the main process's to report,
    so a collection that fails to load here is simply left out (the main process then renders
    its texts itself).
    """
    texts: dict[str, tuple[str, str]] = {}
    anthology = library.open_anthology(data_dir)
    with library.quiet():
        for collection in anthology.collections.values():
            try:
                collection.load()
            except Exception:
                continue
            for volume in collection.volumes():
                texts[volume.full_id] = (markup_text(volume.title), "")
                for paper in volume.papers():
                    texts[paper.full_id] = (
                        markup_text(paper.title),
                        markup_text(paper.abstract),
                    )
    return texts
