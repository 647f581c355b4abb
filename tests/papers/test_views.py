import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from assignments.changesets import services as drafting
from assignments.models import Suggestion
from assignments.suggestions.split import suggestion_cluster
from papers.importing import services as importing
from papers.models import Authorship
from tests.factories import (
    HTMX,
    make_authorship,
    make_evidence,
    make_paper,
    make_person,
    make_user,
)

pytestmark = pytest.mark.django_db


def checked_boxes(response) -> list[str]:
    boxes = re.findall(
        r'<input type="checkbox" name="authorships" value="(\d+)"[^>]*>', response.content.decode()
    )
    tags = re.findall(r'<input type="checkbox" name="authorships"[^>]*>', response.content.decode())
    return [value for value, tag in zip(boxes, tags, strict=True) if "checked" in tag]


def make_page(n_papers: int = 3, *, first: str = "Peiyu", last: str = "Liu"):
    person = make_person(first=first, last=last)
    coauthor = make_person(first="Wayne Xin", last="Zhao", verified=True)
    papers = [
        make_paper(
            title=f"Compressing language models {i}",
            authors=(person, coauthor),
            year=2020 + i % 4,
            abstract=f"Abstract number {i}.",
        )
        for i in range(n_papers)
    ]
    person.item_count = n_papers
    person.first_year, person.last_year = 2020, 2020 + min(n_papers - 1, 3)
    person.save()
    return person, papers


def test_unverified_person_page_lists_papers_and_links_their_pages(client):
    person, papers = make_page()
    response = client.get(f"/people/{person.pk}/")
    assert response.status_code == 200
    assertContains(response, "Compressing language models 2")
    # one line per paper: the title leads to the paper's page, where its details are
    assertContains(response, f'href="/papers/{papers[1].pk}/">Compressing language models 1</a>')
    assertNotContains(response, "Abstract number 1.")
    assertContains(response, "unverified")
    assert response.headers["Vary"].count("HX-Request") == 1
    # anonymous visitors see no checkboxes to tick
    assertContains(response, "with a reviewer account")


def test_paper_page_shows_abstract_authors_and_affiliations(client):
    person, papers = make_page()
    Authorship.objects.filter(paper=papers[1], person=person).update(affiliation="Renmin U")
    with assertTemplateUsed("papers/item_detail.html"):
        response = client.get(f"/papers/{papers[1].pk}/")
    assert b"<html" in response.content  # a page of its own: reachable without JavaScript
    assertContains(response, "<h1")
    assertContains(response, "Abstract number 1.")
    assertContains(response, f'href="/people/{person.pk}/">Peiyu Liu</a>')
    assertContains(response, "(Renmin U)")
    assertContains(response, "/people/wayne-xin-zhao-")  # the coauthor's page
    assertContains(response, f'href="https://aclanthology.org/{papers[1].pk}/"')
    assert response.headers["Vary"].count("HX-Request") == 1


def test_paper_page_partial_for_htmx(client):
    _, papers = make_page()
    with assertTemplateUsed("papers/item_detail.html#item"):
        response = client.get(f"/papers/{papers[1].pk}/", headers=HTMX)
    assert b"<html" not in response.content
    assert b"<h1" not in response.content  # the row it goes into has the title
    assertContains(response, f'id="item-{papers[1].pk}"')
    assertContains(response, "Abstract number 1.")
    assertContains(response, "/people/wayne-xin-zhao-")
    assert response.headers["Vary"].count("HX-Request") == 1


def test_volume_page_lists_its_editors(client):
    editor = make_person(first="Eddie", last="Tor")
    paper = make_paper(title="Some paper", authors=(make_person(),))
    Authorship.objects.create(
        item_id=paper.volume_id,
        volume=paper.volume,
        role=Authorship.Role.EDITOR,
        position=0,
        first="E.",
        last="Tor",
        person=editor,
    )
    response = client.get(f"/papers/{paper.volume_id}/")
    assertContains(response, f'Editors: <a href="/people/{editor.pk}/">E. Tor</a>', html=False)
    assertContains(response, f"https://aclanthology.org/volumes/{paper.volume_id}/")
    for bad in ("no-such-paper", "2024.x%00", "%E2%80%AE"):
        assert client.get(f"/papers/{bad}/").status_code in (400, 404)


def test_paper_page_escapes_and_its_query_count_is_fixed(client, django_assert_max_num_queries):
    evil = make_person(first='"><svg onload=alert(2)>', last="Y")
    small = make_paper(title="<img src=x onerror=alert(1)>", authors=(evil,))
    Authorship.objects.filter(paper=small).update(affiliation="<b>Uni</b>")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/papers/{small.pk}/", headers=HTMX)
    few = len(queries)  # now: the next request clears the connection's query log
    assertNotContains(response, "<svg onload")
    assertNotContains(response, "<b>Uni</b>")
    assertContains(response, "&lt;b&gt;Uni&lt;/b&gt;")
    assertNotContains(client.get(f"/papers/{small.pk}/"), "<img src=x")
    crowded = make_paper(authors=tuple(make_person() for _ in range(40)))
    with django_assert_max_num_queries(few):
        response = client.get(f"/papers/{crowded.pk}/", headers=HTMX)
    assert response.content.count(b'href="/people/') == 40


def test_verified_person_url_and_unverified_url_do_not_mix(client):
    verified = make_person(id="jane-doe", first="Jane", last="Doe", verified=True)
    assert client.get(f"/people/{verified.pk}/").status_code == 200
    assert client.get("/people/jane-doe/unverified/").status_code == 404
    assert client.get("/people/nobody/").status_code == 404


def test_person_page_htmx_gets_papers_partial(client):
    person, _ = make_page()
    with assertTemplateUsed("assignments/person_detail.html#papers"):
        response = client.get(f"/people/{person.pk}/", headers=HTMX)
    assert b"<html" not in response.content
    assertContains(response, 'id="papers"')


def test_person_page_escapes_imported_strings(client):
    person = make_person(id="xss/unverified", first="<script>alert(1)</script>", last="X")
    evil = make_person(id="evil/unverified", first='"><svg onload=alert(2)>', last="Y")
    paper = make_paper(title="<img src=x onerror=alert(1)>", authors=(person, evil))
    Authorship.objects.filter(person=person).update(first="<i>P</i>")  # printed otherwise
    response = client.get(f"/people/{person.pk}/")
    assertContains(response, "printed as &lt;i&gt;P&lt;/i&gt; X")
    assertNotContains(response, "<i>P</i>")
    assertNotContains(response, "<img src=x")
    assertNotContains(response, "<script>alert(1)")
    assertContains(response, "&lt;img src=x onerror=alert(1)&gt;")
    details = client.get(f"/papers/{paper.pk}/", headers=HTMX)
    assertNotContains(details, "<svg onload")
    assertContains(details, "&quot;&gt;&lt;svg onload=alert(2)&gt; Y")


def test_person_page_shows_pending_moves_and_disables_them(client):
    person, papers = make_page(2)
    reviewer = make_user(roles=("reviewer",))
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    entry = papers[0].authorships.get(person=person)
    drafting.moves_add(changeset=draft, authorships=[entry], to_person=make_person(id="liu-x"))
    client.force_login(reviewer)
    response = client.get(f"/people/{person.pk}/")
    assertContains(response, "Proposed move to <strong>liu-x</strong>", html=False)
    content = response.content.decode()
    box = content[content.index(f'value="{entry.pk}"') :].split(">", 1)[0]
    assert "disabled" in box
    assertContains(response, "has <strong>1</strong> move")


def test_person_page_shows_stored_suggestion_groups(client):
    person, papers = make_page(4)
    ids = [p.authorships.get(person=person).pk for p in papers]
    Suggestion.objects.create(
        person=person,
        estimated_people=2.0,
        mixed_score=0.9,
        item_count=4,
        clusters=[
            suggestion_cluster(
                signature_ids=[str(i) for i in ids[:3]],
                confidence=0.87,
                evidence=make_evidence(coauthors=["Wayne Xin Zhao"], years=(2020, 2022)),
            ),
            suggestion_cluster(
                signature_ids=[str(i) for i in ids[3:]],
                confidence=0.6,
                evidence=make_evidence(terms=["parsing"]),
            ),
        ],
    )
    client.force_login(make_user(roles=("reviewer",)))
    response = client.get(f"/people/{person.pk}/")
    assertContains(response, "confidence 87%")
    # Wayne Xin Zhao is also every paper's coauthor: look for him in the evidence only
    assertContains(response, "<dt>Coauthors</dt><dd>Wayne Xin Zhao</dd>")
    assertContains(response, "<dt>Years</dt><dd>2020–2022</dd>")
    assertContains(response, "<dt>Distinguishing terms</dt><dd>parsing</dd>")
    assertContains(response, f'data-select-ids="{ids[0]},{ids[1]},{ids[2]}"')
    # the no-JS way to select a group pre-ticks its boxes
    response = client.get(f"/people/{person.pk}/?select={ids[3]}")
    assert checked_boxes(response) == [str(ids[3])]


def test_person_page_without_clustering_says_so(client, settings, tmp_path):
    settings.CLUSTERING_MODEL_PATH = tmp_path / "no-model.joblib"
    person, _ = make_page(3)
    response = client.get(f"/people/{person.pk}/")
    assertContains(response, "Suggested groups")
    split = response.context["split"]
    assert split.groups == []
    assert split.message == (
        "Suggested groups are not available yet: no clustering model has been trained "
        "(`manage.py train_clustering`)."
    )
    assertContains(response, "no clustering model has been trained")


def test_person_page_query_count_does_not_grow_with_papers(client, django_assert_max_num_queries):
    reviewer = make_user(roles=("reviewer",))
    client.force_login(reviewer)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    target = make_person(id="target-person", first="Tar", last="Get", verified=True)

    def page_with_moves(n_papers: int, n_moves: int, name: str):
        person, papers = make_page(n_papers, first=name, last="Page")
        entries = [p.authorships.get(person=person) for p in papers[:n_moves]]
        drafting.moves_add(changeset=draft, authorships=entries, to_person=target)
        Suggestion.objects.create(
            person=person,
            clusters=[
                suggestion_cluster(
                    signature_ids=[str(e.pk) for e in entries],
                    confidence=0.5,
                    evidence=make_evidence(),
                )
            ],
        )
        return person

    small = page_with_moves(2, 1, "Small")
    big = page_with_moves(60, 30, "Big")
    visitor = Client()
    # The page for a reviewer and for a visitor, and the list's htmx refresh after a move, with
    # a ceiling each (the small page is split on demand here: five of them are the split's; a
    # visitor's page also reads its conditional-GET tag: the catalog version, the page's moves,
    # decisions and suggestion).
    for who, headers, ceiling in ((client, {}, 19), (visitor, {}, 16), (client, HTMX, 12)):
        with CaptureQueriesContext(connection) as small_queries:
            who.get(f"/people/{small.pk}/", headers=headers)
        few = len(small_queries)  # read now: the next request clears the query log
        assert few <= ceiling, few
        with django_assert_max_num_queries(few):
            response = who.get(f"/people/{big.pk}/", headers=headers)
        assert response.status_code == 200
        assert len(response.context["rows"]) == 60
        assert sum(1 for row in response.context["rows"] if row["pending"]) == 30


def test_editor_entries_show_volume_and_role(client):
    person = make_person(first="Eddie", last="Tor")
    paper = make_paper(title="Some paper", authors=(make_person(),))
    Authorship.objects.create(
        item_id=paper.volume_id,
        volume=paper.volume,
        paper=None,
        role=Authorship.Role.EDITOR,
        position=0,
        first="Eddie",
        last="Tor",
        person=person,
    )
    response = client.get(f"/people/{person.pk}/")
    assertContains(response, f'href="/papers/{paper.volume_id}/">{paper.volume.title}</a>')
    assertContains(response, ">editor<")


def test_search_finds_variants_accents_and_typos(client):
    person = make_person(first="Zhengxin", last="Zhang", extra_names=(("Zhèngxīn", "Zhāng"),))
    make_person(first="Wei", last="Wang")
    for query in ["zhengxin zhang", "ZHENGXIN", "Zhèngxin Zhang", "zhengxni zhang"]:
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200
        pks = [h.person.pk for h in response.context["hits"]]
        assert pks and pks[0] == person.pk, query


def test_search_htmx_returns_results_partial_and_plain_get_full_page(client):
    make_person(first="Peiyu", last="Liu")
    with assertTemplateUsed("papers/search.html#results"):
        response = client.get("/search/", {"q": "peiyu"}, headers=HTMX)
    assert b"<html" not in response.content
    assertContains(response, "Peiyu Liu")
    response = client.get("/search/", {"q": "peiyu"})
    assert b"<html" in response.content
    assertContains(response, "Peiyu Liu")


def test_search_shows_what_tells_namesakes_apart(client):
    make_person(
        id="peiyu-liu-ruc", first="Peiyu", last="Liu", verified=True, orcid="0000-0002-1825-0097"
    )
    response = client.get("/search/", {"q": "Peiyu Liu"})
    assertContains(response, "0000-0002-1825-0097")
    assertContains(response, "peiyu-liu-ruc")
    # "unverified" would contain "verified" too: look for the badge itself
    assertContains(response, '<span class="badge verified">verified</span>')
    assertNotContains(response, "badge unverified")


def test_search_hits_show_the_newest_paper(client):
    person = make_person(first="Zhengxin", last="Zhang")
    make_paper(title="Old work", authors=(person,), year=2018)
    make_paper(title="New work", authors=(person,), year=2024)
    response = client.get("/search/", {"q": "zhengxin zhang"})
    assertContains(response, "Latest: New work (2024)")


def test_search_query_count_is_fixed(client, django_assert_max_num_queries):
    for i in range(30):
        make_person(first="Yang", last=f"Liu{i}")
    for i in range(3):
        make_paper(title=f"Paper {i}", authors=(make_person(first="Yang", last=f"Liu{i}"),))
    # the catalog version (for the tag and the kept results), exact id, scores, persons with
    # their matched names, latest papers
    with django_assert_max_num_queries(5):
        response = client.get("/search/", {"q": "yang liu"})
    assert len(response.context["hits"]) == 25


def test_home_page_is_public(client):
    response = client.get("/")
    assert response.status_code == 200
    assertContains(response, "Search")


def test_person_page_handles_large_page(client):
    person = make_person(first="Many", last="Papers")
    paper = make_paper(authors=(person,))
    make_authorship(paper=paper, person=make_person(), position=1)
    response = client.get(f"/people/{person.pk}/")
    assert response.status_code == 200


def test_person_page_computes_split_on_demand_through_clustering_contract(client, fake_clustering):
    """Without a stored suggestion the page calls assignments.clustering.split_block."""
    person, papers = make_page(3, first="Split", last="Me")
    response = client.get(f"/people/{person.pk}/")
    split = response.context["split"]
    assert split.source == "computed"
    assert [len(g.authorship_ids) for g in split.groups] == [2, 1]
    assertContains(response, "confidence 80%")
    # the fake's evidence, not the coauthor links every paper has
    assertContains(response, "<dt>Coauthors</dt><dd>Wayne Xin Zhao</dd>")
    assertContains(response, "Groups 1 and 2: different venues")
    signature = fake_clustering["signatures"][0]
    assert set(signature) >= {
        "id", "paper_id", "title", "abstract", "year", "venue", "booktitle",
        "author_position", "first", "last", "affiliation", "coauthors",
    }  # fmt: skip
    assert signature["coauthors"] == ["Wayne Xin Zhao"]
    assert signature["venue"] == "acl"


def test_large_page_loads_its_split_in_a_second_request(client, fake_clustering):
    person, _ = make_page(70, first="Large", last="Page")
    response = client.get(f"/people/{person.pk}/")
    assert response.context["split"].deferred == 70
    assert "signatures" not in fake_clustering  # the page itself did not wait for it
    suggestion_url = f"/people/{person.pk}/suggestion/"
    assertContains(response, f'hx-get="{suggestion_url}"')
    with assertTemplateUsed("assignments/person_detail.html#suggestions"):
        partial = client.get(suggestion_url, headers=HTMX)
    assert b"<html" not in partial.content
    assertContains(partial, "Group 2")
    assert len(fake_clustering["signatures"]) == 70
    full = client.get(suggestion_url)
    assert b"<html" in full.content
    assertContains(full, "Group 1")


def test_seed_pages_on_the_real_fixture(client, imported):
    response = client.get("/search/", {"q": "peiyu liu"})
    assert response.context["hits"][0].person.pk == "peiyu-liu/unverified"
    response = client.get("/people/peiyu-liu/unverified/")
    assert len(response.context["rows"]) == 9
    assertContains(response, "HyperMR")
    item_id = response.context["rows"][0]["item_id"]
    assertContains(client.get(f"/papers/{item_id}/"), 'href="/people/peiyu-liu/unverified/"')
    coauthored = Authorship.objects.filter(
        person_id="peiyu-liu/unverified", paper__authorships__person_id="wayne-xin-zhao"
    ).first()
    assertContains(client.get(f"/papers/{coauthored.item_id}/"), 'href="/people/wayne-xin-zhao/"')
    # namesakes are told apart in search by their ids and comments
    response = client.get("/search/", {"q": "yang liu"})
    ids = {h.person.pk for h in response.context["hits"]}
    assert {"yang-liu-icsi", "yang-liu-ict"} <= ids


def test_preview_person_page_keeps_links_inside_the_preview(client, imported, data_copy):

    importing.anthology_import(path=data_copy, preview_name="same-data")
    client.force_login(make_user(roles=("reviewer",)))
    response = client.get("/previews/same-data/people/peiyu-liu/unverified/")
    assert response.status_code == 200
    item_id = response.context["rows"][0]["item_id"]
    # the papers' pages, and the persons they link to, are the preview's
    assertContains(response, f'href="/previews/same-data/papers/{item_id}/"')
    item = client.get(f"/previews/same-data/papers/{item_id}/")
    assertContains(item, 'href="/previews/same-data/people/peiyu-liu/unverified/"')
    assertContains(item, "Preview <strong>same-data</strong>")
    assertContains(response, "Preview <strong>same-data</strong>")
    # reviewers propose fixes on a preview's pages too, through the preview's own URL
    assert not any(row["disabled"] for row in response.context["rows"])
    assertContains(response, 'action="/previews/same-data/changeset/assign/"')
    assert client.get("/previews/no-such/people/peiyu-liu/unverified/").status_code == 404


def test_search_prefers_whole_words_over_scattered_letters(client):
    scattered = make_person(first="Mengxin", last="Zheng")
    scattered.item_count = 50
    scattered.save()
    wanted = make_person(first="Zhengxin", last="Yang")
    response = client.get("/search/", {"q": "zhengxin"})
    pks = [h.person.pk for h in response.context["hits"]]
    assert pks.index(wanted.pk) < pks.index(scattered.pk)


def test_assign_panel_lists_namesakes_on_demand(client):
    person, _ = make_page(2, first="Yang", last="Liu")
    ict = make_person(id="yang-liu-ict", first="Yang", last="Liu", verified=True)
    make_person(id="someone-else", first="Wei", last="Wang", verified=True)
    client.force_login(make_user(roles=("reviewer",)))
    response = client.get(f"/people/{person.pk}/")
    assert response.context["namesake_count"] == 1
    assertContains(response, "Others with this name (1)")
    url = f"/people/{person.pk}/namesakes/"
    assertContains(response, f'hx-get="{url}"')
    assertContains(response, f'<a href="{url}">List them</a>')  # without JavaScript
    assertNotContains(response, 'data-person-id="yang-liu-ict"')
    with assertTemplateUsed("assignments/person_detail.html#namesakes"):
        partial = client.get(url, headers=HTMX)
    assert b"<html" not in partial.content
    assert [p.pk for p in partial.context["namesakes"]] == [ict.pk]
    assertContains(partial, 'data-person-id="yang-liu-ict"')
    assert partial.headers["Vary"].count("HX-Request") == 1
    with assertTemplateUsed("assignments/person_namesakes.html"):
        full = client.get(url)
    assert b"<html" in full.content
    assertContains(full, 'href="/people/yang-liu-ict/"')
    assert client.get("/people/nobody/namesakes/").status_code == 404


# A row's budget: the largest page (405 papers) must weigh ≤ 150 KB with its header, groups
# and assign panel, i.e. well under 350 bytes a row. Titles here are 80 characters, the mean
# on the full data (78.7).
ROW_BYTES_MAX = 330


def test_person_page_weight_per_paper_stays_small(client):
    """Abstracts, coauthors and affiliations stay off the page (the paper's page has them,
    loaded on demand): what a row adds is bounded, however rich the papers are."""
    reviewer = make_user(roles=("reviewer",))
    client.force_login(reviewer)
    coauthors = [make_person(first=f"Coauthor{i}", last="Longername") for i in range(12)]

    def rich_page(n_papers: int, name: str):
        person = make_person(first=name, last="Weight")
        for i in range(n_papers):
            paper = make_paper(
                title=f"A title of eighty characters about compressing language model {i:05d}"[:80],
                authors=(person, *coauthors[i % 6 : i % 6 + 6]),
                abstract="An abstract that goes on. " * 40,
            )
            Authorship.objects.filter(paper=paper).update(affiliation="A University, Somewhere")
        ids = list(Authorship.objects.filter(person=person).values_list("pk", flat=True))
        # a stored split into two groups: every row shows its group
        Suggestion.objects.create(
            person=person,
            estimated_people=2.0,
            clusters=[
                suggestion_cluster(
                    signature_ids=[str(i) for i in half], confidence=0.9, evidence=make_evidence()
                )
                for half in (ids[::2], ids[1::2])
            ],
        )
        return person

    small, big = rich_page(4, "Small"), rich_page(84, "Big")
    small_page = client.get(f"/people/{small.pk}/")
    big_page = client.get(f"/people/{big.pk}/")
    assert len(big_page.context["rows"]) == 84
    assert all(row["group"] for row in big_page.context["rows"])
    per_row = (len(big_page.content) - len(small_page.content)) / (84 - 4)
    assert per_row <= ROW_BYTES_MAX, f"{per_row:.0f} bytes a row"
    assertNotContains(big_page, "An abstract that goes on.")
    assertNotContains(big_page, "A University, Somewhere")
    assertNotContains(big_page, "Coauthor3 Longername")


def test_a_page_with_many_groups_shows_nine_and_loads_the_rest(client):
    """The keys select groups 1…9: the page shows those; all of them, with why they were kept
    apart, are on the suggestion's own page, which htmx loads into the person page."""
    person, papers = make_page(12, first="Many", last="Groups")
    ids = [p.authorships.get(person=person).pk for p in papers]
    Suggestion.objects.create(
        person=person,
        estimated_people=12.0,
        clusters=[
            suggestion_cluster(
                signature_ids=[str(i)],
                confidence=0.5,
                evidence=make_evidence(terms=[f"topic{n}"]),
            )
            for n, i in enumerate(ids)
        ],
        separations=[{"clusters": [0, 11], "reason": "different topics"}],
    )
    client.force_login(make_user(roles=("reviewer",)))
    response = client.get(f"/people/{person.pk}/")
    content = response.content.decode()
    assert content.count('class="group-card"') == 9
    assert content.count("data-group=") == 9
    suggestion_url = f"/people/{person.pk}/suggestion/"
    assertContains(response, f'hx-get="{suggestion_url}" hx-target="#suggestions"')
    assertContains(response, "All 12 groups, and why they were kept apart")
    assertNotContains(response, "Why these groups were kept apart")
    # every row still says which group it is in
    assert {row["group"] for row in response.context["rows"]} == {str(n) for n in range(1, 13)}

    with assertTemplateUsed("assignments/person_detail.html#suggestions"):
        partial = client.get(suggestion_url, headers=HTMX)
    assert partial.content.decode().count('class="group-card"') == 12
    assertContains(partial, "Why these groups were kept apart")
    assertNotContains(partial, "All 12 groups")
    full = client.get(suggestion_url)
    assert b"<html" in full.content
    assert full.content.decode().count("data-group=") == 12


def test_details_and_namesakes_answer_head_and_conditional_gets(client):
    """Like the person page (papers.caching): anonymous visitors revalidate, nothing is shared."""
    person, papers = make_page(2)
    make_person(first="Peiyu", last="Liu", verified=True)
    for url in (f"/papers/{papers[0].pk}/", f"/people/{person.pk}/namesakes/"):
        for headers in ({}, HTMX):
            first = client.get(url, headers=headers)
            assert first.status_code == 200
            assert "private" in first["Cache-Control"]
            again = client.get(url, headers={**headers, "If-None-Match": first["ETag"]})
            assert again.status_code == 304
        head = client.head(url)
        assert head.status_code == 200
        assert head.content == b""
    client.force_login(make_user(roles=("reviewer",)))
    assert "ETag" not in client.get(f"/people/{person.pk}/namesakes/")
