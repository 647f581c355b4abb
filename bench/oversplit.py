"""How often the suggestions split pages we know are one person: verified persons, full data.

    .venv/bin/python bench/oversplit.py [--data ARCHIVE_OR_FOLDER] [--jobs 2] [--reuse]

Imports the data into a scratch database (`bench_oversplit`) on the app's server, runs
`manage.py refresh_suggestions --jobs N` (timed), then reads the stored suggestions of the
verified persons (people.json ids) with 3+ items and prints the share of them estimated at 1.5+
people or offered a split (2+ groups), the worst pages, and the same share among the verified
persons the training's single-person blocks never used (`training.verified_for_training`).
`--reuse` keeps an already imported scratch database and only refreshes the suggestions.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from common import DEFAULT_DATA, MANAGE, ROOT, imported_scratch_env, scratch_database_env


def _has_papers(env: dict) -> bool:
    check = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "shell",
            "-c",
            "from papers.models import Paper; print(Paper.objects.exists())",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    # `shell` may print a note on its automatic imports first: the answer is the last line
    lines = check.stdout.strip().splitlines()
    return check.returncode == 0 and bool(lines) and lines[-1] == "True"


def _reused_env(name: str) -> dict:
    """The environment of scratch database `name` as it is (no re-creation)."""
    from anthology_review.database import embedded_pgdata, embedded_uri

    url = os.environ.get("DATABASE_URL") or embedded_uri(embedded_pgdata(ROOT))
    base, _, query = url.partition("?")
    scratch = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    return {**os.environ, "DATABASE_URL": scratch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--min-items", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep an imported scratch database")
    parser.add_argument(
        "--model", default=None, help="model artifact (default: the checked-in one)"
    )
    args = parser.parse_args()

    name = "bench_oversplit"
    env = _reused_env(name) if args.reuse else None
    if env is None or not _has_papers(env):
        env = imported_scratch_env(name, args.data) if args.data else scratch_database_env(name)
    command = [*MANAGE, "refresh_suggestions"]
    command += ["--jobs", str(args.jobs)] + (["--model", args.model] if args.model else [])
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    print(f"refresh_suggestions --jobs {args.jobs}: {time.perf_counter() - start:.1f} s wall")

    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    import django

    django.setup()
    from assignments.clustering import training
    from assignments.models import Suggestion
    from papers.models import Person

    verified = dict(
        Person.objects.filter(is_verified=True, item_count__gte=args.min_items).values_list(
            "id", "item_count"
        )
    )
    stored = {
        s.person_id: s
        for s in Suggestion.objects.filter(person_id__in=list(verified)).only(
            "person_id", "estimated_people", "clusters"
        )
    }

    def flagged(person_id: str) -> bool:
        s = stored.get(person_id)
        return s is not None and (s.estimated_people >= 1.5 or len(s.clusters) >= 2)

    def share(ids: list[str]) -> str:
        hits = sum(1 for p in ids if flagged(p))
        return f"{hits} of {len(ids)} ({100 * hits / max(len(ids), 1):.1f}%)"

    ids = sorted(verified)
    estimated = sum(1 for p in ids if p in stored and stored[p].estimated_people >= 1.5)
    offered = sum(1 for p in ids if p in stored and len(stored[p].clusters) >= 2)
    print(
        f"verified persons with {args.min_items}+ items: {len(ids)}; estimated at 1.5+ people "
        f"or offered a split: {share(ids)} (estimated 1.5+: {estimated}; split offered: "
        f"{offered}; no suggestion stored: {sum(1 for p in ids if p not in stored)})"
    )
    unseen = [p for p in ids if not training.verified_for_training(p)]
    print(f"  among those the training's single-person blocks never used: {share(unseen)}")
    worst = sorted(
        (p for p in ids if p in stored),
        key=lambda p: (-stored[p].estimated_people, -len(stored[p].clusters), p),
    )[:10]
    print(
        "  most split: "
        + "; ".join(
            f"{p} ({verified[p]} items) {stored[p].estimated_people:.1f} people, "
            f"{len(stored[p].clusters)} groups"
            for p in worst
        )
    )
    mixed = Suggestion.objects.filter(estimated_people__gte=1.5).count()
    print(f"all pages estimated at 1.5+ people: {mixed} of {Suggestion.objects.count()}")


if __name__ == "__main__":
    main()
