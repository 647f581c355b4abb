from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from assignments.models import ChangeSet, NewPerson
from assignments.pages import queue
from assignments.pages import selectors as page_selectors
from assignments.pages.context import person_page_context, person_url
from assignments.suggestions import split
from papers import caching, permissions, selectors
from papers.http import Request
from papers.models import Person, RemovedPerson

QUEUE_PAGE_SIZE = 50
# Listed on demand, so more than the panel used to hold (the most papers first).
NAMESAKES_LISTED = 50


@login_not_required
@require_safe
def home(request: Request) -> HttpResponse:
    return render(request, "assignments/home.html", {"mixed": queue.queue()[:8]})


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
def mixed(request: Request) -> HttpResponse:
    """Pages most likely mixing several people, the work worth doing first, with filters."""
    filters = queue.QueueFilters.from_query(request.GET)
    page = Paginator(queue.queue(filters), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    encoded = filters.encode()
    context = {
        "page": page,
        "filters": filters,
        "filters_query": encoded,
        # appended to each page's link: the person page's "next page" keeps these filters
        "queue_query": urlencode({"queue": encoded}) if encoded else "",
    }
    template = "assignments/mixed.html#queue" if request.htmx else "assignments/mixed.html"
    return render(request, template, context)


@login_not_required
@require_safe
def mixed_next(request: Request) -> HttpResponse:
    """Go to the page after `after` in the queue (with the filters in `queue`)."""
    filters = queue.QueueFilters.from_encoded(request.GET.get("queue", ""))
    following = queue.queue_next(filters, after=request.GET.get("after", "")[:160])
    if following is None:
        messages.info(request, "That was the last page of the queue that nobody is working on.")
        encoded = filters.encode()
        return redirect(reverse("pages:mixed") + (f"?{encoded}" if encoded else ""))
    return redirect(queue_page_url(following, filters))


def _person_gone(request: Request, person_id: str) -> HttpResponse:
    """A page that is no longer there says where its papers went (404)."""
    context = {
        "person_id": person_id,
        "removed": RemovedPerson.objects.filter(person_id=person_id).first(),
        # a person a change set created, removed again by its revert
        "created": NewPerson.objects.filter(
            person_id=person_id,
            changeset__status__in=[ChangeSet.Status.APPLIED, ChangeSet.Status.REVERTED],
        )
        .order_by("-pk")
        .first(),
    }
    return render(request, "assignments/person_gone.html", context, status=404)


def queue_page_url(person_id: str, filters: queue.QueueFilters) -> str:
    encoded = filters.encode()
    return person_url(person_id) + (f"?{urlencode({'queue': encoded})}" if encoded else "")


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
@caching.conditional_public_page(
    lambda request, person_id: page_selectors.person_page_version(person_id)
)
def person_detail(request: Request, person_id: str) -> HttpResponse:
    """A person at the Anthology's path: /people/<id>/, or /people/<slug>/unverified/."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return _person_gone(request, person_id)
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
    suggested = split.suggested_split(person, entries)
    context = {
        "person": person,
        "split": suggested,
        "groups_shown": suggested.groups,  # all of them: this is the page that has them
        "page_url": page_url,
        "suggestion_url": person_url(person.pk, preview_name, page="person_suggestion"),
        "can_propose": permissions.can_propose(request.user),
    }
    if request.htmx:
        return render(request, "assignments/person_detail.html#suggestions", context)
    return render(request, "assignments/person_suggestion.html", context)


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
# names and persons are the catalog's: the tag's catalog version covers them
@caching.conditional_public_page(lambda request, person_id: (person_id,))
def person_namesakes(request: Request, person_id: str) -> HttpResponse:
    """Others known by one of the person's names: the assign panel lists them when opened."""
    person = get_object_or_404(Person, pk=person_id)
    preview = getattr(request, "preview", None)
    preview_name = preview.name if preview else None
    names = [(n.first, n.last) for n in person.name_variants.all()]
    context = {
        "person": person,
        "namesakes": selectors.person_namesakes(person, names, limit=NAMESAKES_LISTED),
        "people_prefix": selectors.people_prefix(preview_name),
        "page_url": person_url(person.pk, preview_name),
        "can_propose": permissions.can_propose(request.user),
    }
    if request.htmx:
        return render(request, "assignments/person_detail.html#namesakes", context)
    return render(request, "assignments/person_namesakes.html", context)
