from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from webapp.practice import services
from webapp.practice.models import NoteResult, Take, VoiceCommand


class NoteResultInline(admin.TabularInline):
    model = NoteResult
    extra = 0


@admin.register(Take)
class TakeAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "lesson", "status", "accuracy", "verdict_source", "duration_s", "created_at")
    list_filter = ("status", "verdict_source")
    readonly_fields = ("verdict_source", "realigned_at", "realign_error")
    inlines = [NoteResultInline]
    actions = ["realign"]

    @admin.action(description="Re-run the offline alignment (final verdicts)")
    def realign(self, request: HttpRequest, queryset: QuerySet[Take]) -> None:
        done, skipped = 0, []
        for take in queryset.select_related("lesson__piece"):
            try:
                services.realign_take(take)
                done += 1
            except services.TakeError as exc:
                skipped.append(f"{take.pk}: {exc}")
            except Exception as exc:  # recorded on the take
                skipped.append(f"{take.pk}: alignment failed ({type(exc).__name__})")
        self.message_user(request, f"{done} take(s) re-aligned.", messages.SUCCESS)
        if skipped:
            self.message_user(request, "Not re-aligned: " + "; ".join(skipped), messages.WARNING)


@admin.register(VoiceCommand)
class VoiceCommandAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "lesson", "source", "text", "intent", "confidence")
    list_filter = ("source", "intent")
    search_fields = ("text", "user__username")
