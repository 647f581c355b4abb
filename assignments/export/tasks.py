"""Background tasks (django.tasks) of the export."""

from django.tasks import task

from assignments.export import services


@task
def pending_patch(*, data_dir: str, key: str) -> None:
    """Compute the pending export as a dry run for the download pages."""
    services.pending_patch_compute(data_dir=data_dir, key=key)
