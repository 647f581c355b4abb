"""The person page, put together in one place: the catalog's entries (papers) with the
suggested split, the moves in flight, the audit and the assign form (assignments)."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, QueryDict
from django.urls import reverse

from assignments import decisions
from assignments.changesets import selectors as changeset_selectors
from assignments.changesets.forms import AssignForm
from assignments.suggestions import split
from papers import permissions, selectors
from papers.models import Person


def person_url(person_id: str, preview_name: str | None = None, *, page: str = "person") -> str:
    """The Anthology's path for a person id (`x/unverified` lives at /people/x/unverified/);
    `page="person_suggestion"` for the page's suggested split."""
    if preview_name:
        return reverse(f"preview:{page}", kwargs={"preview": preview_name, "person_id": person_id})
    return reverse(f"pages:{page}", kwargs={"person_id": person_id})


def assign_context(
    request: HttpRequest, person: Person, form: AssignForm | None = None, *, variants=None
) -> dict:
    """What the assign form (the page's #assign partial) shows. `variants`: the person's
    names, when the caller has them already."""
    preview = getattr(request, "preview", None)
    can_propose = permissions.can_propose(request.user)
    namesakes = []
    draft = changeset_selectors.draft_for_user(request.user) if can_propose else None
    if can_propose:
        if variants is None:
            variants = person.name_variants.all()
        namesakes = selectors.person_namesakes(person, [(n.first, n.last) for n in variants])
    return {
        "can_propose": can_propose,
        "assign_url": (
            reverse("preview:assign", kwargs={"preview": preview.name})
            if preview
            else reverse("assignments:assign")
        ),
        "form": form or AssignForm(person=person),
        "draft": draft,
        "draft_move_count": draft.moves.count() if draft else 0,
        "namesakes": namesakes,
    }


def person_page_context(
    request: HttpRequest, person: Person, form: AssignForm | None = None, *, papers_only=False
) -> dict:
    """Everything the person page shows; also used to re-render it with a bound form.

    `papers_only`: just what the list of papers needs (its htmx refresh after a move)."""
    entries = selectors.person_entries(person)
    pending = changeset_selectors.open_moves_from(person)
    suggested = split.suggested_split(person, entries, defer_above=split.INLINE_MAX_ENTRIES)
    group_of = {i: g.number for g in suggested.groups for i in g.authorship_ids}
    for entry in entries:
        entry.pending_move = pending.get(entry.pk)
        entry.group = group_of.get(entry.pk) if suggested.mixed else None
    preview = getattr(request, "preview", None)
    preview_name = preview.name if preview else None
    page_url = person_url(person.pk, preview_name)
    # On a preview's page a proposal names the preview's resolution (from_person_id): it applies
    # once the preview is promoted (applying is compare-and-swap against the current data).
    can_propose = permissions.can_propose(request.user)
    preselected: set[str] = set()
    if form is not None and form.is_bound:
        # bound to request.POST, a QueryDict (Form.data is typed as any Mapping)
        preselected = set(cast(QueryDict, form.data).getlist("authorships"))
    elif select := request.GET.get("select", ""):
        preselected = set(select.split(","))
    rows = [
        e.row(person_name=person.name, selectable=can_propose, checked=str(e.pk) in preselected)
        for e in entries
    ]
    context = {
        "rows": rows,
        "person": person,
        "page_url": page_url,
        "people_prefix": selectors.people_prefix(preview_name),
    }
    if papers_only:
        return context
    variants = list(person.name_variants.order_by("last", "first"))
    return (
        context
        | {
            "audit": decisions.audit_for_person(person.pk),
            "suggestion_url": person_url(person.pk, preview_name, page="person_suggestion"),
            "preview": preview,
            "other_names": [n for n in variants if str(n) != person.name],
            "split": suggested,
            "pending_count": len(pending),
            "incoming_count": changeset_selectors.open_moves_to(person),
        }
        | assign_context(request, person, form, variants=variants)
    )
