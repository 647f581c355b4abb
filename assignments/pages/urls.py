from django.urls import path, register_converter
from django.urls.converters import StringConverter

from assignments.pages import views


class PersonIdConverter(StringConverter):
    """A person id as the Anthology's paths print it: `id`, or `slug/unverified`."""

    regex = r"[^/]+(?:/unverified)?"


register_converter(PersonIdConverter, "person")

# The Anthology's own paths, so links can be swapped between the two sites; served for
# previews too (anthology_review/urls.py).
person_patterns = [
    path("people/<person:person_id>/", views.person_detail, name="person"),
    path(
        "people/<person:person_id>/suggestion/", views.person_suggestion, name="person_suggestion"
    ),
    path("people/<person:person_id>/namesakes/", views.person_namesakes, name="person_namesakes"),
]

app_name = "pages"
urlpatterns = [
    path("", views.home, name="home"),
    path("mixed/", views.mixed, name="mixed"),
    path("mixed/next/", views.mixed_next, name="mixed_next"),
    *person_patterns,
]
