"""Background tasks (django.tasks) of the review workflow."""

from django.tasks import task

from assignments import services


@task
def export_preview(*, data_dir: str, key: str) -> None:
    """Compute the pending export as a dry run for the download pages."""
    services.export_preview_compute(data_dir=data_dir, key=key)
