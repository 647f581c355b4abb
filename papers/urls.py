from django.urls import path

from papers import import_views, views

app_name = "papers"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("mixed/", views.mixed, name="mixed"),
    # The Anthology's own paths, so links can be swapped between the two sites.
    path("people/<str:slug>/unverified/", views.person_unverified, name="person_unverified"),
    path("people/<str:person_id>/", views.person_detail, name="person"),
    path(
        "people/<str:slug>/unverified/suggestion/",
        views.person_unverified_suggestion,
        name="person_unverified_suggestion",
    ),
    path("people/<str:person_id>/suggestion/", views.person_suggestion, name="person_suggestion"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_new, name="import_new"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("previews/<slug:name>/decide/", import_views.preview_decide, name="preview_decide"),
]
