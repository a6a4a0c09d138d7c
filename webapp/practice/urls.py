from django.urls import path

from webapp.practice import views

app_name = "practice"
urlpatterns = [
    path("lessons/<int:lesson_id>/", views.lesson, name="lesson"),
    path("lessons/<int:lesson_id>/takes/", views.take_create, name="take_create"),
    path("lessons/<int:lesson_id>/voice/", views.voice_command, name="voice_command"),
    path("history/", views.history, name="history"),
    path("takes/<int:take_id>/", views.take_detail, name="take"),
]
