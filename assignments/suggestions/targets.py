"""Suggested targets: the persons a selection of a page's papers may belong to, ranked.

The candidates are the page's namesakes, verified persons with a compatible name (same last
name, same first initial) and the persons the reviewer's draft already moves papers to (new
persons included). The clustering service's `rank_candidates` scores each selected paper
against each candidate; a candidate's score is its mean over the selection, and "a new person"
is scored at the model's merge threshold, so it comes first when no existing person fits.
"""

from __future__ import annotations

import importlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User

from assignments.changesets import selectors as changeset_selectors
from assignments.models import NewPerson
from assignments.suggestions.blocks import page_blocks
from papers import selectors
from papers.models import Person, PersonName
from papers.names import normalize_name

logger = logging.getLogger(__name__)

# Papers of a selection that are scored (spread over it): a group of fifty ranks as fast as
# one of twelve, and twelve papers of one person agree on who they are.
MAX_SCORED = 12
MAX_COMPATIBLE = 10  # verified persons with a compatible name, most papers first
NEW = "new"


@dataclass
class Target:
    key: str  # a person id, "new:<NewPerson pk>" for a draft's new person, or NEW
    name: str
    kind: str  # "person", "draft" (a new person of the reviewer's draft) or "new"
    score: float | None = None
    why: str = ""
    person: Person | None = None
    new_person: NewPerson | None = None

    @property
    def person_id(self) -> str:
        """What the assign form's person field takes for this target ("" for a new person)."""
        if self.person is not None:
            return self.person.pk
        if self.new_person is not None:
            return self.new_person.person_id
        return ""

    @property
    def score_percent(self) -> int | None:
        return None if self.score is None else round(self.score * 100)


@dataclass
class TargetRanking:
    targets: list[Target] = field(default_factory=list)
    message: str = ""  # why there is no ranking
    scored: int = 0  # papers of the selection that were scored

    @property
    def best(self) -> Target | None:
        return self.targets[0] if self.targets else None


def _compatible_verified(person: Person, names: Sequence[tuple[str, str]]) -> list[Person]:
    """Verified persons sharing a last name and the first initial with one of `names`."""
    wanted: dict[str, set[str]] = defaultdict(set)  # normalised last name -> first initials
    for first, last in names:
        last_norm = normalize_name("", last)
        if last_norm:
            wanted[last_norm].add(normalize_name("", first)[:1])
    found: dict[str, Person] = {}
    for last_norm, initials in wanted.items():
        rows = (
            PersonName.objects.filter(
                normalized__endswith=f" {last_norm}", person__is_verified=True
            )
            .exclude(person=person)
            .select_related("person")
            .order_by("-person__item_count", "person_id")[: MAX_COMPATIBLE * 4]
        )
        for row in rows:
            if row.normalized[:1] in initials or "" in initials:
                found.setdefault(row.person_id, row.person)
    return sorted(found.values(), key=lambda p: (-p.item_count, p.pk))[:MAX_COMPATIBLE]


def candidate_persons(
    person: Person, user: User | AnonymousUser
) -> tuple[list[Person], list[NewPerson]]:
    """Existing persons and the draft's new persons a selection of `person`'s page may go to."""
    names = [(n.first, n.last) for n in person.name_variants.all()] or [
        (person.first_name, person.last_name)
    ]
    pool: dict[str, Person] = {p.pk: p for p in selectors.person_namesakes(person, names)}
    for p in _compatible_verified(person, names):
        pool.setdefault(p.pk, p)
    draft = changeset_selectors.draft_for_user(user)
    new_persons: list[NewPerson] = []
    if draft is not None:
        # the draft's targets, when their names fit this page
        compatible = _compatibility(names)
        for p in Person.objects.filter(incoming_moves__changeset=draft).distinct():
            if compatible(p.first_name, p.last_name):
                pool.setdefault(p.pk, p)
        new_persons = [
            np
            for np in draft.new_persons.prefetch_related("moves").order_by("pk")
            if compatible(np.first_name, np.last_name)
        ]
    pool.pop(person.pk, None)
    return list(pool.values()), new_persons


def _compatibility(names: Sequence[tuple[str, str]]):
    """A test of a name against `names`: same last name, same first initial (or none)."""
    wanted = {(normalize_name("", last), normalize_name("", first)[:1]) for first, last in names}

    def compatible(first: str, last: str) -> bool:
        last_norm, initial = normalize_name("", last), normalize_name("", first)[:1]
        return any(
            last_norm == w_last and (initial == w_initial or not initial or not w_initial)
            for w_last, w_initial in wanted
        )

    return compatible


def _spread(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    step = len(items) / k
    return [items[int(i * step)] for i in range(k)]


def _why(reasons: Sequence[str]) -> str:
    # the service lists the strongest first (shared coauthors, topic, venue, ...)
    return "; ".join(reasons[:2])


def targets_rank(
    *, person: Person, authorship_ids: Sequence[int], user: User | AnonymousUser
) -> TargetRanking:
    """Rank where the selected entries of `person`'s page may belong (best first)."""
    existing, new_persons = candidate_persons(person, user)
    # Looked up when needed, as split.computed_split does: scikit-learn takes seconds to load.
    clustering = importlib.import_module("assignments.clustering")
    try:
        model = clustering.load_model(settings.CLUSTERING_MODEL_PATH)
    except FileNotFoundError:
        return TargetRanking(
            message="No ranking: no clustering model has been trained (`manage.py "
            "train_clustering`)."
        )
    sources = {m.from_person_id for np in new_persons for m in np.moves.all()}
    blocks = page_blocks(person_ids=[person.pk, *(p.pk for p in existing), *sources], min_items=1)
    by_person = {b.person_id: b.signatures for b in blocks}
    by_id = {s["id"]: s for b in blocks for s in b.signatures}
    selected = {str(i) for i in authorship_ids}
    query = _spread([s for s in by_person.get(person.pk, []) if s["id"] in selected], MAX_SCORED)
    if not query:
        return TargetRanking(message="Select papers to see who they may belong to.")

    candidates = [{"person_id": p.pk, "signatures": by_person.get(p.pk, [])} for p in existing]
    candidates += [
        {
            "person_id": f"new:{np.pk}",
            "signatures": [
                by_id[str(m.authorship_id)] for m in np.moves.all() if str(m.authorship_id) in by_id
            ],
        }
        for np in new_persons
    ]
    scores: dict[str | None, list[float]] = defaultdict(list)
    best_reasons: dict[str | None, tuple[float, list[str]]] = {}
    for signature in query:
        for c in clustering.rank_candidates(signature, candidates, model=model):
            scores[c.person_id].append(c.score)
            if c.score > best_reasons.get(c.person_id, (-1.0, []))[0]:
                best_reasons[c.person_id] = (c.score, c.reasons)

    persons = {p.pk: p for p in existing}
    drafts = {f"new:{np.pk}": np for np in new_persons}
    threshold = float(model.threshold)
    targets = []
    for key, values in scores.items():
        score = sum(values) / len(values)
        if key is None:
            continue
        why = _why(best_reasons[key][1]) or "nothing in common with the selection"
        if key in drafts:
            np = drafts[key]
            name = f"{np.first_name} {np.last_name}".strip()
            targets.append(Target(key, name, "draft", score, why, new_person=np))
        else:
            p = persons[key]
            targets.append(Target(key, p.name, "person", score, why, person=p))
    fits = [t for t in targets if (t.score or 0.0) >= threshold]
    if not targets:
        new_why = "no other person has a compatible name"
    elif not fits:
        new_why = "no existing person scores above the merge threshold"
    else:
        new_why = "if none of the persons above is the one"
    targets.append(Target(NEW, "A new person", "new", threshold, new_why))
    # "a new person" goes before the candidates below the threshold, after those above it
    targets.sort(key=lambda t: (-(t.score or 0.0), t.kind == "new", t.key))
    return TargetRanking(targets=targets, scored=len(query))
