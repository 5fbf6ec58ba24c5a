"""Django settings, read from the environment with development defaults.

Every variable is listed in `.env.example`. Without DATABASE_URL the project uses SQLite;
production sets DEBUG=false, which makes SECRET_KEY mandatory.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from cleaninbox.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", True)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "inbox",
    "classifier",
    "mlops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cleaninbox.urls"
WSGI_APPLICATION = "cleaninbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=envint("DB_CONN_MAX_AGE", 60)
    )
}
# Parallel test runs on one server need distinct test databases (default: test_<name>).
if envstr("CLEANINBOX_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": envstr("CLEANINBOX_TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            # A Redis outage must not turn ingestion into 500s: the cache (rate limits)
            # degrades to a miss while emails are still stored.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"

# Batches of emails may be large; single bodies are limited by CLEANINBOX_MAX_BODY_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 20 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so anonymous API calls get 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "inbox.api.pagination.EmailPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"ingest": envstr("CLEANINBOX_INGEST_RATE", "1200/min")},
    "EXCEPTION_HANDLER": "inbox.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cleaninbox API",
    "DESCRIPTION": "Ingest customer emails, read their intents, record corrections.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: JSON only, Redis broker, time limits. Emails never travel in messages: they
# wait in PostgreSQL and a `classify_pending` nudge wakes a worker (classifier.services).
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Publishing runs on a background thread (inbox.nudge), never in a request; fail fast there.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# One queue per kind of work, so a training run or a slow mailbox never delays
# classification: run a worker per queue (`-Q classify`, `-Q imap`, ...; see the README).
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_ROUTES = {
    "classifier.tasks.*": {"queue": "classify"},
    "inbox.tasks.poll_imap": {"queue": "imap"},
    "inbox.tasks.sweep_pending": {"queue": "maintenance"},
    "mlops.tasks.train*": {"queue": "training"},
    "mlops.tasks.retrain*": {"queue": "training"},
    "mlops.tasks.*": {"queue": "maintenance"},
}
CLEANINBOX_SWEEP_INTERVAL = envint("CLEANINBOX_SWEEP_INTERVAL", 60)
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-emails": {
        "task": "inbox.tasks.sweep_pending",
        "schedule": CLEANINBOX_SWEEP_INTERVAL,
        # A sweep stuck behind others is worthless once the next one is due.
        "options": {"expires": CLEANINBOX_SWEEP_INTERVAL},
    },
}

# cleaninbox
CLEANINBOX_MAX_BODY_BYTES = envint("CLEANINBOX_MAX_BODY_BYTES", 256 * 1024)
CLEANINBOX_MAX_BATCH = envint("CLEANINBOX_MAX_BATCH", 1000)  # emails per POST /api/emails/batch/
# Below this confidence an email goes to needs_review; empty means the active model's
# recommended threshold (from evaluate_model), falling back to 0.5.
CLEANINBOX_REVIEW_THRESHOLD = envfloat("CLEANINBOX_REVIEW_THRESHOLD", None)
CLEANINBOX_SWEEP_AFTER_SECONDS = envint("CLEANINBOX_SWEEP_AFTER_SECONDS", 120)
CLEANINBOX_MODEL_DIR = Path(envstr("CLEANINBOX_MODEL_DIR", str(BASE_DIR / "var" / "models")))
CLEANINBOX_DATA_DIR = Path(
    envstr("CLEANINBOX_DATA_DIR", str(BASE_DIR / "var" / "data" / "banking77"))
)
CLEANINBOX_DATA_SOURCE = envstr("CLEANINBOX_DATA_SOURCE")  # empty: the Hugging Face Hub
CLEANINBOX_REPORTS_DIR = Path(envstr("CLEANINBOX_REPORTS_DIR", str(BASE_DIR / "var" / "reports")))
CLEANINBOX_TORCH_THREADS = envint("CLEANINBOX_TORCH_THREADS", 1)
# The batch path (classifier.services): rows a worker claims per model call, how long it
# waits for a batch to fill, how long its claim lasts if it dies, how long one nudge
# drains before handing over.
CLEANINBOX_CLASSIFY_BATCH = envint("CLEANINBOX_CLASSIFY_BATCH", 256)
CLEANINBOX_CLASSIFY_LINGER_MS = envint("CLEANINBOX_CLASSIFY_LINGER_MS", 20)
CLEANINBOX_CLAIM_LEASE_SECONDS = envint("CLEANINBOX_CLAIM_LEASE_SECONDS", 120)
CLEANINBOX_DRAIN_SECONDS = envint("CLEANINBOX_DRAIN_SECONDS", 60)
CLEANINBOX_NUDGE_INTERVAL_MS = envint("CLEANINBOX_NUDGE_INTERVAL_MS", 20)
CLEANINBOX_NUDGE_EXPIRES_SECONDS = envint("CLEANINBOX_NUDGE_EXPIRES_SECONDS", 600)
# Backpressure: above this many emails waiting for classification, ingestion answers 503
# with Retry-After (IMAP skips a poll, imports wait); 0 turns it off.
CLEANINBOX_MAX_BACKLOG = envint("CLEANINBOX_MAX_BACKLOG", 20000)
CLEANINBOX_BACKLOG_RETRY_AFTER = envint("CLEANINBOX_BACKLOG_RETRY_AFTER", 10)
CLEANINBOX_BACKLOG_CACHE_SECONDS = envfloat("CLEANINBOX_BACKLOG_CACHE_SECONDS", 1.0)
CLEANINBOX_IMPORT_CHUNK = envint("CLEANINBOX_IMPORT_CHUNK", 500)  # messages per bulk insert
CLEANINBOX_UI_POLL_SECONDS = envint("CLEANINBOX_UI_POLL_SECONDS", 5)  # inbox lists ask for new mail

# IMAP polling: off while CLEANINBOX_IMAP_HOST is empty. _TLS is true (IMAPS), starttls or
# false (plain: only for a server on loopback). Without _PROCESSED_FOLDER stored mail is
# marked \Seen; with it, stored mail is moved there.
CLEANINBOX_IMAP_HOST = envstr("CLEANINBOX_IMAP_HOST")
_imap_tls = envstr("CLEANINBOX_IMAP_TLS").strip().lower()
if _imap_tls == "starttls":
    CLEANINBOX_IMAP_TLS = "starttls"
else:  # empty counts as the default: TLS off must be asked for
    CLEANINBOX_IMAP_TLS = (
        "plain" if _imap_tls and not envbool("CLEANINBOX_IMAP_TLS", True) else "ssl"
    )
CLEANINBOX_IMAP_PORT = envint("CLEANINBOX_IMAP_PORT", 993 if CLEANINBOX_IMAP_TLS == "ssl" else 143)
CLEANINBOX_IMAP_USER = envstr("CLEANINBOX_IMAP_USER")
CLEANINBOX_IMAP_PASSWORD = envstr("CLEANINBOX_IMAP_PASSWORD")
CLEANINBOX_IMAP_FOLDER = envstr("CLEANINBOX_IMAP_FOLDER", "INBOX")
CLEANINBOX_IMAP_PROCESSED_FOLDER = envstr("CLEANINBOX_IMAP_PROCESSED_FOLDER")
CLEANINBOX_IMAP_BATCH = envint("CLEANINBOX_IMAP_BATCH", 50)
CLEANINBOX_IMAP_INTERVAL = envint("CLEANINBOX_IMAP_INTERVAL", 60)
CLEANINBOX_IMAP_TIMEOUT = envint("CLEANINBOX_IMAP_TIMEOUT", 30)
if CLEANINBOX_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["poll-imap"] = {
        "task": "inbox.tasks.poll_imap",
        "schedule": CLEANINBOX_IMAP_INTERVAL,
    }

GCS_BUCKET = envstr("GCS_BUCKET")
GCS_PREFIX = envstr("GCS_PREFIX", "cleaninbox/models")
GCS_PROJECT = envstr("GCS_PROJECT", "cleaninbox")

LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
LOG_FORMAT = envstr("LOG_FORMAT", "text")  # text | json
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "cleaninbox.logging.MaskPIIFilter"}},
    "formatters": {
        "text": {"()": "cleaninbox.logging.KeyValueFormatter"},
        "json": {"()": "cleaninbox.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["mask_pii"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": "INFO"},
    },
}
