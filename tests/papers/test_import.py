import contextlib
import io
import tarfile
import warnings

import pytest
from acl_anthology import Anthology
from django.core.management import CommandError, call_command

from papers import services as catalog
from papers.importing import services as importing
from papers.library import entry_resolutions as library_resolutions
from papers.models import Authorship, ImportRun, Paper, Person, PersonName


def _library(data_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anthology = Anthology(datadir=data_dir)
        anthology.people.load()
    return anthology


def _db_state() -> tuple:
    return (
        sorted(Paper.objects.values_list("id", "title")),
        sorted(Person.objects.values_list("id", "first_name", "last_name", "item_count")),
        sorted(Authorship.objects.values_list("id", "item_id", "role", "position", "person_id")),
        PersonName.objects.count(),
    )


def test_import_resolves_every_entry_as_the_library_does(imported, fixture_data_dir):
    anthology = _library(fixture_data_dir)
    expected = library_resolutions(fixture_data_dir)
    actual = {(a.item_id, a.role, a.position): a.person_id for a in Authorship.objects.all()}
    assert actual == expected
    assert Paper.objects.count() == sum(1 for _ in anthology.papers())
    assert set(Person.objects.values_list("id", flat=True)) == set(anthology.people.keys())
    assert Person.objects.get(id="peiyu-liu/unverified").item_count == 9
    assert Person.objects.get(id="zhengxin-zhang/unverified").item_count == 3


def test_import_stores_verified_persons_with_all_their_names(imported):
    padro = Person.objects.get(id="lluis-padro")
    assert padro.is_verified
    names = set(padro.name_variants.values_list("first", "last"))
    assert len(names) >= 5
    assert padro.name_variants.filter(is_canonical=True).count() == 1
    assert all(n.normalized == n.normalized.lower() for n in padro.name_variants.all())


def test_reimport_of_the_same_data_changes_nothing(imported, fixture_data_dir):
    before = _db_state()
    result = importing.anthology_import(path=fixture_data_dir)
    assert result.unchanged
    assert _db_state() == before
    assert ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED).count() == 2


def test_reimport_of_changed_data_updates_only_what_changed(imported, data_copy):
    xml = data_copy / "xml" / "S18.xml"
    text = xml.read_text(encoding="utf-8")
    title_at = text.index("<title>", text.index('<paper id="15">')) + len("<title>")
    xml.write_text(text[:title_at] + "Changed " + text[title_at:], encoding="utf-8")
    untouched = Authorship.objects.get(item_id="2024.acl-long.1", role="author", position=0)

    result = importing.anthology_import(path=data_copy)

    assert result.counts["papers_changed"] == 1
    assert result.counts["papers_added"] == 0
    assert result.counts["papers_removed"] == 0
    assert result.counts["authorships_person_changed"] == 0
    assert Paper.objects.get(id="S18-1015").title.startswith("Changed")
    # unchanged rows keep their identity (moves point at authorship ids)
    assert Authorship.objects.get(pk=untouched.pk).person_id == untouched.person_id


def test_reimport_reports_entries_that_now_resolve_elsewhere_and_removed_papers(
    imported, data_copy
):
    xml = data_copy / "xml" / "W99.xml"
    text = xml.read_text(encoding="utf-8")
    entry = Authorship.objects.get(item_id="W99-0603", explicit_id="lluis-padro")
    # drop the explicit id: the name alone then resolves by slug
    text = text.replace(' id="lluis-padro"', "", 1)
    xml.write_text(text, encoding="utf-8")
    s19 = data_copy / "xml" / "S19.xml"
    s19_text = s19.read_text(encoding="utf-8")
    start = s19_text.index('<paper id="226">')
    end = s19_text.index("</paper>", start) + len("</paper>")
    s19.write_text(s19_text[:start] + s19_text[end:], encoding="utf-8")

    result = importing.anthology_import(path=data_copy)

    entry.refresh_from_db()
    assert entry.person_id == library_resolutions(data_copy)[("W99-0603", "author", entry.position)]
    assert result.counts["papers_removed"] == 1
    assert not Paper.objects.filter(id="S19-2226").exists()
    assert Person.objects.get(id="zhengxin-zhang/unverified").item_count == 2
    assert "1 removed" in result.summary_lines()[0]


def test_import_of_an_archive(db, fixture_data_dir, tmp_path):
    archive = tmp_path / "anthology.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fixture_data_dir, arcname="acl-anthology/data")
    importing.anthology_import(path=archive)
    assert Paper.objects.filter(id="2024.acl-long.1").exists()


def _assert_fails_cleanly(path, message_part: str) -> None:
    before = _db_state()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_anthology", str(path), stdout=io.StringIO())
    message = str(excinfo.value)
    assert message_part in message
    assert "\n" not in message
    assert _db_state() == before
    run = ImportRun.objects.latest("started_at")
    assert run.status == ImportRun.Status.FAILED
    assert message_part in run.error


def test_malformed_xml_fails_cleanly(imported, data_copy):
    (data_copy / "xml" / "S18.xml").write_text("<collection id='S18'><volume>", encoding="utf-8")
    _assert_fails_cleanly(data_copy, "S18.xml: malformed XML")


def test_unparsable_people_json_fails_cleanly(imported, data_copy):
    (data_copy / "json" / "people.json").write_text("{not json", encoding="utf-8")
    _assert_fails_cleanly(data_copy, "people.json: unparsable people.json")


def test_undefined_person_id_fails_cleanly(imported, data_copy):
    xml = data_copy / "xml" / "S18.xml"
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace("<author>", '<author id="no-such-person">', 1), encoding="utf-8")
    _assert_fails_cleanly(data_copy, "no-such-person")
    message = ImportRun.objects.latest("started_at").error
    assert "S18.xml" in message


def test_path_that_is_not_anthology_data_fails_cleanly(imported, tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    _assert_fails_cleanly(tmp_path, "not Anthology data")


def test_archive_with_path_traversal_is_refused(db, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../../escape.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    _assert_fails_cleanly(archive, "outside the archive")
    assert not (tmp_path.parent / "escape.txt").exists()


def test_corrupt_archive_is_refused(db, tmp_path):
    archive = tmp_path / "broken.tar.xz"
    archive.write_bytes(b"\xfd7zXZ\x00 not really xz")
    _assert_fails_cleanly(archive, "corrupt or unreadable archive")


def test_import_command_prints_a_summary(db, fixture_data_dir):
    out = io.StringIO()
    call_command("import_anthology", str(fixture_data_dir), stdout=out)
    assert "papers: 99 added, 0 changed, 0 removed" in out.getvalue()


def test_verify_import_finds_no_mismatch_after_import_and_names_each_difference(
    imported, fixture_data_dir
):
    out = io.StringIO()
    call_command("verify_import", str(fixture_data_dir), stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "0 mismatches"

    Authorship.objects.filter(item_id="S18-1015", role="author", position=0).update(
        person=Person.objects.get(id="peiyu-liu/unverified")
    )
    Paper.objects.filter(id="S19-2226").update(title="Tampered")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify_import", str(fixture_data_dir), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1] == "2 mismatches"
    assert any(line.startswith("entry S18-1015 author 0: person_id") for line in lines)
    assert any(line.startswith("paper S19-2226: title is 'Tampered'") for line in lines)


def test_reimport_keeps_approved_decisions_and_reports_the_conflict(imported, data_copy):
    from assignments.models import ChangeSet, Move
    from tests.factories import make_changeset, make_move

    entry = Authorship.objects.get(item_id="S18-1015", person_id="zhengxin-zhang/unverified")
    target = Person.objects.get(id="lluis-padro")
    changeset = make_changeset(status=ChangeSet.Status.APPLIED)
    make_move(changeset=changeset, authorship=entry, to_person=target, status=Move.Status.APPLIED)
    Authorship.objects.filter(pk=entry.pk).update(person=target)
    xml = data_copy / "xml" / "S18.xml"
    text = xml.read_text(encoding="utf-8")
    title_at = text.index("<title>") + len("<title>")
    xml.write_text(text[:title_at] + "Changed " + text[title_at:], encoding="utf-8")

    result = importing.anthology_import(path=data_copy)

    entry.refresh_from_db()
    assert entry.person_id == "lluis-padro"
    assert result.counts["conflicts"] == 1
    assert result.conflicts == [
        f"S18-1015 author #{entry.position + 1}: decided lluis-padro, "
        "new data says zhengxin-zhang/unverified"
    ]
    assert "1 conflicts with approved decisions" in "\n".join(result.summary_lines())


def _verify(data_dir) -> str:
    out = io.StringIO()
    with contextlib.suppress(SystemExit):
        call_command("verify_import", str(data_dir), stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_people_json_change_alone_re_resolves_entries_in_every_collection(imported, data_copy):
    import json

    people = data_copy / "json" / "people.json"
    data = json.loads(people.read_text(encoding="utf-8"))
    # A verified person whose name matches the unverified page: every entry moves to them,
    # though no XML file changed.
    data["zhengxin-zhang"] = {"names": [{"first": "Zhengxin", "last": "Zhang"}]}
    people.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    result = importing.anthology_import(path=data_copy)

    assert result.counts["authorships_person_changed"] == 3
    assert set(
        Authorship.objects.filter(last="Zhang", first="Zhengxin").values_list(
            "person_id", flat=True
        )
    ) == {"zhengxin-zhang"}
    assert result.counts["persons_removed"] == 1  # the unverified page is gone
    assert _verify(data_copy) == "0 mismatches"


def test_changed_and_removed_collections_only(imported, data_copy):
    (data_copy / "xml" / "S19.xml").unlink()
    xml = data_copy / "xml" / "S18.xml"
    text = xml.read_text(encoding="utf-8")
    start = text.index('<paper id="15">')
    end = text.index("</paper>", start) + len("</paper>")
    xml.write_text(text[:start] + text[end:], encoding="utf-8")
    papers_before = Paper.objects.count()
    s19_papers = Paper.objects.filter(volume__collection_id="S19").count()

    result = importing.anthology_import(path=data_copy)

    assert result.counts["papers_removed"] == s19_papers + 1
    assert Paper.objects.count() == papers_before - s19_papers - 1
    assert not Paper.objects.filter(id="S18-1015").exists()
    assert _verify(data_copy) == "0 mismatches"


def test_texts_rendered_in_a_second_process_equal_the_serial_ones(fixture_data_dir, monkeypatch):
    from papers.importing import reader

    serial = reader.read_snapshot(fixture_data_dir, source="serial")
    monkeypatch.setattr(reader, "PARALLEL_TEXTS_MIN_BYTES", 0)
    parallel = reader.read_snapshot(fixture_data_dir, source="parallel")
    assert parallel.papers == serial.papers
    assert parallel.volumes == serial.volumes
    assert parallel.authorships == serial.authorships
    assert any(row.abstract for row in serial.papers)  # abstracts are there


def test_the_second_process_really_renders_the_texts(fixture_data_dir):
    # spawned as the import spawns it: a fresh interpreter without Django set up
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from papers.importing.texts import markup_texts

    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        texts = pool.submit(markup_texts, str(fixture_data_dir)).result(timeout=120)
    assert texts["2024.acl-long.133"][0]


def test_first_import_statistics_equal_the_recomputed_ones(imported):
    stored = sorted(Person.objects.values_list("id", "item_count", "first_year", "last_year"))
    catalog.persons_refresh_stats()
    assert (
        sorted(Person.objects.values_list("id", "item_count", "first_year", "last_year")) == stored
    )
    assert any(count > 1 for _, count, _, _ in stored)
