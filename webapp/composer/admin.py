from django.contrib import admin

from webapp.composer.models import AgentState, ComposerSession, Episode, Melody, Rating


@admin.register(AgentState)
class AgentStateAdmin(admin.ModelAdmin):
    list_display = ("user", "variant", "ratings_count", "updated_at")
    list_filter = ("variant",)
    search_fields = ("user__username",)
    readonly_fields = ("q_table", "reward_model")


@admin.register(ComposerSession)
class ComposerSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "variant", "scale", "base_note", "length", "tempo_bpm", "is_open", "updated_at")
    list_filter = ("variant", "scale", "is_open")
    search_fields = ("user__username",)


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ("session", "number", "started_at", "finished_at")


@admin.register(Melody)
class MelodyAdmin(admin.ModelAdmin):
    list_display = ("id", "episode", "step", "created_at")
    exclude = ("svg",)


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("melody", "value", "reward", "was_reverted", "created_at")
    list_filter = ("value", "was_reverted")
