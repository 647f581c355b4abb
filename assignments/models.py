"""Change sets: reviewers' proposed moves of author entries between persons, and their review."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from papers.models import Authorship, Person


class ChangeSet(models.Model):
    """A reviewer's proposed moves, reviewed and applied as one.

    Every foreign key of the review records is enforced by the database (DB_* or DO_NOTHING,
    which leaves PostgreSQL's NO ACTION constraint to refuse a delete): Move.authorship must be
    set null by the database when an import deletes an entry by SQL, and Django does not allow
    database- and Python-level rules to be mixed in one chain of references.
    """

    class Status(models.TextChoices):
        DRAFT = "draft"  # being built by its reviewer, saved as it grows
        SUBMITTED = "submitted"  # waiting for a maintainer
        APPLIED = "applied"  # approved (wholly or in part) and applied to the data
        REJECTED = "rejected"
        REVERTED = "reverted"  # applied, then undone by a later change set

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="changesets"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="reviewed_changesets",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)
    # A revert is itself a change set that points at the one it undoes.
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="reverted_by"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "submitted_at"], name="changeset_queue_idx")]

    def __str__(self) -> str:
        return f"change set {self.pk} ({self.status})"


class NewPerson(models.Model):
    """A verified person that a change set creates when it is applied."""

    changeset = models.ForeignKey(
        ChangeSet, on_delete=models.DB_CASCADE, related_name="new_persons"
    )
    person_id = models.CharField(max_length=160)
    first_name = models.TextField(blank=True)
    last_name = models.TextField()
    orcid = models.CharField(max_length=19, blank=True)
    degree = models.TextField(blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["changeset", "person_id"], name="newperson_unique")
        ]

    def __str__(self) -> str:
        return self.person_id


class Move(models.Model):
    """Move one author/editor entry from the person it resolves to, to another person."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        APPLIED = "applied"
        REVERTED = "reverted"

    changeset = models.ForeignKey(ChangeSet, on_delete=models.DB_CASCADE, related_name="moves")
    # The record of who moved what outlives a re-import that drops the entry (item, role,
    # position and from are kept below). At the database level: the import deletes by SQL.
    authorship = models.ForeignKey(
        Authorship, null=True, on_delete=models.DB_SET_NULL, related_name="moves"
    )
    item_id = models.CharField(max_length=128)
    role = models.CharField(max_length=6)
    position = models.PositiveSmallIntegerField()
    # The person the entry resolved to when the move was proposed: applying compares and swaps.
    from_person_id = models.CharField(max_length=160)
    # Exactly one of to_person (existing) and to_new_person (created on apply).
    to_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="incoming_moves"
    )
    to_new_person = models.ForeignKey(
        NewPerson, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="moves"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    applied_at = models.DateTimeField(null=True, blank=True)
    # What the export changed in the Anthology's files for this move ({"previous_id": the XML
    # entry's `id` before, "added_name": [first, last] if the name was added to the target's
    # people.json entry}): a revert's export restores exactly this, byte for byte.
    export_record = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to_person__isnull=True) ^ models.Q(to_new_person__isnull=True),
                name="move_one_target",
            ),
            models.UniqueConstraint(fields=["changeset", "authorship"], name="move_unique"),
        ]
        indexes = [
            models.Index(fields=["authorship", "status"], name="move_authorship_idx"),
            models.Index(fields=["from_person_id"], name="move_from_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.from_person_id} -> {self.target_id}"

    @property
    def target_id(self) -> str:
        if self.to_new_person is not None:
            return self.to_new_person.person_id
        return self.to_person_id or ""

    @property
    def xml_id(self) -> str:
        """The `id` attribute the move writes on the author entry: none for an unverified
        person, who is reached by name alone."""
        target = self.target_id
        return "" if target.endswith("/unverified") else target


class PageDecision(models.Model):
    """A reviewer's decision about a whole page, proposed in a change set like a move.

    "One person": the entries on the page when it was decided belong to one person. Once
    applied (and not reverted) they are must-link constraints for the clustering, and the page
    leaves the queue of mixed pages for good.
    """

    class Kind(models.TextChoices):
        ONE_PERSON = "one_person", "one person"

    changeset = models.ForeignKey(
        ChangeSet, on_delete=models.DB_CASCADE, related_name="page_decisions"
    )
    # The page's id as a string, like Move.from_person_id: the record outlives the page.
    person_id = models.CharField(max_length=160)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ONE_PERSON)
    # The entries the decision covers (authorship ids on the page when it was made): entries
    # that arrive later are not vouched for.
    authorship_ids = ArrayField(models.BigIntegerField(), default=list)
    # A move's life cycle: pending in a draft or submitted set, then approved and applied, or
    # rejected; reverted when its change set is.
    status = models.CharField(
        max_length=10, choices=Move.Status.choices, default=Move.Status.PENDING
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["changeset", "person_id", "kind"], name="pagedecision_unique"
            )
        ]
        indexes = [models.Index(fields=["person_id", "status"], name="pagedecision_person_idx")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.get_kind_display()}"


class Suggestion(models.Model):
    """The clustering service's proposed split of one person page, stored for instant display."""

    # At the database level: the import removes persons by SQL.
    person = models.OneToOneField(Person, on_delete=models.DB_CASCADE, related_name="suggestion")
    computed_at = models.DateTimeField(auto_now=True)
    # expected number of distinct people the page mixes (1.0 = one person)
    estimated_people = models.FloatField(default=1.0)
    # probability that the page mixes more than one person, for the "most likely mixed" queue
    mixed_score = models.FloatField(default=0.0, db_index=True)
    # [{"authorships": [ids], "confidence": float, "evidence": {...}}, ...]
    # (selectors.suggestion_cluster)
    clusters = models.JSONField(default=list)
    # why neighbouring clusters were kept apart: [{"clusters": [a, b], "reason": str, ...}]
    separations = models.JSONField(default=list)
    item_count = models.PositiveIntegerField(default=0)
    # The entries the split was computed from (`suggestions.split.entries_fingerprint`): a
    # page whose entries changed since says its suggestion is out of date.
    fingerprint = models.CharField(max_length=32, blank=True)
    # What the queue is ordered by: the expected number of the page's papers that belong to
    # someone else (mixed_score is 1 minus the share expected to stay with the main person).
    expected_moves = models.GeneratedField(
        expression=models.F("mixed_score") * models.F("item_count"),
        output_field=models.FloatField(),
        db_persist=True,
    )

    class Meta:
        indexes = [
            models.Index(
                models.F("expected_moves").desc(),
                models.F("mixed_score").desc(),
                "person",
                name="suggestion_queue_idx",
            )
        ]

    def __str__(self) -> str:
        return f"suggestion for {self.person_id}"
