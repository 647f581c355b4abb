from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from assignments.changesets import views as changeset_views
from assignments.pages import urls as pages_urls
from papers import views as papers_views

# A preview's author pages are the ordinary pages, served from the preview's schema
# (papers.importing.middleware.PreviewSchemaMiddleware takes the `preview` argument);
# reviewers propose fixes on them too.
preview_patterns = (
    [
        *pages_urls.person_patterns,
        path("papers/<str:item_id>/", papers_views.item_detail, name="item"),
        path("changeset/assign/", changeset_views.assign, name="assign"),
    ],
    "preview",
)


urlpatterns = [
    path("login/", login_not_required(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("previews/<slug:preview>/", include(preview_patterns)),
    path("", include("assignments.pages.urls")),
    path("", include("papers.urls")),
    path("", include("assignments.urls")),
]
