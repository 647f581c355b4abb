"""How every stage grows with the data: a synthetic Anthology 1×, 3×, 10× the shared data.

    .venv/bin/python bench/scale.py --scales 1 3     # first
    .venv/bin/python bench/scale.py --scales 10      # then, if time allows: added to the results
    .venv/bin/python bench/scale.py --table          # the table of every scale measured so far

For each scale k the data is synthesised (k = 1: the shared data as it is) as an Anthology data
folder, XML and people.json, so that the real import path is measured:
- copy 0 is the data itself; copies 1..k-1 repeat every collection under a new id (`2020.acl` →
  `2020.aclx1`, `P19` → `2019.p19x1`), with new bibkeys, and without `<event>`s and name
  `<variant>`s;
- in copy c every printed name is replaced by another name of the data, through a random
  permutation (fixed seed) within names of the same frequency band (2-3, 4-7, … entries): the
  coauthor graph of each copy is the original's, a common name stays common and its page
  gathers the papers of k different people, as a common name's page does in a larger
  catalogue; a name printed once becomes a new name (the first name of one name, the last name
  of another), so that the long tail of names grows with the data too;
- a verified person P of people.json gets a copy P-xc per copy, with the permuted names, and the
  copied entries that named P explicitly name P-xc.
Then, in a scratch database `bench_scale_<k>` on the app's server (dropped at the end unless
--keep-databases): `import_anthology` into the empty database, `verify_import`,
`refresh_suggestions --jobs W` (the local process pool), `refresh_suggestions --scheduler` on a
real Dask cluster on loopback (`dask scheduler` and W `dask worker` processes of one thread
each, started here and stopped after), whether both stored the same suggestions, and the person
page and search times (bench/pages.py: the largest page, and the page closest in size to 1×'s
largest). Wall times, memory (the peak resident set of the command's own process, and of the
workers), and the load average around each stage. Results accumulate in RESULTS (JSON).
"""

import argparse
import contextlib
import copy
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import psycopg
from acl_anthology.people.name import Name
from common import DEFAULT_DATA, ROOT, data_folder, scratch_database_env
from lxml import etree

from anthology_review.database import database_from_url, embedded_pgdata, embedded_uri

PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
DASK = str(Path(sys.executable).parent / "dask")
NEW_STYLE = re.compile(r"[0-9]{4}\.[a-z0-9]+")
NO_BIBKEY = "__NO_BIBKEY__"


# ------------------------------------------------------------------------------------------
# the synthetic data


def _name(el: etree._Element) -> tuple[str, str]:
    first = el.find("first")
    last = el.find("last")
    return (
        "".join(first.itertext()).strip() if first is not None else "",
        "".join(last.itertext()).strip() if last is not None else "",
    )


def _people_elements(root: etree._Element):
    return root.iter("author", "editor")


def _copy_collection_id(cid: str, c: int) -> str:
    if NEW_STYLE.fullmatch(cid):
        return f"{cid}x{c}"
    yy = int(cid[1:])  # old style: a letter and the year's two digits (1965-2019)
    return f"{1900 + yy if yy >= 50 else 2000 + yy}.{cid.lower()}x{c}"


def name_permutations(xml_files: list[Path], copies: int, seed: int) -> tuple[list[dict], dict]:
    """One permutation of the printed names per copy (index 0: none), within frequency bands;
    and each name's band (its names, sorted)."""
    counts: Counter = Counter()
    for path in xml_files:
        for el in _people_elements(etree.parse(str(path)).getroot()):
            counts[_name(el)] += 1
    bands: dict[int, list] = defaultdict(list)
    for name, n in counts.items():
        bands[n.bit_length()].append(name)
    for names in bands.values():
        names.sort()
    perms: list[dict] = [{}]
    for c in range(1, copies):
        rng = random.Random(f"{seed}-{c}")
        mapping = {}
        for band, names in sorted(bands.items()):
            shuffled = names[:]
            rng.shuffle(shuffled)
            if band == 1:
                # Names printed once: new people with new names (a first name and a last name
                # of two different names), as the long tail of names grows with a catalogue.
                shuffled = [(f, la) for (f, _), (_, la) in zip(names, shuffled, strict=True)]
            mapping.update(zip(names, shuffled, strict=True))
        perms.append(mapping)
    band_of = {name: names for names in bands.values() for name in names}
    return perms, band_of


class Slugs:
    """The library's own name slugs (cached), and which slugs name exactly one verified person:
    an entry without an id whose slug is one of those resolves to that person."""

    def __init__(self, people: dict) -> None:
        self.cache: dict[tuple[str, str], str] = {}
        owners: dict[str, set] = defaultdict(set)
        for pid, entry in people.items():
            if not entry.get("disable_name_matching"):
                for n in entry["names"]:
                    owners[self(n.get("first", ""), n["last"])].add(pid)
        self.verified = {slug: next(iter(ids)) for slug, ids in owners.items() if len(ids) == 1}

    def __call__(self, first: str, last: str) -> str:
        key = (first, last)
        if key not in self.cache:
            self.cache[key] = Name(first or None, last).slugify()
        return self.cache[key]


def _copy_names(item: etree._Element, perm: dict, band_of: dict, slugs: Slugs) -> list[tuple]:
    """The new name of each person entry of one item (a paper, or a volume's <meta>). Two
    entries of one item must not resolve to one verified person (the library refuses that):
    a permuted name that would is replaced by the next name of its band that names nobody
    verified."""
    taken: set[str] = set()
    out = []
    for el in item:
        if el.tag not in ("author", "editor"):
            continue
        old = _name(el)
        new = perm[old]
        if el.get("id") is None:
            owner = slugs.verified.get(slugs(*new))
            if owner is not None and owner in taken:
                band = band_of[old]
                start = band.index(old)
                for k in range(1, len(band) + 1):
                    candidate = band[(start + k) % len(band)]
                    if slugs(*candidate) not in slugs.verified:
                        new = candidate
                        break
            elif owner is not None:
                taken.add(owner)
        out.append((el, new))
    return out


def synthesize(src: Path, dest: Path, factor: int, seed: int = 0) -> dict:
    """Write a data folder `factor` times `src` into `dest` (see the module docstring)."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "xml").mkdir(parents=True)
    (dest / "json").mkdir()
    for extra in (src / "json").iterdir():
        if extra.name != "people.json":
            shutil.copy(extra, dest / "json" / extra.name)
    for extra in (src / "xml").iterdir():
        if extra.suffix != ".xml":
            shutil.copy(extra, dest / "xml" / extra.name)
    xml_files = sorted((src / "xml").glob("*.xml"))
    perms, band_of = name_permutations(xml_files, factor, seed)
    people = json.loads((src / "json" / "people.json").read_text(encoding="utf-8"))
    slugs = Slugs(people)
    out_people = dict(people)
    for c in range(1, factor):
        for pid, entry in people.items():
            names = []
            for n in entry["names"]:
                mapped = perms[c].get((n.get("first", ""), n["last"]))
                if mapped is not None and mapped not in names:
                    names.append(mapped)
            if not names:  # none of the person's names is printed: no copy needed
                continue
            new_id = f"{pid}-x{c}"
            if new_id in people:
                raise SystemExit(f"synthetic id {new_id} exists in the data")
            out_people[new_id] = {
                "names": [{"first": f, "last": la} if f else {"last": la} for f, la in names],
                # reached through the ids of the copied entries only: its names must not draw
                # in other entries of the data by name matching
                "disable_name_matching": True,
            }
    (dest / "json" / "people.json").write_text(
        json.dumps(out_people, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    items = repaired = 0
    for path in xml_files:
        original = etree.parse(str(path)).getroot()
        shutil.copy(path, dest / "xml" / path.name)
        items += sum(1 for _ in original.iter("paper", "frontmatter"))
        for c in range(1, factor):
            root = copy.deepcopy(original)
            cid = _copy_collection_id(root.get("id"), c)
            root.set("id", cid)
            for event in list(root.iter("event")):
                event.getparent().remove(event)
            for key in root.iter("bibkey"):
                if key.text and key.text != NO_BIBKEY:
                    key.text = f"{key.text}-x{c}"
            for item in root.iter("paper", "meta"):
                for el, (first, last) in _copy_names(item, perms[c], band_of, slugs):
                    repaired += (first, last) != perms[c][_name(el)]
                    _rename(el, first, last)
                    if "orcid" in el.attrib:
                        del el.attrib["orcid"]
                    if "id" in el.attrib:
                        el.set("id", f"{el.get('id')}-x{c}")
            etree.ElementTree(root).write(
                str(dest / "xml" / f"{cid}.xml"), xml_declaration=True, encoding="UTF-8"
            )
    return {
        "items": items * factor,
        "people_json_persons": len(out_people),
        "names_moved_off_a_verified_person": repaired,
    }


def _rename(el: etree._Element, first: str, last: str) -> None:
    at = next((k for k, ch in enumerate(el) if ch.tag in ("first", "last")), 0)
    for ch in list(el):
        if ch.tag in ("first", "last", "variant"):
            el.remove(ch)
    new_last = etree.Element("last")
    new_last.text = last
    el.insert(at, new_last)
    if first:
        new_first = etree.Element("first")
        new_first.text = first
        el.insert(at, new_first)


# ------------------------------------------------------------------------------------------
# measuring


@dataclass
class Run:
    wall: float = 0.0
    rc: int = 0
    client_peak_mib: float = 0.0  # the command's own process (VmHWM), children not counted
    children_peak_mib: float = 0.0  # its child processes together (the local pool), sampled
    watched_peak_mib: float = 0.0  # other processes watched together (Dask workers), sampled
    # CPU seconds, user + system: the command with the processes it started and waited for (the
    # local pool), and the watched processes (the Dask scheduler and workers) during the run.
    # On a shared machine they vary less than wall times do.
    cpu_s: float = 0.0
    watched_cpu_s: float = 0.0
    load_before: list = field(default_factory=list)
    load_after: list = field(default_factory=list)
    stdout: str = ""


def _hwm_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _tree_rss_mib(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):  # a process that just ended
            total += p.memory_info().rss
    return total / 2**20


def _cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def run(cmd: list[str], env: dict, timeout: float, watch: list[int] = ()) -> Run:
    """Run a command, sampling memory every 0.2 s; stdout kept, stderr shown."""
    result = Run(load_before=[round(x, 2) for x in os.getloadavg()])
    watched = []
    for pid in watch:
        try:
            p = psutil.Process(pid)
            watched += [p, *p.children(recursive=True)]
        except psutil.Error:
            pass
    watched_cpu = _cpu_s(watched)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample() -> None:
        me = psutil.Process(proc.pid)
        while not stop.is_set():
            result.client_peak_mib = max(result.client_peak_mib, _hwm_mib(proc.pid))
            try:
                kids = me.children(recursive=True)
            except psutil.Error:
                kids = []
            result.children_peak_mib = max(result.children_peak_mib, _tree_rss_mib(kids))
            result.watched_peak_mib = max(result.watched_peak_mib, _tree_rss_mib(watched))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result.stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        result.stdout, _ = proc.communicate()
        result.rc = -9
    else:
        result.rc = proc.returncode
    result.wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu_s = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    result.watched_cpu_s = _cpu_s(watched) - watched_cpu
    result.load_after = [round(x, 2) for x in os.getloadavg()]
    sys.stdout.write(result.stdout)
    if result.rc:
        print(f"!! {' '.join(cmd[:3])}… exited {result.rc} after {result.wall:.0f} s")
    return result


class DaskCluster:
    """`dask scheduler` and N `dask worker` processes (one thread each) on loopback."""

    def __init__(self, workers: int, folder: Path) -> None:
        self.workers = workers
        self.file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self.logs = folder

    def __enter__(self) -> "DaskCluster":
        import distributed

        self.file.unlink(missing_ok=True)
        self._start(
            "scheduler",
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            # without a dashboard its HTTP server (health, metrics) still listens: on loopback
            + ["--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(self.file)],
        )
        deadline = time.time() + 120
        while not self.file.exists():
            if time.time() > deadline:
                raise SystemExit("the Dask scheduler did not start in 120 s")
            time.sleep(0.5)
        for k in range(self.workers):
            self._start(
                f"worker{k}",
                [DASK, "worker", "--scheduler-file", str(self.file), "--nthreads", "1"]
                + ["--host", "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
                + ["--name", f"w{k}"],
            )
        with distributed.Client(scheduler_file=str(self.file), set_as_default=False) as c:
            c.wait_for_workers(self.workers, timeout=300)
        return self

    def _start(self, name: str, cmd: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        self.procs.append(
            subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.logs)
        )

    @property
    def address(self) -> str:
        return json.loads(self.file.read_text())["address"]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):  # workers first, the scheduler last
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _sql(env: dict, query: str) -> list[tuple]:
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        return conn.execute(query).fetchall()


def suggestions_digest(env: dict) -> str:
    """One digest of every stored suggestion (not its time): equal digests, equal suggestions."""
    rows = _sql(
        env,
        "SELECT person_id, md5(clusters::text || separations::text || estimated_people::text"
        " || mixed_score::text || item_count::text) FROM assignments_suggestion"
        " ORDER BY person_id",
    )
    digest = hashlib.sha256()
    for person_id, row in rows:
        digest.update(f"{person_id}\t{row}\n".encode())
    return f"{len(rows)}:{digest.hexdigest()[:16]}"


def catalog_stats(env: dict) -> dict:
    (papers,), (persons,), (entries,) = (
        _sql(env, f"SELECT count(*) FROM {t}")[0]
        for t in ("papers_paper", "papers_person", "papers_authorship")
    )
    pages, page_entries, largest, squares = _sql(
        env,
        "SELECT count(*), coalesce(sum(n), 0), coalesce(max(n), 0), coalesce(sum(n * n), 0)"
        " FROM (SELECT person_id, count(*)::bigint AS n FROM papers_authorship"
        " GROUP BY person_id HAVING count(DISTINCT item_id) >= 2) s",
    )[0]
    (largest_items,) = _sql(env, "SELECT coalesce(max(item_count), 0) FROM papers_person")[0]
    return {
        "papers": papers,
        "persons": persons,
        "entries": entries,
        "pages_2plus": pages,
        "page_entries": int(page_entries),
        "largest_page_entries": largest,
        "largest_page_items": largest_items,
        "sum_page_entries_squared": int(squares),
    }


PAGE_LINE = re.compile(
    r"^(?P<label>.+?)\s+n=\d+\s+p50\s+(?P<p50>[\d.]+) ms\s+p95\s+(?P<p95>[\d.]+)"
)


def page_times(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        m = PAGE_LINE.match(line)
        if m:
            out[m["label"].strip()] = float(m["p95"])
    return out


def measure_scale(args: argparse.Namespace, k: int, source: Path, results: dict) -> dict:
    folder = args.work_dir / f"data-{k}x"
    out: dict = {"scale": k, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    print(f"\n=== {k}× ===", flush=True)
    if k == 1:
        data = source
    else:
        start = time.perf_counter()
        out["synthesis"] = synthesize(source, folder, k, seed=args.seed)
        out["synthesis_s"] = round(time.perf_counter() - start, 1)
        data = folder
        print(f"synthesised {k}× in {out['synthesis_s']} s: {out['synthesis']}", flush=True)
    name = f"bench_scale_{k}"
    env = scratch_database_env(name)
    timeout = args.stage_timeout
    try:
        imp = run([PYTHON, MANAGE, "import_anthology", str(data)], env, timeout)
        out["import"] = asdict(imp)
        out["catalog"] = catalog_stats(env)
        print(json.dumps(out["catalog"]), flush=True)
        if "verify" not in args.skip:
            ver = run([PYTHON, MANAGE, "verify_import", str(data)], env, timeout)
            out["verify"] = asdict(ver)
        refresh = [PYTHON, MANAGE, "refresh_suggestions"]
        # Alternated, so that a change in the machine's load falls on both alike; the fastest
        # run of each counts in the table.
        for _ in range(args.refresh_repeats):
            if "local" not in args.skip:
                local = run([*refresh, "--jobs", str(args.workers)], env, timeout)
                out.setdefault("refresh_local_runs", []).append(asdict(local))
                out["digest_local"] = suggestions_digest(env)
            if "dask" not in args.skip:
                with DaskCluster(args.workers, args.work_dir) as cluster:
                    on_dask = run(
                        [*refresh, "--scheduler", cluster.address], env, timeout, watch=cluster.pids
                    )
                out.setdefault("refresh_dask_runs", []).append(asdict(on_dask))
                out["digest_dask"] = suggestions_digest(env)
        for way in ("local", "dask"):
            if out.get(f"refresh_{way}_runs"):
                out[f"refresh_{way}"] = min(out[f"refresh_{way}_runs"], key=lambda r: r["wall"])
        near = (
            results.get("1", {}).get("catalog", {}).get("largest_page_items")
            or out["catalog"]["largest_page_items"]
        )
        pages_cmd = [PYTHON, str(ROOT / "bench" / "pages.py"), "--reps", str(args.reps)]
        pages_cmd += ["--searches", str(args.searches), "--near-items", str(near)]
        if "pages" not in args.skip:
            pages = run(pages_cmd, env, timeout)
            out["pages"] = asdict(pages)
            out["page_p95"] = page_times(pages.stdout)
    finally:
        if not args.keep_databases:
            _drop(name)
        if k != 1 and not args.keep_data:
            shutil.rmtree(folder, ignore_errors=True)
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return out


def _drop(name: str) -> None:
    url = os.environ.get("DATABASE_URL") or embedded_uri(embedded_pgdata(ROOT))
    db = database_from_url(url)
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
    ) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ------------------------------------------------------------------------------------------
# the table


def _f(x: float | None, fmt: str = "{:.0f}") -> str:
    return "–" if x is None else fmt.format(x)


def _dask_cpu(r: dict | None) -> float | None:
    run = (r or {}).get("refresh_dask") or {}
    if "cpu_s" not in run:
        return None
    return run["cpu_s"] + run["watched_cpu_s"]


def table(results: dict) -> str:
    scales = sorted(results, key=int)
    base = results.get("1")

    def growth(key, get) -> list[str]:
        cells = []
        for s in scales:
            value = get(results[s])
            ref = get(base) if base else None
            cell = _f(value, "{:.1f}" if isinstance(value, float) and value < 100 else "{:.0f}")
            if value is not None and ref and s != "1":
                cell += f" ({value / ref:.1f}×)"
            cells.append(cell)
        return [key, *cells]

    def get(*path):
        def inner(r):
            for p in path:
                if r is None or p not in r:
                    return None
                r = r[p]
            return r

        return inner

    rows = [
        ["", *[f"{s}×" for s in scales]],
        growth("papers", get("catalog", "papers")),
        growth("author/editor entries", get("catalog", "entries")),
        growth("persons", get("catalog", "persons")),
        growth("pages with 2+ items", get("catalog", "pages_2plus")),
        growth("largest page (entries)", get("catalog", "largest_page_entries")),
        growth("Σ entries² over pages", get("catalog", "sum_page_entries_squared")),
        growth("import, s", get("import", "wall")),
        growth("import, peak MiB", get("import", "client_peak_mib")),
        growth("verify_import, s", get("verify", "wall")),
        growth("verify_import, peak MiB", get("verify", "client_peak_mib")),
        growth("refresh, local pool, s", get("refresh_local", "wall")),
        growth("refresh, Dask, s", get("refresh_dask", "wall")),
        [
            "Dask / local pool",
            *[
                _f(
                    (r.get("refresh_dask") or {}).get("wall", 0)
                    / (r.get("refresh_local") or {}).get("wall", 1),
                    "{:.2f}",
                )
                if r.get("refresh_dask") and r.get("refresh_local")
                else "–"
                for r in (results[s] for s in scales)
            ],
        ],
        [
            "same suggestions both ways",
            *[
                ("yes" if r.get("digest_local") == r.get("digest_dask") else "NO")
                if r.get("digest_dask")
                else "–"
                for r in (results[s] for s in scales)
            ],
        ],
        growth("refresh CPU s, local (command + pool)", get("refresh_local", "cpu_s")),
        growth(
            "refresh CPU s, Dask (command + cluster)",
            _dask_cpu,
        ),
        [
            "Dask / local pool, CPU",
            *[
                _f(_dask_cpu(r) / r["refresh_local"]["cpu_s"], "{:.2f}")
                if _dask_cpu(r) and (r.get("refresh_local") or {}).get("cpu_s")
                else "–"
                for r in (results[s] for s in scales)
            ],
        ],
        growth("refresh client peak MiB, local", get("refresh_local", "client_peak_mib")),
        growth("  its 2 processes, MiB", get("refresh_local", "children_peak_mib")),
        growth("refresh client peak MiB, Dask", get("refresh_dask", "client_peak_mib")),
        growth("  Dask scheduler + workers, MiB", get("refresh_dask", "watched_peak_mib")),
        growth("person page p95 ms, largest", get("page_p95", "person page, largest, reviewer")),
        growth(
            "person page p95 ms, 1×'s size",
            lambda r: next(
                (
                    v
                    for k, v in (r or {}).get("page_p95", {}).items()
                    if k.startswith("person page, near")
                ),
                None,
            ),
        ),
        growth("search p95 ms", get("page_p95", "search partial, all cases")),
        [
            "load average (1 min) before → after refresh",
            *[
                "{} → {}".format(
                    (r.get("refresh_local") or {}).get("load_before", ["?"])[0],
                    (r.get("refresh_dask") or {}).get("load_after", ["?"])[0],
                )
                for r in (results[s] for s in scales)
            ],
        ],
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        )
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 3, 10])
    parser.add_argument("--workers", type=int, default=2, help="local processes = Dask workers")
    parser.add_argument("--reps", type=int, default=100, help="person page requests per case")
    parser.add_argument("--searches", type=int, default=200, help="search queries per case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stage-timeout", type=float, default=4 * 3600, help="seconds")
    parser.add_argument(
        "--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "anthology-scale"
    )
    parser.add_argument("--results", type=Path, default=None, help="default WORK_DIR/results.json")
    parser.add_argument("--keep-databases", action="store_true")
    parser.add_argument("--keep-data", action="store_true", help="keep the synthetic folders")
    parser.add_argument("--table", action="store_true", help="print the table and stop")
    parser.add_argument(
        "--refresh-repeats", type=int, default=1, help="refresh runs of each kind, alternated"
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["verify", "local", "dask", "pages"],
        help="stages left out (to bound the time at large scales)",
    )
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    path = args.results or args.work_dir / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    if not args.table:
        if any(k < 1 for k in args.scales):
            raise SystemExit("--scales: whole numbers from 1")
        with data_folder(args.data) as source:
            for k in args.scales:
                results[str(k)] = measure_scale(args, k, Path(source), results)
                path.write_text(json.dumps(results, indent=1))
                print(f"\nresults so far ({path}):\n{table(results)}", flush=True)
    else:
        print(table(results))
    print(f"cpus: {os.cpu_count()}; load average now: {os.getloadavg()}")


if __name__ == "__main__":
    main()
