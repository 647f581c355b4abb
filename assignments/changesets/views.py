"""Reviewers' drafting: assign entries from person pages, look after the draft, submit it."""

from collections import defaultdict
from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from assignments.changesets import selectors, services
from assignments.changesets.forms import AssignForm, NewPersonForm, NoteForm
from assignments.models import ChangeSet, Move, NewPerson, PageDecision
from assignments.pages.context import (
    assign_context,
    person_page_context,
    person_url,
    queue_filters,
    targets_context,
)
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
    form = AssignForm(request.POST, person=person, user=request.user)
    moves: list[Move] = []
    if form.is_valid():
        data = form.cleaned_data
        draft = services.changeset_get_or_create_draft(user=request.user)
        try:
            if isinstance(data["to_person"], NewPerson):
                moves = services.moves_add(
                    changeset=draft,
                    authorships=data["authorships"],
                    to_new_person=data["to_person"],
                )
            elif data["target"] == "new":
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
                assign_context(
                    request,
                    person,
                    form,
                    # bound to request.POST, a QueryDict (Form.data is typed as any Mapping)
                    selected=cast(QueryDict, form.data).getlist("authorships"),
                ),
            )
        return render(
            request, "assignments/person_detail.html", person_page_context(request, person, form)
        )

    target = moves[0].target_id
    message = (
        f"Added {len(moves)} move{'s' if len(moves) != 1 else ''} to {target} to your change set."
    )
    return _after_page_change(request, person, message)


def _after_page_change(request: AuthenticatedRequest, person: Person, message: str) -> HttpResponse:
    """A page's assign panel after a change to the draft: the message and "next page"."""
    if not request.htmx:
        messages.success(request, message)
        url = person_url(person.pk, request.preview.name if request.preview else None)
        if encoded := queue_filters(request).encode():
            url += f"?{urlencode({'queue': encoded})}"
        return redirect(url)
    # the list of papers refreshes itself on the event; the form needs only its own context
    context = assign_context(request, person) | {"assign_message": message}
    response = render(request, "assignments/person_detail.html#assign", context)
    return trigger_client_event(response, CHANGED_EVENT)


@require_safe
@vary_on_headers("HX-Request")
@permissions.role_required(*permissions.PROPOSERS)
def targets(request: AuthenticatedRequest) -> HttpResponse:
    """Who the selected papers of a page may belong to, ranked (the assign panel's #targets,
    fetched as the selection changes)."""
    person = get_object_or_404(Person, pk=request.GET.get("from_person", "")[:160])
    selected = [i for i in request.GET.getlist("authorships") if i.isdecimal()][:2000]
    if not request.htmx:
        # the page itself renders the ranking of a selection given in its address
        query = {"select": ",".join(selected)} if selected else {}
        return redirect(person_url(person.pk) + (f"?{urlencode(query)}" if query else ""))
    return render(
        request,
        "assignments/person_detail.html#targets",
        targets_context(request, person, selected),
    )


@require_POST
@permissions.role_required(*permissions.PROPOSERS)
def one_person(request: AuthenticatedRequest) -> HttpResponse:
    """Mark the page "one person" in the reviewer's draft."""
    person = get_object_or_404(Person, pk=request.POST.get("from_person", ""))
    draft = services.changeset_get_or_create_draft(user=request.user)
    try:
        decision = services.page_decision_add(changeset=draft, person=person)
    except ValidationError as e:
        if request.htmx:
            context = assign_context(request, person) | {"assign_error": " ".join(e.messages)}
            return render(request, "assignments/person_detail.html#assign", context, status=409)
        messages.error(request, " ".join(e.messages))
        return redirect(person_url(person.pk))
    n = len(decision.authorship_ids)
    return _after_page_change(
        request,
        person,
        f"Marked {person.pk} as one person ({n} paper{'s' if n != 1 else ''}) in your change set.",
    )


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


def _draft_context(
    request: AuthenticatedRequest,
    note_form: NoteForm | None = None,
    person_form: tuple[int, NewPersonForm] | None = None,
) -> dict:
    """The draft page. `person_form`: a new person's edit form as sent, with its errors."""
    draft = selectors.draft_for_user(request.user)
    groups: dict[str, list[Move]] = defaultdict(list)
    new_persons = {}
    marks: list[PageDecision] = []
    if draft is not None:
        moves = draft.moves.select_related(
            "authorship__paper", "authorship__volume", "to_person", "to_new_person"
        ).order_by("to_new_person_id", "to_person_id", "item_id")
        for move in moves:
            groups[move.target_id].append(move)
            if move.to_new_person is not None:
                new_persons[move.target_id] = move.to_new_person
        marks = list(draft.page_decisions.order_by("person_id"))

    def edit_form(np: NewPerson) -> NewPersonForm:
        if person_form is not None and person_form[0] == np.pk:
            return person_form[1]
        return NewPersonForm(
            initial={
                "first_name": np.first_name,
                "last_name": np.last_name,
                "orcid": np.orcid,
                "degree": np.degree,
                "comment": np.comment,
            },
            prefix=f"np{np.pk}",
        )

    past = (
        ChangeSet.objects.filter(created_by=request.user)
        .exclude(status=ChangeSet.Status.DRAFT)
        .order_by("-submitted_at", "-pk")[:20]
    )
    return {
        "draft": draft,
        "groups": [
            {
                "target": t,
                "moves": ms,
                "new_person": new_persons.get(t),
                "edit_form": edit_form(new_persons[t]) if t in new_persons else None,
            }
            for t, ms in groups.items()
        ],
        "marks": marks,
        "move_count": sum(len(ms) for ms in groups.values()),
        "note_form": note_form or NoteForm(initial={"note": draft.note if draft else ""}),
        "past": past,
        "next_url": reverse("pages:mixed_next"),
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
    request: AuthenticatedRequest, message: str = "", error: str = "", *, next_page: bool = False
) -> HttpResponse:
    """The draft page after a change; `next_page`: offer the next page of the queue."""
    if not request.htmx:
        if message:
            messages.success(request, message)
        if error:
            messages.error(request, error)
        return redirect("assignments:draft")
    context = _draft_context(request)
    context.update(draft_message=message, draft_error=error, offer_next=next_page)
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
def decision_remove(request: AuthenticatedRequest, decision_id: int) -> HttpResponse:
    draft = selectors.draft_for_user(request.user)
    if draft is None:
        return _after_draft_change(request, error="You have no draft change set.")
    decision = get_object_or_404(PageDecision, pk=decision_id, changeset=draft)
    try:
        services.page_decision_remove(changeset=draft, decision=decision)
    except ValidationError as e:
        return _after_draft_change(request, error=" ".join(e.messages))
    return _after_draft_change(
        request, message=f"{decision.person_id} is no longer marked as one person."
    )


@require_POST
@permissions.role_required(*permissions.PROPOSERS)
def newperson_edit(request: AuthenticatedRequest, new_person_id: int) -> HttpResponse:
    """Correct a new person's name, ORCID iD, degree or comment in the draft."""
    draft = selectors.draft_for_user(request.user)
    if draft is None:
        return _after_draft_change(request, error="You have no draft change set.")
    new_person = get_object_or_404(NewPerson, pk=new_person_id, changeset=draft)
    form = NewPersonForm(request.POST, prefix=f"np{new_person.pk}")
    if form.is_valid():
        try:
            services.newperson_update(changeset=draft, new_person=new_person, **form.cleaned_data)
        except ValidationError as e:
            if hasattr(e, "error_dict"):
                for name, errors in e.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, e)
    if form.errors:
        template = (
            "assignments/changeset.html#changeset" if request.htmx else "assignments/changeset.html"
        )
        context = _draft_context(request, person_form=(new_person.pk, form))
        context.update(draft_error=f"{new_person.person_id} not saved: fix it first.")
        return render(request, template, context, status=422)
    return _after_draft_change(request, message=f"Saved new person {new_person.person_id}.")


@require_http_methods(["GET", "POST"])
@permissions.role_required(*permissions.PROPOSERS)
def discard(request: AuthenticatedRequest) -> HttpResponse:
    """Throw the draft away, after a confirm step the server renders."""
    draft = selectors.draft_for_user(request.user)
    if draft is None:
        return _after_draft_change(request, error="You have no draft change set.")
    if request.method == "GET" or request.POST.get("confirmed") != "yes":
        context = {
            "draft": draft,
            "move_count": draft.moves.count(),
            "mark_count": draft.page_decisions.count(),
        }
        return render(request, "assignments/changeset_discard.html", context)
    try:
        services.changeset_discard(changeset=draft, user=request.user)
    except ValidationError as e:
        return _after_draft_change(request, error=" ".join(e.messages))
    messages.success(request, f"Draft {draft.pk} discarded.")
    return redirect("assignments:draft")


@require_POST
@permissions.role_required(*permissions.PROPOSERS)
def withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Take a submitted change set back into the draft, before a maintainer decides."""
    changeset = get_object_or_404(ChangeSet, pk=pk, created_by=request.user)
    try:
        draft = services.changeset_withdraw(changeset=changeset, user=request.user)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect("assignments:mine")
    messages.success(
        request, f"Change set {pk} withdrawn: its moves are back in your draft {draft.pk}."
    )
    return redirect("assignments:draft")


@require_safe
@permissions.role_required(*permissions.PROPOSERS)
def mine(request: AuthenticatedRequest) -> HttpResponse:
    """The reviewer's own change sets: the draft, those waiting, those decided."""
    sets = (
        ChangeSet.objects.filter(created_by=request.user)
        .select_related("reviewed_by")
        .annotate(
            move_count=Count("moves", distinct=True),
            mark_count=Count("page_decisions", distinct=True),
        )
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(sets, 50).get_page(request.GET.get("page"))
    return render(request, "assignments/changesets_mine.html", {"page": page})


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
        request,
        message=f"Change set {draft.pk} is submitted for review. Thank you!",
        next_page=True,
    )
