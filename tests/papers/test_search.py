"""Search's whole-word shortcut (selectors._whole_word_scores) gives what the full trigram
search gives, only faster."""

import pytest

from papers import selectors
from papers import services as catalog
from tests.factories import make_paper, make_person

pytestmark = pytest.mark.django_db


def results(query: str) -> list[tuple[str, str, float]]:
    """What the search shows, with its scores."""
    return [(h.person.pk, h.matched_name, h.score) for h in selectors.person_search(query)]


@pytest.fixture
def many_li():
    """30 persons with the whole word "li" in a name (one of them is just "Li"), with different
    paper counts, and names that hold the letters without the word."""
    for i in range(30):
        person = make_person(first=f"Wei{chr(97 + i % 26)}{i}", last="Li")
        for _ in range(i % 4):
            make_paper(authors=(person,))
    make_person(first="", last="Li")
    make_person(first="Xiao", last="Lin", extra_names=(("Li", "Xiaolin"),))
    make_person(first="Li-Hua", last="Wang")
    make_person(first="Ali", last="Khan")
    make_person(first="Lim", last="Li", extra_names=(("Lim", "Lee"),))
    # for the word-start shortcut ("wei", as typed): a whole word, a hyphenated start, letters
    # inside a word, and the word twice
    make_person(first="Wei", last="Ming")
    make_person(first="Wei-Lun", last="Chen")
    make_person(first="Huawei", last="Xu")
    make_person(first="Weizhe", last="Weixin")


@pytest.mark.parametrize("query", ["li", "LI", "Lì", "wang", "khan", "wei", "Wéi", "weia", "hua"])
def test_whole_word_shortcut_gives_the_full_search_results(many_li, monkeypatch, query):
    fast = results(query)
    monkeypatch.setattr(selectors, "_whole_word_scores", lambda word, limit: {})
    monkeypatch.setattr(selectors, "_word_start_scores", lambda word, limit: {})
    full = results(query)
    assert [(pk, shown) for pk, shown, _ in fast] == [(pk, shown) for pk, shown, _ in full]
    assert [score for *_, score in fast] == pytest.approx([score for *_, score in full])


def test_shortcuts_are_taken_when_enough_persons_have_the_word(many_li, monkeypatch):
    def no_trigrams(normalized: str, limit: int) -> dict:
        raise AssertionError("the trigram search was not needed")

    monkeypatch.setattr(selectors, "_similar_scores", no_trigrams)
    hits = selectors.person_search("li")
    assert len(hits) == 25
    assert hits[0].person.name == "Li"  # the whole name first
    assert hits[0].score == 2.0
    # 30 first names start with "wei": the whole words first ("wei-lun" is stored as two
    # words), tied, by id
    hits = selectors.person_search("wei")
    assert len(hits) == 25
    assert [(h.person.name, h.score) for h in hits[:2]] == [
        ("Wei-Lun Chen", pytest.approx(1.6)),
        ("Wei Ming", pytest.approx(1.6)),
    ]
    assert hits[2].score < 1.6
    assert "Huawei Xu" not in [h.person.name for h in hits]


def test_fewer_whole_word_matches_fall_back_to_similarity(many_li):
    # No name has the word "kha" or "xiaol": the similarity search finds their prefixes.
    assert [h.person.name for h in selectors.person_search("kha")] == ["Ali Khan"]
    assert "Xiao Lin" in [h.person.name for h in selectors.person_search("xiaol")]


def test_search_page_keeps_results_until_the_catalog_changes(
    client, many_li, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    first = client.get("/search/", {"q": "xiaolin"}, headers={"HX-Request": "true"})
    assert [h.person.name for h in first.context["hits"]] == ["Xiao Lin"]
    # The same search again: only the catalog's version is read (for the tag and the results).
    with django_assert_max_num_queries(1):
        again = client.get("/search/", {"q": "xiaolin"}, headers={"HX-Request": "true"})
    assert [h.person.name for h in again.context["hits"]] == ["Xiao Lin"]
    # A change of the catalog through its services moves the version: searched anew.
    with django_capture_on_commit_callbacks(execute=True):
        catalog.persons_create(
            persons=[catalog.NewPersonSpec(id="xiaolin-wu", first_name="Xiaolin", last_name="Wu")]
        )
    after = client.get("/search/", {"q": "xiaolin"}, headers={"HX-Request": "true"})
    assert {h.person.name for h in after.context["hits"]} == {"Xiao Lin", "Xiaolin Wu"}
