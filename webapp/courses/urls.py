from django.urls import path

from webapp.courses import views

app_name = "courses"
urlpatterns = [
    path("", views.course_list, name="list"),
    path("new/", views.course_create, name="create"),
    path("join/", views.course_join, name="join"),
    path("<int:course_id>/", views.course_detail, name="detail"),
    path("<int:course_id>/edit/", views.course_edit, name="edit"),
    path("<int:course_id>/class-code/", views.course_new_code, name="new_code"),
    path("<int:course_id>/learners/<int:learner_id>/remove/", views.course_remove_learner, name="remove_learner"),
    path("<int:course_id>/leave/", views.course_leave, name="leave"),
    path("<int:course_id>/lessons/new/", views.lesson_create, name="lesson_create"),
    path("<int:course_id>/lessons/<int:lesson_id>/edit/", views.lesson_edit, name="lesson_edit"),
    path("<int:course_id>/assignments/new/", views.assignment_edit, name="assignment_create"),
    path("<int:course_id>/assignments/<int:assignment_id>/edit/", views.assignment_edit, name="assignment_edit"),
    path("<int:course_id>/assignments/<int:assignment_id>/delete/", views.assignment_delete, name="assignment_delete"),
    path("<int:course_id>/progress/", views.course_progress, name="progress"),
    path("<int:course_id>/progress/<int:learner_id>/", views.learner_progress, name="learner_progress"),
    path("<int:course_id>/grades.csv", views.grades_export, name="grades_export"),
]
