from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from assignments import views as assignments_views
from papers import views as papers_views

# A preview's author pages are the ordinary pages, served from the preview's schema
# (papers.middleware.PreviewSchemaMiddleware takes the `preview` argument); reviewers propose
# fixes on them too.
preview_patterns = (
    [
        path(
            "people/<str:slug>/unverified/",
            papers_views.person_unverified,
            name="person_unverified",
        ),
        path("people/<str:person_id>/", papers_views.person_detail, name="person"),
        path(
            "people/<str:slug>/unverified/suggestion/",
            papers_views.person_unverified_suggestion,
            name="person_unverified_suggestion",
        ),
        path(
            "people/<str:person_id>/suggestion/",
            papers_views.person_suggestion,
            name="person_suggestion",
        ),
        path("changeset/assign/", assignments_views.assign, name="assign"),
    ],
    "preview",
)

urlpatterns = [
    path("login/", login_not_required(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("previews/<slug:preview>/", include(preview_patterns)),
    path("", include("papers.urls")),
    path("", include("assignments.urls")),
]
