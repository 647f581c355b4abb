"""Maintainers' pages: the queue of submitted change sets, one change set's effect and decision,
and revert.

Permission is checked in every view (any partial can be requested on its own).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
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


def _changeset_context(request: AuthenticatedRequest, changeset: ChangeSet, **extra) -> dict:
    effect = summary.changeset_effect(changeset)
    later = changeset.reverted_by.order_by("pk")
    maintainer = permissions.can_review(request.user)
    return {
        "changeset": changeset,
        "effects": effect.effects,
        "moves": effect.moves,
        "marks": list(changeset.page_decisions.order_by("person_id")),
        "reverted_by": list(later),
        "maintainer": maintainer,
        "can_decide": maintainer and changeset.status == ChangeSet.Status.SUBMITTED,
        "can_revert": maintainer and changeset.status == ChangeSet.Status.APPLIED,
        "can_withdraw": changeset.created_by_id == request.user.pk
        and changeset.status == ChangeSet.Status.SUBMITTED
        and changeset.reverts_id is None,
        "next_url": f"{reverse('assignments:review_next')}?after={changeset.pk}",
        **extra,
    }


def _viewable(request: AuthenticatedRequest, pk: int) -> ChangeSet:
    """A change set its maintainers, and the reviewer who wrote it, may see."""
    changeset = get_object_or_404(
        ChangeSet.objects.select_related("created_by", "reviewed_by", "reverts"), pk=pk
    )
    if not (permissions.can_review(request.user) or changeset.created_by_id == request.user.pk):
        raise PermissionDenied("Only maintainers and its author can see this change set.")
    return changeset


@require_safe
@vary_on_headers("HX-Request")
def review_changeset(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    changeset = _viewable(request, pk)
    template = "assignments/review_changeset.html"
    if request.htmx:
        template += "#decision"
    return render(request, template, _changeset_context(request, changeset))


@require_safe
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_next(request: AuthenticatedRequest) -> HttpResponse:
    """The next submitted change set in the review queue's order (oldest first) after the one
    in `after` (the first one when it was decided meanwhile)."""
    waiting = ChangeSet.objects.filter(status=ChangeSet.Status.SUBMITTED).order_by(
        "submitted_at", "pk"
    )
    after = request.GET.get("after", "")
    current = (
        waiting.filter(pk=int(after)).values_list("submitted_at", "pk").first()
        if after.isdecimal() and len(after) < 19
        else None
    )
    if current is not None:
        at, pk = current
        waiting = waiting.filter(Q(submitted_at__gt=at) | Q(submitted_at=at, pk__gt=pk))
    following = waiting.values_list("pk", flat=True).first()
    if following is None:
        messages.info(request, "No more change sets wait for review.")
        return redirect("assignments:review_queue")
    return redirect("assignments:review_changeset", pk=following)


def _error_response(request, changeset, errors: list[str], status: int) -> HttpResponse:
    context = _changeset_context(
        request, changeset, errors=errors, comment=request.POST.get("comment", "")
    )
    template = "assignments/review_changeset.html"
    if request.htmx:
        template += "#decision"
    return render(request, template, context, status=status)


def _outcome_response(request: AuthenticatedRequest, changeset: ChangeSet) -> HttpResponse:
    """A decision on a change set decided meanwhile (a double click, a second tab): what
    happened to it, not an error."""
    changeset.refresh_from_db()
    by = changeset.reviewed_by.get_username() if changeset.reviewed_by else "a maintainer"
    when = changeset.reviewed_at.strftime("%Y-%m-%d %H:%M") if changeset.reviewed_at else ""
    outcomes: dict[str, str] = {
        ChangeSet.Status.APPLIED: "approved and applied",
        ChangeSet.Status.REJECTED: "rejected",
        ChangeSet.Status.REVERTED: "approved, applied and since reverted",
    }
    outcome = outcomes.get(changeset.status, changeset.get_status_display().lower())
    context = _changeset_context(
        request, changeset, outcome=f"Change set {changeset.pk} was {outcome} by {by} {when}."
    )
    template = "assignments/review_changeset.html"
    if request.htmx:
        template += "#decision"
    return render(request, template, context)


@require_POST
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Approve all, approve the ticked moves, or reject, with a comment for the reviewer."""
    changeset = get_object_or_404(ChangeSet, pk=pk)
    decision = request.POST.get("decision")
    comment = request.POST.get("comment", "").strip()
    if changeset.status != ChangeSet.Status.SUBMITTED and decision in DECISIONS:
        return _outcome_response(request, changeset)
    try:
        if decision == "approve":
            services.changeset_approve(changeset=changeset, user=request.user, comment=comment)
            message = f"Change set {pk} approved and applied."
        elif decision == "approve_some":
            ids = _ints(request.POST.getlist("move"))
            marks = _ints(request.POST.getlist("mark"))
            if not ids and not marks:
                raise ValidationError("Tick the moves to approve, or approve or reject all.")
            services.changeset_approve(
                changeset=changeset,
                user=request.user,
                move_ids=ids,
                decision_ids=marks,
                comment=comment,
            )
            message = (
                f"Change set {pk}: {len(ids) + len(marks)} change(s) approved and applied, "
                "others rejected."
            )
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
        changeset.refresh_from_db(fields=["status"])
        if changeset.status != ChangeSet.Status.SUBMITTED:
            # decided by a request that got there first (a double click)
            return _outcome_response(request, changeset)
        return _error_response(request, changeset, exc.messages, status=400)
    return _done(request, reverse("assignments:review_changeset", args=[pk]), message)


DECISIONS = ("approve", "approve_some", "reject")


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdecimal() and len(v) < 19]


@require_http_methods(["GET", "POST"])
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_revert(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Undo an applied change set, after a confirm step the server renders."""
    changeset = get_object_or_404(
        ChangeSet.objects.select_related("created_by", "reviewed_by"), pk=pk
    )
    if request.method == "GET" or request.POST.get("confirmed") != "yes":
        if changeset.status != ChangeSet.Status.APPLIED:
            messages.error(request, f"Change set {pk} is {changeset.status}: nothing to revert.")
            return redirect("assignments:review_changeset", pk=pk)
        context = _changeset_context(request, changeset)
        return render(request, "assignments/review_revert.html", context)
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
