"""Forms parse and shape input; the rules (ids, ORCIDs, conflicts) live in the services."""

from typing import cast

from django import forms
from django.contrib.auth.models import AnonymousUser, User

from assignments.changesets import selectors
from assignments.models import NewPerson
from papers.models import Authorship, Person

NOTE_MAX_LENGTH = 5000


class AssignForm(forms.Form):
    """Assign the selected entries of one person page to an existing or a new person."""

    TARGET_CHOICES = [("person", "An existing person"), ("new", "A new person")]

    from_person = forms.CharField(widget=forms.HiddenInput)
    authorships = forms.ModelMultipleChoiceField(
        queryset=Authorship.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": "Some selected papers are no longer on this page; reload it.",
            "invalid_pk_value": "Some selected papers are no longer on this page; reload it.",
        },
    )
    target = forms.ChoiceField(
        choices=TARGET_CHOICES, initial="person", widget=forms.RadioSelect, label="Assign to"
    )
    to_person = forms.CharField(
        required=False,
        label="Person id",
        max_length=160,
        help_text="Search by name above, or type the id (e.g. yang-liu-ict).",
    )
    first_name = forms.CharField(required=False, label="First name")
    last_name = forms.CharField(required=False, label="Last name")
    orcid = forms.CharField(required=False, label="ORCID iD", max_length=60)
    degree = forms.CharField(
        required=False, label="Degree institution", help_text="Where they got their PhD."
    )
    comment = forms.CharField(
        required=False,
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to tell namesakes apart, e.g. “Renmin University, LLM compression”.",
    )
    person_id = forms.CharField(
        required=False, label="Id", max_length=160, help_text="Leave empty to use the proposal."
    )

    def __init__(
        self, *args, person: Person, user: User | AnonymousUser | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        self.user = user
        self.fields["from_person"].initial = person.pk
        # A new person most often keeps the page's name.
        self.fields["first_name"].initial = person.first_name
        self.fields["last_name"].initial = person.last_name
        # Only entries of this page can be selected on it.
        authorships = cast(forms.ModelMultipleChoiceField, self.fields["authorships"])
        authorships.queryset = Authorship.objects.filter(person=person)

    def clean_to_person(self) -> Person | NewPerson | None:
        """An existing person, or a new person the reviewer's draft already proposes (papers
        of several pages often go to one new person)."""
        value = self.cleaned_data["to_person"].strip()
        if self.cleaned_data.get("target") != "person":
            return None
        if not value:
            raise forms.ValidationError("Choose the person to assign the papers to.")
        person_id = value.removeprefix("/people/").strip("/")
        person = Person.objects.filter(pk=person_id).first()
        if person is not None:
            return person
        draft = selectors.draft_for_user(self.user) if self.user is not None else None
        if draft is not None:
            proposed = draft.new_persons.filter(person_id=person_id).first()
            if proposed is not None:
                return proposed
        raise forms.ValidationError(f"There is no person with the id “{value}”.")

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns, though typed as maybe None
        if not data.get("authorships") and "authorships" not in self.errors:
            self.add_error("authorships", "Select at least one paper to assign.")
        if data.get("target") == "new" and not (data.get("last_name") or "").strip():
            self.add_error("last_name", "A new person needs a last name.")
        return data


class NoteForm(forms.Form):
    # No maxlength attribute: the browser would cut a long paste silently. The counter
    # (static/js/site.js) shows the length as it is typed; the server refuses what is over.
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-max-length": NOTE_MAX_LENGTH}),
        label="Note for the maintainer",
        max_length=NOTE_MAX_LENGTH,
        help_text=f"At most {NOTE_MAX_LENGTH:,} characters.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs.pop("maxlength", None)


class NewPersonForm(forms.Form):
    """Correct a new person of the draft before it is submitted (its id stays)."""

    first_name = forms.CharField(required=False, label="First name", max_length=200)
    last_name = forms.CharField(required=False, label="Last name", max_length=200)
    orcid = forms.CharField(required=False, label="ORCID iD", max_length=60)
    degree = forms.CharField(required=False, label="Degree institution", max_length=300)
    comment = forms.CharField(
        required=False, label="Comment", max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
