from django.urls import path

from webapp.tutor import views

app_name = "tutor"
urlpatterns = [
    path("next/", views.next_up, name="next"),
    path("decisions/<int:decision_id>/override/", views.override, name="override"),
    path("takes/<int:take_id>/rating/", views.rate_take, name="rate_take"),
]
