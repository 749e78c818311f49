from webapp.settings.base import *  # noqa: F403
from webapp.settings.env import env_bool

DEBUG = env_bool("DEBUG", True)

STATIC_ROOT = None  # static files come from the apps through the finders
