"""The person page, put together in one place: the catalog's entries (papers) with the
suggested split, the moves in flight, the audit and the assign form (assignments)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict
from django.urls import reverse

from assignments import decisions
from assignments.changesets import selectors as changeset_selectors
from assignments.changesets.forms import AssignForm
from assignments.pages.queue import QueueFilters
from assignments.suggestions import split, targets
from papers import permissions, selectors
from papers.models import Person

# The person page shows the groups a key selects (1…9); a prolific author's page can have
# fifty. The suggestion's own page has them all, and why they were kept apart, and is loaded
# into the person page on demand.
GROUPS_ON_PAGE = 9


def person_url(person_id: str, preview_name: str | None = None, *, page: str = "person") -> str:
    """The Anthology's path for a person id (`x/unverified` lives at /people/x/unverified/);
    `page="person_suggestion"` for the page's suggested split, `"person_namesakes"` for the
    others with the person's names."""
    if preview_name:
        return reverse(f"preview:{page}", kwargs={"preview": preview_name, "person_id": person_id})
    return reverse(f"pages:{page}", kwargs={"person_id": person_id})


def queue_filters(request: HttpRequest) -> QueueFilters:
    """The queue the reviewer came from: carried as `queue` in the page's address and in its
    forms, so that "next page" keeps the filters."""
    return QueueFilters.from_encoded(request.GET.get("queue") or request.POST.get("queue", ""))


def next_page_url(person: Person, filters: QueueFilters) -> str:
    query = {"after": person.pk}
    if encoded := filters.encode():
        query["queue"] = encoded
    return f"{reverse('pages:mixed_next')}?{urlencode(query)}"


def targets_context(
    request: HttpRequest, person: Person, selected: Iterable[int | str] = ()
) -> dict:
    """The #targets partial: who the selection may belong to, ranked (nothing without a
    selection)."""
    ids = sorted({int(i) for i in selected if str(i).isdecimal()})
    ranking = (
        targets.targets_rank(person=person, authorship_ids=ids, user=request.user)
        if ids and permissions.can_propose(request.user)
        else targets.TargetRanking(message="Select papers to see who they may belong to.")
    )
    return {"ranking": ranking, "targets_url": reverse("assignments:targets"), "person": person}


def assign_context(
    request: HttpRequest,
    person: Person,
    form: AssignForm | None = None,
    *,
    variants=None,
    selected: Iterable[int | str] = (),
) -> dict:
    """What the assign form (the page's #assign partial) shows. `variants`: the person's
    names, when the caller has them already; `selected`: the entries ticked when the page
    renders (their suggested targets are ranked)."""
    preview = getattr(request, "preview", None)
    preview_name = preview.name if preview else None
    can_propose = permissions.can_propose(request.user)
    namesake_count = 0
    draft = changeset_selectors.draft_for_user(request.user) if can_propose else None
    if can_propose:
        if variants is None:
            variants = person.name_variants.all()
        # counted here, listed on demand (person_namesakes): a common name has many
        namesake_count = selectors.person_namesake_count(
            person, [(n.first, n.last) for n in variants]
        )
    filters = queue_filters(request)
    context = {
        "can_propose": can_propose,
        "assign_url": (
            reverse("preview:assign", kwargs={"preview": preview.name})
            if preview
            else reverse("assignments:assign")
        ),
        "one_person_url": reverse("assignments:one_person"),
        "form": form or AssignForm(person=person, user=request.user),
        "draft": draft,
        "draft_move_count": draft.moves.count() if draft else 0,
        "draft_mark_count": draft.page_decisions.count() if draft else 0,
        "namesake_count": namesake_count,
        "namesakes_url": person_url(person.pk, preview_name, page="person_namesakes"),
        "queue_param": filters.encode(),
        "next_url": "" if preview else next_page_url(person, filters),
    }
    if can_propose and preview is None:
        # (a preview's pages rank nothing: the ranking reads the current data)
        context |= targets_context(request, person, selected)
    return context


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
    for group in suggested.groups:
        # "Select this group" says when (some of) its papers are already proposed elsewhere
        group.proposed = sum(1 for i in group.authorship_ids if i in pending)
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
        "items_prefix": selectors.items_prefix(preview_name),
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
            "groups_shown": suggested.groups[:GROUPS_ON_PAGE],
            "pending_count": len(pending),
            "incoming_count": changeset_selectors.open_moves_to(person),
        }
        | assign_context(
            request,
            person,
            form,
            variants=variants,
            selected=[row["pk"] for row in rows if row["checked"]],
        )
    )
