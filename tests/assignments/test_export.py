"""Export to an Anthology data folder, checked by loading the result with the official library."""

import json
from pathlib import Path

import pytest
from django.db.models import Count, Exists, OuterRef

from assignments.export import services as export
from assignments.models import ChangeSet, Move
from assignments.review import services as review
from papers.library import entry_resolutions as library_resolutions
from papers.models import Authorship, Person
from tests.factories import (
    make_changeset,
    make_move,
    make_new_person,
    make_person,
    make_proposal,
)

pytestmark = pytest.mark.django_db

UNVERIFIED = "peiyu-liu/unverified"


def _snapshot(data: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()
    }


RUC = (
    "2021.acl-long.418",
    "2022.coling-1.288",
    "2023.acl-long.212",
    "2024.acl-long.133",
    "2024.lrec-main.461",
    "2024.lrec-main.534",
)
SDNU = ("2024.lrec-main.746", "2025.coling-main.222")


def _split_peiyu_liu(maintainer) -> ChangeSet:
    """RUC's papers to one new person, Shandong's to another; CP-BCS (EMNLP 2023) stays."""
    cs = make_changeset(note="Two people: RUC (Wayne Xin Zhao's group) and Fuyong Xu's coauthor")
    ruc = make_new_person(
        changeset=cs,
        person_id="peiyu-liu-ruc",
        first="Peiyu",
        last="Liu",
        degree="Renmin University of China",
    )
    other = make_new_person(changeset=cs, person_id="peiyu-liu-sdnu", first="Peiyu", last="Liu")
    for a in Authorship.objects.filter(person_id=UNVERIFIED).order_by("item_id"):
        if a.item_id in RUC + SDNU:
            make_move(changeset=cs, authorship=a, to_new_person=ruc if a.item_id in RUC else other)
    review.changeset_approve(changeset=cs, user=maintainer)
    return cs


def test_split_export_resolves_moved_entries_to_new_ids_and_nothing_else(folder, maintainer):
    before = library_resolutions(folder)
    original = _snapshot(folder)
    cs = _split_peiyu_liu(maintainer)
    moved = {(m.item_id, m.role, m.position): m.target_id for m in cs.moves.all()}
    assert sorted(moved.values()) == ["peiyu-liu-ruc"] * 6 + ["peiyu-liu-sdnu"] * 2

    result = export.changes_export(data_dir=folder)

    assert result.ok and result.written and result.changeset_ids == [cs.pk]
    touched = ["2021.acl", "2022.coling", "2023.acl", "2024.acl", "2024.lrec", "2025.coling"]
    assert sorted(result.files) == ["json/people.json"] + [f"xml/{c}.xml" for c in touched]
    after = library_resolutions(folder)
    assert after == {key: moved.get(key, pid) for key, pid in before.items()}
    # the EMNLP entry is still on the unverified page
    assert [k for k, v in after.items() if v == UNVERIFIED] == [
        ("2023.emnlp-main.911", "author", 5)
    ]
    changed = {k for k, v in _snapshot(folder).items() if original[k] != v}
    assert changed == set(result.files)
    people = json.loads((folder / "json/people.json").read_text())
    assert people["peiyu-liu-ruc"] == {
        "names": [{"first": "Peiyu", "last": "Liu"}],
        "degree": "Renmin University of China",
    }
    assert people["peiyu-liu-sdnu"] == {"names": [{"first": "Peiyu", "last": "Liu"}]}
    assert '<author id="peiyu-liu-ruc"><first>Peiyu</first><last>Liu</last></author>' in (
        result.diff
    )
    # one line per moved entry, nothing else in the XML files
    assert result.diff.count("\n+      <author id=") == 8
    assert result.diff.count("\n-      <author>") == 8
    xml_diff = result.diff[result.diff.index("--- a/data/xml/") :]
    assert len([x for x in xml_diff.splitlines() if x[:1] in "+-" and x[:3] not in "+++---"]) == 16
    cs.refresh_from_db()
    assert cs.exported_at is not None
    assert set(
        Authorship.objects.filter(moves__changeset=cs).values_list("explicit_id", flat=True)
    ) == {"peiyu-liu-ruc", "peiyu-liu-sdnu"}


def test_second_export_and_export_with_nothing_approved_change_nothing(folder, maintainer):
    original = _snapshot(folder)
    empty = export.changes_export(data_dir=folder)
    assert empty.ok and empty.diff == "" and empty.changeset_ids == []
    assert _snapshot(folder) == original

    # submitted but not approved: not exported
    a = Authorship.objects.filter(person_id=UNVERIFIED).first()
    make_proposal(authorships=[a], person_id="peiyu-liu-x")
    assert export.changes_export(data_dir=folder).diff == ""
    assert _snapshot(folder) == original

    _split_peiyu_liu(maintainer)
    first = export.changes_export(data_dir=folder)
    assert first.diff
    exported = _snapshot(folder)
    second = export.changes_export(data_dir=folder)
    assert second.diff == "" and second.files == [] and second.changeset_ids == []
    assert _snapshot(folder) == exported


def test_dry_run_prints_the_diff_and_writes_nothing(folder, maintainer):
    original = _snapshot(folder)
    cs = _split_peiyu_liu(maintainer)
    result = export.changes_export(data_dir=folder, dry_run=True)
    assert result.diff.startswith("--- a/data/json/people.json\n+++ b/data/json/people.json")
    assert "+++ b/data/xml/2024.lrec.xml" in result.diff
    assert "2023.emnlp" not in result.diff
    assert not result.written
    assert _snapshot(folder) == original
    cs.refresh_from_db()
    assert cs.exported_at is None
    assert not any(Move.objects.values_list("export_record", flat=True))


def test_revert_after_export_restores_the_original_bytes(folder, maintainer):
    original = _snapshot(folder)
    cs = _split_peiyu_liu(maintainer)
    export.changes_export(data_dir=folder)
    assert _snapshot(folder) != original

    revert = review.changeset_revert(changeset=cs, user=maintainer)
    assert revert.status == ChangeSet.Status.APPLIED
    result = export.changes_export(data_dir=folder)

    assert result.ok and result.changeset_ids == [revert.pk]
    assert _snapshot(folder) == original
    assert not Person.objects.filter(id__in=["peiyu-liu-ruc", "peiyu-liu-sdnu"]).exists()
    assert set(
        Authorship.objects.filter(moves__changeset=cs).values_list("explicit_id", flat=True)
    ) == {""}


def test_change_and_revert_exported_together_change_nothing(folder, maintainer):
    original = _snapshot(folder)
    cs = _split_peiyu_liu(maintainer)
    review.changeset_revert(changeset=cs, user=maintainer)
    result = export.changes_export(data_dir=folder)
    assert result.ok and len(result.changeset_ids) == 2
    assert result.diff == ""
    assert _snapshot(folder) == original


def _approved_move(entry: Authorship, target: Person, maintainer) -> ChangeSet:
    """A change set moving one entry to `target`, approved and applied."""
    cs = make_changeset()
    make_move(changeset=cs, authorship=entry, to_person=target)
    review.changeset_approve(changeset=cs, user=maintainer)
    return cs


def test_change_and_revert_exported_together_keep_the_entrys_id(folder, maintainer):
    entry = Authorship.objects.get(item_id="Y10-1009", explicit_id="yang-liu-ict")
    target = make_person(id="yang-liu/unverified", first="Yang", last="Liu")
    cs = _approved_move(entry, target, maintainer)
    review.changeset_revert(changeset=cs, user=maintainer)
    original = _snapshot(folder)
    assert export.changes_export(data_dir=folder).ok
    assert _snapshot(folder) == original
    entry.refresh_from_db()
    assert entry.explicit_id == "yang-liu-ict"  # what the XML says again


def _verified(*, all_explicit: bool) -> Person:
    """A verified person with items in the folder whose entries all (or not all) carry its id."""
    by_name = Authorship.objects.filter(person=OuterRef("pk"), explicit_id="")
    qs = Person.objects.filter(is_verified=True, item_count__gt=0).order_by("id")
    qs = qs.exclude(Exists(by_name)) if all_explicit else qs.filter(Exists(by_name))
    return qs.first()


def test_target_found_by_name_elsewhere_is_a_conflict(folder, maintainer):
    target = _verified(all_explicit=False)
    a = Authorship.objects.filter(person_id=UNVERIFIED, item_id__startswith="2024.lrec").first()
    _approved_move(a, target, maintainer)
    original = _snapshot(folder)
    result = export.changes_export(data_dir=folder)
    # Giving the target the name "Peiyu Liu" would pull the other Peiyu Liu entries along.
    assert result.conflicts and all("as a side effect" in c for c in result.conflicts)
    assert any("2023.emnlp-main.911" in c for c in result.conflicts)
    assert _snapshot(folder) == original


def test_moving_to_an_existing_verified_person_adds_id_and_name(folder, maintainer):
    people = json.loads((folder / "json/people.json").read_text())
    target = _verified(all_explicit=True)
    assert target is not None and target.id in people
    a = Authorship.objects.filter(person_id=UNVERIFIED, item_id__startswith="2024.lrec").first()
    cs = _approved_move(a, target, maintainer)
    original = _snapshot(folder)

    result = export.changes_export(data_dir=folder)

    assert result.ok, result.conflicts
    after = library_resolutions(folder)
    assert after[(a.item_id, "author", a.position)] == target.id
    entry = json.loads((folder / "json/people.json").read_text())[target.id]
    assert {"first": "Peiyu", "last": "Liu"} in entry["names"]
    # the name would otherwise pull every other "Peiyu Liu" to the target
    assert entry["disable_name_matching"] is True
    assert after[("2023.emnlp-main.911", "author", 5)] == UNVERIFIED
    review.changeset_revert(changeset=cs, user=maintainer)
    export.changes_export(data_dir=folder)
    assert _snapshot(folder) == original


def test_folder_moved_on_is_a_conflict_and_nothing_is_written(folder, maintainer):
    _split_peiyu_liu(maintainer)
    lrec = folder / "xml/2024.lrec.xml"
    text = lrec.read_text()
    # Somebody renamed one of the entries upstream.
    text = text.replace(
        "<title>Do Emergent Abilities Exist in Quantized Large Language Models: An Empirical "
        "Study</title>\n      <author><first>Peiyu</first><last>Liu</last></author>",
        "<title>Do Emergent Abilities Exist in Quantized Large Language Models: An Empirical "
        "Study</title>\n      <author><first>Pei-Yu</first><last>Liu</last></author>",
    )
    lrec.write_text(text)
    original = _snapshot(folder)

    result = export.changes_export(data_dir=folder)

    assert not result.ok and not result.written
    assert len(result.conflicts) == 1
    assert "Pei-Yu Liu" in result.conflicts[0] and "not 'Peiyu Liu'" in result.conflicts[0]
    assert _snapshot(folder) == original
    assert ChangeSet.objects.filter(exported_at__isnull=False).count() == 0


def test_new_person_already_in_people_json_is_a_conflict(folder, maintainer):
    _split_peiyu_liu(maintainer)
    path = folder / "json/people.json"
    people = json.loads(path.read_text())
    people["peiyu-liu-sdnu"] = {"names": [{"first": "Peiyu", "last": "Liu"}]}
    path.write_text(json.dumps(people))
    original = _snapshot(folder)
    result = export.changes_export(data_dir=folder)
    # every "Peiyu Liu" now resolves to the person someone added upstream
    assert result.conflicts and all("peiyu-liu-sdnu" in c for c in result.conflicts)
    assert _snapshot(folder) == original


def test_two_new_persons_from_two_change_sets_reverted_together(folder, maintainer):
    """Reverting one split person first leaves the other as the only verified "Peiyu Liu" for a
    moment: the revert export must still put every entry back on the unverified page."""
    original = _snapshot(folder)
    entries = list(
        Authorship.objects.filter(person_id=UNVERIFIED, item_id__startswith="2024.lrec").order_by(
            "item_id"
        )
    )
    sets = []
    for pid, chunk in (("peiyu-liu-ruc", entries[:2]), ("peiyu-liu-sdnu", entries[2:])):
        cs = make_proposal(authorships=chunk, person_id=pid)
        review.changeset_approve(changeset=cs, user=maintainer)
        sets.append(cs)
    assert export.changes_export(data_dir=folder).ok
    for cs in reversed(sets):
        review.changeset_revert(changeset=cs, user=maintainer)
    result = export.changes_export(data_dir=folder)
    assert result.ok, result.conflicts
    assert _snapshot(folder) == original


def test_namesake_of_a_verified_person_keeps_its_entries_and_revert_restores(folder, maintainer):
    """Splitting a verified person found by name: a second verified person of that name stops
    matching by name, so the first one's entries get its id; the revert takes them back."""
    by_name = (
        Authorship.objects.filter(person__is_verified=True, explicit_id="")
        .values("person_id")
        .annotate(n=Count("id"))
        .filter(n__gte=3)
        .order_by("person_id")
    )
    vid = by_name[0]["person_id"]
    v = Person.objects.get(id=vid)
    entries = list(Authorship.objects.filter(person=v).order_by("item_id"))
    before = library_resolutions(folder)
    original = _snapshot(folder)
    cs = make_changeset()
    namesake = make_new_person(
        changeset=cs, person_id=f"{vid}-two", first=v.first_name, last=v.last_name
    )
    make_move(changeset=cs, authorship=entries[0], to_new_person=namesake)
    review.changeset_approve(changeset=cs, user=maintainer)

    result = export.changes_export(data_dir=folder)

    assert result.ok, result.conflicts
    after = library_resolutions(folder)
    moved = (entries[0].item_id, entries[0].role, entries[0].position)
    assert after == {k: (f"{vid}-two" if k == moved else p) for k, p in before.items()}
    assert result.diff.count(f'id="{vid}"') >= 2  # the ids that keep the rest on the person
    review.changeset_revert(changeset=cs, user=maintainer)
    assert export.changes_export(data_dir=folder).ok
    assert _snapshot(folder) == original


def test_export_changes_command(folder, maintainer):
    import io

    from django.core.management import CommandError, call_command

    _split_peiyu_liu(maintainer)
    original = _snapshot(folder)
    out, err = io.StringIO(), io.StringIO()
    call_command("export_changes", "--data-dir", str(folder), "--dry-run", stdout=out, stderr=err)
    assert out.getvalue().startswith("--- a/data/json/people.json")
    assert "would change 7 file(s)" in err.getvalue()
    assert _snapshot(folder) == original

    (folder / "xml/2021.acl.xml").write_text(
        (folder / "xml/2021.acl.xml")
        .read_text()
        .replace("<first>Peiyu</first><last>Liu</last>", "<first>Peiyu</first><last>Lu</last>")
    )
    with pytest.raises(CommandError, match=r"(?s)1 conflict.*2021.acl-long.418 author #1 is now"):
        call_command("export_changes", "--data-dir", str(folder), stderr=io.StringIO())

    (folder / "xml/2021.acl.xml").write_bytes(original["xml/2021.acl.xml"])
    err = io.StringIO()
    call_command("export_changes", "--data-dir", str(folder), stderr=err)
    assert "changed 7 file(s)" in err.getvalue()
    err = io.StringIO()
    call_command("export_changes", "--data-dir", str(folder), stderr=err)
    assert "Nothing to export" in err.getvalue()


def test_move_to_an_unverified_page_drops_the_id(folder, maintainer):
    # "Yang Liu" names many verified persons, so without an id the entry is unverified.
    entry = Authorship.objects.get(item_id="Y10-1009", explicit_id="yang-liu-ict")
    target = make_person(id="yang-liu/unverified", first="Yang", last="Liu")
    cs = _approved_move(entry, target, maintainer)
    before = library_resolutions(folder)
    original = _snapshot(folder)

    result = export.changes_export(data_dir=folder)

    assert result.ok, result.conflicts
    key = (entry.item_id, entry.role, entry.position)
    assert library_resolutions(folder) == {
        k: (target.id if k == key else p) for k, p in before.items()
    }
    assert '-      <author id="yang-liu-ict"><first>Yang</first>' in result.diff
    assert "+      <author><first>Yang</first><last>Liu</last>" in result.diff
    review.changeset_revert(changeset=cs, user=maintainer)
    assert export.changes_export(data_dir=folder).ok
    assert _snapshot(folder) == original


def test_unverified_page_a_name_cannot_reach_is_a_conflict(folder, maintainer):
    # "L. Padró" is one of lluis-padro's names: without an id it resolves to him.
    entry = Authorship.objects.get(item_id="W99-0603", explicit_id="lluis-padro")
    target = make_person(id="l-padro/unverified", first="L.", last="Padró")
    _approved_move(entry, target, maintainer)
    original = _snapshot(folder)
    result = export.changes_export(data_dir=folder)
    assert result.conflicts == [
        f"W99-0603 author #{entry.position + 1} ('L. Padró') would resolve to lluis-padro, "
        "not l-padro/unverified as approved"
    ]
    assert _snapshot(folder) == original


def test_a_second_export_into_the_same_folder_waits_its_turn(folder, maintainer):
    import threading

    from django.db import connection

    _split_peiyu_liu(maintainer)
    original = _snapshot(folder)
    holding, release = threading.Event(), threading.Event()

    def other_export() -> None:  # its own database session, like a second process
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [export._lock_key(folder)])
            holding.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(%s)", [export._lock_key(folder)])
        connection.close()

    thread = threading.Thread(target=other_export)
    thread.start()
    holding.wait(10)
    try:
        result = export.changes_export(data_dir=folder)
    finally:
        release.set()
        thread.join()
    assert result.conflicts == [f"Another export into {folder} is running."]
    assert _snapshot(folder) == original
    assert export.changes_export(data_dir=folder).written


def test_what_the_library_refuses_is_a_conflict(folder, maintainer):
    # Two new persons with one ORCID iD (the drafting pages prevent it; data may not).
    orcid = "0000-0002-1825-0097"
    entries = Authorship.objects.filter(person_id=UNVERIFIED).order_by("item_id")[:2]
    for i, a in enumerate(entries):
        cs = make_proposal(authorships=[a], person_id=f"peiyu-liu-{i}", orcid=orcid)
        review.changeset_approve(changeset=cs, user=maintainer)
    original = _snapshot(folder)
    result = export.changes_export(data_dir=folder)
    assert len(result.conflicts) == 1
    assert orcid in result.conflicts[0] and "peiyu-liu-0" in result.conflicts[0]
    assert _snapshot(folder) == original


def test_the_review_page_shows_the_people_json_entries_the_export_writes(folder, maintainer):
    from assignments.export import people
    from assignments.review import summary

    # a real split (two new persons), plus one entry given to an existing verified person
    # under a name it is not yet listed with
    cs = make_changeset(note="split")
    ruc = make_new_person(
        changeset=cs, person_id="peiyu-liu-ruc", first="Peiyu", last="Liu", orcid=""
    )
    sdnu = make_new_person(changeset=cs, person_id="peiyu-liu-sdnu", first="Peiyu", last="Liu")
    for a in Authorship.objects.filter(person_id=UNVERIFIED).order_by("item_id"):
        if a.item_id in RUC + SDNU:
            make_move(changeset=cs, authorship=a, to_new_person=ruc if a.item_id in RUC else sdnu)
    verified = Person.objects.filter(is_verified=True).exclude(id__startswith="peiyu").first()
    entry = (
        Authorship.objects.exclude(person=verified)
        .exclude(person_id=UNVERIFIED)
        .filter(person__is_verified=False, role="author")
        .first()
    )
    make_move(changeset=cs, authorship=entry, to_person=verified)

    effects = {e.person_id: e for e in summary.changeset_effect(cs).effects}
    shown = {pid: e.entry_after for pid, e in effects.items() if e.entry_after}
    assert set(shown) == {"peiyu-liu-ruc", "peiyu-liu-sdnu", verified.id}
    # the verified person gains the name the entry is printed with
    assert entry.last in shown[verified.id] and entry.last not in effects[verified.id].entry_before
    review.changeset_approve(changeset=cs, user=maintainer)
    result = export.changes_export(data_dir=folder)
    assert result.ok, result.conflicts

    written = json.loads((folder / "json" / "people.json").read_text(encoding="utf-8"))
    for person_id, text in shown.items():
        assert text == people.entry_text(person_id, written[person_id]), person_id
    assert set(result.people_entries) == set(shown)
