"""The review loop in headless Chromium: the queue stays true (1), suggested targets (3), next
page (4), the keyboard alone (5), confirmations and a double-clicked approve (6)."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Move, Suggestion
from assignments.review import services as review
from papers.importing import services as importing
from papers.models import Authorship, Person, Preview
from tests.factories import PASSWORD, make_paper, make_person, make_user, make_volume

# Browser tests run last (tests/browser/conftest.py); each flushes the database after it, and
# make_user recreates the roles it needs.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _mixed_page(first: str, last: str) -> None:
    """An unverified page under a common name mixing two people who share nothing: other
    coauthors, topics and decades. The fixtures alone hold one such page for the shipped model
    (it no longer over-splits one person's page); the loop needs three."""
    page = make_person(first=first, last=last)
    people = [
        (
            [f"Early{k} Prosodist{last}" for k in range(2)],
            "speech prosody acoustic phonetics",
            1994,
        ),
        (
            [f"Late{k} Treebanker{last}" for k in range(2)],
            "dependency treebank parsing syntax",
            2021,
        ),
    ]
    for coauthor_names, topic, year in people:
        coauthors = tuple(
            make_person(first=n.split()[0], last=n.split()[1]) for n in coauthor_names
        )
        for k in range(3):
            make_paper(
                title=f"{topic} study {k}",
                abstract=f"{topic} {topic}",
                authors=(page, *coauthors),
                volume=make_volume(year=year + k),
            )


@pytest.fixture
def queue(imported):
    """The fixtures with their suggestions computed by the shipped model, as `demo` does."""
    _mixed_page("Wei", "Zhang")
    _mixed_page("Jing", "Li")
    call_command("refresh_suggestions", jobs=1, stdout=io.StringIO())
    assert Suggestion.objects.filter(expected_moves__gt=0).count() >= 3
    return list(
        Suggestion.objects.filter(expected_moves__gt=0)
        .order_by("-expected_moves", "-mixed_score", "person_id")
        .values_list("person_id", flat=True)
    )


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def keyboard_login(page: Page, live_server, username: str, next_url: str) -> None:
    """Log in with the keyboard: type, Tab, type, Enter."""
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.locator("#id_username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    # (the login page's own address ends with next_url too)
    page.wait_for_url(lambda url: "/login/" not in url)
    assert page.url.endswith(next_url)


def checked(page: Page) -> int:
    return page.locator("#papers input[name=authorships]:checked").count()


def group_size(page: Page, number: int) -> int:
    ids = page.locator(f"[data-group='{number}']").get_attribute("data-select-ids")
    return len(ids.split(","))


def test_a_reviewer_works_the_queue_with_the_keyboard_alone(
    page: Page, live_server, queue, console_errors
):
    make_user(username="rita", roles=("reviewer",))
    keyboard_login(page, live_server, "rita", "/mixed/")
    keys = page.keyboard

    keys.press("]")  # the first page nobody is working on
    expect(page).to_have_url(re.compile(f"/people/{re.escape(queue[0])}/$"))

    # papers: j/k move, x ticks, J ticks a range as it moves
    keys.press("j")
    keys.press("x")
    expect(page.locator("#selected-count")).to_have_text("1")
    keys.press("J")
    keys.press("J")
    expect(page.locator("#selected-count")).to_have_text("3")
    keys.press("k")
    keys.press("x")
    expect(page.locator("#selected-count")).to_have_text("2")

    # the help overlay lists the keys
    keys.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    expect(page.locator("#keys-help")).to_contain_text("select suggested group")
    keys.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()

    # keys never fire while typing in a field
    keys.press("/")
    keys.type("j2t]")
    expect(page.locator(".header-search input")).to_have_value("j2t]")
    expect(page.locator("#selected-count")).to_have_text("2")
    expect(page).to_have_url(re.compile(f"/people/{re.escape(queue[0])}/$"))
    keys.press("Escape")

    # a suggested group, its first suggested target, confirm
    keys.press("2")
    expect(page.locator("#selected-count")).to_have_text(str(group_size(page, 2)))
    expect(page.locator("#targets .target").first).to_be_visible()
    keys.press("t")
    expect(page.locator("#targets .target.chosen")).to_have_count(1)
    keys.press("c")
    expect(page.locator("#assign .success")).to_contain_text("Added")

    # the next page, and the draft grows across pages
    keys.press("]")
    expect(page).to_have_url(re.compile(f"/people/{re.escape(queue[1])}/$"))
    keys.press("2")
    expect(page.locator("#targets .target").first).to_be_visible()
    keys.press("n")  # "a new person", whatever ranks first
    if page.evaluate("document.activeElement.id") == "id_degree":
        keys.type("Ghent University")  # the page's name gives no free id
        keys.press("Enter")
    else:
        keys.press("c")
    expect(page.locator("#assign .success")).to_contain_text("Added")
    keys.press("s")
    expect(page).to_have_url(re.compile("/changeset/$"))
    sources = set(Move.objects.values_list("from_person_id", flat=True))
    assert sources == {queue[0], queue[1]}
    expect(page.locator("#changeset tr.move")).to_have_count(Move.objects.count())

    # submitted when the reviewer chooses; then on through the queue
    keys.press("s")
    keys.press("Enter")
    expect(page.locator("#changeset .success")).to_contain_text("submitted for review")
    assert ChangeSet.objects.get().status == ChangeSet.Status.SUBMITTED
    keys.press("]")
    expect(page).to_have_url(re.compile(f"/people/{re.escape(queue[2])}/$"))
    assert console_errors == []


def test_suggested_targets_rank_the_right_person_with_a_why(page: Page, live_server, queue):
    """Peiyu Liu's papers with Wayne Xin Zhao belong to a verified Peiyu Liu who writes with
    him: selecting that group ranks that person first, and choosing it assigns there."""
    ruc = make_person(id="peiyu-liu-ruc", first="Peiyu", last="Liu", verified=True)
    zhao = Person.objects.get(pk="wayne-xin-zhao")
    for i in range(3):
        make_paper(title=f"Compressing large language models {i}", authors=(ruc, zhao))
    make_user(username="rita", roles=("reviewer",))
    keyboard_login(page, live_server, "rita", "/people/peiyu-liu/unverified/")
    with_zhao = Authorship.objects.filter(
        person_id="peiyu-liu/unverified",
        item_id__in=Authorship.objects.filter(person=zhao).values("item_id"),
    )
    group = next(
        n
        for n in (1, 2, 3)
        if page.locator(f"[data-group='{n}']").count()
        and set(page.locator(f"[data-group='{n}']").get_attribute("data-select-ids").split(","))
        <= {str(pk) for pk in with_zhao.values_list("pk", flat=True)}
    )
    page.keyboard.press(str(group))
    best = page.locator("#targets .target").first
    expect(best).to_contain_text("peiyu-liu-ruc")
    expect(best.locator(".score")).to_have_text(re.compile(r"^\d+%$"))
    expect(best.locator(".why")).to_contain_text("shared coauthors: Wayne Xin Zhao")
    expect(page.locator("#targets")).to_contain_text("A new person")
    page.keyboard.press("t")
    expect(page.locator("#id_to_person")).to_have_value("peiyu-liu-ruc")
    page.keyboard.press("c")
    expect(page.locator("#assign .success")).to_contain_text("to peiyu-liu-ruc")
    assert set(Move.objects.values_list("to_person_id", flat=True)) == {"peiyu-liu-ruc"}


def test_the_queue_stays_true_after_an_apply(page: Page, live_server, queue):
    """A maintainer approves a split: the touched pages are recomputed (the immediate task
    backend runs the refresh at commit, as the worker does within seconds), and the queue
    shows the page as it is now."""
    page_id = "peiyu-liu/unverified"
    before = Suggestion.objects.get(person_id=page_id)
    make_user(username="boss", roles=("maintainer",))
    rita = make_user(username="rita", roles=("reviewer",))
    moved = list(Authorship.objects.filter(person_id=page_id).order_by("pk")[:7])
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=moved, first_name="Peiyu", last_name="Liu"
    )
    drafting.changeset_submit(changeset=draft, user=rita)

    keyboard_login(page, live_server, "boss", f"/review/{draft.pk}/")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("approved and applied")

    after = Suggestion.objects.get(person_id=page_id)
    assert after.computed_at > before.computed_at and after.item_count == 2
    page.goto(f"{live_server.url}/mixed/")
    row = page.locator("tr", has=page.locator(f"a[href='/people/{page_id}/']"))
    if row.count():  # still mixed: its figures are the two papers' own
        expect(row.locator("td").nth(2)).to_have_text("2")
    expect(page.locator("#queue")).not_to_contain_text("2.6")

    # a page whose papers change without a refresh says so instead of showing old groups
    other = queue[1]
    make_paper(title="Arrived without a refresh", authors=(Person.objects.get(pk=other),))
    page.goto(f"{live_server.url}/people/{other}/")
    expect(page.locator("#suggestions .stale")).to_contain_text("being recomputed")
    page.goto(f"{live_server.url}/mixed/")
    expect(page.locator("#queue")).to_contain_text("being recomputed")


def test_maintainer_keys_and_a_double_clicked_approve(
    page: Page, live_server, queue, console_errors
):
    make_user(username="boss", roles=("maintainer",))
    sets = []
    for k, person_id in enumerate(queue[:3]):
        user = make_user(username=f"r{k}", roles=("reviewer",))
        draft = drafting.changeset_get_or_create_draft(user=user)
        entry = Authorship.objects.filter(person_id=person_id).order_by("pk").first()
        drafting.moves_add_to_new_person(
            changeset=draft,
            authorships=[entry],
            first_name=entry.first,
            last_name=entry.last,
            degree=f"University {k}",
        )
        sets.append(drafting.changeset_submit(changeset=draft, user=user))

    keyboard_login(page, live_server, "boss", f"/review/{sets[0].pk}/")
    page.locator("button[value=approve]").dblclick()
    expect(page.locator("main")).to_contain_text(f"Change set {sets[0].pk} approved and applied")
    assert ChangeSet.objects.get(pk=sets[0].pk).status == ChangeSet.Status.APPLIED

    page.keyboard.press("]")
    expect(page).to_have_url(re.compile(f"/review/{sets[1].pk}/$"))
    page.keyboard.press("r")
    expect(page.locator("button[value=reject]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text(f"Change set {sets[1].pk} rejected")
    page.keyboard.press("]")
    expect(page).to_have_url(re.compile(f"/review/{sets[2].pk}/$"))
    page.keyboard.press("a")
    expect(page.locator("button[value=approve]")).to_be_focused()
    assert console_errors == []


def test_revert_discard_and_preview_decisions_ask_first(
    page: Page, live_server, queue, fixture_data_dir
):
    boss = make_user(username="boss", roles=("maintainer", "admin"))
    rita = make_user(username="rita", roles=("reviewer",))
    entry = Authorship.objects.filter(person_id=queue[0]).order_by("pk").first()
    applied = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=applied, authorships=[entry], first_name="A", last_name="Person"
    )
    drafting.changeset_submit(changeset=applied, user=rita)
    review.changeset_approve(changeset=applied, user=boss)
    importing.anthology_import(path=fixture_data_dir, preview_name="loop-discard")
    importing.anthology_import(path=fixture_data_dir, preview_name="loop-promote")

    keyboard_login(page, live_server, "boss", f"/review/{applied.pk}/")
    page.get_by_role("link", name=re.compile("Revert change set")).click()
    expect(page.locator("h1")).to_have_text(f"Revert change set {applied.pk}?")
    page.get_by_role("link", name="Cancel").click()
    assert ChangeSet.objects.get(pk=applied.pk).status == ChangeSet.Status.APPLIED
    page.get_by_role("link", name=re.compile("Revert change set")).click()
    page.get_by_role("button", name=re.compile("Yes, revert")).click()
    expect(page.locator("main")).to_contain_text(f"Change set {applied.pk} reverted")

    for name, action in (("loop-discard", "Discard"), ("loop-promote", "Promote")):
        run = Preview.objects.get(name=name).import_run_id
        page.goto(f"{live_server.url}/imports/{run}/")
        page.get_by_role("button", name=re.compile(f"^{action}")).click()
        expect(page.locator("h1")).to_contain_text(f"{action} preview “{name}”?")
        assert Preview.objects.get(name=name).status == Preview.Status.READY
        page.get_by_role("button", name=re.compile("^Yes")).click()
        expect(page.locator("main")).to_contain_text(name)
    assert Preview.objects.get(name="loop-discard").status == Preview.Status.DISCARDED

    # the reviewer's draft
    page = page.context.browser.new_context().new_page()
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.page_decision_add(changeset=draft, person=Person.objects.get(pk=queue[1]))
    keyboard_login(page, live_server, "rita", "/changeset/")
    page.get_by_role("link", name=re.compile("Discard this draft")).click()
    expect(page.locator("h1")).to_have_text(f"Discard draft {draft.pk}?")
    assert ChangeSet.objects.filter(pk=draft.pk).exists()
    page.get_by_role("button", name="Yes, discard it").click()
    expect(page.locator(".messages")).to_contain_text(f"Draft {draft.pk} discarded.")
    assert not ChangeSet.objects.filter(pk=draft.pk).exists()
