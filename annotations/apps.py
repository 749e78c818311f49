from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "annotations"
    verbose_name = "Annotation projects"

    def ready(self) -> None:
        from annotations import jobs, jobs_import

        jobs.register()
        jobs_import.register()
