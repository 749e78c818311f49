from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError

from webapp.people.roles import MODEL_MANAGERS, MODEL_PERMISSIONS


def model_managers_group() -> Group:
    """The "model managers" group with the permissions to register and promote model versions (created once)."""
    group, _ = Group.objects.get_or_create(name=MODEL_MANAGERS)
    for label in MODEL_PERMISSIONS:
        app_label, codename = label.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


class Command(BaseCommand):
    help = "Lists, adds or removes model managers: the people who may register and promote model versions."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "add", "remove"])
        parser.add_argument("usernames", nargs="*")

    def handle(self, *args, action, usernames, **options):
        group = model_managers_group()
        users = get_user_model().objects.filter(username__in=usernames)
        missing = sorted(set(usernames) - set(users.values_list("username", flat=True)))
        if missing:
            raise CommandError(f"no such user: {', '.join(missing)}")
        for user in users:
            (group.user_set.add if action == "add" else group.user_set.remove)(user)
        names = sorted(group.user_set.values_list("username", flat=True))
        self.stdout.write(f"model managers: {', '.join(names) or '(none)'}")
