from django.urls import path

from papers import views
from papers.importing import views as import_views

app_name = "papers"
urlpatterns = [
    path("search/", views.search, name="search"),
    # a paper or a volume (volume editors' entries), by the Anthology's id
    path("papers/<str:item_id>/", views.item_detail, name="item"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_new, name="import_new"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("previews/<slug:name>/decide/", import_views.preview_decide, name="preview_decide"),
]
