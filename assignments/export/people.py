"""The `people.json` entry of a person, built and formatted once, as the official library writes it
(`PersonIndex.save`: the explicit names, then comment, degree, disable_name_matching, orcid,
similar, empty ones left out; `msgspec` formatting with the names collapsed to one line).

The export reports the entries it writes through `entry_of`, and the review page shows the
entries a change set will write through `entry`: one rule, so the maintainer sees what the
export will write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from acl_anthology.people import Name, NameLink, Person
from acl_anthology.utils.json import collapse_names
from msgspec import json


def entry(
    *,
    names: Sequence[tuple[str, str, str]],  # (first, last, script), "" for none
    comment: str = "",
    degree: str = "",
    disable_name_matching: bool = False,
    orcid: str = "",
    similar: Iterable[str] = (),
) -> dict[str, Any]:
    attrib: dict[str, Any] = {
        "names": [
            Name(first or None, last, script or None).to_dict() for first, last, script in names
        ],
        "comment": comment,
        "degree": degree,
        "disable_name_matching": disable_name_matching,
        "orcid": orcid,
        "similar": list(similar),
    }
    return {k: v for k, v in attrib.items() if v}


def entry_of(person: Person) -> dict[str, Any]:
    """The entry the library writes for one of its persons (as `PersonIndex.save` does)."""
    return entry(
        names=[
            (name.first or "", name.last, name.script or "")
            for name, link in person._names
            if link == NameLink.EXPLICIT
        ],
        comment=person.comment or "",
        degree=person.degree or "",
        disable_name_matching=person.disable_name_matching,
        orcid=person.orcid or "",
        similar=person.similar_ids,
    )


def entry_text(person_id: str, value: dict[str, Any]) -> str:
    """The entry as it stands in people.json (without the enclosing braces' indentation)."""
    text = collapse_names(json.format(json.encode({person_id: value}))).decode("utf-8")
    # {"id": {...}} -> "id": {...}, one level less indented, as the entry appears in the file
    lines = text.splitlines()[1:-1]
    return "\n".join(line.removeprefix("  ") for line in lines)
