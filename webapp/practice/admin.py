from django.contrib import admin

from webapp.practice.models import NoteResult, Take


class NoteResultInline(admin.TabularInline):
    model = NoteResult
    extra = 0


@admin.register(Take)
class TakeAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "lesson", "status", "accuracy", "duration_s", "created_at")
    list_filter = ("status",)
    inlines = [NoteResultInline]
