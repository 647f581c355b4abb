"""One signature rule: training (from the library) and serving (from the database) agree."""

import pytest

from assignments.clustering.signatures import coauthors_of, make_signature
from assignments.clustering.training import extract_signatures
from assignments.suggestions.blocks import page_blocks
from papers.models import Authorship

pytestmark = pytest.mark.django_db

PRIVATE = ("id", "_person", "_verified", "_catch_all")


def test_coauthors_are_the_other_entries_by_position_even_with_a_shared_name():
    # two authors printed alike on one paper: each still has the other as a coauthor
    names = [(0, "Wei Li"), (1, "Wei Li"), (2, "Yang Liu")]
    assert coauthors_of(names, 0) == ["Wei Li", "Yang Liu"]
    assert coauthors_of(names, 1) == ["Wei Li", "Yang Liu"]
    assert coauthors_of(reversed(names), 2) == ["Wei Li", "Wei Li"]


def test_served_signatures_equal_the_training_ones(imported, fixture_data_dir):
    trained = {
        (s["paper_id"], s["author_position"]): {k: v for k, v in s.items() if k not in PRIVATE}
        for s in extract_signatures(fixture_data_dir)
    }
    served = {}
    for block in page_blocks(min_items=1):
        for s in block.signatures:
            served[(s["paper_id"], s["author_position"], block.person_id)] = s
    authors = dict(Authorship.objects.filter(role="author").values_list("pk", "person_id"))
    compared = 0
    for (paper_id, position, person_id), s in served.items():
        key = (paper_id, position)
        if key not in trained or authors.get(int(s["id"])) != person_id:
            continue  # editors and front matter are not training signatures
        assert {k: v for k, v in s.items() if k != "id"} == trained[key], key
        compared += 1
    # every training signature of the fixtures was served by some page
    assert compared == len(trained)


def test_make_signature_is_the_contract():
    s = make_signature(
        id="1",
        paper_id="2024.acl-long.1",
        title="T",
        abstract="",
        year=2024,
        venue_ids=["acl", "ws"],
        booktitle="B",
        position=0,
        first="A",
        last="B",
        affiliation="",
        coauthors=[],
        orcid="",
    )
    assert s["venue"] == "acl" and s["author_position"] == 0
