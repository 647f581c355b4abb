"""Catalog pages: search for persons by any of their names."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
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
