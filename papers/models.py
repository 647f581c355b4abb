"""The Anthology's data as the official `acl-anthology` library resolves it.

Ids are the Anthology's own (`2024.acl-long.1`, `yang-liu-ict`, `peiyu-liu/unverified`), so that
pages, exports and the library agree without a translation table.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Collection(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    # Content hash of the collection's XML file: a re-import skips unchanged files.
    checksum = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.id


class Volume(models.Model):
    id = models.CharField(primary_key=True, max_length=96)  # "2024.acl-long"
    # Database-level deletes: the import deletes rows by SQL, where Python-level rules never run.
    collection = models.ForeignKey(Collection, on_delete=models.DB_CASCADE, related_name="volumes")
    title = models.TextField()
    year = models.PositiveSmallIntegerField(null=True)
    venue_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    url = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.id


class Paper(models.Model):
    """A paper, or a volume's front matter (number "0"), as the library lists them."""

    id = models.CharField(primary_key=True, max_length=128)  # "2024.acl-long.1"
    volume = models.ForeignKey(Volume, on_delete=models.DB_CASCADE, related_name="papers")
    title = models.TextField()
    abstract = models.TextField(blank=True)
    year = models.PositiveSmallIntegerField(null=True, db_index=True)
    venue_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    booktitle = models.TextField(blank=True)
    pdf_url = models.URLField(max_length=500, blank=True)
    is_frontmatter = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.id


class Person(models.Model):
    """A person as the library knows them: verified (in people.json) or `{slug}/unverified`."""

    id = models.CharField(primary_key=True, max_length=160)
    first_name = models.TextField(blank=True)  # canonical name
    last_name = models.TextField()
    orcid = models.CharField(max_length=19, blank=True)
    comment = models.TextField(blank=True)
    degree = models.TextField(blank=True)
    similar = ArrayField(models.CharField(max_length=160), default=list, blank=True)
    disable_name_matching = models.BooleanField(default=False)
    is_verified = models.BooleanField(default=False)
    # Denormalised from authorships for search hits and queues; services keep them current.
    item_count = models.PositiveIntegerField(default=0, db_default=0)
    first_year = models.PositiveSmallIntegerField(null=True)
    last_year = models.PositiveSmallIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["-item_count"], name="person_item_count_idx")]

    def __str__(self) -> str:
        return self.id

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PersonName(models.Model):
    """Every name a person is known by, searchable accent- and case-insensitively."""

    person = models.ForeignKey(Person, on_delete=models.DB_CASCADE, related_name="name_variants")
    first = models.TextField(blank=True)
    last = models.TextField()
    script = models.CharField(max_length=16, blank=True)
    # explicit: listed in people.json; otherwise inferred from a paper's author entry
    is_explicit = models.BooleanField(default=False)
    is_canonical = models.BooleanField(default=False)
    # lower-cased, transliterated "first last" (papers.names.normalize): what search matches
    normalized = models.TextField()

    class Meta:
        constraints = [
            # The import matches names on these; two writers adding one name agree on one row.
            models.UniqueConstraint(
                fields=["person", "first", "last", "script"], name="personname_unique"
            )
        ]
        indexes = [
            GinIndex(fields=["normalized"], opclasses=["gin_trgm_ops"], name="personname_trgm"),
            # The names' words, for search's whole-word shortcut (selectors.NAME_WORDS).
            GinIndex(
                models.Func(
                    models.F("normalized"),
                    models.Value(" "),
                    function="string_to_array",
                    output_field=ArrayField(models.TextField()),
                ),
                name="personname_words",
            ),
            models.Index(fields=["normalized"], name="personname_normalized_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first} {self.last}".strip()


class Authorship(models.Model):
    """One `<author>` or `<editor>` entry of the XML, and the person it resolves to.

    Volume editors (in a volume's `<meta>`) have `paper` unset; `item_id` is the id of the paper
    or volume the entry is written on, so (item_id, role, position) names the entry in the XML.
    """

    class Role(models.TextChoices):
        AUTHOR = "author"
        EDITOR = "editor"

    item_id = models.CharField(max_length=128)
    volume = models.ForeignKey(Volume, on_delete=models.DB_CASCADE, related_name="authorships")
    paper = models.ForeignKey(
        Paper, on_delete=models.DB_CASCADE, null=True, blank=True, related_name="authorships"
    )
    role = models.CharField(max_length=6, choices=Role.choices)
    position = models.PositiveSmallIntegerField()
    first = models.TextField(blank=True)  # the name as printed
    last = models.TextField()
    affiliation = models.TextField(blank=True)
    explicit_id = models.CharField(max_length=160, blank=True)  # the `id` attribute
    explicit_orcid = models.CharField(max_length=19, blank=True)  # the `orcid` attribute
    # Indexed by authorship_person_idx (person, item_id). A person with entries cannot be
    # deleted: the database refuses (DO_NOTHING here, NO ACTION in the constraint).
    person = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, related_name="authorships", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item_id", "role", "position"], name="authorship_entry_unique"
            )
        ]
        indexes = [
            models.Index(fields=["person", "item_id"], name="authorship_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.role} {self.position}: {self.person_id}"

    @property
    def printed_name(self) -> str:
        return f"{self.first} {self.last}".strip()


class ImportRun(models.Model):
    """One run of `import_anthology` (or the import page): what, when, by whom, and the outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    source = models.TextField()  # the path the import reads (an upload is stored on the server)
    # What the user gave: the uploaded file's name, or the path; shown on pages and in errors.
    source_name = models.TextField(blank=True)
    # Set for a preview import: the data was loaded beside the current data, not over it.
    preview_name = models.CharField(max_length=40, blank=True)
    stage = models.CharField(max_length=20, blank=True)  # parse / extract / write, for the page
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    # papers/persons added/changed/removed, authorships whose person changed, ...
    counts = models.JSONField(default=dict, blank=True)
    summary = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, for the import page
    # content hash of the whole data folder: a no-change re-import stops after hashing
    checksum = models.CharField(max_length=64, blank=True)
    # people.json's own hash: while it is unchanged, unchanged collections need no re-resolving
    people_checksum = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.source} ({self.status})"

    @property
    def duration(self):
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class RemovedPerson(models.Model):
    """A person an import removed, and where its entries went: its old page says so."""

    person_id = models.CharField(max_length=160, db_index=True)
    name = models.TextField()
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="removed"
    )
    removed_at = models.DateTimeField(auto_now_add=True)
    entries = models.PositiveIntegerField(default=0)  # entries it had before the import
    # [{"person_id": str, "name": str, "entries": int}, ...], most entries first; entries that
    # the import deleted with their papers are the difference to `entries`
    went_to = models.JSONField(default=list)

    class Meta:
        ordering = ["-removed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.person_id} (removed)"

    @property
    def deleted_entries(self) -> int:
        return self.entries - sum(w["entries"] for w in self.went_to)


class Preview(models.Model):
    """A proposed change's data, loaded beside the current data in its own PostgreSQL schema.

    The schema holds copies of the papers_* tables with the preview applied; authorship rows keep
    the ids of the current rows they match, so proposals made on a preview page name real rows.
    """

    class Status(models.TextChoices):
        READY = "ready"
        PROMOTED = "promoted"
        DISCARDED = "discarded"

    name = models.SlugField(max_length=40, unique=True)
    source = models.TextField()
    import_run = models.OneToOneField(ImportRun, on_delete=models.PROTECT, related_name="preview")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY)
    created_at = models.DateTimeField(auto_now_add=True)
    # persons added/removed/renamed, entries that change person, new unverified pages, ...
    effect = models.JSONField(default=dict)

    def __str__(self) -> str:
        return self.name

    @property
    def schema(self) -> str:
        return preview_schema(self.name)


def preview_schema(name: str) -> str:
    # Lower-cased as PostgreSQL folds the unquoted name: catalog lookups must use the same text.
    return "preview_" + name.lower().replace("-", "_")
