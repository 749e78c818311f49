from django.apps import AppConfig


class StudiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studies"
    verbose_name = "Preference studies"

    def ready(self) -> None:
        from studies import jobs

        jobs.register()
