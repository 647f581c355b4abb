from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from assignments.models import Suggestion
from assignments.pages import selectors as page_selectors
from assignments.pages.context import person_page_context, person_url
from assignments.suggestions import split
from papers import caching, permissions, selectors
from papers.http import Request
from papers.models import Person


@login_not_required
@require_safe
def home(request: Request) -> HttpResponse:
    mixed = Suggestion.objects.select_related("person").order_by("-mixed_score", "-item_count")[:8]
    return render(request, "assignments/home.html", {"mixed": mixed})


@login_not_required
@require_safe
def mixed(request: Request) -> HttpResponse:
    """Pages most likely mixing several people, by the clustering service's estimate."""
    suggestions = (
        Suggestion.objects.filter(mixed_score__gt=0)
        .select_related("person")
        .order_by("-mixed_score", "-item_count", "person_id")
    )
    page = Paginator(suggestions, 50).get_page(request.GET.get("page"))
    return render(request, "assignments/mixed.html", {"page": page})


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
@caching.conditional_public_page(
    lambda request, person_id: page_selectors.person_page_version(person_id)
)
def person_detail(request: Request, person_id: str) -> HttpResponse:
    """A person at the Anthology's path: /people/<id>/, or /people/<slug>/unverified/."""
    person = get_object_or_404(Person, pk=person_id)
    # htmx re-fetches the list after a move (event "changeset-changed").
    context = person_page_context(request, person, papers_only=bool(request.htmx))
    template = (
        "assignments/person_detail.html#papers"
        if request.htmx
        else "assignments/person_detail.html"
    )
    return render(request, template, context)


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
def person_suggestion(request: Request, person_id: str) -> HttpResponse:
    """The suggested split of a page, computed now when none is stored (it can take a while)."""
    person = get_object_or_404(Person, pk=person_id)
    entries = selectors.person_entries(person)
    preview = getattr(request, "preview", None)
    preview_name = preview.name if preview else None
    page_url = person_url(person.pk, preview_name)
    context = {
        "person": person,
        "split": split.suggested_split(person, entries),
        "page_url": page_url,
        "suggestion_url": person_url(person.pk, preview_name, page="person_suggestion"),
        "can_propose": permissions.can_propose(request.user),
    }
    if request.htmx:
        return render(request, "assignments/person_detail.html#suggestions", context)
    return render(request, "assignments/person_suggestion.html", context)
