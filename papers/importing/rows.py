"""Typed rows between the reader (`papers.importing.reader`) and the writer
(`papers.importing.writer`): one named tuple per catalog table, fields in column order.

The field names are the tables' column names, so the writer's COPY and merge statements, the
verification and the reader all take the columns from here: adding a column is one change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import models

from papers.models import Authorship, Collection, Paper, Person, PersonName, Volume


class CollectionRow(NamedTuple):
    id: str
    checksum: str  # of the collection's XML file: a re-import skips unchanged files


class VolumeRow(NamedTuple):
    id: str
    collection_id: str
    title: str
    year: int | None
    venue_ids: list[str]
    url: str


class PaperRow(NamedTuple):
    id: str
    volume_id: str
    title: str
    abstract: str
    year: int | None
    venue_ids: list[str]
    booktitle: str
    pdf_url: str
    is_frontmatter: bool


class PersonRow(NamedTuple):
    id: str
    first_name: str
    last_name: str
    orcid: str
    comment: str
    degree: str
    similar: list[str]
    disable_name_matching: bool
    is_verified: bool


class NameRow(NamedTuple):
    person_id: str
    first: str
    last: str
    script: str
    is_explicit: bool
    is_canonical: bool
    normalized: str


class AuthorshipRow(NamedTuple):
    item_id: str
    volume_id: str
    paper_id: str | None
    role: str
    position: int
    first: str
    last: str
    affiliation: str
    explicit_id: str
    explicit_orcid: str
    person_id: str


@dataclass
class Snapshot:
    """Everything the catalog stores, as read from one data folder."""

    source: str
    checksum: str
    people_checksum: str = ""
    collections: list[CollectionRow] = field(default_factory=list)
    volumes: list[VolumeRow] = field(default_factory=list)
    papers: list[PaperRow] = field(default_factory=list)
    persons: list[PersonRow] = field(default_factory=list)
    names: list[NameRow] = field(default_factory=list)
    authorships: list[AuthorshipRow] = field(default_factory=list)


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    row: type[tuple]  # one of the named tuples above
    snapshot_field: str  # the Snapshot attribute holding its rows
    key: tuple[str, ...]  # how rows are matched between the database and a snapshot

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @property
    def columns(self) -> tuple[str, ...]:
        return self.row._fields  # type: ignore[attr-defined]  # a NamedTuple: type[tuple] misses it

    def rows(self, snap: Snapshot) -> list:
        return getattr(snap, self.snapshot_field)


# In load order (foreign keys point backwards).
TABLES = (
    Table(Collection, CollectionRow, "collections", ("id",)),
    Table(Volume, VolumeRow, "volumes", ("id",)),
    Table(Paper, PaperRow, "papers", ("id",)),
    Table(Person, PersonRow, "persons", ("id",)),
    Table(PersonName, NameRow, "names", ("person_id", "first", "last", "script")),
    Table(Authorship, AuthorshipRow, "authorships", ("item_id", "role", "position")),
)
TABLE = {t.name: t for t in TABLES}
