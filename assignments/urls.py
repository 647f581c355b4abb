from django.urls import path

app_name = "assignments"
urlpatterns: list = []
