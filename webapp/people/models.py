"""Accounts: every person on the platform, with their role and, for crowd workers, their platform identity.

The model keeps the app label `webapp` (AUTH_USER_MODEL is "webapp.User"); webapp/models.py imports it so the
app registry finds it."""

import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models


def new_pseudonym() -> str:
    return "p_" + secrets.token_hex(8)


class User(AbstractUser):
    """Every person on the platform. `pseudonym` is the only id that leaves the platform in exports."""

    class Role(models.TextChoices):
        RESEARCHER = "researcher", "Researcher"
        ANNOTATOR = "annotator", "Annotator"
        PARTICIPANT = "participant", "Participant"

    class Platform(models.TextChoices):
        NONE = "", "Account"
        PROLIFIC = "prolific", "Prolific"
        MTURK = "mturk", "MTurk"
        OPEN = "open", "Open link"
        IMPORTED = "imported", "Imported"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    pseudonym = models.CharField(max_length=40, unique=True, default=new_pseudonym, editable=False)
    attributes = models.JSONField(default=dict, blank=True)
    crowd_platform = models.CharField(max_length=16, choices=Platform.choices, default="", blank=True)
    crowd_id = models.CharField(max_length=128, blank=True, default="")
    # when a browser first took this crowd identity (webapp.people.crowd): until then the next browser to open the link
    # takes it, so identities made before binding existed, or by an import, are never locked out
    crowd_browser_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "webapp"
        constraints = [
            models.UniqueConstraint(
                fields=["crowd_platform", "crowd_id", "role"],
                condition=~models.Q(crowd_id=""),
                name="unique_crowd_identity",
            )
        ]

    @property
    def is_researcher(self) -> bool:
        return self.role == self.Role.RESEARCHER or self.is_superuser
