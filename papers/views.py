"""Catalog pages: search for persons by any of their names, and a paper's (or volume's) page."""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from papers import selectors
from papers.http import Request


@login_not_required
@require_GET
@vary_on_headers("HX-Request")
def search(request: Request) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    hits = selectors.person_search(query)
    template = "papers/search.html#results" if request.htmx else "papers/search.html"
    return render(request, template, {"query": query, "hits": hits})


@login_not_required
@require_GET
@vary_on_headers("HX-Request")
def item_detail(request: Request, item_id: str) -> HttpResponse:
    """A paper or volume: its abstract, authors (editors) and their affiliations.

    The person pages list papers in one line each and load this on demand: a plain link leads
    to the page, an htmx request gets the `#item` partial to show inside the list."""
    item = selectors.item_detail(item_id)
    if item is None:
        raise Http404("No paper or volume with that id.")
    preview = request.preview
    context = {
        "item": item,
        "preview": preview,
        "people_prefix": selectors.people_prefix(preview.name if preview else None),
    }
    template = "papers/item_detail.html#item" if request.htmx else "papers/item_detail.html"
    return render(request, template, context)
