from django.contrib import admin

from studies.models import Judgment, Participant, Study, System


class SystemInline(admin.TabularInline):
    model = System
    extra = 0
    fields = ("position", "name", "kind", "model_version_id")
    readonly_fields = fields


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "owner", "is_open", "created_at")
    list_filter = ("is_open",)
    search_fields = ("slug", "title")
    readonly_fields = ("spec", "spec_hash", "opened_at")
    inlines = [SystemInline]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("study", "index", "stage", "position", "total", "attention_failures", "started_at")
    list_filter = ("stage", "study")
    readonly_fields = ("token", "seed")


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ("study", "participant", "criterion", "system_a", "system_b", "choice", "left", "source")
    list_filter = ("study", "criterion", "source")
