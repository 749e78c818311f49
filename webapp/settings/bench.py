"""Production settings behind gunicorn on plain HTTP loopback, for bench/ only."""

from webapp.settings.prod import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# every simulated person comes from 127.0.0.1: per-address limits would measure the limiter, not the loop
RESONANCE_RATE_LIMITS = {"login": "100000/m", "join": "100000/m", "reserve": "100000/m", "annotate": "1000000/m"}
