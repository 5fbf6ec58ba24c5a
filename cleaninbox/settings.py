"""Django settings, read from the environment: production defaults, development with DEBUG=true.

Every variable is listed in `.env.example`. Without DATABASE_URL the project uses SQLite.
DEBUG is off unless DEBUG=true is set (`make run`, `.env.example` and the tests set it for
development); with DEBUG off SECRET_KEY is mandatory and the HTTPS settings (secure cookies,
HSTS, SSL redirect) are on unless switched off one by one.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from cleaninbox.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

# HTTPS: on by default in production (DEBUG off), each one can be switched off.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# URL paths (regexes, no leading slash) served over plain HTTP too, e.g. ^metrics$ for a scraper.
# Probes and scrapers speak plain HTTP to the container; they never carry a session.
SECURE_REDIRECT_EXEMPT = envlist("SECURE_REDIRECT_EXEMPT", r"^healthz$,^readyz$,^metrics$")
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" (only if the proxy sets it).
_proxy_header = envlist("SECURE_PROXY_SSL_HEADER")
if _proxy_header:
    if len(_proxy_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be 'HEADER,value'")
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_header)
SESSION_COOKIE_HTTPONLY = True

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
    "axes",
    "django_prometheus",
    "inbox",
    "classifier",
    "mlops",
]

MIDDLEWARE = [
    # First and last: django-prometheus times the whole request and counts responses.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A database outage answers 503 + Retry-After, not 500.
    "cleaninbox.middleware.ServiceUnavailableMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
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
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        # A persistent connection that the server closed (a PostgreSQL restart) is found
        # and replaced at the start of the next request instead of failing it with a 500.
        conn_health_checks=True,
    )
}
# PostgreSQL through cleaninbox.db: the stock backend, whose connect waits up to
# DB_CONNECT_RETRY_SECONDS for a restarting server instead of failing the request.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "cleaninbox.db"
DB_CONNECT_RETRY_SECONDS = envfloat("DB_CONNECT_RETRY_SECONDS", 5.0)
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
    },
    # The ingest rate limit reports Redis faults instead of ignoring them, and falls back to
    # counting in process memory (inbox.api.throttling).
    "throttle": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    },
    "throttle_local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (web and admin logins; API tokens are not passwords): after
# AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is locked
# for AXES_COOLOFF_HOURS; a correct login resets the count.
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envfloat("AXES_COOLOFF_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = envint("AXES_PROXY_COUNT", 0) or None
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
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
    # A JSON API (raw/ also takes uploads); JSON deeper than CLEANINBOX_MAX_JSON_DEPTH is a
    # 400 (inbox.api.parsers), any other Content-Type a 415.
    "DEFAULT_PARSER_CLASSES": ["inbox.api.parsers.BoundedJSONParser"],
}
# Who may read /api/schema/, /api/docs/ and /api/redoc/: public | authenticated | off (404).
CLEANINBOX_API_DOCS = envstr("CLEANINBOX_API_DOCS", "authenticated").strip().lower()
if CLEANINBOX_API_DOCS not in ("public", "authenticated", "off"):
    raise ImproperlyConfigured(
        f"CLEANINBOX_API_DOCS={CLEANINBOX_API_DOCS!r}: use public, authenticated or off"
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "cleaninbox API",
    "DESCRIPTION": "Ingest customer emails, read their intents, record corrections.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["cleaninbox.docs_access.DocsAccess"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Emails and deliveries both have a `status`: name each set (emails' keeps its name).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "inbox.models.Email.Status",
        "DeliveryStatusEnum": "inbox.handoff.models.Delivery.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "inbox.api.schema.add_error_responses",
    ],
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
    "inbox.handoff.tasks.*": {"queue": "maintenance"},
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
# Drift: every CLEANINBOX_DRIFT_INTERVAL seconds the last CLEANINBOX_DRIFT_WINDOW emails are
# compared with the training data (mlops.drift); the nine checks share a family-wise
# false-alarm rate of CLEANINBOX_DRIFT_ALPHA per window (Holm).
CLEANINBOX_DRIFT_WINDOW = envint("CLEANINBOX_DRIFT_WINDOW", 500)
CLEANINBOX_DRIFT_INTERVAL = envint("CLEANINBOX_DRIFT_INTERVAL", 3600)
CLEANINBOX_DRIFT_ALPHA = envfloat("CLEANINBOX_DRIFT_ALPHA", 0.005)
if CLEANINBOX_DRIFT_INTERVAL > 0:
    CELERY_BEAT_SCHEDULE["check-drift"] = {
        "task": "mlops.tasks.check_drift",
        "schedule": CLEANINBOX_DRIFT_INTERVAL,
        "options": {"queue": "maintenance"},
    }

# cleaninbox
CLEANINBOX_MAX_BODY_BYTES = envint("CLEANINBOX_MAX_BODY_BYTES", 256 * 1024)
CLEANINBOX_MAX_BATCH = envint("CLEANINBOX_MAX_BATCH", 1000)  # emails per POST /api/emails/batch/
# Request bounds (README, "Limits"): nesting depth of a JSON body, words and characters of
# a search.
CLEANINBOX_MAX_JSON_DEPTH = envint("CLEANINBOX_MAX_JSON_DEPTH", 20)
CLEANINBOX_SEARCH_MAX_WORDS = envint("CLEANINBOX_SEARCH_MAX_WORDS", 10)
CLEANINBOX_SEARCH_MAX_LENGTH = envint("CLEANINBOX_SEARCH_MAX_LENGTH", 200)
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

# Monitoring. /metrics (web) and the worker exporters answer loopback and these networks
# (comma-separated CIDRs), or any caller sending "Authorization: Bearer <token>".
CLEANINBOX_METRICS_ALLOWED_NETWORKS = envlist(
    "CLEANINBOX_METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128"
)
for _network in CLEANINBOX_METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"CLEANINBOX_METRICS_ALLOWED_NETWORKS: {_network!r} is not an address or CIDR"
        ) from None
CLEANINBOX_METRICS_TOKEN = envstr("CLEANINBOX_METRICS_TOKEN")
CLEANINBOX_METRICS_CACHE_SECONDS = envint("CLEANINBOX_METRICS_CACHE_SECONDS", 10)
CLEANINBOX_LIVE_ACCURACY_DAYS = envint("CLEANINBOX_LIVE_ACCURACY_DAYS", 30)
# /readyz fails when the beat sweep has not run for this long (default: 3 sweep intervals).
CLEANINBOX_READY_SWEEP_MAX_AGE = envint(
    "CLEANINBOX_READY_SWEEP_MAX_AGE", 3 * CELERY_BEAT_SCHEDULE["sweep-pending-emails"]["schedule"]
)
# Beat sends a heartbeat task to each of these queues; the worker that takes it records
# cleaninbox_worker_heartbeat_timestamp_seconds{queue=...} (worker-down alerts).
CLEANINBOX_HEARTBEAT_QUEUES = envlist("CLEANINBOX_HEARTBEAT_QUEUES", "classify,imap,maintenance")
CLEANINBOX_HEARTBEAT_INTERVAL = envint("CLEANINBOX_HEARTBEAT_INTERVAL", 60)
for _queue in CLEANINBOX_HEARTBEAT_QUEUES:
    CELERY_BEAT_SCHEDULE[f"heartbeat-{_queue}"] = {
        "task": "inbox.tasks.heartbeat",
        "schedule": CLEANINBOX_HEARTBEAT_INTERVAL,
        # A queue nobody consumes must not fill up with heartbeats.
        "options": {"queue": _queue, "expires": CLEANINBOX_HEARTBEAT_INTERVAL},
    }

# Hand-off to a helpdesk (inbox.handoff; README "Hand-off to a helpdesk"): routed emails
# go to webhooks and team mailboxes through an outbox. A failed attempt is retried after
# BASE·2^(n-1) seconds (capped at MAX, with jitter) until MAX_ATTEMPTS attempts or
# MAX_AGE seconds, then marked failed for a person to retry. A worker holds the BATCH rows
# it claims for LEASE seconds (keep it above BATCH × TIMEOUT); beat drains every
# SWEEP_INTERVAL seconds besides the nudge sent after each routing commits.
CLEANINBOX_HANDOFF_TIMEOUT = envfloat("CLEANINBOX_HANDOFF_TIMEOUT", 10.0)
CLEANINBOX_HANDOFF_BATCH = envint("CLEANINBOX_HANDOFF_BATCH", 20)
CLEANINBOX_HANDOFF_LEASE_SECONDS = envint("CLEANINBOX_HANDOFF_LEASE_SECONDS", 300)
CLEANINBOX_HANDOFF_RETRY_BASE_SECONDS = envfloat("CLEANINBOX_HANDOFF_RETRY_BASE_SECONDS", 15.0)
CLEANINBOX_HANDOFF_RETRY_MAX_SECONDS = envfloat("CLEANINBOX_HANDOFF_RETRY_MAX_SECONDS", 3600.0)
CLEANINBOX_HANDOFF_MAX_ATTEMPTS = envint("CLEANINBOX_HANDOFF_MAX_ATTEMPTS", 100)
CLEANINBOX_HANDOFF_MAX_AGE_SECONDS = envint("CLEANINBOX_HANDOFF_MAX_AGE_SECONDS", 3 * 24 * 3600)
CLEANINBOX_HANDOFF_DRAIN_SECONDS = envint("CLEANINBOX_HANDOFF_DRAIN_SECONDS", 60)
CLEANINBOX_HANDOFF_SWEEP_INTERVAL = envint("CLEANINBOX_HANDOFF_SWEEP_INTERVAL", 30)
# The inbox's address as agents reach it (https://inbox.bank.example): payloads then link
# to the email's page. Empty: no link.
CLEANINBOX_PUBLIC_URL = envstr("CLEANINBOX_PUBLIC_URL")
if CLEANINBOX_HANDOFF_SWEEP_INTERVAL > 0:
    CELERY_BEAT_SCHEDULE["deliver-outbox"] = {
        "task": "inbox.handoff.tasks.deliver_outbox",
        "schedule": CLEANINBOX_HANDOFF_SWEEP_INTERVAL,
        "options": {"queue": "maintenance", "expires": CLEANINBOX_HANDOFF_SWEEP_INTERVAL},
    }
# Team mailboxes are reached through Django's email backend: SMTP unless EMAIL_BACKEND
# says otherwise (django.core.mail.backends.console.EmailBackend prints instead).
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)  # STARTTLS (port 587)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)  # implicit TLS (port 465)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "cleaninbox <cleaninbox@localhost>")

GCS_BUCKET = envstr("GCS_BUCKET")
GCS_PREFIX = envstr("GCS_PREFIX", "cleaninbox/models")
GCS_PROJECT = envstr("GCS_PROJECT", "cleaninbox")

LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
LOG_FORMAT = envstr("LOG_FORMAT", "text")  # text | json
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_pii": {"()": "cleaninbox.logging.MaskPIIFilter"},
        "task_context": {"()": "cleaninbox.logging.TaskContextFilter"},
    },
    "formatters": {
        "text": {"()": "cleaninbox.logging.KeyValueFormatter"},
        "json": {"()": "cleaninbox.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["task_context", "mask_pii"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": "INFO"},
    },
}

# "Why this intent" (classifier.explanations): computed on demand, cached per email and
# model version. Bounds: characters explained and texts sent to the model per explanation.
CLEANINBOX_EXPLAIN_MAX_CHARS = envint("CLEANINBOX_EXPLAIN_MAX_CHARS", 2000)
CLEANINBOX_EXPLAIN_MAX_OCCLUSIONS = envint("CLEANINBOX_EXPLAIN_MAX_OCCLUSIONS", 48)
CLEANINBOX_EXPLAIN_NEIGHBOURS = envint("CLEANINBOX_EXPLAIN_NEIGHBOURS", 5)
# Each version's training-set index (its score vectors, ~3 MB) is written here once.
CLEANINBOX_EXPLAIN_INDEX_DIR = Path(
    envstr("CLEANINBOX_EXPLAIN_INDEX_DIR", str(BASE_DIR / "var" / "explain"))
)

# --- distillation (mlops.distill, issue 10) ----------------------------------------------
# Where teacher members' logits are cached (per member weights and data manifest), so a
# retrain with corrections reuses the teacher instead of running it over train again.
CLEANINBOX_TEACHER_CACHE_DIR = Path(
    envstr("CLEANINBOX_TEACHER_CACHE_DIR", str(BASE_DIR / "var" / "teacher-cache"))
)
# The closed loop (issue 13; README "The loop closes by itself"). Retraining policy: the beat
# job asks every CLEANINBOX_RETRAIN_INTERVAL seconds (0: never; `manage.py retrain` still
# works) and retrains when at least _MIN_CORRECTIONS corrections arrived since the version in
# production was trained, when drift raised an alarm since then, or when it is older than
# _MAX_AGE_DAYS (0: no age limit). _CONFIG is the recipe (an experiment name or YAML path)
# and _OVERRIDES its KEY=VALUE changes (comma-separated).
CLEANINBOX_RETRAIN_INTERVAL = envint("CLEANINBOX_RETRAIN_INTERVAL", 3600)
CLEANINBOX_RETRAIN_MIN_CORRECTIONS = envint("CLEANINBOX_RETRAIN_MIN_CORRECTIONS", 200)
CLEANINBOX_RETRAIN_ON_DRIFT = envbool("CLEANINBOX_RETRAIN_ON_DRIFT", True)
CLEANINBOX_RETRAIN_MAX_AGE_DAYS = envint("CLEANINBOX_RETRAIN_MAX_AGE_DAYS", 30)
CLEANINBOX_RETRAIN_CONFIG = envstr("CLEANINBOX_RETRAIN_CONFIG", "minilm")
CLEANINBOX_RETRAIN_OVERRIDES = envlist("CLEANINBOX_RETRAIN_OVERRIDES", "")
# Teacher members (registered versions or folders, comma-separated) when production is a
# distilled student: each cycle distils _CONFIG from them (mlops.distill) instead of training
# on labels alone, reusing their cached outputs (CLEANINBOX_TEACHER_CACHE_DIR), so only the
# new corrections' texts go through the teacher. Empty: plain fine-tuning.
CLEANINBOX_RETRAIN_TEACHER = envlist("CLEANINBOX_RETRAIN_TEACHER", "")
# Gates (mlops/gates.py, every one shown on the Models page). McNemar's one-sided p-value
# under which the candidate counts as worse on test; the largest fall of one intent's
# recall on test; the slack over the promised auto-routing error on test; the corrected
# live emails the candidate must have answered in shadow, and how far below production's
# accuracy on them it may be (0: not lower); the longest a candidate waits for them.
CLEANINBOX_GATE_MCNEMAR_ALPHA = envfloat("CLEANINBOX_GATE_MCNEMAR_ALPHA", 0.05)
CLEANINBOX_GATE_MAX_INTENT_DROP = envfloat("CLEANINBOX_GATE_MAX_INTENT_DROP", 0.15)
CLEANINBOX_GATE_ROUTING_SLACK = envfloat("CLEANINBOX_GATE_ROUTING_SLACK", 0.005)
# How much less of the test split a candidate may auto-route than production (0.10: 10 points).
CLEANINBOX_GATE_MAX_COVERAGE_DROP = envfloat("CLEANINBOX_GATE_MAX_COVERAGE_DROP", 0.10)
CLEANINBOX_GATE_MIN_SHADOW = envint("CLEANINBOX_GATE_MIN_SHADOW", 100)
CLEANINBOX_GATE_SHADOW_TOLERANCE = envfloat("CLEANINBOX_GATE_SHADOW_TOLERANCE", 0.0)
CLEANINBOX_GATE_SHADOW_MAX_DAYS = envint("CLEANINBOX_GATE_SHADOW_MAX_DAYS", 14)
# Rollback: within _WINDOW_HOURS of an automatic promotion, once _MIN_REVIEWED of the new
# version's emails were reviewed, it is rolled back when its live accuracy's upper 95%
# bound falls under _MIN_ACCURACY, or its needs-review share (of at least _MIN_REVIEWED
# classified emails) goes over _MAX_REVIEW_RATE.
CLEANINBOX_ROLLBACK_WINDOW_HOURS = envint("CLEANINBOX_ROLLBACK_WINDOW_HOURS", 72)
CLEANINBOX_ROLLBACK_MIN_REVIEWED = envint("CLEANINBOX_ROLLBACK_MIN_REVIEWED", 50)
CLEANINBOX_ROLLBACK_MIN_ACCURACY = envfloat("CLEANINBOX_ROLLBACK_MIN_ACCURACY", 0.85)
CLEANINBOX_ROLLBACK_MAX_REVIEW_RATE = envfloat("CLEANINBOX_ROLLBACK_MAX_REVIEW_RATE", 0.5)
# How often the maintenance queue checks candidates' gates and the new version's live figures.
CLEANINBOX_LOOP_CHECK_INTERVAL = envint("CLEANINBOX_LOOP_CHECK_INTERVAL", 300)
CLEANINBOX_SHADOW_BATCH = envint("CLEANINBOX_SHADOW_BATCH", 256)
if CLEANINBOX_RETRAIN_INTERVAL > 0:
    CELERY_BEAT_SCHEDULE["retrain-if-due"] = {
        "task": "mlops.tasks.retrain_if_due",
        "schedule": CLEANINBOX_RETRAIN_INTERVAL,
        # One asked while a retrain runs is answered by that run: do not pile them up.
        "options": {"queue": "training", "expires": CLEANINBOX_RETRAIN_INTERVAL},
    }
if CLEANINBOX_LOOP_CHECK_INTERVAL > 0:
    CELERY_BEAT_SCHEDULE["check-model-loop"] = {
        "task": "mlops.tasks.check_model_loop",
        "schedule": CLEANINBOX_LOOP_CHECK_INTERVAL,
        "options": {"queue": "maintenance", "expires": CLEANINBOX_LOOP_CHECK_INTERVAL},
    }
