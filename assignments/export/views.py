"""The pending export for maintainers: a unified diff (`patch`) or a JSON summary (`json`),
computed in the background against ANTHOLOGY_DATA_DIR."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django_htmx.http import HttpResponseClientRedirect

from assignments.export import services, tasks
from assignments.models import ChangeSet, NewPerson
from papers import permissions
from papers.http import AuthenticatedRequest


def _data_dir() -> str | None:
    return settings.ANTHOLOGY_DATA_DIR or None


def _pending_patch() -> tuple[bool, services.ExportResult | None]:
    """(configured, the stored dry run or None while the background task computes it)."""
    data_dir = _data_dir()
    if not data_dir:
        return False, None
    key, result = services.pending_patch_get(data_dir=data_dir)
    if result is None and cache.add(f"review-export-queued:{key}", True, 600):
        tasks.pending_patch.enqueue(data_dir=data_dir, key=key)
        key, result = services.pending_patch_get(data_dir=data_dir)  # immediate backend
    return True, result


def _summary(result: services.ExportResult) -> dict:
    sets = {
        cs.pk: cs
        for cs in ChangeSet.objects.filter(pk__in=result.changeset_ids).select_related(
            "created_by", "reviewed_by"
        )
    }
    by_cs = {entry["changeset"]: entry["moves"] for entry in result.summary}
    new_persons = defaultdict(list)
    for np in NewPerson.objects.filter(changeset_id__in=result.changeset_ids):
        new_persons[np.changeset_id].append(
            {
                "id": np.person_id,
                "first": np.first_name,
                "last": np.last_name,
                "orcid": np.orcid,
                "degree": np.degree,
                "comment": np.comment,
            }
        )
    return {
        "data_dir": _data_dir(),
        "files": result.files,
        "conflicts": result.conflicts,
        "changesets": [
            {
                "id": pk,
                "status": sets[pk].status,
                "note": sets[pk].note,
                "created_by": sets[pk].created_by.username,
                "reviewed_by": by.username if (by := sets[pk].reviewed_by) else None,
                "review_comment": sets[pk].review_comment,
                "applied_at": at.isoformat() if (at := sets[pk].applied_at) else None,
                "reverts": sets[pk].reverts_id,
                "new_persons": new_persons.get(pk, []),
                "moves": by_cs.get(pk, []),
            }
            for pk in result.changeset_ids
            if pk in sets
        ],
    }


@require_safe
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def review_export(request: AuthenticatedRequest, fmt: str) -> HttpResponse:
    """The pending export as a unified diff (`patch`) or a JSON summary (`json`)."""
    if fmt not in ("patch", "json"):
        raise Http404("Formats: patch, json.")
    configured, result = _pending_patch()
    if not configured:
        return HttpResponse(
            "No Anthology data folder configured (ANTHOLOGY_DATA_DIR).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    if result is None:
        # Loading the Anthology takes a while: a worker prepares it, this page polls.
        return render(request, "assignments/review_export.html", {"fmt": fmt}, status=202)
    if request.htmx:
        # the polling page: now fetch the file itself
        return HttpResponseClientRedirect(request.path)
    if fmt == "json":
        return JsonResponse(_summary(result), status=409 if result.conflicts else 200)
    if result.conflicts:
        return HttpResponse(
            "Conflicts, no patch:\n" + "\n".join(result.conflicts) + "\n",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(result.diff, content_type="text/x-diff; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="anthology-review.patch"'
    return response
