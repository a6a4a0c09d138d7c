from django.urls import path

from webapp.courses import views

app_name = "courses"
urlpatterns = [
    path("", views.course_list, name="list"),
    path("new/", views.course_create, name="create"),
    path("join/", views.course_join, name="join"),
    path("<int:course_id>/", views.course_detail, name="detail"),
    path("<int:course_id>/lessons/new/", views.lesson_create, name="lesson_create"),
    path("<int:course_id>/lessons/<int:lesson_id>/edit/", views.lesson_edit, name="lesson_edit"),
]
