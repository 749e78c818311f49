"""Settings shared by every environment. The defaults need no environment at all: SQLite and an
embedded (filesystem) Celery broker under var/, so a new user can start in one command."""

from pathlib import Path

from webapp.settings.env import ConfigError, database_from_url, env_bool, env_int, env_list, env_str
from webapp.specs.language import DEFAULT_LANGUAGE, SPEC_LANGUAGES

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("RESONANCE_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "webapp",
    "webapp.jobs",
    "annotations",
    "studies",
    "ml",
]

MIDDLEWARE = [
    "webapp.middleware.security.RequestId",
    "django.middleware.security.SecurityMiddleware",
    "webapp.middleware.security.SecurityHeaders",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "webapp.middleware.input.RefuseUnstorableInput",
    "webapp.middleware.limits.RateLimits",
    "webapp.middleware.security.DatabaseUnavailable",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"
ASGI_APPLICATION = "webapp.asgi.application"
AUTH_USER_MODEL = "webapp.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webapp.context.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///var/resonance.sqlite3"), base_dir=BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions live on the server (the cache in front of the database), so logging out ends them for good; a signed
# cookie would stay valid for its whole age after logout.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# The shared cache: rate-limit counters, failed-login counts and cached sessions must be seen by every web
# process, so production points CACHE_URL (or a redis:// broker) at Redis. Without one, each process has its own.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "webapp.cache.ForgivingRedisCache", "LOCATION": CACHE_URL,
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "resonance"}}

# Failed logins (page and /api/token/): after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for AXES_COOLOFF_TIME (django-axes, counting in the shared cache, else the database).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = ("axes.handlers.cache.AxesCacheHandler" if CACHES["default"]["BACKEND"].endswith("RedisCache")
                else "axes.handlers.database.AxesDatabaseHandler")  # a per-process cache would not count across
AXES_FAILURE_LIMIT = env_int("RESONANCE_LOGIN_FAILURES", 10)
AXES_COOLOFF_TIME = env_int("RESONANCE_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env_int("RESONANCE_PROXY_COUNT", 0)

# Requests per address (or per user) per endpoint, django-ratelimit on the shared cache (webapp/middleware/limits).
RATELIMIT_ENABLE = env_bool("RESONANCE_RATE_LIMITS", True)
RESONANCE_RATE_LIMITS = {
    "login": "20/m",  # login page POST and /api/token/, per address
    "join": "30/m",  # opening a crowd link (creates an account), per address
    "reserve": "10/m",  # a participant starting a study (reserves their first pairs_reserved_at_once pairs), per address
    "annotate": "240/m",  # the annotation loop (each turn reserves the next item), per user
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Researcher pages are English (no LocaleMiddleware: the browser's language changes nothing); the crowd pages of a
# project or study speak the language its spec names (webapp.people.language), from the catalogues in locale/.
LANGUAGE_CODE = DEFAULT_LANGUAGE
LANGUAGES = list(SPEC_LANGUAGES.items())
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic (dev, bench)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Files the workers write and the web serves (export jobs): a volume both see, or another storage backend.
MEDIA_ROOT = Path(env_str("RESONANCE_MEDIA_ROOT", str(VAR_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "webapp.middleware.input.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "webapp.people.api_schema.ResonanceAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "URL_FORMAT_OVERRIDE": None,  # `?format=` names export formats (jsonl, csv, dpo), not renderers
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Resonance API",
    "DESCRIPTION": "Empathy annotation, blinded preference studies, model jobs. Token auth: `Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # what Django's path converters match, so a generated path parameter reaches the view or is known not to
    "PATH_CONVERTER_OVERRIDES": {
        "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
        "str": {"type": "string", "pattern": "^[^/]+$"},
        "path": {"type": "string", "pattern": "^.+$"},
        "int": {"type": "integer", "minimum": 0},
    },
}

# Celery: the embedded default is kombu's filesystem transport (a real worker process, no server needed).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"data_folder_in": str(BROKER_DIR), "data_folder_out": str(BROKER_DIR), "store_processed": False,
     "control_folder": str(BROKER_DIR / "control")}
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600, "global_keyprefix": env_str("RESONANCE_BROKER_KEYPREFIX", "")}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat (`celery -A webapp beat`, or a worker's `-B`) sweeps jobs whose worker died and never came back.
CELERY_BEAT_SCHEDULE = {
    "recover-stale-jobs": {
        "task": "jobs.recover_stale_jobs",
        "schedule": env_int("RESONANCE_JOB_SWEEP_SECONDS", 5 * 60),
        "options": {"queue": "default"},
    },
}

# Models load from local folders only.
RESONANCE_MODEL_CACHE = Path(env_str("RESONANCE_MODEL_CACHE", str(Path.home() / ".cache" / "resonance" / "models")))
# Model folders registered through the web must lie inside this store (a volume the workers see at the same path).
RESONANCE_MODEL_STORE = Path(env_str("RESONANCE_MODEL_STORE", str(VAR_DIR / "models")))
RESONANCE_DEVICE = env_str("RESONANCE_DEVICE", "auto")
# auto: ml.core.accel's speed-ups where a model allows them; off: the plain transformers path.
ML_ACCELERATION = env_str("RESONANCE_ML_ACCEL", "auto")
if ML_ACCELERATION not in {"auto", "off"}:
    raise ConfigError(f"environment variable RESONANCE_ML_ACCEL={ML_ACCELERATION!r} is not auto or off")
RESONANCE_RESERVATION_SECONDS = env_int("RESONANCE_RESERVATION_SECONDS", 30 * 60)
# Uploads: an import file may be this large (refused with a 400 beyond). Files over FILE_UPLOAD_MAX_MEMORY_SIZE
# are spooled to disk.
RESONANCE_MAX_UPLOAD_BYTES = env_int("RESONANCE_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
# An import file up to this size is imported inside the request; a larger one is stored under MEDIA_ROOT and
# imported by a background job (the page and the API answer with the job), so no request nears gunicorn's timeout.
RESONANCE_IMPORT_INLINE_BYTES = env_int("RESONANCE_IMPORT_INLINE_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# LOG_FORMAT=json (the production default): one JSON object a line with the request id; text otherwise.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "webapp.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "webapp.logs.JsonFormatter"},
                   "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": "json" if LOG_FORMAT == "json" else "text"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
SPECTACULAR_SETTINGS.update({
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
})
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "ItemKindEnum": "annotations.models.ItemKind",
    "ModelKindEnum": "ml.models.ModelKind",
    "JobStatusEnum": "webapp.jobs.models.Job.Status",
    "SystemKindEnum": "studies.models.System.Kind",
    "PreferenceExportKindEnum": ["raw", "dpo"],
}
