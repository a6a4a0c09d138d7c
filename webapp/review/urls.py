from django.urls import path

from webapp.review import views

app_name = "review"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:kind>.csv", views.export, name="export"),
]
