from django.contrib import admin

from webapp.jobs import services
from webapp.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "queue", "status", "target_type", "target_id", "done", "total", "created_at"]
    list_filter = ["kind", "queue", "status"]
    readonly_fields = [field.name for field in Job._meta.fields]
    actions = ["cancel"]

    @admin.action(description="Cancel the selected jobs")
    def cancel(self, request, queryset):
        for job in queryset:
            services.job_cancel(job=job)
