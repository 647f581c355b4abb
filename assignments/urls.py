from django.urls import path

from assignments.changesets import views as changeset_views
from assignments.export import views as export_views
from assignments.review import views as review_views

app_name = "assignments"
urlpatterns = [
    # reviewers' drafting
    path("changeset/", changeset_views.changeset_draft, name="draft"),
    path("changeset/assign/", changeset_views.assign, name="assign"),
    path("changeset/propose-id/", changeset_views.propose_id, name="propose_id"),
    path("changeset/note/", changeset_views.note_update, name="note"),
    path("changeset/submit/", changeset_views.submit, name="submit"),
    path("changeset/moves/<int:move_id>/remove/", changeset_views.move_remove, name="move_remove"),
    path("changeset/targets/", changeset_views.targets, name="targets"),
    path("changeset/one-person/", changeset_views.one_person, name="one_person"),
    path(
        "changeset/marks/<int:decision_id>/remove/",
        changeset_views.decision_remove,
        name="decision_remove",
    ),
    path(
        "changeset/new-persons/<int:new_person_id>/",
        changeset_views.newperson_edit,
        name="newperson_edit",
    ),
    path("changeset/discard/", changeset_views.discard, name="discard"),
    path("changesets/", changeset_views.mine, name="mine"),
    path("changesets/<int:pk>/withdraw/", changeset_views.withdraw, name="withdraw"),
    # maintainers' review
    path("review/", review_views.review_queue, name="review_queue"),
    path("review/<int:pk>/", review_views.review_changeset, name="review_changeset"),
    path("review/<int:pk>/decide/", review_views.review_decide, name="review_decide"),
    path("review/<int:pk>/revert/", review_views.review_revert, name="review_revert"),
    path("review/next/", review_views.review_next, name="review_next"),
    # the export
    path("review/export.<str:fmt>", export_views.review_export, name="review_export"),
]
