from django.contrib import admin

from webapp.courses.models import Assignment, Course, Enrollment, Lesson, Piece


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "instructor", "class_code", "created_at")
    search_fields = ("title", "class_code")


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("course", "learner", "joined_at")


@admin.register(Piece)
class PieceAdmin(admin.ModelAdmin):
    list_display = ("title", "composer", "format", "note_count", "owner", "created_at")
    exclude = ("musicxml", "svg", "notes")


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "piece", "order")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "lesson", "from_measure", "to_measure", "tempo_bpm", "due_at", "pass_mark")
    list_filter = ("course",)
