"""Benchmark import_anthology against the official library's own load time.

Prints, in one run on the same data: the library's load time (`Anthology(datadir).papers()` plus
`people.load()`), our full import into an empty database, a no-change re-import, the ratios, and
the peak memory (max RSS) of each process. Each step runs in its own process.

    .venv/bin/python bench/import_anthology.py [PATH]   # default: the shared 2025-05 archive

Uses a separate database (`anthology_bench`) on the same server, so the app's data is untouched.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "acl-anthology-2025-05.tar.xz"
BENCH_DB = "anthology_bench"

LIBRARY_LOAD = """
import sys, warnings
warnings.simplefilter("ignore")
from acl_anthology import Anthology
a = Anthology(datadir=sys.argv[1])
n = sum(1 for _ in a.papers())
a.people.load()
print(n, len(a.people))
"""


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, max RSS in MiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def bench_env() -> dict:
    sys.path.insert(0, str(ROOT))
    from anthology_review.database import database_from_url, embedded_uri

    url = os.environ.get("DATABASE_URL") or embedded_uri(ROOT / ".pgdata")
    db = database_from_url(url)
    import psycopg

    admin = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
    )
    admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {BENCH_DB}")
    admin.close()
    base, _, query = url.partition("?")
    bench_url = base.rsplit("/", 1)[0] + f"/{BENCH_DB}" + (f"?{query}" if query else "")
    return {**os.environ, "DATABASE_URL": bench_url}


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    python = sys.executable
    manage = str(ROOT / "manage.py")
    env = bench_env()
    subprocess.run([python, manage, "migrate", "-v0"], env=env, check=True)

    with tempfile.TemporaryDirectory() as tmp:
        if source.is_file():
            subprocess.run(["tar", "xf", str(source), "-C", tmp], check=True)
            sys.path.insert(0, str(ROOT))
            from papers.anthology import find_data_dir

            data_dir = find_data_dir(Path(tmp))
        else:
            data_dir = source
        lib_wall, lib_rss, lib_out = run([python, "-c", LIBRARY_LOAD, str(data_dir)])
        full_wall, full_rss, full_out = run(
            [python, manage, "import_anthology", str(data_dir)], env
        )
        again_wall, again_rss, again_out = run(
            [python, manage, "import_anthology", str(data_dir)], env
        )
        verify_wall, _, verify_out = run([python, manage, "verify_import", str(data_dir)], env)

    items, persons = lib_out.split()
    print(f"data: {data_dir.name} from {source} ({items} items, {persons} persons)")
    print(
        f"library load (Anthology.papers() + people.load()): {lib_wall:.2f} s, "
        f"max RSS {lib_rss:.0f} MiB"
    )
    print(f"full import into an empty database: {full_wall:.2f} s, max RSS {full_rss:.0f} MiB")
    print("  " + full_out.strip().replace("\n", "\n  "))
    print(f"no-change re-import: {again_wall:.2f} s, max RSS {again_rss:.0f} MiB")
    print("  " + again_out.strip().replace("\n", "\n  "))
    print(f"ratio full import / library load: {full_wall / lib_wall:.2f} (target <= 2)")
    print(f"no-change re-import: {again_wall:.2f} s (target <= 5 s)")
    print(f"peak memory of the import process: {max(full_rss, again_rss):.0f} MiB (target <= 2048)")
    print(f"verify_import: {verify_out.strip().splitlines()[-1]} ({verify_wall:.1f} s)")
    print(
        f"load average while measuring: {os.getloadavg()}; cpus: {os.cpu_count()}; "
        f"self max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
