from django.urls import path

from webapp.composer import views

app_name = "composer"
urlpatterns = [
    path("", views.page, name="page"),
    path("state/", views.state, name="state"),
    path("sessions/", views.session_create, name="session_create"),
    path("melodies/<int:melody_id>/rating/", views.rate, name="rate"),
    path("melodies/<int:melody_id>/melody.mid", views.midi, name="midi"),
    path("melodies/<int:melody_id>/melody.musicxml", views.musicxml, name="musicxml"),
    path("melodies/<int:melody_id>/practise/", views.practise, name="practise"),
]
