from django.urls import path

from assignments import review_views

app_name = "assignments"
urlpatterns: list = []

# --- maintainers' review (assignments/review_views.py) ---
urlpatterns += [
    path("review/", review_views.review_queue, name="review_queue"),
    path("review/<int:pk>/", review_views.review_changeset, name="review_changeset"),
    path("review/<int:pk>/decide/", review_views.review_decide, name="review_decide"),
    path("review/<int:pk>/revert/", review_views.review_revert, name="review_revert"),
    path("review/export.<str:fmt>", review_views.review_export, name="review_export"),
]
