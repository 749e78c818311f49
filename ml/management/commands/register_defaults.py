from django.core.management.base import BaseCommand, CommandError

from ml.services import RegistryError, model_defaults_register


class Command(BaseCommand):
    help = ("Registers the offline default models: SmolLM2-135M-Instruct (generator and judge) and "
            "all-MiniLM-L6-v2 (similarity, and a scorer base). Converts the generator on first use. Idempotent.")

    def handle(self, *args, **options):
        try:
            versions = model_defaults_register()
        except RegistryError as exc:
            raise CommandError(str(exc)) from exc
        for version in versions:
            state = "active" if version.is_active else "inactive"
            self.stdout.write(f"{version.name:<32} {version.kind:<10} {state:<8} {version.path}")
