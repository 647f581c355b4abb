"""A person page's suggested split: the stored suggestion, or one computed while the page loads.

Groups are read from what the clustering service returns (`Suggestion.clusters`), numbered
biggest first, with their evidence in a fixed order and the reasons neighbouring groups were
kept apart.
"""

import hashlib
import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

from assignments.models import Suggestion
from assignments.suggestions.blocks import page_blocks
from papers.models import Person
from papers.selectors import Entry

logger = logging.getLogger(__name__)

# Without a stored suggestion, pages up to this size are split while the page renders; larger
# ones load their split in a second request, so the papers show at once.
INLINE_MAX_ENTRIES = 60
# Beyond this, splitting on demand takes too long: such pages wait for `refresh_suggestions`.
ON_DEMAND_MAX_ENTRIES = 2000


@dataclass
class Group:
    number: int
    authorship_ids: list[int]
    confidence: float | None
    evidence: list[tuple[str, str]]  # (label, formatted value)
    proposed: int = 0  # of its papers, how many are in a change set already (set by the page)

    @property
    def selectable(self) -> int:
        return len(self.authorship_ids) - self.proposed

    @property
    def ids_csv(self) -> str:
        return ",".join(str(i) for i in self.authorship_ids)

    @property
    def confidence_percent(self) -> int | None:
        return None if self.confidence is None else round(self.confidence * 100)


@dataclass
class SuggestedSplit:
    groups: list[Group] = field(default_factory=list)
    estimated_people: float | None = None
    separations: list[str] = field(default_factory=list)  # why groups were kept apart
    source: str = ""  # "stored" or "computed"
    deferred: int = 0  # entries to split in a follow-up request (0: nothing deferred)
    computed_at: datetime | None = None
    message: str = ""  # why there is no split to show
    # The stored suggestion was computed from other entries than the page has now (it is being
    # recomputed): what is shown instead says so.
    stale: bool = False

    @property
    def mixed(self) -> bool:
        return len(self.groups) > 1


# Labels for the evidence the clustering service names; a key it adds later shows with its own
# name until it gets one here.
EVIDENCE_LABELS = {
    "coauthors": "Coauthors",
    "terms": "Distinguishing terms",
    "venues": "Venues",
    "years": "Years",
    "affiliations": "Affiliations",
}


def evidence_display(evidence: dict) -> list[tuple[str, str]]:
    """Evidence as label/text pairs, in the order the service gives it (strongest first),
    empty features left out. Values are lists of strings; `years` is [first, last]."""
    shown: list[tuple[str, str]] = []
    for key, value in evidence.items():
        if not value:
            continue
        label = EVIDENCE_LABELS.get(key) or key.replace("_", " ").capitalize()
        if key == "years" and isinstance(value, list | tuple) and len(value) == 2:
            text = str(value[0]) if value[0] == value[1] else f"{value[0]}–{value[1]}"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value[:8])
        else:
            text = str(value)
        shown.append((label, text))
    return shown


def entries_fingerprint(authorship_ids: Iterable[int | str]) -> str:
    """Which entries a split was computed from, in 32 characters (`Suggestion.fingerprint`).
    The same text as PostgreSQL's md5(string_agg(id::text, ',' ORDER BY id)) over the page's
    entries, so the queue can compare it in SQL (`pages.queue`)."""
    ids = sorted(int(i) for i in authorship_ids)
    return hashlib.md5(",".join(map(str, ids)).encode(), usedforsecurity=False).hexdigest()


def suggestion_cluster(*, signature_ids: Sequence[str], confidence: float, evidence: dict) -> dict:
    """One cluster of a clustering result as `Suggestion.clusters` stores it and
    `_groups_from_clusters` reads it: "signatures" as the clustering names them, "authorships"
    as ints."""
    return {
        "signatures": list(signature_ids),
        "authorships": [int(s) for s in signature_ids],
        "confidence": confidence,
        "evidence": evidence,
    }


def _groups_from_clusters(
    clusters: Sequence[dict], on_page: set[int], separations: Sequence[dict] = ()
) -> tuple[list[Group], list[str]]:
    """Groups biggest first, numbered from 1, and why neighbouring groups were kept apart."""
    groups: list[tuple[int, Group]] = []
    for index, cluster in enumerate(clusters):
        ids = [int(i) for i in cluster.get("authorships") or () if int(i) in on_page]
        if not ids:
            continue
        groups.append(
            (
                index,
                Group(
                    number=0,
                    authorship_ids=ids,
                    confidence=cluster.get("confidence"),
                    evidence=evidence_display(cluster.get("evidence") or {}),
                ),
            )
        )
    groups.sort(key=lambda ig: -len(ig[1].authorship_ids))
    number_of = {}
    for number, (index, group) in enumerate(groups, start=1):
        group.number = number
        number_of[index] = number
    reasons = []
    for separation in separations:
        indexes = list(separation.get("clusters", ()))
        pair = [number_of.get(i) for i in indexes]
        if len(pair) == 2 and None not in pair and separation.get("reason"):
            # evidence in the order of the group numbers
            (a, ia), (b, ib) = sorted(zip(pair, indexes, strict=True))
            reason = separation_reason(
                clusters[ia].get("evidence") or {},
                clusters[ib].get("evidence") or {},
                separation["reason"],
            )
            reasons.append((a, b, f"Groups {a} and {b}: {reason}"))
    return [g for _, g in groups], [text for *_, text in sorted(set(reasons))]


# Reasons the clustering gives for a pair it was not allowed to join: they stand as given.
CONSTRAINT_REASONS = ("different ORCIDs", "kept apart by a reviewer")
YEARS_APART = 5  # a gap the clustering service also calls "years apart"


def _years(span: Sequence[int]) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]}–{span[1]}"


def separation_reason(first: dict, second: dict, given: str) -> str:
    """Why two groups were kept apart, from their evidence, the strongest first: no shared
    coauthors, then different affiliations, topics, years, venues. The clustering service
    names one reason by a fixed rule ("years apart" even when the coauthors are disjoint);
    a reviewer should read the evidence that weighs most first."""
    if given in CONSTRAINT_REASONS:
        return given
    found = []
    coauthors = [list(e.get("coauthors") or ()) for e in (first, second)]
    if all(coauthors) and not set(coauthors[0]) & set(coauthors[1]):
        found.append(f"no shared coauthors ({coauthors[0][0]} … vs {coauthors[1][0]} …)")
    affiliations = [list(e.get("affiliations") or ()) for e in (first, second)]
    if all(affiliations) and not set(affiliations[0]) & set(affiliations[1]):
        found.append(f"different affiliations ({affiliations[0][0]} vs {affiliations[1][0]})")
    terms = [list(e.get("terms") or ()) for e in (first, second)]
    if all(terms) and not set(terms[0]) & set(terms[1]):
        found.append(f"different topics ({', '.join(terms[0][:2])} vs {', '.join(terms[1][:2])})")
    years = [list(e.get("years") or ()) for e in (first, second)]
    if all(len(y) == 2 for y in years):
        (a0, a1), (b0, b1) = years
        if a0 - b1 >= YEARS_APART or b0 - a1 >= YEARS_APART:
            found.append(f"years apart ({_years(years[0])} vs {_years(years[1])})")
    venues = [list(e.get("venues") or ()) for e in (first, second)]
    if all(venues) and not set(venues[0]) & set(venues[1]):
        found.append(f"different venues ({venues[0][0]} vs {venues[1][0]})")
    return "; ".join(found) if found else given


def stored_split(person: Person, entries: Sequence[Entry]) -> SuggestedSplit | None:
    suggestion = Suggestion.objects.filter(person=person).first()
    if suggestion is None:
        return None
    on_page = {e.pk for e in entries}
    split_from = {int(i) for c in suggestion.clusters for i in c.get("authorships") or ()}
    if split_from != on_page:
        # Papers arrived or left since: its groups and counts describe another page.
        return SuggestedSplit(source="stored", computed_at=suggestion.computed_at, stale=True)
    groups, separations = _groups_from_clusters(
        suggestion.clusters, on_page, suggestion.separations
    )
    return SuggestedSplit(
        groups=groups,
        separations=separations,
        estimated_people=suggestion.estimated_people,
        source="stored",
        computed_at=suggestion.computed_at,
    )


def computed_split(person: Person, entries: Sequence[Entry]) -> SuggestedSplit:
    """Split the page now with `assignments.clustering` (cached until the page changes)."""
    if len(entries) < 2:
        return SuggestedSplit(message="A page with one entry has nothing to split.")
    if len(entries) > ON_DEMAND_MAX_ENTRIES:
        return SuggestedSplit(
            message=f"This page has {len(entries)} entries: too many to split while you wait. "
            "Its suggestion appears after the next `manage.py refresh_suggestions`."
        )
    # Looked up when needed (not imported at the top): scikit-learn takes seconds to load and is
    # needed only by pages that split on demand; tests also stand in a fake service this way.
    clustering = importlib.import_module("assignments.clustering")
    blocks = page_blocks(person_ids=[person.pk], min_items=1)
    if not blocks:
        return SuggestedSplit(message="A page with one entry has nothing to split.")
    block = blocks[0]
    # The decisions are part of the key: a maintainer's new decision about these same entries
    # must not leave the old split showing.
    ids = ",".join(sorted(s["id"] for s in block.signatures))
    digest = hashlib.sha1(f"{ids}|{block.must_link!r}|{block.cannot_link!r}".encode()).hexdigest()
    key = f"suggested-split:{person.pk}:{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        model = clustering.load_model(settings.CLUSTERING_MODEL_PATH)
        result = clustering.split_block(
            block.signatures,
            model=model,
            must_link=block.must_link,
            cannot_link=block.cannot_link,
        )
    except FileNotFoundError:
        return SuggestedSplit(
            message="Suggested groups are not available yet: no clustering model has been "
            "trained (`manage.py train_clustering`)."
        )
    except Exception:
        logger.exception("split_block failed for %s", person.pk)
        return SuggestedSplit(message="The clustering service failed on this page; see the log.")
    clusters = [
        suggestion_cluster(
            signature_ids=c.signature_ids, confidence=c.confidence, evidence=c.evidence
        )
        for c in result.clusters
    ]
    groups, separations = _groups_from_clusters(
        clusters, {e.pk for e in entries}, getattr(result, "separations", ())
    )
    split = SuggestedSplit(
        groups=groups,
        separations=separations,
        estimated_people=result.estimated_people,
        source="computed",
    )
    cache.set(key, split, 60 * 60)
    return split


def suggested_split(
    person: Person, entries: Sequence[Entry], *, defer_above: int | None = None
) -> SuggestedSplit:
    """The stored suggestion when there is one, else one computed on demand (or, for a page
    larger than `defer_above`, a note that it is to be fetched separately)."""
    stored = stored_split(person, entries)
    if stored is not None and not stored.stale:
        return stored
    stale = stored is not None
    if (
        defer_above is not None
        and len(entries) > defer_above
        and len(entries) <= ON_DEMAND_MAX_ENTRIES
    ):
        return SuggestedSplit(deferred=len(entries), stale=stale)
    computed = computed_split(person, entries)
    if stale:
        # a copy: the computed split is cached and shared
        computed = replace(computed, stale=True)
    return computed
