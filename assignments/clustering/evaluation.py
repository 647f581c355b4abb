"""Reading block files and scoring the service on them (B-cubed, timings, ranking accuracy)."""

import gzip
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assignments.clustering.metrics import bcubed
from assignments.clustering.model import ClusteringModel
from assignments.clustering.service import rank_candidates, split_block

SIZE_BUCKETS = [(1, 9), (10, 49), (50, 99), (100, 299), (300, 999), (1000, 10**9)]


def read_blocks(path: Path | str) -> Iterator[dict]:
    """Blocks from a JSON-lines file, gzipped when the name ends in .gz."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                block = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{number}: not JSON ({e.msg})") from e
            if not isinstance(block, dict) or not isinstance(block.get("signatures"), list):
                raise ValueError(f"{path}:{number}: a block needs a 'signatures' list")
            problem = _signatures_problem(block["signatures"])
            if problem:
                raise ValueError(f"{path}:{number}: {problem}")
            yield block


# the text fields the service reads
_TEXT_FIELDS = ("title", "abstract", "venue", "first", "last", "affiliation", "orcid")


def _signatures_problem(signatures: list) -> str | None:
    """What is wrong with a block's signatures for the service (the schema in the shared data's
    README), or None."""
    seen = set()
    for k, sig in enumerate(signatures, 1):
        if not isinstance(sig, dict) or sig.get("id") in (None, ""):
            return f"signature {k} needs an 'id'"
        sid = str(sig["id"])
        if sid in seen:
            return f"signature id {sid!r} occurs twice"
        seen.add(sid)
        for key in _TEXT_FIELDS:
            if sig.get(key) is not None and not isinstance(sig[key], str):
                return f"signature {sid!r}: {key!r} must be a string"
        year = sig.get("year")
        if year not in (None, "") and not (
            (isinstance(year, int) and not isinstance(year, bool))
            or (isinstance(year, str) and year.strip().isdecimal())
        ):
            return f"signature {sid!r}: 'year' must be a year, not {year!r}"
        coauthors = sig.get("coauthors")
        if coauthors is not None and not (
            isinstance(coauthors, list) and all(isinstance(c, str) for c in coauthors)
        ):
            return f"signature {sid!r}: 'coauthors' must be a list of names"
    return None


def write_blocks(path: Path | str, blocks: list[dict]) -> None:
    """Blocks as JSON lines (gzipped when the name ends in .gz), in the evaluation schema:
    signature keys starting with "_" (training bookkeeping) are left out."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as f:
        for block in blocks:
            sigs = [
                {k: v for k, v in s.items() if not k.startswith("_")} for s in block["signatures"]
            ]
            f.write(json.dumps({**block, "signatures": sigs}, ensure_ascii=False) + "\n")


def strip_truth(block: dict) -> list[dict]:
    """The signatures only: the service never sees `truth`."""
    return [dict(s) for s in block["signatures"]]


def _label(lo: int, hi: int) -> str:
    return f"{lo}-{hi}" if hi < 10**9 else f"{lo}+"


# timing rows in size order; "0" is an empty block
BUCKET_LABELS = ["0"] + [_label(lo, hi) for lo, hi in SIZE_BUCKETS]


def _bucket(n: int) -> str:
    for lo, hi in SIZE_BUCKETS:
        if lo <= n <= hi:
            return _label(lo, hi)
    return "0"


def evaluate(blocks: list[dict], model: ClusteringModel) -> dict:
    """Pooled B-cubed overall and per kind, the one-cluster baseline, and timing per size."""
    pred, truth, base = {}, {}, {}
    kinds: dict[str, list] = defaultdict(list)
    timing: dict[str, list[float]] = defaultdict(list)
    for b_index, block in enumerate(blocks):
        sigs = strip_truth(block)
        start = time.perf_counter()
        result = split_block(sigs, model=model)
        timing[_bucket(len(sigs))].append(time.perf_counter() - start)
        for c_index, c in enumerate(result.clusters):
            for sid in c.signature_ids:
                pred[(b_index, sid)] = c_index
        for sid, person in (block.get("truth") or {}).items():
            key = (b_index, sid)
            truth[key] = person
            base[key] = 0
            kinds[block.get("kind", "unknown")].append(key)

    def score(keys) -> dict:
        t = {k: truth[k] for k in keys}
        p, r, f = bcubed(pred, t, group=lambda k: k[0])
        bp, br, bf = bcubed(base, t, group=lambda k: k[0])
        return {
            "signatures": len(t),
            "precision": p,
            "recall": r,
            "f1": f,
            "baseline": {"precision": bp, "recall": br, "f1": bf},
        }

    return {
        "overall": score(list(truth)),
        "kinds": {kind: score(keys) for kind, keys in sorted(kinds.items())},
        "timing": {
            bucket: {
                "blocks": len(timing[bucket]),
                "mean_s": float(np.mean(timing[bucket])),
                "max_s": float(np.max(timing[bucket])),
            }
            for bucket in BUCKET_LABELS
            if bucket in timing
        },
    }


def ranking_accuracy(blocks: list[dict], model: ClusteringModel, *, seed: int = 0) -> dict:
    """Top-1 accuracy of rank_candidates on held-out papers of known persons.

    In every labelled block, for each person with 2+ signatures, one signature is held out and
    ranked against all the block's persons (with the held-out one removed): the hard case of
    namesakes. In `top1_accuracy` a "new person" answer counts as wrong.
    """
    rng = np.random.default_rng(seed)
    correct = correct_persons = total = 0
    times = []
    for block in blocks:
        truth = block.get("truth") or {}
        by_person: dict[str, list[dict]] = defaultdict(list)
        for s in block["signatures"]:
            sid = str(s["id"])  # truth's keys are JSON strings; ids may be numbers
            if sid in truth:
                by_person[truth[sid]].append(s)
        if len(by_person) < 2:
            continue
        for person in sorted(by_person):
            sigs = by_person[person]
            if len(sigs) < 2:
                continue
            held = sigs[int(rng.integers(len(sigs)))]
            candidates = [
                {"person_id": p, "signatures": [s for s in ss if s is not held]}
                for p, ss in sorted(by_person.items())
            ]
            start = time.perf_counter()
            ranked = rank_candidates(held, candidates, model=model)
            times.append(time.perf_counter() - start)
            best_person = next((c.person_id for c in ranked if c.person_id is not None), None)
            total += 1
            correct += ranked[0].person_id == person
            correct_persons += best_person == person
    return {
        "held_out": total,
        "top1_accuracy": correct / total if total else 0.0,
        # ignoring the "new person" answer: is the right person the best-scored existing one?
        "top1_among_persons": correct_persons / total if total else 0.0,
        "mean_ms": 1000 * float(np.mean(times)) if times else 0.0,
    }
