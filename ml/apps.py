from django.apps import AppConfig


class MlConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ml"
    verbose_name = "Models and jobs"

    def ready(self) -> None:
        from ml import jobs

        jobs.register()
