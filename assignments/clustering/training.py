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
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence, Set
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier

from assignments.clustering import corpus as cp
from assignments.clustering import features as ft
from assignments.clustering import linkage, merging, service
from assignments.clustering import names as nm
from assignments.clustering.evaluation import write_blocks
from assignments.clustering.metrics import bcubed
from assignments.clustering.model import ClusteringModel, single_thread
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


def build_idf(texts: list[str]) -> np.ndarray:
    """Smoothed IDF over distinct papers, on the hashed term space."""
    df = np.zeros(ft.TEXT_FEATURES, dtype=np.float64)
    for start in range(0, len(texts), 20_000):
        m = ft.hashed_counts(texts[start : start + 20_000])
        m.data[:] = 1
        df += np.asarray(m.sum(axis=0)).ravel()
    return (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float16)


def paper_texts(sigs: list[dict]) -> list[str]:
    """Title and abstract of each distinct paper, in first-seen order."""
    seen: set[str] = set()
    texts = []
    for s in sigs:
        if s["paper_id"] not in seen:
            seen.add(s["paper_id"])
            texts.append(ft.sig_text(s))
    return texts


def build_topics(
    texts: list[str], idf: np.ndarray, *, dims: int = 64, min_df: int = 5, seed: int = 0
) -> cp.TopicSpace:
    """An LSA space over every paper's title and abstract: truncated SVD of their TF-IDF, on the
    hashed terms that occur in `min_df`+ papers (rarer ones carry no topic)."""
    counts = sp.vstack(
        [ft.hashed_counts(texts[k : k + 20_000]) for k in range(0, len(texts), 20_000)]
    ).tocsr()
    df = np.bincount(counts.indices, minlength=ft.TEXT_FEATURES)
    columns = np.flatnonzero(df >= min_df).astype(np.int32)
    tfidf = ft.tfidf(counts, idf)[:, columns]
    dims = min(dims, len(columns) - 1, tfidf.shape[0] - 1)
    if dims < 2:
        return cp.TopicSpace(columns=columns[:0], vectors=np.zeros((0, 0), dtype=np.float16))
    with single_thread():
        svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=6, random_state=seed)
        svd.fit(tfidf)
    return cp.TopicSpace(columns=columns, vectors=svd.components_.T.astype(np.float16))


GRAPH_MAX_AUTHORS = 25


def build_graph(sigs: list[dict]) -> cp.CoauthorGraph:
    """Who wrote with whom, from every paper of up to GRAPH_MAX_AUTHORS authors (a paper by a
    consortium says nothing about who works with whom)."""
    by_paper: dict[str, list[str]] = {}
    for s in sigs:
        if s["paper_id"] not in by_paper:
            by_paper[s["paper_id"]] = [printed_name(s["first"], s["last"]), *s["coauthors"]]
    return cp.CoauthorGraph.build(
        authors for authors in by_paper.values() if len(authors) <= GRAPH_MAX_AUTHORS
    )


def _expected_namesakes(stats: nm.NameStats, first: str, last: str, total: int) -> float:
    """How many author entries would print this name if first names and surnames met at random."""
    nf, nl = nm.norm(first), nm.norm(last)
    return stats.first_count(nf) * stats.last_count(nl) / max(total, 1)


def _titles_key(s: dict) -> tuple[str, int | None]:
    return (nm.norm(s.get("title")), s.get("year"))


NEAR_SHARE = 0.25


def make_blocks(
    sigs: list[dict],
    stats: nm.NameStats,
    *,
    seed: int = 0,
    synthetic_blocks: int = 1200,
    single_blocks: int = 0,
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
        # Most blocks gather people of one venue (the evaluation blocks' recipe: "often
        # publishing at the same venue"); a quarter start from the anchor's collaborators'
        # collaborators, the hardest namesakes.
        near_mode = rng.random() < NEAR_SHARE and pool_near
        tries = 0
        while len(chosen) < k and tries < 200:
            tries += 1
            draw = rng.random()
            if near_mode and draw < 0.6:
                pid = rng.choice(pool_near)
            elif draw < 0.85:
                pid = rng.choice(pool_same)
            else:
                pid = rng.choice(rare)
            if pid in chosen:
                continue
            chosen.append(pid)
        # As on a real page, a chosen person who wrote with another chosen one prints the block's
        # name in the other's coauthor list, not their own: the renamed names must not survive
        # as coauthors (a feature would learn them, not people).
        renamed = {
            nm.coauthor_keys(printed_name(s["first"], s["last"]))[0]
            for pid in chosen
            for s in by_person[pid]
        }
        block_name = printed_name(first, last)
        block_sigs = []
        for pid in chosen:
            items = by_person[pid]
            if len(items) > 60:
                items = rng.sample(items, 60)
            for s in items:
                as_printed = [
                    block_name if nm.coauthor_keys(c)[0] in renamed else c for c in s["coauthors"]
                ]
                block_sigs.append(
                    dict(s, first=first, last=last, id=f"b{b}:{s['id']}", coauthors=as_printed)
                )
        blocks.append(
            {
                "name": f"{first} {last}",
                "kind": "synthetic",
                "signatures": block_sigs,
                "truth": {s["id"]: s["_person"] for s in block_sigs},
            }
        )

    # single: one person's page as it is (their own names), the case of most pages: verified
    # persons (two thirds of them, see verified_for_training) and rare-name persons.
    singles = sorted(
        pid
        for pid in set(rare) | {s["_person"] for s in sigs if s["_verified"]}
        if pid not in banned
        and len({s["paper_id"] for s in by_person[pid]}) >= 3
        and not by_person[pid][0]["_catch_all"]
        and (not by_person[pid][0]["_verified"] or verified_for_training(pid))
    )
    for b, pid in enumerate(rng.sample(singles, min(single_blocks, len(singles)))):
        items = by_person[pid]
        if len(items) > 150:
            items = rng.sample(items, 150)
        names = Counter(printed_name(s["first"], s["last"]) for s in items)
        block_sigs = [dict(s, id=f"s{b}:{s['id']}") for s in items]
        blocks.append(
            {
                "name": names.most_common(1)[0][0],
                "kind": "single",
                "signatures": block_sigs,
                "truth": {s["id"]: s["_person"] for s in block_sigs},
            }
        )
    return blocks


def block_pairs(block: dict, model: ClusteringModel, rng: np.random.Generator, cap: int):
    """Pair-model rows of one block (the pair model ranks candidates)."""
    sigs = block["signatures"]
    prep = ft.prepare(sigs, model, graph=False)
    i, j = service.pairs_to_score(prep, model)
    if len(i) > cap:
        keep = np.sort(rng.choice(len(i), cap, replace=False))
        i, j = i[keep], j[keep]
    truth = [block["truth"][s["id"]] for s in sigs]
    y = np.array([truth[a] == truth[b] for a, b in zip(i.tolist(), j.tolist(), strict=True)])
    return ft.pair_features(prep, i, j), y


def _classifier(seed: int, max_iter: int, learning_rate: float, **extra):
    return HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=learning_rate,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
        **extra,
    )


def fit(
    blocks: list[dict],
    model: ClusteringModel,
    *,
    seed: int = 0,
    pairs_per_block: int = 6000,
    max_iter: int = 150,
) -> ClusteringModel:
    """The pair model (signature vs signature), which rank_candidates uses."""
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
    log.info("pair model: %d pairs (%.1f%% same person)", len(y), 100 * y.mean())
    with single_thread():
        model.classifier = _classifier(seed, max_iter, 0.12).fit(x, y, sample_weight=w)
    model.info.update(pairs=int(len(y)), positives=int(y.sum()), blocks=len(blocks))
    return model


def component_rows(block: dict, model: ClusteringModel) -> tuple[np.ndarray, ...]:
    """Merge-model rows of one block: its stage-1 components' pairs, labelled by whether the
    components' main persons are one, weighted by the signature pairs they stand for."""
    st = service.stages(block["signatures"], model)
    truth = [block["truth"][str(s["id"])] for s in block["signatures"]]
    main = []
    for c in range(st.groups.k):
        members = np.flatnonzero(st.labels == c)
        main.append(Counter(truth[m] for m in members).most_common(1)[0][0])
    y = np.array([main[a] == main[b] for a, b in zip(st.a, st.b, strict=True)], dtype=bool)
    # A pair stands for size_a x size_b signature pairs, but weighing it so lets a few large
    # pairs drown the many small ones: the square root measured best on dev (F1 +0.003 over
    # the product, +0.005 over equal weights). Each block weighs by its signature count.
    weight = np.sqrt(st.groups.size[st.a] * st.groups.size[st.b]).astype(np.float64)
    if len(weight):
        weight *= len(truth) / weight.sum()
    return st.x, y, weight


def fit_merge(
    blocks: list[dict],
    model: ClusteringModel,
    *,
    seed: int = 0,
    max_iter: int = 500,
    learning_rate: float = 0.05,
) -> ClusteringModel:
    """The merge model (stage 2: component vs component) and its reference values."""
    xs, ys, ws = [], [], []
    for block in blocks:
        x, y, w = component_rows(block, model)
        if len(y):
            xs.append(x)
            ys.append(y)
            ws.append(w)
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    x[:, np.isnan(x).all(axis=0)] = 0.0
    log.info("merge model: %d component pairs (%.1f%% same person)", len(y), 100 * y.mean())
    with single_thread():
        # 500 trees at 0.05 rather than 300 at 0.08: chosen on the held-back generated blocks
        # (F1 at precision 0.88: 0.8085 vs 0.8031), not on dev. They cost ~0.3 ms more per
        # small page; refresh_suggestions measured 181-189 s with either on a shared machine.
        model.merger = _classifier(seed, max_iter, learning_rate).fit(x, y, sample_weight=w)
    model.merge_reference = merging.reference_values(x, y)
    model.info.update(component_pairs=int(len(y)), component_positives=int(y.sum()))
    return model


THRESHOLDS = [round(float(t), 3) for t in np.arange(0.2, 0.951, 0.025)]


def _scored(blocks: list[dict], model: ClusteringModel) -> list[tuple]:
    out = []
    for block in blocks:
        sigs = block["signatures"]
        st = service.stages(sigs, model)
        prob = model.predict_merge(st.x)
        truth = {str(s["id"]): block["truth"].get(str(s["id"])) for s in sigs}
        out.append((st, prob, [str(s["id"]) for s in sigs], truth))
    return out


def _bcubed_at(scored: list[tuple], threshold: float) -> tuple[float, float, float]:
    labels = _labels_at(scored, threshold, prefix=0)
    preds = {key: value[0] for key, value in labels.items()}
    truths = {key: value[1] for key, value in labels.items() if value[1] is not None}
    return bcubed(preds, truths, group=lambda key: key[:2])


def _pick(results: list[tuple[float, tuple]], min_precision: float) -> float:
    eligible = [r for r in results if r[1][0] >= min_precision]
    if eligible:
        return max(eligible, key=lambda r: (r[1][2], -r[0]))[0]
    return max(results, key=lambda r: (r[1][0], -r[0]))[0]


def tune_threshold(
    blocks: list[dict], model: ClusteringModel, *, min_precision: float = 0.88, folds: int = 5
) -> tuple[float, dict]:
    """The merge threshold with the best pooled B-cubed F1 among those whose precision is at
    least `min_precision` (the highest-precision one when none is), and a cross-validated
    estimate of the figures that choice gives on blocks it was not chosen on: the blocks are
    cut into `folds` parts, and each part is scored at the threshold picked on the others.
    Stage 2 is scored once per block; only the linkage is redone per threshold."""
    scored = _scored(blocks, model)
    results = [(t, _bcubed_at(scored, t)) for t in THRESHOLDS]
    for t, (p, r, f) in results:
        log.info("threshold %.3f: P %.4f R %.4f F1 %.4f", t, p, r, f)
    best = _pick(results, min_precision)
    chosen = dict(zip(("precision", "recall", "f1"), dict(results)[best], strict=True))
    if folds > 1 and len(scored) >= folds:
        part = [k % folds for k in range(len(scored))]
        cv_pred, cv_truth = {}, {}
        for fold in range(folds):
            rest = [s for s, q in zip(scored, part, strict=True) if q != fold]
            mine = [s for s, q in zip(scored, part, strict=True) if q == fold]
            t = _pick([(t, _bcubed_at(rest, t)) for t in THRESHOLDS], min_precision)
            for key, value in _labels_at(mine, t, prefix=fold).items():
                cv_pred[key] = value[0]
                if value[1] is not None:
                    cv_truth[key] = value[1]
        p, r, f = bcubed(cv_pred, cv_truth, group=lambda key: key[:2])
        chosen.update(cv_precision=p, cv_recall=r, cv_f1=f)
    model.threshold = best
    return best, chosen


def _labels_at(scored: list[tuple], threshold: float, *, prefix: int) -> dict:
    out = {}
    for b_index, (st, prob, ids, truth) in enumerate(scored):
        clusters, _ = linkage.cluster(
            st.groups.k,
            st.a,
            st.b,
            prob,
            threshold=threshold,
            cannot_link=st.forbidden,
            sizes=st.groups.size,
        )
        cluster_of = np.empty(st.groups.k, dtype=np.int64)
        for c, comps in enumerate(clusters):
            cluster_of[comps] = c
        for sid, c in zip(ids, cluster_of[st.labels].tolist(), strict=True):
            out[(prefix, b_index, sid)] = (c, truth[sid])
    return out


SYNTHETIC_BLOCKS = 1200
SINGLE_BLOCKS = 500
VALIDATION_SHARE = 0.15


def train(
    datadir: Path | str,
    *,
    exclude: Sequence[dict] = (),
    tune_blocks: list[dict] | None = None,
    synthetic_blocks: int = SYNTHETIC_BLOCKS,
    single_blocks: int = SINGLE_BLOCKS,
    seed: int = 0,
    min_precision: float = 0.88,
    held_out_path: Path | str | None = None,
    report=log.info,
) -> ClusteringModel:
    """The whole recipe: extract, count names, fit the corpus statistics (IDF, LSA topics, the
    coauthor graph), build labelled blocks, fit the pair and merge models, tune the threshold.

    `exclude` blocks (e.g. the dev set) have their names and people left out of training, so
    that figures measured on them are honest. The threshold is tuned on `tune_blocks` when given,
    else on a held-back share of the generated blocks. `held_out_path` receives those held-back
    blocks (people and names the model never saw), to check that dev figures generalise.
    """
    sigs = extract_signatures(datadir)
    report(f"{len(sigs)} author entries")
    stats = nm.NameStats.build((s["first"], s["last"]) for s in sigs)
    texts = paper_texts(sigs)
    idf = build_idf(texts)
    corpus = cp.Corpus(topics=build_topics(texts, idf, seed=seed), graph=build_graph(sigs))
    report(
        f"corpus: {corpus.topics.dims} topics over {len(corpus.topics.columns)} terms, "
        f"coauthor graph of {len(corpus.graph.nodes)} names"
    )
    blocks = make_blocks(
        sigs,
        stats,
        seed=seed,
        synthetic_blocks=synthetic_blocks,
        single_blocks=single_blocks,
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
    model = ClusteringModel(classifier=None, idf=idf, name_stats=stats, corpus=corpus)
    fit(train_blocks, model, seed=seed)
    fit_merge(train_blocks, model, seed=seed)
    report(f"fitted on {len(train_blocks)} blocks")
    tuning = tune_blocks if tune_blocks is not None else held
    threshold, scores = tune_threshold(tuning, model, min_precision=min_precision)
    report(f"threshold {threshold}: {scores}")
    model.info.update(
        seed=seed,
        author_entries=len(sigs),
        synthetic_blocks=synthetic_blocks,
        single_blocks=single_blocks,
        excluded_blocks=len(exclude),
        tuned_on="given blocks" if tune_blocks is not None else "held-back generated blocks",
        threshold=threshold,
        min_precision=min_precision,
        tuning_scores={k: round(v, 4) for k, v in scores.items()},
    )
    return model


def verified_for_training(person_id: str) -> bool:
    """Whether a verified person may give a single-person training block: two thirds of them,
    chosen by a hash of the id, so that the other third checks the over-split figure on pages
    the training never saw."""
    return zlib.crc32(person_id.encode()) % 3 != 0
