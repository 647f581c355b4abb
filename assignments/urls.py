from django.urls import path

from assignments import review_views, views

app_name = "assignments"
urlpatterns: list = []

# --- reviewers' drafting (assignments/views.py) ---
urlpatterns += [
    path("changeset/", views.changeset_draft, name="draft"),
    path("changeset/assign/", views.assign, name="assign"),
    path("changeset/propose-id/", views.propose_id, name="propose_id"),
    path("changeset/note/", views.note_update, name="note"),
    path("changeset/submit/", views.submit, name="submit"),
    path("changeset/moves/<int:move_id>/remove/", views.move_remove, name="move_remove"),
]

# --- maintainers' review (assignments/review_views.py) ---
urlpatterns += [
    path("review/", review_views.review_queue, name="review_queue"),
    path("review/<int:pk>/", review_views.review_changeset, name="review_changeset"),
    path("review/<int:pk>/decide/", review_views.review_decide, name="review_decide"),
    path("review/<int:pk>/revert/", review_views.review_revert, name="review_revert"),
    path("review/export.<str:fmt>", review_views.review_export, name="review_export"),
]
