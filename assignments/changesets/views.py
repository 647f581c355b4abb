"""Reviewers' drafting: assign entries from person pages, look after the draft, submit it."""

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from assignments.changesets import selectors, services
from assignments.changesets.forms import AssignForm, NoteForm
from assignments.models import ChangeSet, Move
from assignments.pages.context import assign_context, person_page_context, person_url
from papers import permissions
from papers.http import AuthenticatedRequest
from papers.models import Person
from papers.orcid import orcid_normalize

CHANGED_EVENT = "changeset-changed"


@require_POST
@permissions.role_required(*permissions.PROPOSERS)
def assign(request: AuthenticatedRequest) -> HttpResponse:
    """Record the selected entries' move in the reviewer's draft (created on first use)."""
    person = get_object_or_404(Person, pk=request.POST.get("from_person", ""))
    form = AssignForm(request.POST, person=person)
    moves: list[Move] = []
    if form.is_valid():
        data = form.cleaned_data
        draft = services.changeset_get_or_create_draft(user=request.user)
        try:
            if data["target"] == "new":
                moves = services.moves_add_to_new_person(
                    changeset=draft,
                    authorships=data["authorships"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    orcid=data["orcid"],
                    degree=data["degree"],
                    comment=data["comment"],
                    person_id=data["person_id"] or None,
                )
            else:
                moves = services.moves_add(
                    changeset=draft, authorships=data["authorships"], to_person=data["to_person"]
                )
        except ValidationError as e:
            form.add_error(None, e)

    if not moves:
        if request.htmx:
            return render(
                request,
                "assignments/person_detail.html#assign",
                assign_context(request, person, form),
            )
        return render(
            request, "assignments/person_detail.html", person_page_context(request, person, form)
        )

    target = moves[0].target_id
    message = (
        f"Added {len(moves)} move{'s' if len(moves) != 1 else ''} to {target} to your change set."
    )
    if not request.htmx:
        messages.success(request, message)
        return redirect(person_url(person.pk, request.preview.name if request.preview else None))
    # the list of papers refreshes itself on the event; the form needs only its own context
    context = assign_context(request, person) | {"assign_message": message}
    response = render(request, "assignments/person_detail.html#assign", context)
    return trigger_client_event(response, CHANGED_EVENT)


@require_safe
@permissions.role_required(*permissions.PROPOSERS)
def propose_id(request: AuthenticatedRequest) -> HttpResponse:
    """The id a new person would get, shown live under the new-person fields."""
    error, proposal = "", ""
    last = request.GET.get("last_name", "").strip()
    if last:
        try:
            proposal = services.person_id_propose(
                first_name=request.GET.get("first_name", "").strip(),
                last_name=last,
                degree=request.GET.get("degree", ""),
                orcid=orcid_normalize(request.GET.get("orcid", "")),
            )
        except ValidationError as e:
            error = " ".join(e.messages)
    return render(request, "assignments/proposed_id.html", {"proposal": proposal, "error": error})


def _draft_context(request: AuthenticatedRequest, note_form: NoteForm | None = None) -> dict:
    draft = selectors.draft_for_user(request.user)
    groups: dict[str, list[Move]] = defaultdict(list)
    new_persons = {}
    if draft is not None:
        moves = draft.moves.select_related(
            "authorship__paper", "authorship__volume", "to_person", "to_new_person"
        ).order_by("to_new_person_id", "to_person_id", "item_id")
        for move in moves:
            groups[move.target_id].append(move)
            if move.to_new_person is not None:
                new_persons[move.target_id] = move.to_new_person
    past = (
        ChangeSet.objects.filter(created_by=request.user)
        .exclude(status=ChangeSet.Status.DRAFT)
        .order_by("-submitted_at", "-pk")[:20]
    )
    return {
        "draft": draft,
        "groups": [
            {"target": t, "moves": ms, "new_person": new_persons.get(t)} for t, ms in groups.items()
        ],
        "move_count": sum(len(ms) for ms in groups.values()),
        "note_form": note_form or NoteForm(initial={"note": draft.note if draft else ""}),
        "past": past,
    }


@require_safe
@vary_on_headers("HX-Request")
@permissions.role_required(*permissions.PROPOSERS)
def changeset_draft(request: AuthenticatedRequest) -> HttpResponse:
    """The reviewer's draft: its moves by target person, the note, submit."""
    template = (
        "assignments/changeset.html#changeset" if request.htmx else "assignments/changeset.html"
    )
    return render(request, template, _draft_context(request))


def _after_draft_change(
    request: AuthenticatedRequest, message: str = "", error: str = ""
) -> HttpResponse:
    if not request.htmx:
        if message:
            messages.success(request, message)
        if error:
            messages.error(request, error)
        return redirect("assignments:draft")
    context = _draft_context(request)
    context.update(draft_message=message, draft_error=error)
    response = render(request, "assignments/changeset.html#changeset", context)
    return trigger_client_event(response, CHANGED_EVENT)


def _note_refused(request: AuthenticatedRequest, note_form: NoteForm, error: str) -> HttpResponse:
    """The draft again, with the note as typed and its errors: nothing typed is lost."""
    template = (
        "assignments/changeset.html#changeset" if request.htmx else "assignments/changeset.html"
    )
    context = _draft_context(request, note_form)
    context.update(draft_error=error)
    return render(request, template, context)


@require_POST
@permissions.role_required(*permissions.PROPOSERS)
def move_remove(request: AuthenticatedRequest, move_id: int) -> HttpResponse:
    draft = selectors.draft_for_user(request.user)
    # Only moves of the user's own draft can be found here.
    move = get_object_or_404(Move, pk=move_id, changeset=draft) if draft else None
    if draft is None or move is None:
        return _after_draft_change(request, error="You have no draft change set.")
    try:
        services.move_remove(changeset=draft, move=move)
    except ValidationError as e:
        return _after_draft_change(request, error=" ".join(e.messages))
    return _after_draft_change(request, message=f"Removed the move of {move.item_id}.")


@require_POST
@permissions.role_required(*permissions.PROPOSERS)
def note_update(request: AuthenticatedRequest) -> HttpResponse:
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _note_refused(request, form, "Note not saved: fix it first.")
    draft = services.changeset_get_or_create_draft(user=request.user)
    try:
        services.changeset_update_note(changeset=draft, note=form.cleaned_data["note"])
    except ValidationError as e:
        return _after_draft_change(request, error=" ".join(e.messages))
    return _after_draft_change(request, message="Note saved.")


@require_POST
@permissions.role_required(*permissions.PROPOSERS)
def submit(request: AuthenticatedRequest) -> HttpResponse:
    draft = selectors.draft_for_user(request.user)
    if draft is None:
        return _after_draft_change(request, error="You have no draft change set to submit.")
    note_form = NoteForm(request.POST)
    # The note box sits next to the submit button: what is typed there goes with it, so a note
    # that cannot be saved stops the submit, and comes back with its error to be fixed.
    if "note" in request.POST and not note_form.is_valid():
        return _note_refused(request, note_form, "Not submitted: fix the note first.")
    try:
        if "note" in request.POST:
            services.changeset_update_note(changeset=draft, note=note_form.cleaned_data["note"])
        services.changeset_submit(changeset=draft, user=request.user)
    except ValidationError as e:
        return _after_draft_change(request, error=" ".join(e.messages))
    return _after_draft_change(
        request, message=f"Change set {draft.pk} is submitted for review. Thank you!"
    )
