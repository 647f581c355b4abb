"""Fifty concurrent users against the production recipe (gunicorn + WhiteNoise), on loopback.

    .venv/bin/pip install -e '.[bench]'     # locust
    python bench/load.py --data ../shared/data/acl-anthology-2025-05.tar.xz   # scratch database
    python bench/load.py                    # whatever DATABASE_URL (or the app's database) holds

With --data, the data is imported into a scratch database `bench_load` on the app's server and
`refresh_suggestions` computes every page's suggestion first (about 15 minutes here); without
it the database must hold data with suggestions already (a previous --data run, for instance).

Then the background tasks a previous run left are done (untimed), gunicorn starts with the
repository's gunicorn.conf.py and the production settings (ENVIRONMENT=production, collected
static files) on 127.0.0.1 beside the recipe's background worker (`manage.py db_worker`, which
splits the pages that approvals change), and locust (headless, bounded
by --run-time) runs two phases against it from this machine:
1. the mix: 30 anonymous readers, 15 reviewers adding moves, 5 maintainers approving them, 2-3 s
   think time, for --run-time seconds (default 120);
2. saturation: the same mix from --clients users (default 8) with no think time, for
   --saturation-time seconds (default 60).
Each prints requests/s, p50/p95/p99 per page kind (exact, from every request's time), errors
(any response other than the expected one, and connection failures) and the load average.

Only loopback: the server binds 127.0.0.1 and locust is given that address alone. TLS is not in
the measurement: requests carry the proxy's X-Forwarded-Proto header instead, and cookies are
not marked Secure (SECURE_COOKIES=false), since locust does not send Secure cookies over HTTP.
"""

import argparse
import csv
import itertools
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import MANAGE, ROOT, imported_scratch_env

HOST = "127.0.0.1"  # never anything else
PASSWORD = "bench-load-" + "x" * 12
SHORT_SURNAMES = ["li", "zhang", "wang", "liu", "chen", "yang", "kim", "smith"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="import this data into a scratch database")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--run-time", type=int, default=120, help="seconds of the mixed phase")
    parser.add_argument("--clients", type=int, default=8, help="users of the saturation phase")
    parser.add_argument("--saturation-time", type=int, default=60)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config)")
    parser.add_argument("--threads", type=int, help="gunicorn threads (default: its config)")
    parser.add_argument("--skip-mix", action="store_true", help="only the saturation phase")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=30,
        help="also report the mix without its first seconds, while users start and log in",
    )
    args = parser.parse_args()
    if args.data is not None:
        env = imported_scratch_env("bench_load", args.data)
        subprocess.run(
            [*MANAGE, "refresh_suggestions", "--jobs", "2"],
            env=env,
            check=True,
        )
        # the same run on the scratch database, without --data PATH
        rest = sys.argv[1:]
        at = next(i for i, a in enumerate(rest) if a == "--data" or a.startswith("--data="))
        rest = rest[:at] + rest[at + (1 if "=" in rest[at] else 2) :]
        raise SystemExit(subprocess.run([sys.executable, __file__, *rest], env=env).returncode)
    run(args)


def plan(path: Path, run_id: str, reviewers: int, clients: int) -> dict:
    """Accounts, pages and the entries each reviewer moves, from the database; written to PATH
    for the locustfile."""
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anthology_review.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db.models import Count

    from assignments.models import Move, Suggestion
    from papers.models import Authorship, Person, PersonName

    if not Suggestion.objects.exists():
        raise SystemExit("No suggestions: run with --data, or manage.py refresh_suggestions.")
    accounts: dict[str, list[str]] = {"reviewer": [], "maintainer": []}
    for role, count in (("reviewer", reviewers), ("maintainer", 5)):
        group = Group.objects.get_or_create(name=role)[0]
        for i in range(count):
            user = User.objects.create_user(f"load-{run_id}-{role}-{i}", password=PASSWORD)
            user.groups.add(group)
            accounts[role].append(user.username)
    persons = list(
        Person.objects.filter(item_count__gt=0).order_by("?").values_list("pk", flat=True)[:3000]
    )
    large = list(Person.objects.order_by("-item_count").values_list("pk", flat=True)[:2000])
    names = PersonName.objects.order_by("?").values_list("first", "last")[:400]
    queries = [f"{f} {la}".strip() for f, la in names]
    # as typed: the first letters of a name, and common short surnames
    queries += [q[: max(3, len(q) // 2)] for q in queries[:200]] + SHORT_SURNAMES * 10

    # Entries of mixed pages nobody proposed anything for, each moved to a verified person (an
    # unverified page only collects entries printed with its name), never two reviewers on one
    # page.
    mixed_pages = list(
        Suggestion.objects.filter(mixed_score__gt=0, item_count__gte=4, item_count__lte=300)
        .order_by("?")
        .values_list("person_id", flat=True)[:4000]
    )
    touched = set(Move.objects.values_list("authorship_id", flat=True))
    shares = {"mixed": reviewers, "saturation": clients}
    # per share: ~1 move per 2.5 s in the mix; as many as a tireless reviewer could in saturation
    per_share = {"mixed": 120, "saturation": 1500}
    entries: dict[str, list[list[tuple[str, int, str]]]] = {k: [] for k in shares}
    pages = iter(mixed_pages)
    verified = Person.objects.filter(is_verified=True).order_by("-item_count")
    targets = itertools.cycle(list(verified.values_list("pk", flat=True)[:2000]))
    for phase, count in shares.items():
        for _ in range(count):
            share: list[tuple[str, int, str]] = []
            while len(share) < per_share[phase]:
                person_id = next(pages)
                own = [
                    pk
                    for pk in Authorship.objects.filter(person_id=person_id)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                    if pk not in touched
                ]
                # keep one entry on the page: a page is never emptied
                for pk in own[1:]:
                    target = next(targets)
                    if target != person_id:
                        share.append((person_id, pk, target))
            entries[phase].append(share[: per_share[phase]])
    static = []
    manifest = json.loads(Path(os.environ["STATIC_ROOT"], "staticfiles.json").read_text())
    for name in ("css/site.css", "js/site.js", "favicon.svg"):
        static.append("/static/" + manifest["paths"][name])
    data = {
        "password": PASSWORD,
        "reviewers": accounts["reviewer"],
        "maintainers": accounts["maintainer"],
        "persons": persons,
        "large_persons": large,
        "queries": queries,
        "entries": entries,
        "static": static,
    }
    path.write_text(json.dumps(data))
    largest = Person.objects.order_by("-item_count").first()
    print(
        f"{Person.objects.count()} persons, {Authorship.objects.count()} entries, "
        f"{Suggestion.objects.count()} suggestions; largest page {largest.pk} "
        f"({largest.item_count} papers); "
        f"{Move.objects.aggregate(n=Count('pk'))['n']} moves before the run"
    )
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env(port: int, static_root: Path, args: argparse.Namespace) -> dict:
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "STATIC_ROOT": str(static_root),
        "SECURE_COOKIES": "false",
        "CONN_MAX_AGE": "60",
        "GUNICORN_BIND": f"{HOST}:{port}",
    }
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    return env


def wait_until_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start in 120 s")


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(title: str, samples_file: Path, seconds: float, warm_up: float = 0) -> None:
    """Per page kind over the whole run; with WARM_UP, again without the requests that started
    in its first WARM_UP seconds (users starting: logins, first static files)."""
    with samples_file.open() as handle:
        rows = [
            (kind, float(ms), status, error, float(t))
            for kind, ms, status, error, t in csv.reader(handle)
        ]
    if not rows:
        raise SystemExit(f"{title}: no requests were made (see locust's log)")
    table(title, rows, seconds)
    if warm_up:
        start = min(t for *_, t in rows)
        later = [row for row in rows if row[4] >= start + warm_up]
        table(f"{title}, without the first {warm_up:.0f} s", later, seconds - warm_up)


def table(title: str, rows: list[tuple[str, float, str, str, float]], seconds: float) -> None:
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    for kind, ms, _, error, _ in rows:
        by_kind[kind].append(ms)
        if error:
            errors[kind].append(error)
    not_modified = sum(status == "304" for _, _, status, _, _ in rows)
    everything = sorted(ms for _, ms, *_ in rows)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{title}  (load average now: {load} on {os.cpu_count()} CPUs)")
    print(f"{'kind':<20} {'n':>6} {'req/s':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'errors':>7}")
    ordered_kinds = sorted(by_kind.items(), key=lambda kv: -len(kv[1]))
    for kind, samples in [*ordered_kinds, ("ALL", everything)]:
        ordered = sorted(samples)
        n_errors = sum(map(len, errors.values())) if kind == "ALL" else len(errors[kind])
        print(
            f"{kind:<20} {len(ordered):>6} {len(ordered) / seconds:>7.1f} "
            f"{statistics.median(ordered):>6.1f}ms {percentile(ordered, 0.95):>6.1f}ms "
            f"{percentile(ordered, 0.99):>6.1f}ms {n_errors:>7}"
        )
    print(f"304 Not Modified (browser-style revalidations): {not_modified}")
    for kind, messages in errors.items():
        if messages:
            print(f"  errors in {kind}: {len(messages)}, e.g. {messages[0][:300]}")


def locust(
    plan_file: Path, samples: Path, port: int, users: int, seconds: int, phase: str, think: bool
) -> None:
    env = {
        **os.environ,
        "LOAD_PLAN": str(plan_file),
        "LOAD_SAMPLES": str(samples),
        "LOAD_PHASE": phase,
        "LOAD_THINK": "1" if think else "0",
    }
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(ROOT / "bench" / "load_locustfile.py"),
        "--headless",
        "--host",
        f"http://{HOST}:{port}",
        "--users",
        str(users),
        "--spawn-rate",
        # People arrive over a while, not all in one second: a login costs ~1 s of CPU (the
        # password hash), so 20 at once would stall the server for everyone.
        str(2 if think else users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    # locust's own summary (approximated percentiles) goes to its log; ours are exact.
    with (samples.parent / f"locust-{phase}.log").open("w") as log:
        subprocess.run(command, env=env, check=False, stdout=log, stderr=log, timeout=seconds + 120)


def run(args: argparse.Namespace) -> None:
    run_id = secrets.token_hex(3)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        tmp_path = Path(tmp)
        port = free_port()
        env = server_env(port, tmp_path / "static", args)
        subprocess.run(
            [*MANAGE, "collectstatic", "--noinput", "-v0"],
            env=env,
            check=True,
        )
        os.environ["STATIC_ROOT"] = env["STATIC_ROOT"]
        plan_file = tmp_path / "plan.json"
        plan(plan_file, run_id, reviewers=15, clients=args.clients)
        # Work a previous run left (the pages its approvals changed, to split again) is done
        # first, untimed: each run starts from suggestions that are up to date.
        started = time.monotonic()
        subprocess.run(
            [*MANAGE, "db_worker", "--batch", "--no-startup-delay", "-v0"], env=env, check=True
        )
        print(f"outstanding background tasks done in {time.monotonic() - started:.1f} s")
        log = (tmp_path / "gunicorn.log").open("w")
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "anthology_review.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        # The recipe's background worker, as in production (below the web server's priority,
        # as deploy/ runs it): approvals enqueue the changed pages' new splits; without it
        # every view of such a page splits it again.
        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            ["nice", "-n", "10", *MANAGE, "db_worker", "--no-startup-delay"],
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_up(port, server)
            workers = env.get("GUNICORN_WORKERS", "config")
            threads = env.get("GUNICORN_THREADS", "config")
            print(f"gunicorn on {HOST}:{port}: workers {workers}, threads {threads}")
            if not args.skip_mix:
                samples = tmp_path / "mix.csv"
                locust(plan_file, samples, port, args.users, args.run_time, "mixed", True)
                report(
                    f"Mix: {args.users} users (30:15:5), 2-3 s think time, {args.run_time} s",
                    samples,
                    args.run_time,
                    warm_up=args.warm_up,
                )
            samples = tmp_path / "saturation.csv"
            locust(
                plan_file, samples, port, args.clients, args.saturation_time, "saturation", False
            )
            report(
                f"Saturation: {args.clients} users, no think time, {args.saturation_time} s",
                samples,
                args.saturation_time,
            )
        finally:
            for process in (server, worker):
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            log.close()
            worker_log.close()
            for name in ("gunicorn.log", "worker.log"):
                problems = [
                    line
                    for line in (tmp_path / name).read_text().splitlines()
                    if "Traceback" in line or "ERROR" in line or "WORKER TIMEOUT" in line
                ]
                if problems:
                    print(f"{name}: {len(problems)} problem lines, e.g. {problems[0]}")


if __name__ == "__main__":
    main()
