from django.apps import AppConfig


class AssignmentsConfig(AppConfig):
    name = "assignments"
    verbose_name = "Assignments and review"

    def ready(self) -> None:
        # The import (in papers, below this app) asks which entries reviewers decided through
        # an interface it owns; this app answers it.
        from assignments import decisions
        from assignments.suggestions import tasks
        from papers.importing import decisions as import_decisions

        import_decisions.register(decisions.import_decisions)
        # and recomputes the suggestions of the pages an import changed
        import_decisions.on_catalog_changed(tasks.catalog_changed)
