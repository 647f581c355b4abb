"""Reads of the assignments app for pages: roles, drafts, pending moves, suggested groups."""

import hashlib
import importlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from acl_anthology.people import Name
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache

from assignments import selectors_decisions
from assignments.models import ChangeSet, Move, Suggestion
from papers.models import Person
from papers.permissions import ADMIN, MAINTAINER, REVIEWER, user_has_role
from papers.selectors import Entry

logger = logging.getLogger(__name__)

PROPOSER_ROLES = (REVIEWER, MAINTAINER, ADMIN)
OPEN_CHANGESET_STATUSES = (ChangeSet.Status.DRAFT, ChangeSet.Status.SUBMITTED)
OPEN_MOVE_STATUSES = (Move.Status.PENDING, Move.Status.APPROVED)

# Without a stored suggestion, pages up to this size are split while the page renders; larger
# ones load their split in a second request, so the papers show at once.
INLINE_MAX_ENTRIES = 60
# Beyond this, splitting on demand takes too long: such pages wait for `refresh_suggestions`.
ON_DEMAND_MAX_ENTRIES = 2000


def user_can_propose(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Reviewers propose moves; maintainers and admins may too."""
    return user_has_role(user, *PROPOSER_ROLES)


def draft_for_user(user: AbstractBaseUser | AnonymousUser) -> ChangeSet | None:
    """The user's open draft, without creating one (reading a page never writes)."""
    if not user.is_authenticated:
        return None
    return (
        ChangeSet.objects.filter(created_by=user, status=ChangeSet.Status.DRAFT)
        .order_by("-created_at")
        .first()
    )


def open_moves():
    """Moves in flight (in a draft or submitted change set): they block other proposals for the
    same author entry."""
    return Move.objects.filter(
        status__in=OPEN_MOVE_STATUSES, changeset__status__in=OPEN_CHANGESET_STATUSES
    )


def open_moves_from(person: Person) -> dict[int, Move]:
    """Moves in flight for entries on this person's page, by authorship."""
    moves = (
        open_moves()
        .filter(authorship__person=person)
        .select_related("to_new_person", "changeset__created_by")
        .order_by("pk")
    )
    return {m.authorship_id: m for m in moves}


def open_moves_to(person: Person) -> int:
    return open_moves().filter(to_person=person).count()


@dataclass
class Group:
    number: int
    authorship_ids: list[int]
    confidence: float | None
    evidence: list[tuple[str, str]]  # (label, formatted value)

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
    computed_at: object | None = None
    message: str = ""  # why there is no split to show

    @property
    def mixed(self) -> bool:
        return len(self.groups) > 1


EVIDENCE_LABELS = {
    "coauthors": "Coauthors",
    "terms": "Distinguishing terms",
    "venues": "Venues",
    "years": "Years",
    "affiliations": "Affiliations",
}


def _format_item(item: object) -> str:
    # Evidence lists hold strings or (value, count) pairs depending on the feature.
    if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], int | float):
        return f"{item[0]} ({item[1]:g})"
    if isinstance(item, dict):
        name = item.get("name") or item.get("value") or item.get("term") or ""
        count = item.get("count")
        return f"{name} ({count})" if count else str(name)
    return str(item)


def evidence_display(evidence: dict) -> list[tuple[str, str]]:
    """Evidence as label/text pairs in a fixed order, empty features left out."""
    shown: list[tuple[str, str]] = []
    for key, label in EVIDENCE_LABELS.items():
        value = evidence.get(key)
        if not value:
            continue
        if key == "years" and isinstance(value, list | tuple) and len(value) == 2:
            text = str(value[0]) if value[0] == value[1] else f"{value[0]}–{value[1]}"
        elif isinstance(value, list | tuple):
            text = ", ".join(_format_item(v) for v in value[:8])
        else:
            text = str(value)
        shown.append((label, text))
    return shown


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
        pair = [number_of.get(i) for i in separation.get("clusters", ())]
        if len(pair) == 2 and None not in pair and separation.get("reason"):
            a, b = sorted(pair)
            reasons.append((a, b, f"Groups {a} and {b}: {separation['reason']}"))
    return [g for _, g in groups], [text for *_, text in sorted(set(reasons))]


def signature(
    *,
    authorship_id: int,
    item_id: str,
    title: str,
    abstract: str,
    year,
    venue_ids: Sequence[str],
    booktitle: str,
    position: int,
    first: str,
    last: str,
    affiliation: str,
    coauthors: list[str],
    orcid: str,
) -> dict:
    """One author entry in the clustering contract's signature schema."""
    return {
        "id": str(authorship_id),
        "paper_id": item_id,
        "title": title,
        "abstract": abstract,
        "year": year,
        "venue": venue_ids[0] if venue_ids else "",
        "booktitle": booktitle,
        "author_position": position,
        "first": first,
        "last": last,
        "affiliation": affiliation,
        "coauthors": coauthors,
        **({"orcid": orcid} if orcid else {}),
    }


def signatures_for_entries(entries: Sequence[Entry]) -> list[dict]:
    """The clustering contract's signatures, built from what the page already loaded."""
    return [
        signature(
            authorship_id=e.pk,
            item_id=e.item_id,
            title=e.title,
            abstract=e.abstract,
            year=e.year,
            venue_ids=e.venue_ids,
            booktitle=e.booktitle,
            position=e.position,
            first=e.first,
            last=e.last,
            affiliation=e.affiliation,
            coauthors=[c.name for c in e.coauthors],
            orcid=e.explicit_orcid,
        )
        for e in entries
    ]


def stored_split(person: Person, entries: Sequence[Entry]) -> SuggestedSplit | None:
    suggestion = Suggestion.objects.filter(person=person).first()
    if suggestion is None:
        return None
    groups, separations = _groups_from_clusters(
        suggestion.clusters, {e.pk for e in entries}, suggestion.separations
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
    # Looked up when needed (not imported at the top): scikit-learn loads only for pages that
    # split on demand, and tests can stand in a fake service.
    clustering = importlib.import_module("assignments.clustering")
    must, cannot = selectors_decisions.constraints_for_signatures(
        person.pk, [e.pk for e in entries]
    )
    # The decisions are part of the key: a maintainer's new decision about these same entries
    # must not leave the old split showing.
    ids = ",".join(str(e.pk) for e in entries)
    digest = hashlib.sha1(f"{ids}|{must!r}|{cannot!r}".encode()).hexdigest()
    key = f"suggested-split:{person.pk}:{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        model = clustering.load_model()
        result = clustering.split_block(
            signatures_for_entries(entries), model=model, must_link=must, cannot_link=cannot
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
    if stored is not None:
        return stored
    if (
        defer_above is not None
        and len(entries) > defer_above
        and len(entries) <= ON_DEMAND_MAX_ENTRIES
    ):
        return SuggestedSplit(deferred=len(entries))
    return computed_split(person, entries)


# -- a change set's preview, for the maintainers' review page --------------------------------


@dataclass
class PersonEffect:
    person_id: str
    name: str
    is_new: bool
    is_verified: bool
    count_now: int
    applied: bool  # the moves are already in the data: count_now is the result
    leaving: list[Move] = field(default_factory=list)
    arriving: list[Move] = field(default_factory=list)
    entry_before: str = ""  # people.json entry, as JSON text ("" = none)
    entry_after: str = ""

    @property
    def _delta(self) -> int:
        # Counts are per item; one person rarely has two entries on one item.
        leaving = {m.item_id for m in self.leaving}
        arriving = {m.item_id for m in self.arriving}
        return len(arriving - leaving) - len(leaving - arriving)

    @property
    def count_before(self) -> int:
        return self.count_now - self._delta if self.applied else self.count_now

    @property
    def count_after(self) -> int:
        return self.count_now if self.applied else self.count_now + self._delta


@dataclass
class ChangeSetPreview:
    effects: list[PersonEffect]
    # the moves that take effect, in entry order; all of them when none does (all rejected)
    moves: list[Move]


def _people_entry(
    names: list[tuple[str, str]], orcid: str, degree: str, comment: str, similar, dnm: bool
) -> str:
    # The shape people.json uses (keys in the library's order, empty ones left out).
    entry = {
        "names": [Name(first or None, last).to_dict() for first, last in names],
        "comment": comment,
        "degree": degree,
        "disable_name_matching": dnm,
        "orcid": orcid,
        "similar": list(similar),
    }
    return json.dumps({k: v for k, v in entry.items() if v}, ensure_ascii=False, indent=2)


def _xml_line(move: Move, *, after: bool) -> str:
    a = move.authorship
    first = a.first if a else ""
    last = a.last if a else ""
    xml_id = move.xml_id if after else (a.explicit_id if a else "")
    attr = f' id="{xml_id}"' if xml_id else ""
    orcid = f' orcid="{a.explicit_orcid}"' if a and a.explicit_orcid else ""
    return f"<{move.role}{attr}{orcid}><first>{first}</first><last>{last}</last></{move.role}>"


def changeset_preview(changeset: ChangeSet) -> ChangeSetPreview:
    """Per affected person: entries leaving and arriving, counts, people.json before/after; and
    the moves to list, each with its XML line before and after (`xml_before`, `xml_after`).

    A fixed number of queries whatever the number of moves or papers.
    """
    moves = list(
        changeset.moves.select_related("authorship", "authorship__paper", "to_new_person").order_by(
            "item_id", "role", "position"
        )
    )
    new_persons = {np.person_id: np for np in changeset.new_persons.all()}
    ids = {m.from_person_id for m in moves} | {m.target_id for m in moves}
    persons = {p.id: p for p in Person.objects.filter(id__in=ids).prefetch_related("name_variants")}
    applied = changeset.status == ChangeSet.Status.APPLIED
    effects: dict[str, PersonEffect] = {}
    for pid in sorted(ids):
        p = persons.get(pid)
        np = new_persons.get(pid)
        if np is not None:
            name = f"{np.first_name} {np.last_name}".strip()
            count = p.item_count if p is not None and applied else 0
            effects[pid] = PersonEffect(pid, name, True, True, count, applied)
        elif p is not None:
            effects[pid] = PersonEffect(pid, p.name, False, p.is_verified, p.item_count, applied)
        else:
            effects[pid] = PersonEffect(pid, pid, False, False, 0, applied)
    taking_effect = []
    for m in moves:
        if m.status == Move.Status.REJECTED or (applied and m.status != Move.Status.APPLIED):
            continue
        m.xml_before = _xml_line(m, after=False)
        m.xml_after = _xml_line(m, after=True)
        taking_effect.append(m)
        effects[m.from_person_id].leaving.append(m)
        effects[m.target_id].arriving.append(m)
    for pid, eff in effects.items():
        p = persons.get(pid)
        printed = [(m.authorship.first, m.authorship.last) for m in eff.arriving if m.authorship]
        if eff.is_new:
            np = new_persons[pid]
            names = [(np.first_name, np.last_name)]
            names += [n for n in dict.fromkeys(printed) if n not in names]
            eff.entry_after = _people_entry(names, np.orcid, np.degree, np.comment, (), False)
        elif p is not None and p.is_verified:
            explicit = [
                (n.first, n.last)
                for n in sorted(p.name_variants.all(), key=lambda n: (not n.is_canonical, n.pk))
                if n.is_explicit
            ]
            args = (p.orcid, p.degree, p.comment, p.similar, p.disable_name_matching)
            eff.entry_before = _people_entry(explicit, *args)
            added = [n for n in dict.fromkeys(printed) if n not in explicit]
            eff.entry_after = _people_entry(explicit + added, *args)
    # Moves that take nothing anywhere (all rejected) are still listed, without XML lines.
    return ChangeSetPreview(list(effects.values()), taking_effect or moves)
