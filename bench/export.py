"""Split Peiyu Liu on a copy of the full data, export, check with the official library, revert.

    .venv/bin/python bench/export.py [--data /tmp/data/acl-anthology-2025-05/data]

Works in a throw-away test database and a copy of the data folder (a git repository, so that
`git diff --stat` shows what the export touched). Prints the diff and the timings.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import common  # noqa: F401  (the project on the path, its settings)

RUC = [
    "2021.acl-long.418",
    "2022.coling-1.288",
    "2023.acl-long.212",
    "2024.acl-long.133",
    "2024.lrec-main.461",
    "2024.lrec-main.534",
]
SDNU = ["2024.lrec-main.746", "2025.coling-main.222"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def roundtrip(data: Path) -> None:
    """Why the export may save with the library: unchanged files come back identical."""
    from acl_anthology import Anthology

    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anthology = Anthology(datadir=str(data))
        anthology.people.load()
    print(f"library load with people index: {time.perf_counter() - t:.1f} s")
    out = Path(tempfile.mkdtemp(prefix="roundtrip-"))
    try:
        anthology.people.save(out / "people.json")
        same = (out / "people.json").read_bytes() == (data / "json" / "people.json").read_bytes()
        print(f"people.json identical: {same}")
        differing = []
        t = time.perf_counter()
        for collection in anthology.collections.values():
            target = out / f"{collection.id}.xml"
            collection.save(target)
            if target.read_bytes() != Path(collection.path).read_bytes():
                differing.append(collection.id)
            target.unlink()
        print(
            f"collections saved: {len(anthology.collections)}, differing: {len(differing)} "
            f"{differing[:10]} ({time.perf_counter() - t:.1f} s)"
        )
    finally:
        shutil.rmtree(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/tmp/data/acl-anthology-2025-05/data")
    parser.add_argument(
        "--roundtrip",
        action="store_true",
        help="only check that the library saves every unchanged file byte for byte",
    )
    args = parser.parse_args()
    if args.roundtrip:
        roundtrip(Path(args.data))
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    from papers.importing import services as papers_services
    from papers.library import entry_resolutions as library_resolutions
    from tests.factories import make_user

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    work = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        repo = work / "acl-anthology"
        data = repo / "data"
        t = time.perf_counter()
        shutil.copytree(args.data, data)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "-c", "user.name=bench", "-c", "user.email=b@x", "commit", "-qm", "data")
        print(f"copy + git commit of the data: {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        papers_services.anthology_import(path=data)
        print(f"import_anthology of the copy into a test database: {time.perf_counter() - t:.1f} s")

        before = library_resolutions(data)
        make_user(username="maintainer", roles=("maintainer",))
        ids = []
        for papers, pid, degree in (
            (RUC, "peiyu-liu-ruc", "Renmin University of China"),
            (SDNU, "peiyu-liu-sdnu", ""),
        ):
            out = io.StringIO()
            opts = ["--degree", degree] if degree else []
            call_command(
                "move_papers",
                "--from",
                "peiyu-liu/unverified",
                "--papers",
                ",".join(papers),
                "--to",
                pid,
                "--new-person",
                "Peiyu Liu",
                *opts,
                "--user",
                "maintainer",
                "--note",
                "Split of the Peiyu Liu page by coauthors",
                "--approve",
                stdout=out,
                stderr=io.StringIO(),
            )
            ids.append(int(out.getvalue()))
        print(f"change sets {ids} approved and applied")

        out = io.StringIO()
        t = time.perf_counter()
        if os.environ.get("PROFILE"):
            import cProfile
            import pstats

            cProfile.runctx(
                'call_command("export_changes", "--data-dir", str(data), "--dry-run", stdout=out)',
                globals(),
                locals(),
                "/tmp/export.prof",
            )
            pstats.Stats("/tmp/export.prof").sort_stats("cumulative").print_stats(30)
        else:
            call_command("export_changes", "--data-dir", str(data), "--dry-run", stdout=out)
        print(f"export --dry-run: {time.perf_counter() - t:.1f} s")
        assert git(repo, "status", "--porcelain") == "", "dry run wrote something"
        t = time.perf_counter()
        call_command("export_changes", "--data-dir", str(data), stderr=io.StringIO())
        print(f"export: {time.perf_counter() - t:.1f} s")
        print(git(repo, "diff", "--stat"))
        diff = git(repo, "diff")
        assert diff.count("\n+") == out.getvalue().count("\n+"), "dry run differs"
        print(diff)

        after = library_resolutions(data)
        moved = {k for k in before if before[k] != after[k]}
        print(f"entries resolving differently: {len(moved)} of {len(before)}")
        for k in sorted(moved):
            print(f"  {k}: {before[k]} -> {after[k]}")

        t = time.perf_counter()
        call_command("export_changes", "--data-dir", str(data), stderr=io.StringIO())
        print(
            f"second export: {time.perf_counter() - t:.2f} s; diff stat unchanged:",
            git(repo, "diff", "--stat").count("\n") - 1,
            "files",
        )

        from django.contrib.auth.models import User

        from assignments.models import ChangeSet
        from assignments.review import services

        boss = User.objects.get(username="maintainer")
        for pk in reversed(ids):
            services.changeset_revert(changeset=ChangeSet.objects.get(pk=pk), user=boss)
        t = time.perf_counter()
        call_command("export_changes", "--data-dir", str(data), stderr=io.StringIO())
        print(
            f"revert export: {time.perf_counter() - t:.1f} s; "
            f"git status after revert: {git(repo, 'status', '--porcelain')!r} (empty = identical)"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
