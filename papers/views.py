"""Catalog pages: search for persons by any of their names, and a paper's (or volume's) page."""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from papers import caching, selectors
from papers.http import Request

# Search results depend on the catalog alone, the same for everyone: each process keeps the
# latest ones until the catalog changes (common names are searched again and again).
SEARCH_RESULTS: caching.CatalogCache[list[selectors.SearchHit]] = caching.CatalogCache(size=2000)


def _search_key(request: Request) -> tuple[str]:
    # The results depend on the catalog (in the tag already) and the query alone.
    return (request.GET.get("q", "")[:200],)


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
@caching.conditional_public_page(_search_key)
def search(request: Request) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    hits = SEARCH_RESULTS.get(request, query.strip(), lambda: selectors.person_search(query))
    template = "papers/search.html#results" if request.htmx else "papers/search.html"
    return render(request, template, {"query": query, "hits": hits})


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
# the catalog alone: the tag's catalog version covers it
@caching.conditional_public_page(lambda request, item_id: (item_id,))
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
