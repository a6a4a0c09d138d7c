"""Admins review the tutor: every decision with its probabilities, outcome and reward; policy versions."""

from django.contrib import admin

from webapp.tutor.models import Decision, LearnerState, PolicyVersion, TakeRating


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "source", "is_active", "created_at")
    list_filter = ("name", "source", "is_active")
    readonly_fields = ("sha256", "metrics", "created_at")


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ("id", "learner", "course", "exercise_title", "tempo_factor", "help", "probability",
                    "is_overridden", "is_followed", "reward", "created_at")
    list_filter = ("policy_version", "is_overridden", "is_followed", "help", "course")
    search_fields = ("learner__username", "exercise_title", "exercise_key")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Decision._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # decisions come from the policy only


@admin.register(LearnerState)
class LearnerStateAdmin(admin.ModelAdmin):
    list_display = ("learner", "course", "takes_observed", "updated_at")
    search_fields = ("learner__username",)
    readonly_fields = ("history",)


@admin.register(TakeRating)
class TakeRatingAdmin(admin.ModelAdmin):
    list_display = ("take", "learner", "rating", "created_at")
    list_filter = ("rating",)
