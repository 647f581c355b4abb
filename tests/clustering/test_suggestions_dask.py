"""refresh_suggestions in batches, locally and on a Dask cluster started here (loopback only)."""

import subprocess
import sys
from io import StringIO

import dask
import pytest
from distributed import LocalCluster
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assignments.models import Suggestion
from assignments.suggestions import blocks, work
from tests.clustering.conftest import TOPICS
from tests.clustering.test_suggestions import _move_two_here
from tests.factories import make_paper, make_person, make_volume


def _catalog(pages: int) -> list:
    """PAGES mixed pages "Wei Wang k", each with 2 coauthors of their own (pages too)."""
    people = []
    for k in range(pages):
        person = make_person(first="Wei", last=f"Wang{k}")
        a, b = (make_person(first=f"Co{k}x{j}", last=f"Author{k}y{j}") for j in range(2))
        for n in range(3):
            make_paper(title=TOPICS[k % 3] + f" {n}", authors=(person, a), volume=make_volume())
            make_paper(title=TOPICS[3 + k % 3] + f" {n}", authors=(b, person))
        people.append(person)
    return people


def _stored() -> dict:
    return {
        s.person_id: (s.clusters, s.separations, s.estimated_people, s.mixed_score, s.item_count)
        for s in Suggestion.objects.all()
    }


@pytest.mark.django_db
def test_page_block_batches_give_page_blocks_in_batches_of_fixed_queries():
    people = _catalog(4)
    _move_two_here(people[1])
    whole = blocks.page_blocks()
    batches = blocks.page_block_batches(batch_size=5)
    queries = []
    streamed = []
    while True:
        with CaptureQueriesContext(connection) as captured:
            batch = next(batches, None)
        if batch is None:
            break
        queries.append(len(captured))
        streamed.extend(batch)
    assert len(whole) == 12 and len(queries) == 3  # 5 + 5 + 2 pages
    # ids, entries, papers, volumes, moves and page decisions in force: the same per batch
    assert set(queries) == {6}
    assert [(b.person_id, b.signatures, b.must_link, b.cannot_link) for b in streamed] == [
        (b.person_id, b.signatures, b.must_link, b.cannot_link) for b in whole
    ]
    assert any(b.must_link for b in streamed)
    assert blocks.pages_count() == 12
    only = [people[0].id, people[2].id]
    assert [b.person_id for batch in blocks.page_block_batches(person_ids=only) for b in batch] == (
        sorted(only)
    )


def test_tasks_group_small_pages_and_send_large_ones_alone():
    def page(pid: str, n: int) -> work.PageBlock:
        return work.PageBlock(pid, [{"id": f"{pid}/{k}"} for k in range(n)])

    pages = [page(f"p{k}", 2) for k in range(100)] + [page("big", 1500), page("mid", 600)]
    tasks = work.tasks_of(pages)
    assert [b.person_id for b in tasks[0]] == ["big"]
    small = sorted(f"p{k}" for k in range(100))  # equal sizes: in person id order
    assert [b.person_id for b in tasks[1]] == ["mid"] + small[:63]  # 600 + 63 * 2 signatures
    assert [b.person_id for b in tasks[2]] == small[63:]
    assert sorted(b.person_id for t in tasks for b in t) == sorted(b.person_id for b in pages)
    assert all(len(t) <= work.TASK_MAX_PAGES for t in tasks)


@pytest.fixture(scope="module")
def dask_cluster():
    """One worker process with two threads, on loopback; started here, stopped after."""
    with LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=True,
        host="127.0.0.1",
        # no dashboard, but the HTTP servers (health, metrics) still listen: on loopback too
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
    ) as cluster:
        yield cluster


@pytest.mark.django_db
def test_refresh_suggestions_on_a_dask_cluster_stores_what_a_local_run_stores(
    model_path, dask_cluster
):
    people = _catalog(6)
    _move_two_here(people[0])
    lonely = make_person(first="Only", last="Once")
    make_paper(authors=(lonely,))
    call_command("refresh_suggestions", model=str(model_path), jobs=1, stdout=StringIO())
    local = _stored()
    assert len(local) == 18 and lonely.id not in local
    assert any(len(clusters) > 1 for clusters, *_ in local.values())

    Suggestion.objects.all().delete()
    # a page that no longer qualifies: its old suggestion must go at the end of the run
    Suggestion.objects.create(person=lonely, clusters=[], item_count=2)
    out = StringIO()
    call_command(
        "refresh_suggestions",
        model=str(model_path),
        scheduler=dask_cluster.scheduler_address,
        batch_size=4,  # five batches, at most eight pages in flight
        stdout=out,
    )
    assert "18 pages clustered" in out.getvalue() and "on the Dask cluster" in out.getvalue()
    assert _stored() == local

    # --person on the cluster: only that page is written
    Suggestion.objects.exclude(person=people[1]).delete()
    call_command(
        "refresh_suggestions",
        model=str(model_path),
        scheduler=dask_cluster.scheduler_address,
        person=[people[2].id],
        stdout=StringIO(),
    )
    assert set(_stored()) == {people[1].id, people[2].id}
    assert _stored()[people[2].id] == local[people[2].id]


@pytest.mark.django_db
def test_refresh_suggestions_says_when_the_scheduler_cannot_be_reached(model_path):
    make_paper(authors=(make_person(),))
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}),
        pytest.raises(CommandError, match="cannot use the Dask scheduler at tcp://127.0.0.1:9"),
    ):
        call_command(
            "refresh_suggestions",
            model=str(model_path),
            scheduler="tcp://127.0.0.1:9",  # discard port: nothing listens
            stdout=StringIO(),
        )


def test_what_the_workers_run_imports_no_django():
    code = (
        "import sys, assignments.suggestions.work; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
