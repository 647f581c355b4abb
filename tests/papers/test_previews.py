import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from papers.importing import previews, reader
from papers.importing import services as importing
from papers.importing.errors import AnthologyDataError
from papers.models import Authorship, ImportRun, Paper, Person, Preview


def _current_state() -> tuple:
    return (
        sorted(Authorship.objects.values_list("id", "item_id", "role", "position", "person_id")),
        sorted(Person.objects.values_list("id", "first_name", "last_name", "item_count")),
        sorted(Paper.objects.values_list("id", "title")),
    )


def _give_explicit_id(data_dir, collection: str, paper_number: str, person_id: str, name) -> None:
    """Set `id` on the first author of a paper (whose name `person_id` lists)."""
    xml = data_dir / "xml" / f"{collection}.xml"
    text = xml.read_text(encoding="utf-8")
    paper_at = text.index(f'<paper id="{paper_number}">')
    author_at = text.index("<author>", paper_at)
    xml.write_text(
        text[:author_at] + f'<author id="{person_id}">' + text[author_at + len("<author>") :],
        encoding="utf-8",
    )
    people = data_dir / "json" / "people.json"
    import json

    data = json.loads(people.read_text(encoding="utf-8"))
    # As the Anthology does when it splits a name: only explicit ids resolve to the new person.
    data[person_id] = {"names": [name], "disable_name_matching": True}
    people.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


@pytest.fixture
def preview_data(imported, data_copy):
    """The fixture with one author entry moved to a new verified person by an explicit id."""
    first = Authorship.objects.get(item_id="S18-1015", role="author", position=0)
    _give_explicit_id(
        data_copy, "S18", "15", "moved-person", {"first": first.first, "last": first.last}
    )
    return data_copy, first


def test_preview_shows_exactly_the_moved_entry_and_changes_nothing_current(preview_data):
    data_dir, entry = preview_data
    before = _current_state()

    result = importing.anthology_import(path=data_dir, preview_name="pr-1")

    assert _current_state() == before
    effect = result.effect
    assert effect["counts"]["entries_changed"] == 1
    assert effect["entries_changed"] == [
        {
            "item_id": "S18-1015",
            "role": "author",
            "position": 0,
            "name": f"{entry.first} {entry.last}".strip(),
            "before": entry.person_id,
            "after": "moved-person",
        }
    ]
    assert [p["id"] for p in effect["persons_added"]] == ["moved-person"]
    preview = Preview.objects.get(name="pr-1")
    assert preview.import_run.preview_name == "pr-1"
    # The preview's own tables hold the new resolution, with the current row ids.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, person_id FROM {preview.schema}.papers_authorship "
            "WHERE item_id = 'S18-1015' AND role = 'author' AND position = 0"
        )
        assert cursor.fetchone() == (entry.pk, "moved-person")


def test_promoting_a_preview_equals_importing_it(preview_data):
    data_dir, _ = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-2")
    preview = Preview.objects.get(name="pr-2")

    importing.preview_promote(preview=preview)
    promoted = _current_state()

    preview.refresh_from_db()
    assert preview.status == Preview.Status.PROMOTED
    assert Authorship.objects.get(item_id="S18-1015", position=0).person_id == "moved-person"
    # the same import done directly gives the same data
    importing.anthology_import(path=data_dir)
    assert _current_state() == promoted
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [preview.schema])
        assert cursor.fetchone() is None


def test_discarding_a_preview_leaves_the_current_data_untouched(preview_data):
    data_dir, _ = preview_data
    before = _current_state()
    importing.anthology_import(path=data_dir, preview_name="pr-3")
    preview = Preview.objects.get(name="pr-3")

    previews.preview_discard(preview=preview)

    assert _current_state() == before
    assert Preview.objects.get(name="pr-3").status == Preview.Status.DISCARDED
    with pytest.raises(AnthologyDataError):
        previews.preview_discard(preview=preview)


def test_preview_command_prints_one_line_per_change(preview_data):
    data_dir, entry = preview_data
    out = io.StringIO()
    call_command("import_anthology", str(data_dir), "--preview", "pr-4", stdout=out)
    text = out.getvalue()
    assert "person added: moved-person" in text
    assert (
        f"entry S18-1015 author #1 ({entry.first} {entry.last}): {entry.person_id} -> "
        "moved-person" in text
    )
    assert "1 person added, 0 removed, 0 renamed; 1 entry changes person;" in text


def test_preview_name_must_be_new_and_a_slug(preview_data):
    data_dir, _ = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-5")
    with pytest.raises(CommandError, match="taken"):
        call_command("import_anthology", str(data_dir), "--preview", "pr-5", stdout=io.StringIO())
    with pytest.raises(CommandError, match="letters, digits"):
        call_command("import_anthology", str(data_dir), "--preview", "no way", stdout=io.StringIO())
    assert ImportRun.objects.filter(status=ImportRun.Status.FAILED).count() == 2


def test_preview_author_pages_show_the_preview_and_current_pages_do_not(client, preview_data):
    data_dir, entry = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-6")

    current = client.get("/people/zhengxin-zhang/unverified/")
    preview = client.get("/previews/pr-6/people/zhengxin-zhang/unverified/")
    moved = client.get("/previews/pr-6/people/moved-person/")

    assert current.status_code == preview.status_code == moved.status_code == 200
    assert b"S18-1015" in current.content
    assert b"S18-1015" not in preview.content
    assert b"S18-1015" in moved.content
    assert b"this page as it would be after that import" in moved.content
    assert b"this page as it would be after that import" not in current.content
    assert client.get("/people/moved-person/").status_code == 404
    assert client.get("/previews/no-such/people/moved-person/").status_code == 404
    # the search path is back to the current data after a preview request
    assert Person.objects.filter(id="moved-person").count() == 0


def test_reviewer_proposes_on_a_preview_page_and_it_applies_after_promotion(client, preview_data):
    from assignments.changesets import services as drafting
    from assignments.models import Move
    from assignments.review import services as review
    from tests.factories import make_user

    data_dir, entry = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-7")
    reviewer = make_user(roles=("reviewer",))
    client.force_login(reviewer)
    page = client.get("/previews/pr-7/people/moved-person/")
    assert b'action="/previews/pr-7/changeset/assign/"' in page.content
    # the ranking, "one person" and the queue read the current data: not offered here
    for current_only in (b'id="targets"', b"Mark this page one person", b"/mixed/next/"):
        assert current_only not in page.content

    response = client.post(
        "/previews/pr-7/changeset/assign/",
        {
            "from_person": "moved-person",
            "authorships": [str(entry.pk)],
            "target": "person",
            "to_person": "lluis-padro",
        },
    )
    assert response.status_code == 302
    assert response.url == "/previews/pr-7/people/moved-person/"
    move = Move.objects.get(authorship=entry)
    # the proposal names the preview's resolution, not the current one
    assert move.from_person_id == "moved-person"
    # Until the preview is promoted, the current data disagrees: the draft waits.
    with pytest.raises(ValidationError, match="now belongs to zhengxin-zhang/unverified"):
        drafting.changeset_submit(changeset=move.changeset, user=reviewer)
    assert Authorship.objects.get(pk=entry.pk).person_id == entry.person_id

    importing.preview_promote(preview=Preview.objects.get(name="pr-7"))
    changeset = drafting.changeset_submit(changeset=move.changeset, user=reviewer)
    maintainer = make_user(roles=("maintainer",))
    review.changeset_approve(changeset=changeset, user=maintainer)
    assert Authorship.objects.get(pk=entry.pk).person_id == "lluis-padro"


def test_a_target_that_exists_only_in_the_preview_is_refused_clearly(client, preview_data):
    from assignments.models import Move
    from tests.factories import make_user

    data_dir, entry = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-8")
    client.force_login(make_user(roles=("reviewer",)))
    other = Authorship.objects.get(item_id="S19-2226", last="Zhang", first="Zhengxin")
    response = client.post(
        "/previews/pr-8/changeset/assign/",
        {
            "from_person": "zhengxin-zhang/unverified",
            "authorships": [str(other.pk)],
            "target": "person",
            "to_person": "moved-person",
        },
    )
    assert response.status_code == 200
    assert b"exist only in this preview" in response.content
    assert not Move.objects.exists()


def test_a_preview_name_with_capitals_gets_its_schema_and_its_own_id_range(preview_data):
    data_dir, _ = preview_data
    importing.anthology_import(path=data_dir, preview_name="PR-Caps")
    preview = Preview.objects.get(name="PR-Caps")

    with connection.cursor() as cursor:
        # New rows of the preview take ids far above those the current data may use next.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('preview_pr_caps.papers_authorship', 'id'))"
        )
        assert cursor.fetchone()[0] > 1_000_000_000
    assert preview.schema == "preview_pr_caps"


def test_a_preview_name_that_shares_a_schema_with_another_is_refused(preview_data):
    data_dir, _ = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-a")

    for name in ("pr_a", "PR-A"):
        with pytest.raises(AnthologyDataError, match="too like preview 'pr-a'"):
            importing.anthology_import(path=data_dir, preview_name=name)
    assert list(Preview.objects.values_list("name", flat=True)) == ["pr-a"]


def test_a_preview_discarded_after_its_promotion_was_queued_is_not_promoted(preview_data):
    data_dir, _ = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-9")
    queued = Preview.objects.get(name="pr-9")  # as the promotion task was handed it
    before = _current_state()
    previews.preview_discard(preview=Preview.objects.get(name="pr-9"))

    with pytest.raises(AnthologyDataError, match="already discarded"):
        importing.preview_promote(preview=queued)

    assert Preview.objects.get(name="pr-9").status == Preview.Status.DISCARDED
    assert _current_state() == before


def test_a_preview_discarded_while_it_is_promoted_stays_discarded(preview_data, monkeypatch):
    data_dir, _ = preview_data
    importing.anthology_import(path=data_dir, preview_name="pr-10")
    preview = Preview.objects.get(name="pr-10")
    before = _current_state()
    read_snapshot = reader.read_snapshot

    def read_then_discard(*args, **kwargs):
        snap = read_snapshot(*args, **kwargs)
        previews.preview_discard(preview=Preview.objects.get(name="pr-10"))
        return snap

    monkeypatch.setattr(importing, "read_snapshot", read_then_discard)
    run = ImportRun.objects.create(source=preview.source, status=ImportRun.Status.QUEUED)
    with pytest.raises(AnthologyDataError, match="already discarded"):
        importing.preview_promote(preview=preview, run=run)

    assert Preview.objects.get(name="pr-10").status == Preview.Status.DISCARDED
    assert _current_state() == before
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.error == "preview pr-10 is already discarded"
