"""Set up a demo and serve it: migrate, import fixtures/data, demo accounts, suggestions, run.

`python manage.py demo` is the README's first command: on a fresh clone it ends with the app on
http://127.0.0.1:8000 (and a background worker for imports) and the demo accounts printed.
Running it again keeps the data and resets the demo accounts' passwords.
"""

import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from assignments.models import Suggestion
from papers.models import Paper

# role -> (username, password); demo only, printed on every run
DEMO_ACCOUNTS = {
    "reviewer": ("reviewer", "review-demo-2025"),
    "maintainer": ("maintainer", "maintain-demo-2025"),
    "admin": ("admin", "admin-demo-2025"),
}


class Command(BaseCommand):
    help = "Migrate, import fixtures/ if the database is empty, create demo accounts, serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            default=str(Path(settings.BASE_DIR) / "fixtures" / "data"),
            help="Anthology data folder (or .tar.xz) to import when there are no papers yet.",
        )
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Set everything up, but do not run the server."
        )

    def handle(self, *args, data: str, addrport: str, no_serve: bool, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")

        if papers := Paper.objects.count():
            self.stdout.write(f"The database has {papers} papers; import skipped.")
        elif not Path(data).exists():
            self.stderr.write(f"No data at {data}: the database stays empty.")
        else:
            self.stdout.write(f"Importing {data} …")
            call_command("import_anthology", data)

        self._accounts()

        self._suggestions()

        if no_serve:
            return
        # Imports started from the import page run as background tasks.
        manage = Path(settings.BASE_DIR) / "manage.py"
        worker = subprocess.Popen([sys.executable, str(manage), "db_worker"])
        self.stdout.write(f"Background worker started (pid {worker.pid}).")
        # Stopped by a signal (not only Ctrl-C), still stop the worker: exit through `finally`.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            # DEBUG is off by default; --insecure lets runserver serve the static files anyway.
            call_command("runserver", addrport, use_reloader=False, insecure_serving=True)
        finally:
            worker.terminate()
            worker.wait(timeout=10)

    def _suggestions(self) -> None:
        if not Path(settings.CLUSTERING_MODEL_PATH).exists():
            self.stderr.write(
                f"No clustering model at {settings.CLUSTERING_MODEL_PATH} "
                "(manage.py train_clustering makes one): no suggested splits yet."
            )
            return
        if Suggestion.objects.exists():
            # A second `demo` on the same database starts at once (the full data takes minutes).
            self.stdout.write(
                "Suggested splits are stored (manage.py refresh_suggestions redoes them)."
            )
            return
        self.stdout.write("Computing suggested splits …")
        try:
            call_command("refresh_suggestions", stdout=self.stdout, stderr=self.stderr)
        except (CommandError, OSError, ValueError) as exc:
            # The demo is still useful without suggestions; say why there are none.
            self.stderr.write(f"Suggested splits not computed: {exc}")

    @transaction.atomic
    def _accounts(self) -> None:
        self.stdout.write("Demo accounts (log in at /login/):")
        for role, (username, password) in DEMO_ACCOUNTS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = user.is_superuser = role == "admin"
            user.save()
            # get_or_create: a flushed database has lost the roles its migration made
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            self.stdout.write(f"  {role:<10} user {username!r:<14} password {password!r}")
