from django.urls import path

from papers import views

app_name = "papers"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("mixed/", views.mixed, name="mixed"),
    # The Anthology's own paths, so links can be swapped between the two sites.
    path("people/<str:slug>/unverified/", views.person_unverified, name="person_unverified"),
    path("people/<str:person_id>/", views.person_detail, name="person"),
]
