"""Train the pairwise model from an Anthology data folder, with labels the data itself gives.

Labels:
- persons the Anthology lists in people.json (verified, explicit ids), except catch-all entries;
- persons with a rare name (its first name and surname are unlikely to meet by chance), whose
  single page is very likely one person;
- blocks like the ones reviewers split: names shared by several verified persons ("real"), and
  synthetic merges of several rare-name persons renamed to one common name ("synthetic"),
  mostly people publishing at the same venue.

Everything is seeded; the same data gives the same model.
"""

import logging
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence, Set
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from assignments.clustering import features as ft
from assignments.clustering import linkage, service
from assignments.clustering import names as nm
from assignments.clustering.evaluation import write_blocks
from assignments.clustering.metrics import bcubed
from assignments.clustering.model import ClusteringModel
from assignments.clustering.signatures import coauthors_of, make_signature, printed_name
from papers import library

log = logging.getLogger(__name__)

CATCH_ALL = ("may refer to", "several people", "multiple people", "catch-all", "catch all")


def _text(markup) -> str:
    if markup is None:
        return ""
    as_text = getattr(markup, "as_text", None)
    return as_text() if as_text else str(markup)


def extract_signatures(datadir: Path | str) -> list[dict]:
    """Every paper author entry as a signature, plus `_person`, `_verified`, `_catch_all`."""
    anthology = library.open_anthology(datadir)
    sigs: list[dict] = []
    for paper in anthology.papers():
        if paper.is_frontmatter or not paper.authors:
            continue
        printed = [(pos, printed_name(ns.first, ns.last)) for pos, ns in enumerate(paper.authors)]
        try:
            year = int(paper.year)
        except (TypeError, ValueError):
            year = None
        title = _text(paper.title)
        abstract = _text(paper.abstract)
        booktitle = _text(getattr(paper.parent, "title", ""))
        for pos, ns in enumerate(paper.authors):
            person = ns.resolve()
            comment = (person.comment or "").lower()
            sigs.append(
                make_signature(
                    id=f"{paper.full_id}/{pos}",
                    paper_id=paper.full_id,
                    title=title,
                    abstract=abstract,
                    year=year,
                    venue_ids=paper.venue_ids,
                    booktitle=booktitle,
                    position=pos,
                    first=ns.first or "",
                    last=ns.last,
                    affiliation=ns.affiliation or "",
                    coauthors=coauthors_of(printed, pos),
                    orcid=ns.orcid or "",
                )
                | {
                    "_person": person.id,
                    "_verified": bool(person.is_explicit),
                    "_catch_all": any(c in comment for c in CATCH_ALL),
                }
            )
    return sigs


def build_idf(sigs: list[dict]) -> np.ndarray:
    """Smoothed IDF over distinct papers, on the hashed term space."""
    seen: set[str] = set()
    texts = []
    for s in sigs:
        if s["paper_id"] not in seen:
            seen.add(s["paper_id"])
            texts.append(ft.sig_text(s))
    df = np.zeros(ft.TEXT_FEATURES, dtype=np.float64)
    for start in range(0, len(texts), 20_000):
        m = ft.hashed_counts(texts[start : start + 20_000])
        m.data[:] = 1
        df += np.asarray(m.sum(axis=0)).ravel()
    return (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float16)


def _expected_namesakes(stats: nm.NameStats, first: str, last: str, total: int) -> float:
    """How many author entries would print this name if first names and surnames met at random."""
    nf, nl = nm.norm(first), nm.norm(last)
    return stats.first_count(nf) * stats.last_count(nl) / max(total, 1)


def _titles_key(s: dict) -> tuple[str, int | None]:
    return (nm.norm(s.get("title")), s.get("year"))


def make_blocks(
    sigs: list[dict],
    stats: nm.NameStats,
    *,
    seed: int = 0,
    synthetic_blocks: int = 1200,
    exclude_names: Iterable[str] = (),
    exclude_titles: Set[tuple[str, int | None]] = frozenset(),
) -> list[dict]:
    """Labelled blocks in the evaluation schema (`truth` maps signature id -> person)."""
    rng = random.Random(seed)
    total = len(sigs)
    excluded_names = {nm.norm(n) for n in exclude_names}
    by_person: dict[str, list[dict]] = defaultdict(list)
    for s in sigs:
        by_person[s["_person"]].append(s)
    # Persons touching an excluded paper are left out entirely (evaluation people).
    banned = {s["_person"] for s in sigs if exclude_titles and _titles_key(s) in exclude_titles}

    blocks: list[dict] = []
    # real: one printed name shared by several verified persons
    by_name: dict[str, list[dict]] = defaultdict(list)
    for s in sigs:
        if s["_verified"] and not s["_catch_all"]:
            by_name[nm.full_key(s["first"], s["last"])].append(s)
    for key in sorted(by_name):
        group = by_name[key]
        persons = {s["_person"] for s in group}
        if len(persons) < 2 or key in excluded_names or persons & banned or len(group) < 3:
            continue
        blocks.append(
            {
                "name": f"{group[0]['first']} {group[0]['last']}".strip(),
                "kind": "real",
                "signatures": group,
                "truth": {s["id"]: s["_person"] for s in group},
            }
        )

    # synthetic: rare-name persons renamed to a common name
    rare: list[str] = []
    for pid in sorted(by_person):
        items = by_person[pid]
        if pid in banned or len(items) < 3 or items[0]["_catch_all"]:
            continue
        names = Counter(nm.full_key(s["first"], s["last"]) for s in items)
        key = names.most_common(1)[0][0]
        s0 = next(s for s in items if nm.full_key(s["first"], s["last"]) == key)
        if stats.full_count(key) > len(items):  # someone else prints this name too
            continue
        if (
            items[0]["_verified"]
            or _expected_namesakes(stats, s0["first"], s0["last"], total) < 0.3
        ):
            rare.append(pid)
    common: list[tuple[str, str]] = []
    seen_common: set[str] = set()
    for s in sigs:
        key = nm.full_key(s["first"], s["last"])
        if key in seen_common or not s["first"]:
            continue
        seen_common.add(key)
        if (
            stats.full_count(key) >= 40
            and _expected_namesakes(stats, s["first"], s["last"], total) >= 3
        ):
            common.append((s["first"], s["last"]))
    common.sort()
    if not common or len(rare) < 2:
        raise ValueError(
            f"too little data to build training blocks ({len(common)} common names, "
            f"{len(rare)} rare-name persons): train on the full Anthology data"
        )
    log.info(
        "%d real blocks, %d rare persons, %d common names", len(blocks), len(rare), len(common)
    )

    main_venue = {}
    for pid in rare:
        main_venue[pid] = Counter(s["venue"] for s in by_person[pid]).most_common(1)[0][0]
    by_venue: dict[str, list[str]] = defaultdict(list)
    for pid in rare:
        by_venue[main_venue[pid]].append(pid)
    # Collaborators and their collaborators: the hardest namesakes share coauthors.
    rare_set = set(rare)
    on_paper: dict[str, set[str]] = defaultdict(set)
    for s in sigs:
        on_paper[s["paper_id"]].add(s["_person"])
    coauthors: dict[str, set[str]] = defaultdict(set)
    for persons in on_paper.values():
        for pid in persons:
            coauthors[pid] |= persons
    for b in range(synthetic_blocks):
        first, last = rng.choice(common)
        k = rng.choice([2, 2, 3, 3, 3, 4, 5, 6, 8, 8])
        anchor = rng.choice(rare)
        chosen = [anchor]
        pool_same = by_venue[main_venue[anchor]]
        near = set()
        for c in coauthors[anchor]:
            near |= coauthors[c]
        pool_near = sorted((near & rare_set) - {anchor})
        mode = rng.random()
        tries = 0
        while len(chosen) < k and tries < 200:
            tries += 1
            draw = rng.random()
            if mode < 0.5 and pool_near and draw < 0.8:
                pid = rng.choice(pool_near)
            elif draw < 0.75:
                pid = rng.choice(pool_same)
            else:
                pid = rng.choice(rare)
            if pid in chosen:
                continue
            chosen.append(pid)
        block_sigs = []
        for pid in chosen:
            items = by_person[pid]
            if len(items) > 60:
                items = rng.sample(items, 60)
            for s in items:
                block_sigs.append(dict(s, first=first, last=last, id=f"b{b}:{s['id']}"))
        blocks.append(
            {
                "name": f"{first} {last}",
                "kind": "synthetic",
                "signatures": block_sigs,
                "truth": {s["id"]: s["_person"] for s in block_sigs},
            }
        )
    return blocks


def block_pairs(block: dict, model: ClusteringModel, rng: np.random.Generator, cap: int):
    sigs = block["signatures"]
    prep = ft.prepare(sigs, model)
    i, j = service.pairs_to_score(prep, model)
    if len(i) > cap:
        keep = np.sort(rng.choice(len(i), cap, replace=False))
        i, j = i[keep], j[keep]
    truth = [block["truth"][s["id"]] for s in sigs]
    y = np.array([truth[a] == truth[b] for a, b in zip(i.tolist(), j.tolist(), strict=True)])
    return ft.pair_features(prep, i, j), y


def fit(
    blocks: list[dict],
    model: ClusteringModel,
    *,
    seed: int = 0,
    pairs_per_block: int = 6000,
    max_iter: int = 150,
) -> ClusteringModel:
    rng = np.random.default_rng(seed)
    xs, ys, ws = [], [], []
    for block in blocks:
        x, y = block_pairs(block, model, rng, pairs_per_block)
        if len(y) == 0:
            continue
        xs.append(x)
        ys.append(y)
        # each block weighs by its signature count, spread over its sampled pairs
        ws.append(np.full(len(y), len(block["signatures"]) / len(y), dtype=np.float64))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    w = np.concatenate(ws)
    # sklearn cannot bin a feature that is missing everywhere (tiny or odd training sets)
    x[:, np.isnan(x).all(axis=0)] = 0.0
    log.info("training on %d pairs (%.1f%% same person)", len(y), 100 * y.mean())
    clf = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=0.12,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
    )
    clf.fit(x, y, sample_weight=w)
    model.classifier = clf
    model.info.update(pairs=int(len(y)), positives=int(y.sum()), blocks=len(blocks))
    return model


def tune_threshold(
    blocks: list[dict], model: ClusteringModel, *, min_precision: float = 0.9
) -> tuple[float, dict]:
    """The merge threshold with the best pooled B-cubed F1 among those whose precision is at
    least `min_precision` (the highest-precision one when none is). Pairs are scored once per
    block; only the clustering is redone per threshold."""
    scored = []
    for block in blocks:
        sigs = [dict(s) for s in block["signatures"]]
        index = {str(s["id"]): k for k, s in enumerate(sigs)}
        must, cannot, _ = service._constraint_pairs(sigs, index, (), ())
        prep = ft.prepare(sigs, model)
        scored.append((block, sigs, must, cannot, *service.score_pairs(prep, model)))
    results = []
    for t in [round(float(t), 3) for t in np.arange(0.2, 0.96, 0.05)]:
        preds, truths = {}, {}
        for b_index, (block, sigs, must, cannot, i, j, sim, default) in enumerate(scored):
            groups, _ = linkage.cluster(
                len(sigs),
                i,
                j,
                sim,
                threshold=t,
                default=default,
                must_link=must,
                cannot_link=cannot,
            )
            for c_index, members in enumerate(groups):
                for m in members:
                    preds[(b_index, sigs[m]["id"])] = c_index
            for sid, person in block["truth"].items():
                truths[(b_index, sid)] = person
        p, r, f = bcubed(preds, truths, group=lambda key: key[0])
        log.info("threshold %.2f: P %.4f R %.4f F1 %.4f", t, p, r, f)
        results.append((t, {"precision": p, "recall": r, "f1": f}))
    eligible = [x for x in results if x[1]["precision"] >= min_precision]
    if eligible:
        best = max(eligible, key=lambda x: (x[1]["f1"], -x[0]))
    else:
        best = max(results, key=lambda x: (x[1]["precision"], -x[0]))
    model.threshold = best[0]
    return best[0], best[1]


SYNTHETIC_BLOCKS = 1200
VALIDATION_SHARE = 0.15


def train(
    datadir: Path | str,
    *,
    exclude: Sequence[dict] = (),
    tune_blocks: list[dict] | None = None,
    synthetic_blocks: int = SYNTHETIC_BLOCKS,
    seed: int = 0,
    topic_dims: int = 30,
    min_precision: float = 0.9,
    held_out_path: Path | str | None = None,
    report=log.info,
) -> ClusteringModel:
    """The whole recipe: extract, count names, build IDF and labelled blocks, fit, tune.

    `exclude` blocks (e.g. the dev set) have their names and people left out of training, so
    that figures measured on them are honest. The threshold is tuned on `tune_blocks` when given,
    else on a held-back share of the generated blocks. `held_out_path` receives those held-back
    blocks (people and names the model never saw), to check that dev figures generalise.
    """
    sigs = extract_signatures(datadir)
    report(f"{len(sigs)} author entries")
    stats = nm.NameStats.build((s["first"], s["last"]) for s in sigs)
    idf = build_idf(sigs)
    blocks = make_blocks(
        sigs,
        stats,
        seed=seed,
        synthetic_blocks=synthetic_blocks,
        exclude_names={b.get("name", "") for b in exclude},
        exclude_titles={_titles_key(s) for b in exclude for s in b["signatures"]},
    )
    rng = random.Random(seed)
    order = list(range(len(blocks)))
    rng.shuffle(order)
    cut = int(len(blocks) * VALIDATION_SHARE)
    held = [blocks[k] for k in sorted(order[:cut])]
    train_blocks = [blocks[k] for k in sorted(order[cut:])]
    if held_out_path is not None:
        write_blocks(held_out_path, held)
        report(f"{len(held)} held-back blocks written to {held_out_path}")
    model = ClusteringModel(classifier=None, idf=idf, name_stats=stats, topic_dims=topic_dims)
    fit(train_blocks, model, seed=seed)
    report(f"fitted on {len(train_blocks)} blocks")
    tuning = tune_blocks if tune_blocks is not None else held
    threshold, scores = tune_threshold(tuning, model, min_precision=min_precision)
    report(f"threshold {threshold}: {scores}")
    model.info.update(
        seed=seed,
        author_entries=len(sigs),
        synthetic_blocks=synthetic_blocks,
        excluded_blocks=len(exclude),
        tuned_on="given blocks" if tune_blocks is not None else "held-back generated blocks",
        threshold=threshold,
        min_precision=min_precision,
        tuning_scores={k: round(v, 4) for k, v in scores.items()},
    )
    return model
