"""Maintainers' pages: the queue of submitted change sets, one change set's effect and decision,
and revert.

Permission is checked in every view (any partial can be requested on its own).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from assignments.models import ChangeSet
from assignments.review import services, summary
from papers import permissions
from papers.http import AuthenticatedRequest
from papers.models import PersonName
from papers.names import normalize_name
from papers.services import CatalogBusy

QUEUE_PAGE_SIZE = 50


# -- queue ------------------------------------------------------------------------------------


@require_safe
@vary_on_headers("HX-Request")
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_queue(request: AuthenticatedRequest) -> HttpResponse:
    status = request.GET.get("status", ChangeSet.Status.SUBMITTED)
    reviewer = request.GET.get("reviewer", "").strip()
    name = request.GET.get("name", "").strip()
    qs = ChangeSet.objects.exclude(status=ChangeSet.Status.DRAFT)
    if status in ChangeSet.Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    if reviewer:
        qs = qs.filter(created_by__username__icontains=reviewer)
    if name:
        # change sets moving entries of, or to, a person of that name (or creating one)
        # names are stored normalised (transliterated, lower-cased): normalise the query alike
        person_ids = PersonName.objects.filter(
            normalized__contains=normalize_name("", name)
        ).values("person_id")
        qs = qs.filter(
            Q(moves__from_person_id__in=person_ids)
            | Q(moves__to_person_id__in=person_ids)
            | Q(new_persons__last_name__icontains=name)
            | Q(new_persons__person_id__icontains=name)
        ).distinct()
    qs = (
        qs.select_related("created_by", "reviewed_by")
        .annotate(move_count=Count("moves", distinct=True))
        .order_by("submitted_at", "pk")
    )
    page = Paginator(qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "reviewer": reviewer,
        "name": name,
        "statuses": [s for s in ChangeSet.Status if s != ChangeSet.Status.DRAFT],
    }
    template = (
        "assignments/review_queue.html#queue" if request.htmx else ("assignments/review_queue.html")
    )
    return render(request, template, context)


# -- one change set ---------------------------------------------------------------------------


def _changeset_context(changeset: ChangeSet, **extra) -> dict:
    effect = summary.changeset_effect(changeset)
    later = changeset.reverted_by.order_by("pk")
    return {
        "changeset": changeset,
        "effects": effect.effects,
        "moves": effect.moves,
        "reverted_by": list(later),
        "can_decide": changeset.status == ChangeSet.Status.SUBMITTED,
        "can_revert": changeset.status == ChangeSet.Status.APPLIED,
        **extra,
    }


@require_safe
@vary_on_headers("HX-Request")
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_changeset(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    changeset = get_object_or_404(
        ChangeSet.objects.select_related("created_by", "reviewed_by", "reverts"), pk=pk
    )
    template = "assignments/review_changeset.html"
    if request.htmx:
        template += "#decision"
    return render(request, template, _changeset_context(changeset))


def _error_response(request, changeset, errors: list[str], status: int) -> HttpResponse:
    context = _changeset_context(changeset, errors=errors, comment=request.POST.get("comment", ""))
    template = "assignments/review_changeset.html"
    if request.htmx:
        template += "#decision"
    return render(request, template, context, status=status)


@require_POST
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Approve all, approve the ticked moves, or reject, with a comment for the reviewer."""
    changeset = get_object_or_404(ChangeSet, pk=pk)
    decision = request.POST.get("decision")
    comment = request.POST.get("comment", "").strip()
    try:
        if decision == "approve":
            services.changeset_approve(changeset=changeset, user=request.user, comment=comment)
            message = f"Change set {pk} approved and applied."
        elif decision == "approve_some":
            try:
                ids = [int(i) for i in request.POST.getlist("move")]
            except ValueError:
                ids = []
            if not ids:
                raise ValidationError("Tick the moves to approve, or approve or reject all.")
            services.changeset_approve(
                changeset=changeset, user=request.user, move_ids=ids, comment=comment
            )
            message = f"Change set {pk}: {len(ids)} move(s) approved and applied, others rejected."
        elif decision == "reject":
            services.changeset_reject(changeset=changeset, user=request.user, comment=comment)
            message = f"Change set {pk} rejected."
        else:
            raise ValidationError("Choose approve, approve selected, or reject.")
    except services.ChangeSetConflict as exc:
        errors = ["Nothing was applied: these entries changed since the proposal."]
        return _error_response(request, changeset, errors + exc.messages, status=409)
    except CatalogBusy as exc:
        return _error_response(request, changeset, exc.messages, status=409)
    except ValidationError as exc:
        return _error_response(request, changeset, exc.messages, status=400)
    return _done(request, reverse("assignments:review_changeset", args=[pk]), message)


@require_POST
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_revert(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    changeset = get_object_or_404(ChangeSet, pk=pk)
    try:
        revert = services.changeset_revert(changeset=changeset, user=request.user)
    except (services.ChangeSetConflict, CatalogBusy) as exc:
        return _error_response(request, changeset, exc.messages, status=409)
    except ValidationError as exc:
        return _error_response(request, changeset, exc.messages, status=400)
    if revert.status == ChangeSet.Status.APPLIED:
        message = f"Change set {pk} reverted (change set {revert.pk})."
    else:
        message = (
            f"Some entries of change set {pk} changed since it was applied: the revert is "
            f"proposed as change set {revert.pk} for review instead."
        )
    return _done(request, reverse("assignments:review_changeset", args=[revert.pk]), message)


def _done(request: AuthenticatedRequest, url: str, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
