"""What computes the suggestions of a batch of person pages, free of Django.

A Dask worker runs these functions and a forked process of the local pool too: they import only
`assignments.clustering` (pure code), never the ORM, so a worker started with a bare
`dask worker ADDRESS` needs neither Django settings nor a database. `PageBlock` lives here for
the same reason: blocks are unpickled on the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assignments import clustering

# A task is a list of pages: one page of a few entries takes milliseconds, far less than what a
# task costs the Dask scheduler (~1 ms), so small pages travel together. A large page goes alone.
TASK_MAX_PAGES = 64
TASK_MAX_SIGNATURES = 1000


@dataclass
class PageBlock:
    person_id: str
    signatures: list[dict]
    must_link: list[tuple[str, str]] = field(default_factory=list)
    cannot_link: list[tuple[str, str]] = field(default_factory=list)


# (person id, BlockResult.to_dict(), "") for a page split, (person id, None, why) for one skipped
Output = tuple[str, dict | None, str]


def block_split(block: PageBlock, model: clustering.ClusteringModel) -> Output:
    try:
        result = clustering.split_block(
            block.signatures,
            model=model,
            must_link=block.must_link,
            cannot_link=block.cannot_link,
        )
    except (ValueError, clustering.ConstraintError) as e:
        # Contradictory reviewer decisions: keep going, report the page.
        return block.person_id, None, str(e)
    return block.person_id, result.to_dict(), ""


def blocks_split(blocks: list[PageBlock], model: clustering.ClusteringModel) -> list[Output]:
    """One task: the pages of `tasks_of`, split one after the other."""
    return [block_split(block, model) for block in blocks]


def tasks_of(blocks: list[PageBlock]) -> list[list[PageBlock]]:
    """Group pages into tasks of comparable weight, largest pages first so that one long page
    does not finish last on its own."""
    tasks: list[list[PageBlock]] = []
    current: list[PageBlock] = []
    weight = 0
    for block in sorted(blocks, key=lambda b: (-len(b.signatures), b.person_id)):
        if current and (
            len(current) >= TASK_MAX_PAGES or weight + len(block.signatures) > TASK_MAX_SIGNATURES
        ):
            tasks.append(current)
            current, weight = [], 0
        current.append(block)
        weight += len(block.signatures)
    if current:
        tasks.append(current)
    return tasks


# The local pool forks after the model is loaded: each process finds it here (set by the pool's
# initializer, inherited copy-on-write), so it is never pickled per task.
_forked_model: clustering.ClusteringModel | None = None


def forked_model_set(model: clustering.ClusteringModel) -> None:
    global _forked_model
    _forked_model = model


def forked_blocks_split(blocks: list[PageBlock]) -> list[Output]:
    if _forked_model is None:
        raise RuntimeError("forked_model_set was not called in this process")
    return blocks_split(blocks, _forked_model)
