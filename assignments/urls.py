from django.urls import path

from assignments import views

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
