from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from assignments import views as assignments_views
from papers import urls as papers_urls

# A preview's author pages are the ordinary pages, served from the preview's schema
# (papers.middleware.PreviewSchemaMiddleware takes the `preview` argument); reviewers propose
# fixes on them too.
preview_patterns = (
    [
        *papers_urls.person_patterns,
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
