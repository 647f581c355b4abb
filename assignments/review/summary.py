"""What a change set does, for the maintainers' review page: per person, the entries leaving and
arriving, the paper counts before and after, and the people.json entry before and after (built
by `assignments.export.people`, the export's own rule); per move, its XML line before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assignments.export import people
from assignments.models import ChangeSet, Move
from papers.models import Person


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
class ChangeSetEffect:
    effects: list[PersonEffect]
    # the moves that take effect, in entry order; all of them when none does (all rejected)
    moves: list[Move]


def _xml_line(move: Move, *, after: bool) -> str:
    a = move.authorship
    first = a.first if a else ""
    last = a.last if a else ""
    xml_id = move.xml_id if after else (a.explicit_id if a else "")
    attr = f' id="{xml_id}"' if xml_id else ""
    orcid = f' orcid="{a.explicit_orcid}"' if a and a.explicit_orcid else ""
    return f"<{move.role}{attr}{orcid}><first>{first}</first><last>{last}</last></{move.role}>"


def changeset_effect(changeset: ChangeSet) -> ChangeSetEffect:
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
        # Shown by the review page's template; not fields of the model.
        m.xml_before = _xml_line(m, after=False)  # type: ignore[attr-defined]
        m.xml_after = _xml_line(m, after=True)  # type: ignore[attr-defined]
        taking_effect.append(m)
        effects[m.from_person_id].leaving.append(m)
        effects[m.target_id].arriving.append(m)
    for pid, eff in effects.items():
        p = persons.get(pid)
        printed = [
            (m.authorship.first, m.authorship.last, "") for m in eff.arriving if m.authorship
        ]
        if eff.is_new:
            np = new_persons[pid]
            names = [(np.first_name, np.last_name, "")]
            names += [n for n in dict.fromkeys(printed) if n not in names]
            after = people.entry(names=names, orcid=np.orcid, degree=np.degree, comment=np.comment)
            eff.entry_after = people.entry_text(pid, after)
        elif p is not None and p.is_verified:
            explicit = [
                (n.first, n.last, n.script)
                for n in sorted(p.name_variants.all(), key=lambda n: (not n.is_canonical, n.pk))
                if n.is_explicit
            ]
            kept: dict[str, Any] = {
                "orcid": p.orcid,
                "degree": p.degree,
                "comment": p.comment,
                "similar": p.similar,
                "disable_name_matching": p.disable_name_matching,
            }
            eff.entry_before = people.entry_text(pid, people.entry(names=explicit, **kept))
            added = [n for n in dict.fromkeys(printed) if n not in explicit]
            after = people.entry(names=explicit + added, **kept)
            eff.entry_after = people.entry_text(pid, after)
    # Moves that take nothing anywhere (all rejected) are still listed, without XML lines.
    return ChangeSetEffect(list(effects.values()), taking_effect or moves)
