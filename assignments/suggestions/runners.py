"""Where the pages are split: in this process, in forked local processes, or on a Dask cluster.

Each runner takes the pages as a stream of batches and yields one `work.Output` per page as the
results come back, in any order. At most about `max_pages_in_flight` pages are sent and not yet
returned: the next batch is read only when the workers are that far along, so memory on this
side stays bounded whatever the catalog's size, while the workers always have work queued.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterable, Iterator
from concurrent import futures
from contextlib import contextmanager

import distributed
from django.db import connections

from assignments import clustering
from assignments.suggestions import work
from assignments.suggestions.work import Output, PageBlock


def split_here(
    batches: Iterable[list[PageBlock]], *, model: clustering.ClusteringModel
) -> Iterator[Output]:
    for batch in batches:
        for task in work.tasks_of(batch):
            yield from work.blocks_split(task, model)


def split_locally(
    batches: Iterable[list[PageBlock]],
    *,
    model: clustering.ClusteringModel,
    jobs: int,
    max_pages_in_flight: int,
) -> Iterator[Output]:
    """Split in `jobs` forked processes that inherit the loaded model."""
    # Fork before the first batch is read: a forked process must never share the parent's
    # database socket, and the processes are started once for the whole run.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=work.forked_model_set,
        initargs=(model,),
    ) as pool:
        pool.submit(int).result()  # starts every process now (fork starts them all at once)
        pending: dict[futures.Future[list[Output]], int] = {}
        in_flight = 0
        for batch in batches:
            for task in work.tasks_of(batch):
                pending[pool.submit(work.forked_blocks_split, task)] = len(task)
            in_flight += len(batch)
            while in_flight > max_pages_in_flight:
                done, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    in_flight -= pending.pop(future)
                    yield from future.result()
        for future in futures.as_completed(pending):
            yield from future.result()


@contextmanager
def cluster_client(address: str) -> Iterator[distributed.Client]:
    """A client of the Dask scheduler at `address`. Connecting waits at most
    `distributed.comm.timeouts.connect` (Dask's setting, 30 s unless configured)."""
    try:
        client = distributed.Client(address, set_as_default=False)
    except (OSError, ValueError, TypeError) as e:
        raise ClusterUnreachable(f"cannot use the Dask scheduler at {address}: {e}") from e
    try:
        yield client
    finally:
        client.close()


class ClusterUnreachable(Exception):
    pass


def split_on_cluster(
    batches: Iterable[list[PageBlock]],
    *,
    model: clustering.ClusteringModel,
    client: distributed.Client,
    max_pages_in_flight: int,
) -> Iterator[Output]:
    """Split on the workers of a Dask cluster: the model is sent to every worker once and the
    tasks name it; each batch's pages are scattered to the workers; results are taken as they
    complete."""
    shipped = client.scatter(model, broadcast=True, hash=False)
    # Explicit keys: pages are tasks of their own, never deduplicated against another run's.
    run = uuid.uuid4().hex[:12]
    sent = 0
    # Its own loop: the client is not made the process-wide default.
    finished = distributed.as_completed(with_results=True, loop=client.loop)
    in_flight = 0
    try:
        for batch in batches:
            tasks = work.tasks_of(batch)
            keys = [f"suggestions-{run}-{sent + k}" for k in range(len(tasks))]
            sent += len(tasks)
            # The pages go straight to the workers (spread over them), not through the
            # scheduler inside the task graph: the scheduler handles only the small tasks.
            pages = client.scatter(tasks, hash=False)
            finished.update(client.map(work.blocks_split, pages, key=keys, model=shipped))
            in_flight += len(batch)
            while in_flight > max_pages_in_flight:
                _, outputs = next(finished)
                in_flight -= len(outputs)
                yield from outputs
        for _, outputs in finished:
            yield from outputs
    finally:
        # After an error here nothing waits for the rest: the cluster stops working for this run.
        left = list(finished.futures)
        finished.clear()
        if left:
            client.cancel(left)
        shipped.release()
