"""django-tasks-db's worker, which first marks failed the imports whose worker died."""

from django_tasks_db.management.commands import db_worker

from papers.importing import services


class Command(db_worker.Command):
    help = (
        "Run the background worker (django-tasks-db). Before it starts, import runs whose "
        "worker died (killed, restarted) are marked failed and their work folders removed."
    )

    def handle(self, *args, **options) -> None:
        reaped = services.runs_reap()
        if reaped:
            self.stderr.write(
                f"Marked failed: import runs {', '.join(map(str, reaped))} (their worker died)."
            )
        super().handle(*args, **options)
