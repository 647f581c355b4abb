"""What the import must know of reviewers' decisions, asked through an interface papers owns.

`papers` never imports the app above it nor reads its tables. The app that records decisions
(`assignments`) registers a provider when Django starts (`AppConfig.ready`); the import calls
it once per run and passes the answer to the writer as plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decisions:
    # entry (authorship id) -> the person an applied decision gave it: an import that resolves
    # the entry elsewhere keeps the decision and reports the conflict
    decided_entries: dict[int, str] = field(default_factory=dict)
    # persons that proposals or decisions name as a target: an import never removes them
    kept_persons: frozenset[str] = frozenset()
    # entry (authorship id) -> one line per record that refers to it (a move, of any status):
    # an import that removes the entry lists them in its summary
    entry_records: dict[int, list[str]] = field(default_factory=dict)


DecisionsProvider = Callable[[], Decisions]

_provider: DecisionsProvider | None = None


def register(provider: DecisionsProvider) -> None:
    global _provider
    _provider = provider


def current() -> Decisions:
    """The decisions in force now (none when no app registered a provider)."""
    return _provider() if _provider is not None else Decisions()


# -- what an import changed, told to the apps above --------------------------------------------

# Called once the import's transaction has committed, with the ids of the persons whose entries
# changed (added, removed, or resolving to another person; removed persons included), so that
# what the apps above derived from those pages (assignments' stored suggestions) is redone.
CatalogChangedListener = Callable[[frozenset[str]], None]

_listeners: list[CatalogChangedListener] = []


def on_catalog_changed(listener: CatalogChangedListener) -> None:
    if listener not in _listeners:  # ready() may run twice (tests, reloads)
        _listeners.append(listener)


def catalog_changed(person_ids: frozenset[str]) -> None:
    """Tell every listener which persons' entries an import changed (nothing when none did)."""
    if not person_ids:
        return
    for listener in _listeners:
        listener(person_ids)
