"""The admin site's view of annotation projects, for the operator: read and search; researchers work in the pages.

Counters, reservations and labels are written by the turn services alone, so they are read-only here."""

from django.contrib import admin

from annotations.models import Assignment, Enrollment, Exclusion, Item, ItemNote, Label, Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "kind", "owner", "overlap", "is_open", "created_at")
    list_filter = ("kind", "is_open")
    search_fields = ("slug", "title")
    readonly_fields = ("spec", "spec_hash", "created_at", "updated_at")
    filter_horizontal = ("collaborators",)


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("external_id", "project", "role", "needed", "taken", "labels_count", "is_full", "priority")
    list_filter = ("role", "is_full", "project")
    search_fields = ("external_id",)
    readonly_fields = ("taken", "labels_count", "is_full", "shuffle_key")


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("project", "annotator", "stage", "labels_done", "skipped", "attention_failures", "completed_at")
    list_filter = ("stage", "project")
    readonly_fields = ("labels_done", "skipped", "session_done", "since_control", "attention_failures")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("project", "item", "annotator", "status", "reserved_at", "expires_at", "finished_at")
    list_filter = ("status", "project")
    list_select_related = ("project", "item", "annotator")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("project", "item", "annotator", "source", "seconds", "created_at")
    list_filter = ("source", "project")
    list_select_related = ("project", "item", "annotator")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ItemNote)
class ItemNoteAdmin(admin.ModelAdmin):
    list_display = ("project", "item", "annotator", "flag", "comment", "created_at")
    list_filter = ("flag", "project")
    search_fields = ("comment",)


@admin.register(Exclusion)
class ExclusionAdmin(admin.ModelAdmin):
    list_display = ("project", "annotator", "reason", "created_by", "created_at", "revoked_at")
    list_filter = ("project",)
