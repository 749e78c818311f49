"""The webapp app's models, for Django's app registry: they are defined in the people kernel."""

from webapp.people.models import User

__all__ = ["User"]
