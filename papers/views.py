from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from assignments import selectors as assignment_selectors
from assignments import selectors_decisions
from assignments.forms import AssignForm
from assignments.models import Suggestion
from papers import selectors
from papers.models import Person


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    mixed = Suggestion.objects.select_related("person").order_by("-mixed_score", "-item_count")[:8]
    return render(request, "papers/home.html", {"mixed": mixed})


@login_not_required
@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    hits = selectors.person_search(query)
    template = "papers/search.html#results" if request.htmx else "papers/search.html"
    return render(request, template, {"query": query, "hits": hits})


@login_not_required
@require_GET
def mixed(request: HttpRequest) -> HttpResponse:
    """Pages most likely mixing several people, by the clustering service's estimate."""
    suggestions = (
        Suggestion.objects.filter(mixed_score__gt=0)
        .select_related("person")
        .order_by("-mixed_score", "-item_count", "person_id")
    )
    page = Paginator(suggestions, 50).get_page(request.GET.get("page"))
    return render(request, "papers/mixed.html", {"page": page})


def assign_context(
    request: HttpRequest, person: Person, form: AssignForm | None = None, *, variants=None
) -> dict:
    """What the assign form (the page's #assign partial) shows. `variants`: the person's
    names, when the caller has them already."""
    preview = getattr(request, "preview", None)
    can_propose = assignment_selectors.user_can_propose(request.user)
    namesakes = []
    draft = assignment_selectors.draft_for_user(request.user) if can_propose else None
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
    pending = assignment_selectors.open_moves_from(person)
    split = assignment_selectors.suggested_split(
        person, entries, defer_above=assignment_selectors.INLINE_MAX_ENTRIES
    )
    group_of = {i: g.number for g in split.groups for i in g.authorship_ids}
    for entry in entries:
        entry.pending_move = pending.get(entry.pk)
        entry.group = group_of.get(entry.pk) if split.mixed else None
    preview = getattr(request, "preview", None)
    preview_name = preview.name if preview else None
    page_url = selectors.person_url(person.pk, preview_name)
    # On a preview's page a proposal names the preview's resolution (from_person_id): it applies
    # once the preview is promoted (applying is compare-and-swap against the current data).
    can_propose = assignment_selectors.user_can_propose(request.user)
    preselected: set[str] = set()
    if form is not None and form.is_bound:
        preselected = set(form.data.getlist("authorships"))
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
            "audit": selectors_decisions.audit_for_person(person.pk),
            "suggestion_url": selectors.person_url(
                person.pk, preview_name, page="person_suggestion"
            ),
            "preview": preview,
            "other_names": [n for n in variants if str(n) != person.name],
            "split": split,
            "pending_count": len(pending),
            "incoming_count": assignment_selectors.open_moves_to(person),
        }
        | assign_context(request, person, form, variants=variants)
    )


@login_not_required
@require_GET
@vary_on_headers("HX-Request")
def person_detail(request: HttpRequest, person_id: str) -> HttpResponse:
    """A person at the Anthology's path: /people/<id>/, or /people/<slug>/unverified/."""
    person = get_object_or_404(Person, pk=person_id)
    # htmx re-fetches the list after a move (event "changeset-changed").
    context = person_page_context(request, person, papers_only=bool(request.htmx))
    template = "papers/person_detail.html#papers" if request.htmx else "papers/person_detail.html"
    return render(request, template, context)


@login_not_required
@require_GET
@vary_on_headers("HX-Request")
def person_suggestion(request: HttpRequest, person_id: str) -> HttpResponse:
    """The suggested split of a page, computed now when none is stored (it can take a while)."""
    person = get_object_or_404(Person, pk=person_id)
    entries = selectors.person_entries(person)
    preview = getattr(request, "preview", None)
    preview_name = preview.name if preview else None
    page_url = selectors.person_url(person.pk, preview_name)
    context = {
        "person": person,
        "split": assignment_selectors.suggested_split(person, entries),
        "page_url": page_url,
        "suggestion_url": selectors.person_url(person.pk, preview_name, page="person_suggestion"),
        "can_propose": assignment_selectors.user_can_propose(request.user),
    }
    if request.htmx:
        return render(request, "papers/person_detail.html#suggestions", context)
    return render(request, "papers/person_suggestion.html", context)
