"""Benchmark import_anthology against the official library's own load time.

Prints, in one run on the same data: the library's load time (`Anthology(datadir).papers()` plus
`people.load()`), our full import into an empty database, a no-change re-import, the ratios, and
the peak memory (max RSS) of each process. Each step runs in its own process.

    .venv/bin/python bench/import_anthology.py [PATH]   # default: the shared 2025-05 archive

Uses a scratch database (`anthology_bench`) on the app's server: the app's data is untouched.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from common import DEFAULT_DATA, ROOT, data_folder, scratch_database_env

LIBRARY_LOAD = """
import sys, warnings
warnings.simplefilter("ignore")
from acl_anthology import Anthology
a = Anthology(datadir=sys.argv[1])
n = sum(1 for _ in a.papers())
a.people.load()
print(n, len(a.people))
"""


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run a command in a child; return (wall seconds, its max RSS in MiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    python = sys.executable
    manage = str(ROOT / "manage.py")
    env = scratch_database_env("anthology_bench")

    with data_folder(source) as data_dir:
        lib_wall, lib_rss, lib_out = timed([python, "-c", LIBRARY_LOAD, str(data_dir)])
        import_cmd = [python, manage, "import_anthology", str(data_dir)]
        full_wall, full_rss, full_out = timed(import_cmd, env)
        again_wall, again_rss, again_out = timed(import_cmd, env)
        verify_wall, _, verify_out = timed([python, manage, "verify_import", str(data_dir)], env)

    items, persons = lib_out.split()
    print(f"data: {source} ({items} items, {persons} persons)")
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
    print(f"peak memory of an import process: {max(full_rss, again_rss):.0f} MiB (target <= 2048)")
    print(f"verify_import: {verify_out.strip().splitlines()[-1]} ({verify_wall:.1f} s)")
    print(f"load average at the end: {os.getloadavg()}; cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
