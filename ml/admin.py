from django.contrib import admin

from ml import services
from ml.models import GeneratedText, ModelVersion, Score


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "path", "registered_by", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "path", "base", "export"]
    readonly_fields = ["is_active", "promoted_at", "created_at"]
    actions = ["promote"]

    @admin.action(description="Make the selected version the active one of its kind")
    def promote(self, request, queryset):
        for version in queryset:
            services.model_version_promote(version=version)


@admin.register(GeneratedText)
class GeneratedTextAdmin(admin.ModelAdmin):
    list_display = ["job", "input_key", "new_tokens", "created_at"]
    list_filter = ["job"]


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ["job", "input_key", "dimension", "value"]
    list_filter = ["job", "dimension"]
