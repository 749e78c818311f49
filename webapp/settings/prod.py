"""Production: PostgreSQL and Redis from the environment; refuses to start with the dev secret."""

from webapp.settings.base import *  # noqa: F403
from webapp.settings.base import CACHE_URL, CELERY_BROKER_URL, SECRET_KEY
from webapp.settings.env import ConfigError, env_bool, env_int, env_list

if SECRET_KEY.startswith("dev-only"):
    raise ConfigError("SECRET_KEY must be set in production")

DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading is a promise to browsers that is slow to take back: the operator opts in once HTTPS is settled.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = True
if not CACHE_URL and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # rate limits, login lockouts and sessions must be shared by every web process
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL}}
    AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
